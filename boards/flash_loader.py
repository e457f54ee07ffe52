"""Loading the sign rows from the board's SPI configuration flash at power-up (issue 19): a
board whose sign bits live in SPRAM (which the bitstream cannot initialise) boots alone.

After reset :class:`FlashLoader` wakes the flash (command 0xAB, release from deep power-down,
then ``wake_cycles`` of wait), reads the boot record at ``offset`` (command 0x03, READ, with a
24-bit address) and writes each sign row through the accelerator's load port as its last byte
arrives, as the serial link's LOAD does: a row's bytes are little-endian (the first in the low
bits). Then it deselects the flash and raises ``done``, with ``valid`` only if the record was
this model's and intact: a flash that is erased, holds another model's rows or is corrupt is
never taken for loaded sign bits.

The boot record (:func:`boot_record`): a header saying whose rows these are in which layout
(:func:`boot_header`: the model id, pe, simd and the number of rows, as INFO reports them), the
rows, and the protocol's CRC-8 of the rows (1 byte). The header must match the loader's byte
for byte: another model's rows, or this model's in another pe x simd layout, are refused.

SPI mode 0, most significant bit first: ``sck`` idles low, ``copi`` changes while ``sck`` is
low, ``cipo`` is sampled as ``sck`` rises; each half period of ``sck`` lasts ``divisor`` clock
cycles. Ports::

    cs_n, sck, copi  Out 1   to the flash (cs_n idles high)
    cipo             In  1   from the flash
    load_valid       Out 1   a row to write (one cycle)
    load_addr        Out     its row number, 0 .. rows - 1
    load_data        Out 8 * row_bytes
    done             Out 1   the record has been read; stays high
    valid            Out 1   with done: the header and the CRC matched

:func:`load_cycles` is the loader's cycle count from reset to ``done``.
"""

from __future__ import annotations

from amaranth import Array, Cat, Const, Module, Mux, Signal
from amaranth.lib.wiring import In, Out

from ecg_alq.boards.link_parser import CRC8
from ecg_alq.hw.params import Checked, must_be_positive, reject

WAKE, READ = 0xAB, 0x03  #: release from deep power-down; read data (24-bit address)
#: where ``ecg-alq build --boot-from-flash`` puts the sign rows: 1 MiB, past any iCE40UP5K
#: bitstream (104,090 bytes)
DEFAULT_BOOT_OFFSET = 0x100000
ADDRESS_BITS = 24
#: W25Q-family flash: 3 us from release to the first command (tRES1); at 100 MHz, 300 cycles
DEFAULT_WAKE_CYCLES = 300


HEADER_BYTES = 8  #: model id (4), pe (1), simd (1), sign rows (2), little-endian


def boot_header(model_id: int, pe: int, simd: int, rows: int) -> bytes:
    """Whose sign rows a boot record holds, in which layout (the fields INFO reports)."""
    if not (0 <= model_id < 1 << 32 and 0 < pe < 256 and 0 < simd < 256 and 0 < rows < 1 << 16):
        raise ValueError(f"no boot header for model {model_id:#x}, pe {pe}, simd {simd}, "
                         f"{rows} rows")
    return (model_id.to_bytes(4, "little") + bytes([pe, simd]) + rows.to_bytes(2, "little"))


def boot_record(rows: list[int], row_bytes: int, header: bytes) -> bytes:
    """What the flash holds at the loader's offset for sign rows ``rows`` (integers of at most
    ``8 * row_bytes`` bits): ``header`` (:func:`boot_header`), each row little-endian, the CRC-8
    of the rows."""
    from ecg_alq.boards.protocol import crc8

    body = b"".join(r.to_bytes(row_bytes, "little") for r in rows)
    return header + body + bytes([crc8(body)])


def record_bytes(rows: int, row_bytes: int) -> int:
    return HEADER_BYTES + rows * row_bytes + 1


def load_cycles(rows: int, row_bytes: int, divisor: int, wake_cycles: int) -> int:
    """Clock cycles from the end of reset to ``done`` (``sim/tb_flash.py`` checks it)."""
    bit = 2 * divisor
    wake = 8 * bit + 1 + wake_cycles
    read = (8 + ADDRESS_BITS + 8 * record_bytes(rows, row_bytes)) * bit
    return wake + read + 2


