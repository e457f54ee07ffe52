"""cocotb testbench of :class:`ecg_alq.hw.writer.Writer` against :class:`WriterModel`.

Bursts of pushes from random lanes (several lanes in the same cycle; with ``overflow_bursts``
also into full FIFOs, which must raise ``overflow``; without, only into FIFOs with room, as a
valid schedule does, which must never raise it), quiet stretches in which the FIFOs
drain, and zero-channel write requests both while FIFOs hold data and when they are empty;
every cycle's write, ``empty``, ``zero_ready`` and ``overflow`` must equal the model's.
Config: lanes, depth, simd, row_width, act_bits, cycles, seed, overflow_bursts.
"""

from __future__ import annotations

import random

import cocotb
from amaranth import Shape
from cocotb.triggers import FallingEdge, ReadOnly

from ecg_alq.hw.writer import WriterModel
from ecg_alq.sim.bench import Bench
from ecg_alq.sim.runner import config


def pack_entry(item, simd_bits: int, row_width: int, act_bits: int) -> int:
    """{valid, bank, row, value} as the StructLayout packs it (first field lowest)."""
    if item is None:
        return 0
    bank, row, value = item
    return 1 | bank << 1 | row << (1 + simd_bits) | value << (1 + simd_bits + row_width)


@cocotb.test()
async def writer_matches_model(dut):
    cfg = config()
    rng = random.Random(cfg["seed"])
    L, S, rw, A = cfg["lanes"], cfg["simd"], cfg["row_width"], cfg["act_bits"]
    sb = Shape.cast(range(S)).width  # bits of the bank field (0 for simd 1)
    width = 1 + sb + rw + A
    model = WriterModel(L, cfg["depth"])
    await Bench(dut, ("push", "zero")).start(2)
    seen = {"writes": 0, "zero_writes": 0, "overflows": 0, "zero_refused": 0}

    def item():
        return (rng.randrange(S), rng.randrange(1 << rw), rng.randrange(1 << A))

    for cycle in range(cfg["cycles"]):
        await FallingEdge(dut.clk)
        phase = (cycle // 40) % 3  # burst, mixed, quiet
        rate = {0: 0.7 if cfg["overflow_bursts"] else 0.35, 1: 0.2, 2: 0.0}[phase]
        pushes = [item() if rng.random() < rate / max(1, L // 2) else None for _ in range(L)]
        if not cfg["overflow_bursts"]:  # as a valid schedule: only into FIFOs with room
            pushes = [p if len(q) < cfg["depth"] else None for p, q in zip(pushes, model.queues)]
        zero = item() if rng.random() < 0.5 else None
        dut.push.value = sum(pack_entry(p, sb, rw, A) << (i * width) for i, p in enumerate(pushes))
        dut.zero.value = pack_entry(zero, sb, rw, A)
        await ReadOnly()
        got_write = None
        if dut.write.value.to_unsigned() & 1:
            w = dut.write.value.to_unsigned()
            got_write = ((w >> 1) & ((1 << sb) - 1), (w >> (1 + sb)) & ((1 << rw) - 1),
                         w >> (1 + sb + rw))
        got = (got_write, bool(dut.empty.value), bool(dut.overflow.value))
        want = model.step(pushes, zero)
        assert got == want, f"cycle {cycle}: (write, empty, overflow) {got}, want {want}"
        assert bool(dut.zero_ready.value) == want[1], f"cycle {cycle}: zero_ready != empty"
        seen["writes"] += want[0] is not None
        seen["zero_writes"] += want[1] and zero is not None
        seen["zero_refused"] += (not want[1]) and zero is not None
        seen["overflows"] += want[2]
    assert seen["writes"] > 50 and seen["zero_writes"] > 10 and seen["zero_refused"] > 10, seen
    assert (seen["overflows"] > 0) == bool(cfg["overflow_bursts"]), seen
