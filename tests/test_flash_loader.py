"""Booting from the configuration flash (``boards/flash_loader.py``): the loader against an SPI
flash model in Verilator over awkward sizes, its cycle count, and its parameter checks."""

from __future__ import annotations

import random

import pytest

from ecg_alq.boards.flash_loader import FlashLoader, flash_image_rows, load_cycles
from ecg_alq.hw.params import HardwareParamError
from ecg_alq.sim.runner import SimulationFailed, run

# (rows, row_bytes, offset, divisor, wake_cycles)
POINTS = [(1, 1, 0, 1, 0), (5, 2, 0x1234, 1, 7), (3, 3, 0x20, 2, 3), (4, 1, 0x7, 3, 1)]


@pytest.mark.parametrize("point", POINTS, ids=lambda p: "-".join(map(str, p)))
def test_loader_writes_the_rows_of_a_flash_image(point, tmp_path):
    run(FlashLoader(*point), "flash_loader", "tb_flash", tmp_path,
        _config(*point, random.Random(sum(point))))


def _config(rows, row_bytes, offset, divisor, wake, rng):
    values = [rng.randrange(1 << (8 * row_bytes)) for _ in range(rows)]
    image = bytearray(rng.randrange(256) for _ in range(offset + rows * row_bytes + 16))
    image[offset: offset + rows * row_bytes] = flash_image_rows(values, row_bytes)
    return {"image": bytes(image).hex(), "rows": rows, "row_bytes": row_bytes, "offset": offset,
            "divisor": divisor, "wake_cycles": wake,
            "expected_cycles": load_cycles(rows, row_bytes, divisor, wake)}


def test_a_loader_that_reads_before_the_flash_wakes_is_caught(tmp_path):
    """The flash model needs 20 cycles after the wake-up command; a loader waiting 2 fails."""
    cfg = _config(2, 1, 0, 1, 2, random.Random(0)) | {"flash_wake_cycles": 20}
    with pytest.raises(SimulationFailed, match="READ before the flash woke up"):
        run(FlashLoader(2, 1, 0, 1, 2), "flash_loader", "tb_flash", tmp_path, cfg)


def test_impossible_loaders_are_refused():
    with pytest.raises(HardwareParamError, match="do not fit a flash of 24-bit addresses"):
        FlashLoader(4, 2, (1 << 24) - 4)
    with pytest.raises(HardwareParamError, match="rows must be a positive integer"):
        FlashLoader(0, 2, 0)
    with pytest.raises(HardwareParamError, match="wake_cycles must be >= 0"):
        FlashLoader(1, 1, 0, 1, -1)
