"""The input stage (sample memory, mean, preprocessing pass), the window fetch (bank rotation,
padding masks, signed first-layer input) and the writer (FIFOs, arbitration, zero-channel writes,
overflow) in Verilator against their references, over awkward sizes: SIMD 1, non-powers of two,
one lane, FIFOs of depth 1."""

from __future__ import annotations

import pytest

from ecg_alq.hw.fetch import WindowFetch
from ecg_alq.hw.input_stage import InputStage
from ecg_alq.hw.params import HardwareParamError
from ecg_alq.hw.writer import Writer
from ecg_alq.sim.runner import run


@pytest.mark.parametrize("length,simd,act_bits,input_shift", [(37, 1, 8, 0), (3600, 8, 8, 2),
                                                              (50, 5, 6, 3), (11, 3, 4, 13)])
def test_input_stage_in_verilator(tmp_path, length, simd, act_bits, input_shift):
    row_width = max(2, (length // simd + 1).bit_length() + 1)
    cfg = {"length": length, "simd": simd, "act_bits": act_bits, "input_shift": input_shift,
           "row_width": row_width, "rounds": 5, "seed": simd}
    run(InputStage(length, simd, act_bits, input_shift, row_width), "input", "tb_input",
        tmp_path, cfg)


@pytest.mark.parametrize("simd,act_bits", [(1, 8), (5, 6), (8, 8), (3, 4)])
def test_window_fetch_in_verilator(tmp_path, simd, act_bits):
    cfg = {"simd": simd, "act_bits": act_bits, "row_width": 7, "element_width": 10,
           "cycles": 500, "seed": simd}
    run(WindowFetch(simd, act_bits, 7, 10), "fetch", "tb_fetch", tmp_path, cfg)


@pytest.mark.parametrize("lanes,depth,simd,overflow", [(1, 1, 1, False), (3, 2, 5, True),
                                                       (4, 6, 8, False), (5, 3, 3, True)])
def test_writer_in_verilator(tmp_path, lanes, depth, simd, overflow):
    cfg = {"lanes": lanes, "depth": depth, "simd": simd, "row_width": 6, "act_bits": 5,
           "cycles": 600, "seed": lanes, "overflow_bursts": overflow}
    run(Writer(lanes, depth, simd, 6, 5), "writer", "tb_writer", tmp_path, cfg)


def test_fetch_and_writer_reject_impossible_parameters():
    with pytest.raises(HardwareParamError, match="simd must be a positive integer, got 0"):
        WindowFetch(0, 8, 7, 10)
    with pytest.raises(HardwareParamError, match="input_shift must be an integer >= 0"):
        InputStage(3600, 4, 8, -1, 10)
    from amaranth.hdl import Fragment

    from ecg_alq.hw.input_stage import input_cycles, sum_bits

    # no length limit: the mean's divider grows with it (elaborated, so the component is used)
    Fragment.get(InputStage(5000, 4, 8, 2, 12), None)
    assert (sum_bits(3600), sum_bits(5000), input_cycles(3600)) == (23, 24, 3626)
    with pytest.raises(HardwareParamError, match="depth must be a positive integer"):
        Writer(4, 0, 8, 6, 8)
