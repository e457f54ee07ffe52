"""The input stage: a fragment's raw ADC samples in, the first layer's activations out.

It keeps the raw samples in one memory of ``length`` words (a single address drives both its
write and its read port, and it is not read while written, so the iCE40UP5K can hold it in one
single-port SPRAM), adds them up as
they arrive, divides the sum by the length once the last sample is in (the fragment's mean,
rounded half up), then makes one *preprocessing pass*: each sample, in order, becomes
``clamp(rshift(x - mean, input_shift), -2^(A-1), 2^(A-1) - 1)`` (the integer model's input
stage, ``docs/model-file.md``) and is written, as an ``A``-bit two's complement word, to element
``n`` of the first layer's source buffer (bank ``n % simd``, row ``n // simd``).

One preprocessing unit does the whole fragment in ``length`` cycles, instead of one per bank on
the fetch path of every first-layer chunk.

Timing (all counted from the cycle after the last sample was accepted, ``computing``)::

    MEAN   mean_cycles   the restoring divider (one cycle per bit of the sum, plus one)
    PREP   length        sample n read (address in cycle c, data in c + 1, preprocessed and
                         registered, written in c + 2)
    TAIL   TAIL_CYCLES   the last two writes; ``done`` with the last one

Ports::

    start       In  1       begin taking a fragment (when idle)
    in_data     In  11      raw sample 0..2047; in_valid/in_ready handshake, ``length`` of them
    busy        Out 1       from ``start`` until ``done``
    computing   Out 1       MEAN, PREP and TAIL (the accelerator counts these cycles)
    done        Out 1       one cycle, with the last activation write
    write       Out {valid, bank, row, value}  activation writes (``hw/writer.write_layout``)
"""

from __future__ import annotations

from amaranth import Cat, Module, Mux, Signal, signed
from amaranth.lib.memory import Memory
from amaranth.lib.wiring import In, Out

from ecg_alq.hw.params import Checked, must_be_positive, reject
from ecg_alq.hw.writer import write_layout
from ecg_alq.intmodel.spec import ADC_BITS, rshift

RAW_BITS = ADC_BITS  #: raw input samples (the contract's ADC width)
TAIL_CYCLES = 2  #: after the last read: its data, then its write


