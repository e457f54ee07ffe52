"""Proofs of :class:`~ecg_alq.hw.lane.Lane` against its reference behaviour (``LaneModel``, here
in HDL): for every input sequence, ``result_valid`` rises exactly ``lane_latency(simd)`` cycles
after the last chunk of a channel's last basis, and ``result`` is then

    bias + sum over the channel's bases of alpha * (sum over the basis' chunks of +-activations)

Two proofs by k-induction, joined at the lane's stage B (the record of the last completed basis:
its sum, alpha, first/last flags and bias), because a solver proves a sum of additions or a
multiplication quickly but not both in one query:

* :func:`lane_sum_proof`: from the inputs to stage B. The running basis sum and the record equal
  the reference's, one cycle later (two with the extra adder stage of wide chunks);
* :func:`lane_scale_proof`: from stage B to the result. Whatever the record holds, the
  accumulator and the result are the reference's ``acc = (first ? bias : acc) + alpha * sum``.
  The reference multiplies, so the ``shiftadd`` lane's sum of shifted copies is checked
  against a multiplication.

Contract (the model's bounds, ``sw/intmodel/bounds.py``: any partial sum of a basis is at most
``group size x max |activation|``): every running basis sum fits ``signed(psum_width)``. Inside,
the lane's chunk sums may wrap; the proof shows the basis sum is exact anyway.
"""

from __future__ import annotations

from amaranth import Mux, Signal, signed
from amaranth.hdl import Assert, Assume, Fragment

from ecg_alq.hw.lane import LATENCY, Lane, lane_latency
from ecg_alq.sim.formal import Harness, Proof

B_STAGE = 2  #: cycles from a lane input to its stage B registers (without the wide-chunk stage)


def fits(value, width: int):
    """``value`` is inside ``signed(width)``."""
    return (value >= -(1 << (width - 1))) & (value < (1 << (width - 1)))


def _lane(*params) -> tuple[Harness, Lane, tuple]:
    """A harness with the lane under proof, elaborated here so that its state registers are
    known, every input free."""
    h = Harness()
    dut = Lane(*params)
    h.m.submodules.dut = Fragment.get(dut, None)
    h.free(dut.acts, dut.signs, dut.valid, dut.last_chunk, dut.alpha, dut.first_basis,
           dut.last_basis, dut.bias)
    return h, dut, params


def _name(kind: str, params: tuple) -> str:
    simd, act_width, alpha_bits, psum_width, acc_width, alpha_mult = params
    return (f"lane_{kind}_s{simd}_a{act_width}_al{alpha_bits}_p{psum_width}_c{acc_width}_"
            f"{alpha_mult}")


def lane_sum_proof(simd: int, act_width: int, alpha_bits: int, psum_width: int, acc_width: int,
                   alpha_mult: str = "dsp") -> Proof:
    h, dut, params = _lane(simd, act_width, alpha_bits, psum_width, acc_width, alpha_mult)
    m = h.m
    psum = Signal(signed(psum_width + act_width + simd.bit_length() + 2))
    running = Signal.like(psum)
    chunk = sum(Mux(dut.signs[i], dut.acts[i], -dut.acts[i]) for i in range(simd))
    m.d.comb += running.eq(psum + chunk)
    done = dut.valid & dut.last_chunk
    record = {"b_sum": Signal(signed(psum_width)), "b_alpha": Signal(alpha_bits),
              "b_first": Signal(), "b_last": Signal(), "b_bias": Signal(signed(acc_width))}
    with m.If(dut.valid):
        m.d.comb += Assume(fits(running, psum_width))
        m.d.sync += psum.eq(Mux(dut.last_chunk, 0, running))
    with m.If(done):
        m.d.sync += [record["b_sum"].eq(running), record["b_alpha"].eq(dut.alpha),
                     record["b_first"].eq(dut.first_basis), record["b_last"].eq(dut.last_basis),
                     record["b_bias"].eq(dut.bias)]
    extra = lane_latency(simd) - LATENCY  # the wide-chunk stage
    state = dut.state
    m.d.comb += [Assert(state["psum"] == h.delayed(psum[:psum_width].as_signed(), 1 + extra,
                                                   "psum")),
                 Assert(state["b_valid"] == h.delayed(done, B_STAGE + extra, "b_valid"))]
    for key, value in record.items():
        m.d.comb += Assert(state[key] == h.delayed(value, B_STAGE - 1 + extra, key))
    depth = B_STAGE + extra + 2
    return Proof(_name("sum", params), m, "prove", depth,
                 f"Lane{params}: the running basis sum and the stage-B record of every completed "
                 f"basis equal the reference's for every input sequence whose running basis sums fit "
                 f"psum_width (k-induction, depth "
                 f"{depth})")


def lane_scale_proof(simd: int, act_width: int, alpha_bits: int, psum_width: int, acc_width: int,
                     alpha_mult: str = "dsp") -> Proof:
    h, dut, params = _lane(simd, act_width, alpha_bits, psum_width, acc_width, alpha_mult)
    m, s = h.m, dut.state
    acc, new = Signal(signed(acc_width)), Signal(signed(acc_width))
    m.d.comb += new.eq(Mux(s["b_first"], s["b_bias"], acc) + s["b_sum"] * s["b_alpha"])
    with m.If(s["b_valid"]):
        m.d.sync += acc.eq(new)
    tail = LATENCY - B_STAGE  # stage B to the result
    m.d.comb += Assert(s["acc"] == h.delayed(acc, tail - 1, "acc"))
    want_valid = h.delayed(s["b_valid"] & s["b_last"], tail, "want_valid")
    want = h.delayed(new, tail, "want")
    m.d.comb += Assert(dut.result_valid == want_valid)
    with m.If(want_valid):
        m.d.comb += Assert(dut.result == want)
    depth = tail + 2
    return Proof(_name("scale", params), m, "prove", depth,
                 f"Lane{params}: from any stage-B record, the accumulator and the result equal "
                 f"the reference's (k-induction, depth {depth})")
