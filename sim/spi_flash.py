"""A model of an SPI flash for cocotb testbenches (``sim/tb_flash.py``, ``sim/tb_link.py``):
W25Q-family commands 0xAB (release from deep power-down) and 0x03 (READ, 24-bit address),
SPI mode 0, most significant bit first; bytes outside the image read as erased (0xFF). It
refuses a READ before its wake-up time and any other command."""

from __future__ import annotations

from cocotb.triggers import FallingEdge

from ecg_alq.boards.flash_loader import READ, WAKE


class SpiFlash:
    """An SPI flash seen at every falling clock edge (the loader's outputs are stable then):
    ``copi`` taken on rising ``sck`` (it must not change across the edge), the next data bit
    out after falling ``sck``. Stricter than a chip where that catches a wrong loader: right
    after rising ``sck`` (when the bit has been taken) ``cipo`` shows its inverse, so a loader
    sampling on the falling edge reads garbage; a READ selected before the wake-up time has
    passed since the wake command's deselect is refused."""

    def __init__(self, dut, image: bytes, wake_cycles: int, base: int = 0, prefix: str = ""):
        """``image``: the flash's bytes from address ``base``; ``prefix``: of the pin names
        (``cs_n``, ``sck``, ``copi``, ``cipo``)."""
        self.dut, self.image, self.wake_cycles, self.base = dut, image, wake_cycles, base
        self.pins = {name: getattr(dut, prefix + name) for name in ("cs_n", "sck", "copi", "cipo")}
        self.awake_at = None  # cycle from which commands other than WAKE are served
        self.reads = 0

    async def serve(self) -> None:
        pins, cycle, sck, copi, selected_at = self.pins, 0, 0, 0, None
        bits, address, data_bit, bit = [], None, 0, 0
        pins["cipo"].value = 0
        while True:
            await FallingEdge(self.dut.clk)
            cycle += 1
            cs_n, new_sck = int(pins["cs_n"].value), int(pins["sck"].value)
            new_copi = int(pins["copi"].value)
            if cs_n:
                if selected_at is not None and bits[:8] == _bits(WAKE):
                    self.awake_at = cycle + self.wake_cycles
                selected_at, bits, address = None, [], None
            elif selected_at is None:
                selected_at, bits, address, data_bit = cycle, [], None, 0
            if selected_at is not None and new_sck and not sck:  # rising sck: take copi
                assert new_copi == copi, "copi changed as sck rose"
                bits.append(new_copi)
                if len(bits) == 8 and bits != _bits(WAKE):
                    assert bits == _bits(READ), f"unknown command {bits}"
                    assert self.awake_at is not None and selected_at >= self.awake_at, \
                        "READ before the flash woke up"
                if address is not None:
                    pins["cipo"].value = 1 - bit  # the bit was taken: show its inverse
            if selected_at is not None and sck and not new_sck and len(bits) >= 32 \
                    and bits[:8] == _bits(READ):
                if address is None:
                    address = int("".join(map(str, bits[8:32])), 2)
                    self.reads += 1
                at = address - self.base + data_bit // 8
                byte = self.image[at] if 0 <= at < len(self.image) else 0xFF  # erased
                bit = (byte >> (7 - data_bit % 8)) & 1
                pins["cipo"].value = bit
                data_bit += 1
            sck, copi = new_sck, new_copi


def _bits(byte: int) -> list[int]:
    return [(byte >> (7 - i)) & 1 for i in range(8)]
