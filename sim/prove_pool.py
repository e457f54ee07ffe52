"""Proof of :class:`~ecg_alq.hw.pool.PoolUnit` (requantization, max-pooling, emission) against
its reference (``PoolModel``, here in HDL), by bounded model checking from reset: for every
sequence of results (any accumulator, channel, open/close slots and destination), with

* ``q = clamp(floor(acc / 2^s + 1/2), 0, 2^act_bits - 1)`` for the layer's shift ``s > 0``
  (``acc * 2^-s`` for ``s <= 0``): the rounding, the ReLU and the clamp at both ends;
* per channel and slot: a window that opens restarts from ``q``, every other slot takes
  ``max(slot, q)``, the same channel on consecutive cycles included (the state memory's
  read-during-write);
* ``emit`` exactly one cycle after a closing result, with the closing slot's value and the
  destination ``(row, bank)`` of element ``(base_row + ch_row) * simd + base_off + ch_off``.

Contract: the indices are in range and ``layer`` holds for a cycle (not the reset cycle) before
a result of that layer (the sequencer changes it between layers only).
"""

from __future__ import annotations

from amaranth import Array, Mux, Signal, signed
from amaranth.hdl import Assert, Assume, Fragment

from ecg_alq.hw.pool import EMIT_LATENCY, PoolUnit
from ecg_alq.sim.formal import Harness, Proof


def pool_proof(acc_width: int, act_bits: int, shifts: list[int], channels: int, windows: int,
               simd: int, row_width: int, depth: int = 8) -> Proof:
    h = Harness()
    m = h.m
    dut = PoolUnit(acc_width, act_bits, shifts, channels, windows, simd, row_width)
    m.submodules.dut = Fragment.get(dut, None)
    h.free(dut.valid, dut.acc, dut.layer, dut.local, dut.open, dut.open_slot, dut.close,
           dut.close_slot, dut.base_row, dut.base_off, dut.ch_row, dut.ch_off)
    m.d.comb += [Assume(dut.layer < len(shifts)), Assume(dut.local < channels),
                 Assume(dut.open_slot < windows), Assume(dut.close_slot < windows),
                 Assume(dut.base_off < simd), Assume(dut.ch_off < simd)]
    layer_before = h.delayed(dut.layer, 1, "layer_before")
    with m.If(dut.valid):  # the layer's constants are loaded: not right after reset
        m.d.comb += [Assume(dut.layer == layer_before), Assume(h.cycle >= 2)]
    top = (1 << act_bits) - 1
    shifted = Signal(signed(acc_width + max([0] + [-s for s in shifts]) + 1))
    for k, s in enumerate(shifts):
        with m.If(dut.layer == k):
            m.d.comb += shifted.eq((dut.acc + (1 << (s - 1))) >> s if s > 0 else dut.acc << -s)
    q = Mux(shifted < 0, 0, Mux(shifted > top, top, shifted[:act_bits]))
    state = Array([Array([Signal(act_bits, name=f"slot{c}_{j}") for j in range(windows)])
                   for c in range(channels)])
    new = [Signal(act_bits, name=f"new{j}") for j in range(windows)]
    slots = state[dut.local]
    for j in range(windows):
        old = slots[j]
        m.d.comb += new[j].eq(Mux(dut.open & (dut.open_slot == j), q, Mux(old > q, old, q)))
    with m.If(dut.valid):
        for j in range(windows):
            m.d.sync += slots[j].eq(new[j])
    element = Signal(signed(row_width + 2 + simd.bit_length() * 2))
    m.d.comb += element.eq((dut.base_row + dut.ch_row) * simd + dut.base_off + dut.ch_off)
    want = h.delayed(dut.valid & dut.close, EMIT_LATENCY, "want_emit")
    value = h.delayed(Array(new)[dut.close_slot], EMIT_LATENCY, "want_value")
    bank = h.delayed(element % simd, EMIT_LATENCY, "want_bank")
    row = h.delayed((element // simd)[:row_width], EMIT_LATENCY, "want_row")
    m.d.comb += Assert(dut.emit == want)
    with m.If(want):
        m.d.comb += [Assert(dut.emit_value == value), Assert(dut.emit_bank == bank),
                     Assert(dut.emit_row == row)]
    return Proof(f"pool_a{act_bits}_c{channels}_w{windows}_s{simd}", m, "bmc", depth,
                 f"PoolUnit(acc_width={acc_width}, act_bits={act_bits}, shifts={shifts}, "
                 f"channels={channels}, windows={windows}, simd={simd}): requantization, "
                 f"pooling and emission equal the reference for every result sequence "
                 f"(BMC, {depth} cycles from reset)")
