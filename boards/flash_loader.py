"""Loading the sign rows from the board's SPI configuration flash at power-up (issue 19): a
board whose sign bits live in SPRAM (which the bitstream cannot initialise) boots alone.

After reset :class:`FlashLoader` wakes the flash (command 0xAB, release from deep power-down,
then ``wake_cycles`` of wait), reads ``rows * row_bytes`` bytes from ``offset`` (command 0x03,
READ, with a 24-bit address) and writes each row through the accelerator's load port as its
last byte arrives, as the serial link's LOAD does: a row's bytes are little-endian (the first
in the low bits). Then it deselects the flash and raises ``done``.

SPI mode 0, most significant bit first: ``sck`` idles low, ``copi`` changes while ``sck`` is
low, ``cipo`` is sampled as ``sck`` rises; each half period of ``sck`` lasts ``divisor`` clock
cycles. Ports::

    cs_n, sck, copi  Out 1   to the flash (cs_n idles high)
    cipo             In  1   from the flash
    load_valid       Out 1   a row to write (one cycle)
    load_addr        Out     its row number, 0 .. rows - 1
    load_data        Out 8 * row_bytes
    done             Out 1   every row written; stays high

:func:`flash_image_rows` lays the rows out as the loader reads them (what a flash image holds
at ``offset``); :func:`load_cycles` is the loader's cycle count from reset to ``done``.
"""

from __future__ import annotations

from amaranth import Cat, Const, Module, Signal
from amaranth.lib.wiring import In, Out

from ecg_alq.hw.params import Checked, must_be_positive, reject

WAKE, READ = 0xAB, 0x03  #: release from deep power-down; read data (24-bit address)
#: where ``ecg-alq build --boot-from-flash`` puts the sign rows: 1 MiB, past any iCE40UP5K
#: bitstream (104,090 bytes)
DEFAULT_BOOT_OFFSET = 0x100000
ADDRESS_BITS = 24
#: W25Q-family flash: 3 us from release to the first command (tRES1); at 100 MHz, 300 cycles
DEFAULT_WAKE_CYCLES = 300


def flash_image_rows(rows: list[int], row_bytes: int) -> bytes:
    """The bytes a flash holds at the loader's offset for sign rows ``rows`` (integers of at
    most ``8 * row_bytes`` bits), each row little-endian."""
    return b"".join(r.to_bytes(row_bytes, "little") for r in rows)


def load_cycles(rows: int, row_bytes: int, divisor: int, wake_cycles: int) -> int:
    """Clock cycles from the end of reset to ``done`` (``sim/tb_flash.py`` checks it)."""
    bit = 2 * divisor
    wake = 8 * bit + 1 + wake_cycles
    read = (8 + ADDRESS_BITS + 8 * rows * row_bytes) * bit
    return wake + read + 2


class FlashLoader(Checked):

    @classmethod
    def check(cls, rows, row_bytes, offset, divisor=1, wake_cycles=DEFAULT_WAKE_CYCLES):
        must_be_positive(rows=rows, row_bytes=row_bytes, divisor=divisor)
        if offset < 0 or offset + rows * row_bytes > 1 << ADDRESS_BITS:
            reject(f"{rows} rows of {row_bytes} bytes from offset {offset:#x} do not fit a "
                   f"flash of 24-bit addresses")
        if wake_cycles < 0:
            reject(f"wake_cycles must be >= 0, got {wake_cycles}")

    def __init__(self, rows: int, row_bytes: int, offset: int, divisor: int = 1,
                 wake_cycles: int = DEFAULT_WAKE_CYCLES):
        self.rows, self.row_bytes, self.offset = rows, row_bytes, offset
        self.divisor, self.wake_cycles = divisor, wake_cycles
        super().__init__({"cs_n": Out(1, init=1), "sck": Out(1), "copi": Out(1), "cipo": In(1),
                          "load_valid": Out(1), "load_addr": Out(range(max(2, rows))),
                          "load_data": Out(8 * row_bytes), "done": Out(1)})

    def elaborate(self, platform):
        m = Module()
        command = Signal(8 + ADDRESS_BITS)  # what is shifted out, most significant bit first
        bits = Signal(range(8 + ADDRESS_BITS + 1))  # command bits left
        half = Signal(range(self.divisor))  # cycles left in this half period of sck
        wait = Signal(range(self.wake_cycles + 1))
        row_bits = Signal(range(8 * self.row_bytes + 1))  # bits of this row so far
        byte = Signal(8)
        word = Signal(8 * self.row_bytes)
        tick = half == 0
        with m.If(~tick):
            m.d.sync += half.eq(half - 1)
        with m.Else():
            m.d.sync += half.eq(self.divisor - 1)
        m.d.comb += self.copi.eq(command[-1])
        with m.FSM():
            with m.State("START"):
                m.d.sync += [self.cs_n.eq(0), command.eq(Cat(Const(0, ADDRESS_BITS),
                                                             Const(WAKE, 8))),
                             bits.eq(8), half.eq(self.divisor - 1)]
                m.next = "WAKE"
            with m.State("WAKE"):
                self._shift_out(m, command, bits, tick, "REST")
                with m.If(tick & self.sck & (bits == 1)):  # the command ends: deselect
                    m.d.sync += self.cs_n.eq(1)
            with m.State("REST"):  # deselected while the flash wakes up
                with m.If(wait == self.wake_cycles):
                    m.d.sync += [self.cs_n.eq(0), bits.eq(8 + ADDRESS_BITS),
                                 half.eq(self.divisor - 1),
                                 command.eq(Cat(Const(self.offset, ADDRESS_BITS),
                                                Const(READ, 8)))]
                    m.next = "COMMAND"
                with m.Else():
                    m.d.sync += wait.eq(wait + 1)
            with m.State("COMMAND"):
                self._shift_out(m, command, bits, tick, "DATA")
            with m.State("DATA"):
                self._shift_in(m, byte, word, row_bits, tick)
            with m.State("DONE"):
                m.d.sync += [self.cs_n.eq(1), self.done.eq(1)]
        return m

    def _shift_out(self, m, command, bits, tick, nxt) -> None:
        """One bit per sck period: sck rises halfway (the flash samples), falls at the end
        (the next bit appears)."""
        with m.If(tick):
            with m.If(~self.sck):
                m.d.sync += self.sck.eq(1)
            with m.Else():
                m.d.sync += [self.sck.eq(0), command.eq(command << 1), bits.eq(bits - 1)]
                with m.If(bits == 1):
                    m.next = nxt

    def _shift_in(self, m, byte, word, row_bits, tick) -> None:
        """Sample cipo as sck rises; a row is written once its last bit is in."""
        with m.If(tick):
            with m.If(~self.sck):
                m.d.sync += [self.sck.eq(1), byte.eq(Cat(self.cipo, byte[:-1])),
                             row_bits.eq(row_bits + 1)]
            with m.Else():
                m.d.sync += self.sck.eq(0)
                with m.If(row_bits[:3] == 0):  # a whole byte: into the row, low bytes first
                    next_word = Cat(word[8:], byte) if self.row_bytes > 1 else byte
                    m.d.sync += word.eq(next_word)
                    with m.If(row_bits == 8 * self.row_bytes):
                        m.d.comb += [self.load_valid.eq(1), self.load_data.eq(next_word)]
                        m.d.sync += row_bits.eq(0)
                        with m.If(self.load_addr == self.rows - 1):
                            m.next = "DONE"
                        with m.Else():
                            m.d.sync += self.load_addr.eq(self.load_addr + 1)
