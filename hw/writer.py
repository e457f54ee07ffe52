"""The writer: the single write port into the destination activation buffer (one per
accelerator).

Every lane emits finished pooled activations into its own FIFO (``push``: bank, row, value;
see :mod:`ecg_alq.hw.pool`). The writer takes one value per cycle from the lowest-numbered lane
whose FIFO has data and presents it as ``write``. When no FIFO has data, a request on ``zero``
(the constant outputs of channels without any basis, written by the sequencer after a layer's
FIFOs have drained) is written instead and acknowledged by ``zero_ready`` in the same cycle.

A push is accepted when its FIFO holds fewer than ``depth`` entries at the start of the cycle;
a push into a full FIFO is lost and raises ``overflow`` in that cycle (the accelerator keeps
it as its sticky ``error``; the FIFO depth from :func:`ecg_alq.hw.accelerator.fifo_depth` makes
it impossible for a valid schedule). A value pushed in cycle n can be written in cycle n + 1.

Ports::

    push         In  array of lanes x {valid, bank: range(simd), row: row_width, value: act_bits}
    zero         In  {valid, bank, row, value}   a write request with lower priority
    zero_ready   Out 1     no FIFO has data: a valid ``zero`` request is written this cycle
    write        Out {valid, bank, row, value}   this cycle's write (combinational)
    empty        Out 1     every FIFO is empty (this cycle)
    overflow     Out 1     a push found its FIFO full (this cycle)

:class:`WriterModel` is the behavioural reference of the same interface.
"""

from __future__ import annotations

from collections import deque

from amaranth import Array, Cat, Module, Signal
from amaranth.lib import data
from amaranth.lib.fifo import SyncFIFO
from amaranth.lib.wiring import In, Out

from ecg_alq.hw.params import Checked, must_be_positive

READ_LATENCY = 1  #: a value pushed in cycle n can be written in cycle n + READ_LATENCY


def write_layout(simd: int, row_width: int, act_bits: int) -> data.StructLayout:
    return data.StructLayout({"valid": 1, "bank": range(simd), "row": row_width,
                              "value": act_bits})


class Writer(Checked):
    @classmethod
    def check(cls, lanes, depth, simd, row_width, act_bits):
        must_be_positive(lanes=lanes, depth=depth, simd=simd, row_width=row_width,
                         act_bits=act_bits)

    def __init__(self, lanes: int, depth: int, simd: int, row_width: int, act_bits: int):
        self.lanes, self.depth = lanes, depth
        self.simd, self.row_width, self.act_bits = simd, row_width, act_bits
        entry = write_layout(simd, row_width, act_bits)
        self.entry_width = entry.size - 1  # everything but ``valid`` goes into the FIFO
        super().__init__({
            "push": In(data.ArrayLayout(entry, lanes)), "zero": In(entry),
            "zero_ready": Out(1), "write": Out(entry), "empty": Out(1), "overflow": Out(1),
        })

    def fifo_bits(self) -> int:
        """Storage bits of all the lanes' FIFOs."""
        return self.lanes * self.depth * self.entry_width

    def elaborate(self, platform):
        m = Module()
        fifos = []
        for i in range(self.lanes):
            fifo = SyncFIFO(width=self.entry_width, depth=self.depth)
            m.submodules[f"fifo{i}"] = fifo
            fifos.append(fifo)
            push = self.push[i]
            m.d.comb += [fifo.w_data.eq(Cat(push.bank, push.row, push.value)),
                         fifo.w_en.eq(push.valid)]
        m.d.comb += self.overflow.eq(Cat(*[self.push[i].valid & ~f.w_rdy
                                           for i, f in enumerate(fifos)]).any())
        has_data = Cat(*[f.r_rdy for f in fifos]).any()
        m.d.comb += [self.empty.eq(~has_data), self.zero_ready.eq(~has_data)]
        chosen = Signal(range(self.lanes))  # fixed priority: the lowest lane with data
        for i in reversed(range(self.lanes)):
            with m.If(fifos[i].r_rdy):
                m.d.comb += chosen.eq(i)
        popped = Signal(data.StructLayout({"bank": range(self.simd), "row": self.row_width,
                                           "value": self.act_bits}))
        m.d.comb += popped.as_value().eq(Array(f.r_data for f in fifos)[chosen])
        with m.If(has_data):
            for i, f in enumerate(fifos):
                m.d.comb += f.r_en.eq(chosen == i)
            m.d.comb += [self.write.valid.eq(1), self.write.bank.eq(popped.bank),
                         self.write.row.eq(popped.row), self.write.value.eq(popped.value)]
        with m.Elif(self.zero.valid):
            m.d.comb += [self.write.valid.eq(1), self.write.bank.eq(self.zero.bank),
                         self.write.row.eq(self.zero.row), self.write.value.eq(self.zero.value)]
        return m


class WriterModel:
    """Behavioural reference of :class:`Writer`: ``step(pushes, zero)`` once per cycle, with
    ``pushes`` a list (one per lane) of ``(bank, row, value)`` or None and ``zero`` the same or
    None; returns ``(write, empty, overflow)`` of that cycle, ``write`` = (bank, row, value) or
    None."""

    def __init__(self, lanes: int, depth: int):
        self.depth = depth
        self.queues = [deque() for _ in range(lanes)]

    def step(self, pushes, zero):
        full = [len(q) >= self.depth for q in self.queues]
        empty = not any(self.queues)
        write = zero if empty else next(q for q in self.queues if q).popleft()
        overflow = False
        for q, item, is_full in zip(self.queues, pushes, full):
            if item is not None:
                if is_full:
                    overflow = True
                else:
                    q.append(tuple(item))
        return (tuple(write) if write is not None else None), empty, overflow

    def fullest(self) -> int:
        """Values in the fullest FIFO (after the last step)."""
        return max(map(len, self.queues), default=0)