class FlashLoader(Checked):

    @classmethod
    def check(cls, rows, row_bytes, offset, header, divisor=1,
              wake_cycles=DEFAULT_WAKE_CYCLES):
        must_be_positive(rows=rows, row_bytes=row_bytes, divisor=divisor)
        if not isinstance(header, bytes) or len(header) != HEADER_BYTES:
            reject(f"a boot header is {HEADER_BYTES} bytes (boot_header), got {header!r}")
        if offset < 0 or offset + record_bytes(rows, row_bytes) > 1 << ADDRESS_BITS:
            reject(f"{rows} rows of {row_bytes} bytes from offset {offset:#x} do not fit a "
                   f"flash of 24-bit addresses")
        if wake_cycles < 0:
            reject(f"wake_cycles must be >= 0, got {wake_cycles}")

    def __init__(self, rows: int, row_bytes: int, offset: int, header: bytes, divisor: int = 1,
                 wake_cycles: int = DEFAULT_WAKE_CYCLES):
        self.rows, self.row_bytes, self.offset = rows, row_bytes, offset
        self.header, self.divisor, self.wake_cycles = header, divisor, wake_cycles
        super().__init__({"cs_n": Out(1, init=1), "sck": Out(1), "copi": Out(1), "cipo": In(1),
                          "load_valid": Out(1), "load_addr": Out(range(max(2, rows))),
                          "load_data": Out(8 * row_bytes), "done": Out(1), "valid": Out(1)})

    def elaborate(self, platform):
        m = Module()
        command = Signal(8 + ADDRESS_BITS)  # what is shifted out, most significant bit first
        bits = Signal(range(8 + ADDRESS_BITS + 1))  # command bits left
        half = Signal(range(self.divisor))  # cycles left in this half period of sck
        wait = Signal(range(self.wake_cycles + 1))
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
                self._take_byte(m, self._shift_in(m, tick))
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

    def _shift_in(self, m, tick):
        """Sample cipo as sck rises; returns (a byte is complete this cycle, the byte)."""
        byte, bit = Signal(8), Signal(range(9))
        complete = Signal()
        with m.If(tick):
            with m.If(~self.sck):
                m.d.sync += [self.sck.eq(1), byte.eq(Cat(self.cipo, byte[:-1])),
                             bit.eq(bit + 1)]
            with m.Else():
                m.d.sync += self.sck.eq(0)
                with m.If(bit == 8):
                    m.d.comb += complete.eq(1)
                    m.d.sync += bit.eq(0)
        return complete, byte

    def _take_byte(self, m, got) -> None:
        """The record, byte by byte: the header compared, the rows written and put through
        the CRC, the CRC compared; then DONE."""
        complete, byte = got
        body = self.rows * self.row_bytes
        count = Signal(range(record_bytes(self.rows, self.row_bytes) + 1))  # bytes so far
        header_ok = Signal(init=1)
        header = Array(Const(b, 8) for b in self.header)
        row_byte = Signal(range(self.row_bytes + 1))
        word = Signal(8 * self.row_bytes)
        next_word = Cat(word[8:], byte) if self.row_bytes > 1 else byte
        m.submodules.crc = crc = CRC8.create()
        with m.If(complete):
            m.d.sync += count.eq(count + 1)
            with m.If(count < HEADER_BYTES):
                with m.If(byte != header[count[:3]]):
                    m.d.sync += header_ok.eq(0)
            with m.Elif(count < HEADER_BYTES + body):
                m.d.comb += [crc.valid.eq(1), crc.data.eq(byte)]
                m.d.sync += [word.eq(next_word), row_byte.eq(row_byte + 1)]
                with m.If(row_byte == self.row_bytes - 1):
                    m.d.comb += [self.load_valid.eq(1), self.load_data.eq(next_word)]
                    m.d.sync += [row_byte.eq(0),
                                 self.load_addr.eq(Mux(self.load_addr == self.rows - 1,
                                                       self.load_addr, self.load_addr + 1))]
            with m.Else():
                m.d.sync += self.valid.eq(header_ok & (byte == crc.crc))
                m.next = "DONE"
