"""cocotb testbench of :class:`ecg_alq.boards.flash_loader.FlashLoader` against a model of an
SPI flash (W25Q-family commands 0xAB and 0x03, mode 0) holding an image: the rows written
through the load port equal the image's rows, in order, once each; the flash is read only
after its wake-up time; ``done`` rises after exactly ``load_cycles`` cycles and stays.

Config: ``image`` (hex string: the whole flash from address 0), ``offset``, ``rows``,
``row_bytes``, ``divisor``, ``wake_cycles``, ``expected_cycles``; ``flash_wake_cycles`` (the
flash's wake-up time, default ``wake_cycles``).
"""

from __future__ import annotations

import cocotb
from cocotb.triggers import FallingEdge

from ecg_alq.boards.flash_loader import READ, WAKE
from ecg_alq.sim.bench import Bench
from ecg_alq.sim.runner import config


class SpiFlash:
    """An SPI flash seen at every falling clock edge (the loader's outputs are stable then):
    bits in on rising ``sck``, the next data bit out after falling ``sck``."""

    def __init__(self, dut, image: bytes, wake_cycles: int):
        self.dut, self.image, self.wake_cycles = dut, image, wake_cycles
        self.awake_at = None  # cycle from which commands other than WAKE are served
        self.reads = 0

    async def serve(self) -> None:
        dut, cycle, sck, selected = self.dut, 0, 0, False
        bits, address, data_bit = [], None, 0
        dut.cipo.value = 0
        while True:
            await FallingEdge(dut.clk)
            cycle += 1
            cs_n, new_sck = int(dut.cs_n.value), int(dut.sck.value)
            if cs_n:
                if selected and bits[:8] == _bits(WAKE):
                    self.awake_at = cycle + self.wake_cycles
                selected, bits, address = False, [], None
            elif not selected:
                selected, bits, address, data_bit = True, [], None, 0
            if selected and new_sck and not sck:  # rising sck: the flash takes copi
                bits.append(int(dut.copi.value))
                if len(bits) == 8 and bits != _bits(WAKE):
                    assert bits == _bits(READ), f"unknown command {bits}"
                    assert self.awake_at is not None and cycle >= self.awake_at, \
                        "READ before the flash woke up"
            if selected and sck and not new_sck and len(bits) >= 32 and bits[:8] == _bits(READ):
                if address is None:
                    address = int("".join(map(str, bits[8:32])), 2)
                    self.reads += 1
                byte = self.image[address + data_bit // 8]
                dut.cipo.value = (byte >> (7 - data_bit % 8)) & 1
                data_bit += 1
            sck = new_sck


def _bits(byte: int) -> list[int]:
    return [(byte >> (7 - i)) & 1 for i in range(8)]


@cocotb.test()
async def loader_writes_the_image_rows(dut):
    cfg = config()
    image = bytes.fromhex(cfg["image"])
    rows, row_bytes, offset = cfg["rows"], cfg["row_bytes"], cfg["offset"]
    want = [int.from_bytes(image[offset + k * row_bytes: offset + (k + 1) * row_bytes], "little")
            for k in range(rows)]
    flash = SpiFlash(dut, image, cfg.get("flash_wake_cycles", cfg["wake_cycles"]))
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
    for _ in range(10 * cfg["divisor"]):
        await FallingEdge(dut.clk)
        assert int(dut.done.value) and int(dut.cs_n.value) and not int(dut.load_valid.value)
