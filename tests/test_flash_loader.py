"""Booting from the configuration flash (``boards/flash_loader.py``): the loader against an SPI
flash model in Verilator over awkward sizes, its cycle count, a boot record of another model or
a corrupt one refused, loaders breaking the SPI rules caught, and its parameter checks."""

from __future__ import annotations

import random

import pytest

from ecg_alq.boards.flash_loader import FlashLoader, boot_header, boot_record, load_cycles
from ecg_alq.hw.params import HardwareParamError
from ecg_alq.sim.runner import SimulationFailed, run

MODEL_ID = 0x1234ABCD


def _header(rows, row_bytes, model_id=MODEL_ID):
    """A header for a layout of ``rows`` rows of ``row_bytes`` bytes (pe x simd = 8 x row_bytes)."""
    return boot_header(model_id, row_bytes, 8, rows)
# (rows, row_bytes, offset, divisor, wake_cycles)
POINTS = [(1, 1, 0, 1, 0), (5, 2, 0x1234, 1, 7), (3, 3, 0x20, 2, 3), (4, 1, 0x7, 3, 1),
          (2, 2, 0xFEDC00, 1, 2)]


def _config(rows, row_bytes, offset, divisor, wake, rng, record=None):
    """The flash from ``base`` = offset - 16: 16 random bytes, the boot record, 16 more."""
    values = [rng.randrange(1 << (8 * row_bytes)) for _ in range(rows)]
    record = record or boot_record(values, row_bytes, _header(rows, row_bytes))
    image = bytes(rng.randrange(256) for _ in range(16)) + record + bytes(
        rng.randrange(256) for _ in range(16))
    return {"image": image.hex(), "base": offset - 16, "rows": rows, "row_bytes": row_bytes,
            "offset": offset, "divisor": divisor, "wake_cycles": wake, "expect_valid": 1,
            "expected_cycles": load_cycles(rows, row_bytes, divisor, wake)}


def _run(point, cfg, tmp_path, loader=FlashLoader):
    rows, row_bytes, offset, divisor, wake = point
    run(loader(rows, row_bytes, offset, _header(rows, row_bytes), divisor, wake), "flash_loader",
        "tb_flash",
        tmp_path, cfg)


@pytest.mark.parametrize("point", POINTS, ids=lambda p: "-".join(map(str, p)))
def test_loader_writes_the_rows_of_a_flash_image(point, tmp_path):
    _run(point, _config(*point, random.Random(sum(point)) if point[2] < 1 << 16 else
                        random.Random(1)), tmp_path)


@pytest.mark.parametrize("damage", ["other model", "other layout", "corrupt row", "erased"])
def test_a_record_of_another_model_or_damaged_is_not_valid(damage, tmp_path):
    """The rows are still written (the loader cannot know before the end) but ``valid`` stays
    low, so the link never counts them as loaded. "other layout": this model's rows for another
    pe x simd with the same number of bytes (6 rows of 1 byte against 3 of 2)."""
    point, rng = (3, 2, 0x40, 1, 1), random.Random(5)
    header = {"other model": _header(3, 2, MODEL_ID ^ 1 << 24),
              "other layout": boot_header(MODEL_ID, 1, 8, 6)}.get(damage, _header(3, 2))
    record = bytearray(boot_record([1, 2, 3], 2, header))
    if damage == "corrupt row":
        record[9] ^= 0x10
    if damage == "erased":
        record = bytearray(b"\xff" * len(record))
    cfg = _config(*point, rng, record=bytes(record)) | {"expect_valid": 0}
    _run(point, cfg, tmp_path)


def test_a_loader_that_reads_before_the_flash_wakes_is_caught(tmp_path):
    """The flash model needs 12 cycles after the wake-up command; a loader waiting 6 fails."""
    point = (2, 1, 0x10, 1, 6)
    cfg = _config(*point, random.Random(0)) | {"flash_wake_cycles": 12}
    with pytest.raises(SimulationFailed, match="READ before the flash woke up"):
        _run(point, cfg, tmp_path)


def test_a_loader_sampling_on_the_falling_edge_is_caught(tmp_path):
    class FallingSampler(FlashLoader):
        """Takes cipo as sck falls (one clock late), not as it rises."""

        def _shift_in(self, m, tick):
            from amaranth import Cat, Signal

            byte, bit, complete = Signal(8), Signal(range(9)), Signal()
            with m.If(tick):
                with m.If(~self.sck):
                    m.d.sync += [self.sck.eq(1), bit.eq(bit + 1)]
                with m.Else():
                    m.d.sync += [self.sck.eq(0), byte.eq(Cat(self.cipo, byte[:-1]))]
                    with m.If(bit == 8):
                        m.d.comb += complete.eq(1)
                        m.d.sync += bit.eq(0)
            return complete, Cat(self.cipo, byte[:-1])

    point = (2, 1, 0x10, 2, 1)
    with pytest.raises(SimulationFailed, match=r"\(\[\(0, \d+\), \(1, \d+\)\], "):  # wrong rows
        _run(point, _config(*point, random.Random(3)), tmp_path, loader=FallingSampler)


def test_impossible_loaders_are_refused():
    with pytest.raises(HardwareParamError, match="do not fit a flash of 24-bit addresses"):
        FlashLoader(4, 2, (1 << 24) - 8, _header(4, 2))
    with pytest.raises(HardwareParamError, match="rows must be a positive integer"):
        FlashLoader(0, 2, 0, _header(1, 2))
    with pytest.raises(HardwareParamError, match="wake_cycles must be >= 0"):
        FlashLoader(1, 1, 0, _header(1, 1), 1, -1)
    with pytest.raises(HardwareParamError, match="a boot header is 8 bytes"):
        FlashLoader(1, 1, 0, b"\x01\x02")
    with pytest.raises(ValueError, match="no boot header"):
        boot_header(1 << 32, 2, 8, 10)
