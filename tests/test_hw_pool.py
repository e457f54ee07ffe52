"""The requantize / max-pool / emit unit in Verilator against its behavioural model, over window
counts 1..3, SIMD 1, 3 and 8, several activation widths and requantization shifts of both signs."""

from __future__ import annotations

import pytest

from ecg_alq.hw.params import HardwareParamError
from ecg_alq.hw.pool import PoolUnit
from ecg_alq.sim.runner import run

CASES = [  # act_bits, shifts, channels, windows, simd
    (8, [9, 0, 3], 5, 2, 8),
    (4, [-2, 5], 1, 3, 3),
    (6, [1], 7, 1, 1),
]


@pytest.mark.parametrize("act_bits,shifts,channels,windows,simd", CASES)
def test_pool_unit_in_verilator(tmp_path, act_bits, shifts, channels, windows, simd):
    cfg = {"act_bits": act_bits, "acc_width": 20, "shifts": shifts, "channels": channels,
           "windows": windows, "simd": simd, "row_width": 8, "cycles": 600, "seed": windows}
    unit = PoolUnit(20, act_bits, shifts, channels, windows, simd, 8)
    run(unit, "pool", "tb_pool", tmp_path, cfg)


def test_pool_unit_rejects_impossible_parameters():
    with pytest.raises(HardwareParamError, match="windows must be a positive integer"):
        PoolUnit(20, 8, [0], 4, 0, 8, 8)
    with pytest.raises(HardwareParamError, match="one requantization shift per layer"):
        PoolUnit(20, 8, [], 4, 2, 8, 8)
