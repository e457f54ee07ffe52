"""Proof of :class:`~ecg_alq.hw.writer.Writer` against its reference (``WriterModel``, here in
HDL: a queue of registers per lane), by bounded model checking from reset: for every sequence of
pushes (any lanes in the same cycle, full FIFOs included) and constant-output requests,

* each cycle's ``write`` is the head of the lowest-numbered non-empty queue, or the ``zero``
  request when every queue is empty (``zero_ready`` then), or nothing: no value is lost,
  duplicated or reordered within a lane;
* ``overflow`` is high exactly when a push meets a queue holding ``depth`` values at the start
  of the cycle (that push is dropped), and ``empty`` exactly when every queue is empty.

That a valid schedule never overflows is a property of the accelerator's FIFO depth
(``hw/cycles.py`` replays ``WriterModel`` to size it); it is covered by simulation.
"""

from __future__ import annotations

from amaranth import Array, Cat, Signal
from amaranth.hdl import Assert, Assume, Fragment

from ecg_alq.hw.writer import Writer
from ecg_alq.sim.formal import Harness, Proof


def _queue(lane: int, depth: int, width: int):
    """A reference queue: ``depth`` registers, the head in slot 0, and its fill count."""
    slots = [Signal(width, name=f"q{lane}_{k}") for k in range(depth)]
    count = Signal(range(depth + 1), name=f"count{lane}")
    return slots, count


def writer_proof(lanes: int, depth: int, simd: int, row_width: int, act_bits: int,
                 cycles: int = 10) -> Proof:
    h = Harness()
    m = h.m
    dut = Writer(lanes, depth, simd, row_width, act_bits)
    m.submodules.dut = Fragment.get(dut, None)
    h.free(dut.push, dut.zero)
    for p in list(dut.push) + [dut.zero]:
        m.d.comb += Assume(p.bank < simd)
    queues = [_queue(i, depth, dut.entry_width) for i in range(lanes)]
    nonempty = [count != 0 for _, count in queues]
    all_empty = ~Cat(*nonempty).any()
    m.d.comb += [Assert(dut.empty == all_empty), Assert(dut.zero_ready == all_empty)]
    write = Cat(dut.write.bank, dut.write.row, dut.write.value)
    # the chosen lane: the lowest non-empty one
    for i, (slots, count) in enumerate(queues):
        lower_empty = ~Cat(*nonempty[:i]).any() if i else 1
        popped = nonempty[i] & lower_empty
        with m.If(popped):
            m.d.comb += [Assert(dut.write.valid), Assert(write == slots[0])]
        _step(m, dut.push[i], slots, count, popped, depth)
    with m.If(all_empty):
        m.d.comb += Assert(dut.write.valid == dut.zero.valid)
        with m.If(dut.zero.valid):
            m.d.comb += Assert(write == Cat(dut.zero.bank, dut.zero.row, dut.zero.value))
    full = Cat(*[p.valid & (count == depth) for p, (_, count) in zip(dut.push, queues)])
    m.d.comb += Assert(dut.overflow == full.any())
    return Proof(f"writer_l{lanes}_d{depth}", m, "bmc", cycles,
                 f"Writer(lanes={lanes}, depth={depth}): writes, priorities, empty and "
                 f"overflow equal the reference queues for every push and request sequence "
                 f"(BMC, {cycles} cycles from reset)")


def _step(m, push, slots, count, popped, depth: int) -> None:
    """The reference queue's next state: pop the head, then append an accepted push."""
    after = [Signal.like(s, name=f"{s.name}_after") for s in slots]
    m.d.comb += [a.eq(Array(slots + [0])[k + popped]) for k, a in enumerate(after)]
    kept = count - popped
    entry = Cat(push.bank, push.row, push.value)
    accepted = push.valid & (count != depth)
    for k, s in enumerate(slots):
        m.d.sync += s.eq(after[k])
        with m.If(accepted & (kept == k)):
            m.d.sync += s.eq(entry)
    m.d.sync += count.eq(kept + accepted)
