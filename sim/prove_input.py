"""Proof of :class:`~ecg_alq.hw.input_stage.InputStage` against the integer model's input stage,
by bounded model checking from reset over one whole fragment: for any raw samples (the whole
11-bit range) arriving with up to ``pauses`` idle cycles in all (the depth's room),

* the ``k``-th activation written is ``clamp(rshift(x[k] - mean, input_shift), -2^(A-1),
  2^(A-1) - 1)`` at bank ``k % simd``, row ``k // simd``, where ``mean`` is the fragment's
  mean rounded half up: ``mean * length <= sum + length // 2 < (mean + 1) * length``;
* the writes come in order, ``length`` of them, ``done`` with the last, and ``computing`` is
  high for exactly ``input_cycles(length)`` cycles.
"""

from __future__ import annotations

from amaranth import Array, Mux, Signal, signed
from amaranth.asserts import AnyConst
from amaranth.hdl import Assert, Assume, Fragment

from ecg_alq.hw.input_stage import RAW_BITS, InputStage, input_cycles
from ecg_alq.sim.formal import Harness, Proof


def input_proof(length: int, simd: int, act_bits: int, input_shift: int, pauses: int = 2
                ) -> Proof:
    """``pauses``: idle input cycles the depth leaves room for."""
    row_width = (-(-length // simd)).bit_length() + 1
    h = Harness(cycle_bits=8)
    m = h.m
    dut = InputStage(length, simd, act_bits, input_shift, row_width)
    m.submodules.dut = Fragment.get(dut, None)
    h.free(dut.start, dut.in_data, dut.in_valid)
    samples = Array([Signal(RAW_BITS, name=f"x{k}") for k in range(length)])
    got = Signal(range(length + 1))  # samples accepted
    with m.If(dut.in_valid & dut.in_ready):
        m.d.sync += [samples[got].eq(dut.in_data), got.eq(got + 1)]
    m.d.comb += Assume(~dut.start | (got == 0))  # one fragment
    total = sum(samples[k] for k in range(length))
    mean = AnyConst(RAW_BITS)
    with m.If(got == length):  # the rounded mean, defined by what it is, not how it is computed
        m.d.comb += [Assume(mean * length <= total + length // 2),
                     Assume(total + length // 2 < (mean + 1) * length)]
    written = Signal(range(length + 1))
    # the reference is computed wider than the unit's datapath, so that a width too narrow in
    # the unit (an overflow of x - mean or of its rounding) shows as a difference
    centred = Signal(signed(RAW_BITS + 8))
    m.d.comb += centred.eq(samples[written] - mean)
    s = input_shift
    shifted = (centred + (1 << (s - 1))) >> s if s > 0 else centred
    lo, hi = -(1 << (act_bits - 1)), (1 << (act_bits - 1)) - 1
    want = Mux(shifted < lo, lo, Mux(shifted > hi, hi, shifted))[:act_bits]
    with m.If(dut.write.valid):
        m.d.comb += [Assert(written < length), Assert(dut.write.value == want),
                     Assert(dut.write.bank == written % simd),
                     Assert(dut.write.row == written // simd),
                     Assert(dut.done == (written == length - 1))]
        m.d.sync += written.eq(written + 1)
    with m.Else():
        m.d.comb += Assert(~dut.done)
    computing = Signal(range(2 * input_cycles(length)))
    with m.If(dut.computing):
        m.d.sync += computing.eq(computing + 1)
    with m.If(dut.done):
        m.d.comb += Assert(computing + 1 == input_cycles(length))
    depth = 2 + length + pauses + input_cycles(length) + 1
    return Proof(f"input_l{length}_s{simd}_a{act_bits}_sh{input_shift}", m, "bmc", depth,
                 f"InputStage(length={length}, simd={simd}, act_bits={act_bits}, "
                 f"input_shift={input_shift}): the mean, every activation, its place and the "
                 f"cycles equal the integer model's for any samples (BMC, {depth} cycles from "
                 f"reset)")
