"""cocotb testbench of :class:`ecg_alq.boards.flash_loader.FlashLoader` against a model of an
SPI flash (``sim/spi_flash.py``) holding an image: the rows written through the load port equal
the image's rows, in order, once each; ``done`` rises after exactly ``load_cycles`` cycles and
stays, the flash deselected; ``valid`` says whether the boot record was the expected one.

Config: ``image`` (hex string: the flash's bytes from address ``base``), ``base``, ``offset``,
``rows``, ``row_bytes``, ``divisor``, ``wake_cycles``, ``expected_cycles``, ``expect_valid``;
``flash_wake_cycles`` (the flash's wake-up time, default ``wake_cycles``).
"""

from __future__ import annotations

import cocotb
from cocotb.triggers import FallingEdge

from ecg_alq.boards.flash_loader import HEADER_BYTES
from ecg_alq.sim.bench import Bench
from ecg_alq.sim.runner import config
from ecg_alq.sim.spi_flash import SpiFlash


@cocotb.test()
async def loader_writes_the_image_rows(dut):
    cfg = config()
    image = bytes.fromhex(cfg["image"])
    rows, row_bytes = cfg["rows"], cfg["row_bytes"]
    first = cfg["offset"] - cfg["base"] + HEADER_BYTES
    want = [int.from_bytes(image[first + k * row_bytes: first + (k + 1) * row_bytes], "little")
            for k in range(rows)]
    flash = SpiFlash(dut, image, cfg.get("flash_wake_cycles", cfg["wake_cycles"]),
                     base=cfg["base"])
    dut.cipo.value = 0
    await Bench(dut).start()
    cocotb.start_soon(flash.serve())
    written, cycle = [], 0
    while not int(dut.done.value):
        if int(dut.load_valid.value):
            written.append((int(dut.load_addr.value), int(dut.load_data.value)))
        await FallingEdge(dut.clk)
        cycle += 1
        assert cycle <= 2 * cfg["expected_cycles"] + 100, "no done"
    assert written == list(enumerate(want)), (written, want)
    assert cycle == cfg["expected_cycles"], (cycle, cfg["expected_cycles"])
    assert flash.reads == 1
    assert int(dut.valid.value) == cfg["expect_valid"], "valid"
    for _ in range(10 * cfg["divisor"]):
        await FallingEdge(dut.clk)
        assert int(dut.done.value) and int(dut.cs_n.value) and not int(dut.load_valid.value)
