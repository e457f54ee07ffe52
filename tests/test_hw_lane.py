"""The lane (multi-bit binary dot-product unit) in Verilator against its behavioural model, over
awkward sizes (SIMD 1, non-powers of two, wider than one adder-tree stage) and both ways of
scaling by alpha."""

from __future__ import annotations

import pytest

from ecg_alq.hw.lane import Lane
from ecg_alq.hw.params import HardwareParamError
from ecg_alq.sim.runner import run


@pytest.mark.parametrize("simd,alpha_mult", [(1, "dsp"), (3, "shiftadd"), (8, "dsp"),
                                             (5, "shiftadd"), (19, "dsp")])
def test_lane_in_verilator(tmp_path, simd, alpha_mult):
    cfg = {"simd": simd, "act_width": 8, "alpha_bits": 6, "seed": simd, "channels": 40,
           "max_bases": 3, "max_chunks": 4, "idle": 0.2}
    psum_width = (4 * simd * 255).bit_length() + 1
    lane = Lane(simd, 8, 6, psum_width, psum_width + 6 + 4, alpha_mult)
    run(lane, "lane", "tb_lane", tmp_path, cfg)


def test_lane_rejects_impossible_widths():
    with pytest.raises(HardwareParamError, match="simd must be a positive integer"):
        Lane(0, 8, 8, 16, 30)
    with pytest.raises(HardwareParamError, match="cannot hold a scaled basis sum"):
        Lane(4, 8, 8, 16, 20)
    with pytest.raises(HardwareParamError, match="alpha_mult"):
        Lane(4, 8, 8, 16, 30, "lut")