def sum_bits(length: int) -> int:
    """Bits of a fragment's sum + length / 2 (at most ``length`` samples of 2^11 - 1): the
    dividend of the mean, 23 bits for 3600 samples."""
    return (length * ((1 << RAW_BITS) - 1) + length // 2).bit_length()


def mean_cycles(length: int) -> int:
    """Cycles of the restoring divider of the mean: one per quotient bit, plus one."""
    return sum_bits(length) + 1


def input_cycles(length: int) -> int:
    """Cycles of the input stage from the last accepted sample to the first layer's SETUP."""
    return mean_cycles(length) + length + TAIL_CYCLES


def preprocess(x: int, mean: int, shift: int, act_bits: int) -> int:
    """The reference of one sample's preprocessing (signed result)."""
    lo, hi = -(1 << (act_bits - 1)), (1 << (act_bits - 1)) - 1
    return int(min(hi, max(lo, int(rshift(x - mean, shift)))))


class InputStage(Checked):
    @classmethod
    def check(cls, length, simd, act_bits, input_shift, row_width, memory_attrs=None):
        must_be_positive(length=length, simd=simd, act_bits=act_bits, row_width=row_width)
        if not (isinstance(input_shift, int) and input_shift >= 0):
            reject(f"input_shift must be an integer >= 0, got {input_shift!r}")

    def __init__(self, length: int, simd: int, act_bits: int, input_shift: int,
                 row_width: int, memory_attrs: dict | None = None):
        self.length, self.simd, self.act_bits = length, simd, act_bits
        self.input_shift, self.row_width = input_shift, row_width
        self.memory_attrs = dict(memory_attrs or {})
        super().__init__({
            "start": In(1), "in_data": In(RAW_BITS), "in_valid": In(1), "in_ready": Out(1),
            "busy": Out(1), "computing": Out(1), "done": Out(1),
            "write": Out(write_layout(simd, row_width, act_bits)),
        })

    def elaborate(self, platform):
        m = Module()
        L, S, A, sh = self.length, self.simd, self.act_bits, self.input_shift
        m.submodules.input_samples = mem = Memory(shape=RAW_BITS, depth=L, init=[],
                                            attrs=self.memory_attrs or None)
        wp, rp = mem.write_port(), mem.read_port()
        n = Signal(range(L + 1))  # the one address: sample written (LOAD) or read (PREP)
        bank, row = Signal(range(S)), Signal(range(-(-L // S) + 1))
        # a single-port RAM's read data holds while it writes: no read while writing
        m.d.comb += [wp.addr.eq(n), rp.addr.eq(n), wp.data.eq(self.in_data),
                     wp.en.eq(self.in_valid & self.in_ready), rp.en.eq(~wp.en)]

        total = Signal(sum_bits(L))
        rem = Signal(range(L))
        div_i = Signal(range(mean_cycles(L) + 1))
        dividend = Signal(sum_bits(L))  # sum + length / 2; shifts out, becomes the quotient
        mean = Signal(RAW_BITS)

        # PREP pipeline: address in c; in c + 1 the word is preprocessed and registered
        reading, r_valid = Signal(), Signal()
        r_bank, r_row = Signal.like(bank), Signal.like(row)
        w_valid = Signal()
        w_bank, w_row = Signal.like(bank), Signal.like(row)
        w_value = Signal(A, reset_less=True)
        centred = Signal(signed(RAW_BITS + 2))
        m.d.comb += centred.eq(rp.data - mean)
        shifted = (centred + (1 << (sh - 1))) >> sh if sh > 0 else centred
        lo, hi = -(1 << (A - 1)), (1 << (A - 1)) - 1
        m.d.sync += [r_valid.eq(reading), w_valid.eq(r_valid), w_bank.eq(r_bank), w_row.eq(r_row),
                     w_value.eq(Mux(shifted < lo, lo, Mux(shifted > hi, hi, shifted))),
                     r_bank.eq(bank), r_row.eq(row)]
        m.d.comb += [self.write.valid.eq(w_valid), self.write.bank.eq(w_bank),
                     self.write.row.eq(w_row), self.write.value.eq(w_value)]

        def next_element():
            return [n.eq(n + 1), bank.eq(Mux(bank == S - 1, 0, bank + 1)),
                    row.eq(Mux(bank == S - 1, row + 1, row))]

        with m.FSM():
            with m.State("IDLE"):
                with m.If(self.start):
                    m.d.sync += [n.eq(0), total.eq(0)]
                    m.next = "LOAD"
            with m.State("LOAD"):
                m.d.comb += [self.in_ready.eq(1), self.busy.eq(1)]
                with m.If(self.in_valid):
                    m.d.sync += [n.eq(n + 1), total.eq(total + self.in_data)]
                    with m.If(n == L - 1):
                        m.d.sync += [div_i.eq(0), rem.eq(0),
                                     dividend.eq(total + self.in_data + L // 2)]
                        m.next = "MEAN"
            with m.State("MEAN"):
                m.d.comb += [self.busy.eq(1), self.computing.eq(1)]
                shifted_rem = Signal(len(rem) + 1)
                m.d.comb += shifted_rem.eq(Cat(dividend[-1], rem))
                with m.If(div_i < mean_cycles(L) - 1):
                    ge = shifted_rem >= L
                    m.d.sync += [rem.eq(Mux(ge, shifted_rem - L, shifted_rem)),
                                 dividend.eq(Cat(ge, dividend[:-1])), div_i.eq(div_i + 1)]
                with m.Else():
                    m.d.sync += [mean.eq(dividend[:RAW_BITS]), n.eq(0), bank.eq(0), row.eq(0)]
                    m.next = "PREP"
            with m.State("PREP"):
                m.d.comb += [self.busy.eq(1), self.computing.eq(1), reading.eq(1)]
                m.d.sync += next_element()
                with m.If(n == L - 1):
                    m.next = "TAIL"
            with m.State("TAIL"):  # the last sample's word is being preprocessed
                m.d.comb += [self.busy.eq(1), self.computing.eq(1)]
                m.next = "TAIL2"
            with m.State("TAIL2"):  # ... and written
                m.d.comb += [self.busy.eq(1), self.computing.eq(1), self.done.eq(1)]
                m.next = "IDLE"
        return m
