"""Proof of :class:`~ecg_alq.hw.classify.Classifier` (the logits, the argmax and the output
words) against its reference (``ClassifierModel``, here in HDL), by bounded model checking from
reset over the whole of one classification:

* the lanes deliver any values for any of their channels, in any cycles, before ``start``;
  ``start`` comes once (the sequencer's contract: every logit is final then: nothing arrives
  in its cycle or later);
* ``finishing`` is high exactly ``compute_cycles(classes)`` cycles after ``start``, and the
  first word is valid two cycles later;
* word ``i`` carries logit ``i`` (the last value delivered for it), its index, ``last`` on the
  final one, and the class ``w + 1`` of the winner ``w``: the lowest index whose logit is at
  least every other (a tie goes to the lower index);
* a word holds still until it is taken (``ready``, free every cycle), the words come in index
  order with none skipped, and ``done`` rises when the last is taken.

One classification from reset; the depth leaves room for one pause per word. A second
classification after ``done`` is not covered here (the network benches run several).
"""

from __future__ import annotations

from amaranth import Signal, signed
from amaranth.hdl import Assert, Assume, Fragment

from ecg_alq.hw.classify import Classifier, compute_cycles
from ecg_alq.sim.formal import Harness, Proof


def _winner(logits: list) -> list:
    """Per index, "this logit wins": above every lower index, at least every higher one."""
    n = len(logits)
    wins = []
    for i in range(n):
        cond = 1
        for j in range(n):
            if j != i:
                cond = cond & ((logits[i] > logits[j]) if j < i else (logits[i] >= logits[j]))
        wins.append(cond)
    return wins


def classify_proof(classes: int, acc_width: int, lane_channels: list[list[int]],
                   constants: list[tuple[int, int]], fill: int = 3) -> Proof:
    """``fill``: the most cycles of lane results before ``start`` (any of them may be idle);
    the depth covers them, the argmax and every word with one pause per word."""
    h = Harness(cycle_bits=7)
    m = h.m
    dut = Classifier(classes, acc_width, lane_channels, constants)
    m.submodules.dut = Fragment.get(dut, None)
    h.free(dut.results, dut.preset, dut.start, dut.words.ready)
    ref = [Signal(signed(acc_width), name=f"ref_logit{j}") for j in range(classes)]
    started = Signal()
    for i, chans in enumerate(lane_channels):  # the reference's logits: the last value delivered
        r = dut.results[i]
        for j in chans:
            with m.If(r.valid & (r.channel == j)):
                m.d.sync += ref[j].eq(r.value)
    with m.If(dut.preset):
        m.d.sync += [ref[c].eq(v) for c, v in constants]
    with m.If(dut.start):
        m.d.sync += started.eq(1)
    delivery = dut.preset
    for r in dut.results:
        delivery = delivery | r.valid
    # every logit is final at start (nothing arrives from then on), and start comes once
    m.d.comb += [Assume(~((started | dut.start) & delivery)), Assume(~(started & dut.start))]
    with m.If(h.cycle == fill):
        m.d.comb += Assume(started | dut.start)  # start within ``fill`` cycles
    return _outputs(h, dut, ref, started, classes, fill)


def _outputs(h: Harness, dut, ref, started, classes: int, fill: int) -> Proof:
    m = h.m
    wins = _winner(ref)
    w = dut.words
    since = Signal(range(64))  # cycles since start
    index = Signal(range(classes + 1))  # the next word expected
    with m.If(started & (since != 63)):
        m.d.sync += since.eq(since + 1)
    # ``since`` is k - 1 in the k-th cycle after start: the argmax's last cycle is the
    # compute_cycles-th, the first word is valid two cycles later
    last = compute_cycles(classes) - 1
    m.d.comb += [Assert(dut.finishing == (started & (since == last))),
                 Assert(~w.valid | (since >= last + 2))]
    with m.If(started & (since == last + 2)):
        m.d.comb += Assert(w.valid)
    with m.If(w.valid):
        m.d.comb += [Assert(w.payload.index == index), Assert(w.payload.last == (index == classes - 1))]
        for j in range(classes):
            with m.If(index == j):
                m.d.comb += Assert(w.payload.logit == ref[j])
            with m.If(wins[j]):
                m.d.comb += Assert(w.payload.cls == j + 1)
        with m.If(w.ready):
            m.d.sync += index.eq(index + 1)
    m.d.comb += Assert(dut.done == (w.valid & w.ready & (index == classes - 1)))
    held = h.delayed(w.valid & ~w.ready, 1, "held")
    prev = h.delayed(w.payload.as_value(), 1, "prev")
    with m.If(held):
        m.d.comb += [Assert(w.valid), Assert(w.payload.as_value() == prev)]
    depth = fill + last + 4 + 2 * classes
    return Proof(f"classify_c{classes}_w{dut.acc_width}_l{len(dut.lane_channels)}", m, "bmc",
                 depth, f"Classifier({classes} classes, {dut.acc_width}-bit logits, "
                 f"{len(dut.lane_channels)} lanes, {len(dut.constants)} constants): words, "
                 f"argmax and timing equal the reference for every delivery of the logits and "
                 f"every ready pattern with up to one pause per word (BMC, {depth} cycles from "
                 f"reset)")
