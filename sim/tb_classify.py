"""cocotb testbench of :class:`ecg_alq.hw.classify.Classifier` against :class:`ClassifierModel`.

Each round: ``preset`` loads the constant logits, the lanes deliver their channels' results in a
random order with idle cycles and stale values overwritten, ``start`` begins the argmax. The
classifier must be busy from then on, raise ``finishing`` exactly in its
``compute_cycles(classes)``-th cycle, then stream every word the model gives (logit, index,
winning class with the lowest index on a tie, ``last``) while ``words.ready`` follows the round's
traffic shape, raise ``done`` with the last word taken and fall idle. Logits include ties
(all equal, a shared maximum) and both ends of the accumulator range.
Config: classes, acc_width, lane_channels, constants, rounds, seed, shape, rate.
"""

from __future__ import annotations

import random

import cocotb
from amaranth import Shape
from cocotb.triggers import FallingEdge, ReadOnly

from ecg_alq.hw.classify import ClassifierModel, compute_cycles
from ecg_alq.sim.bench import Bench, traffic
from ecg_alq.sim.runner import config


def logits_of(rng: random.Random, n: int, width: int, round_: int) -> list[int]:
    lo, hi = -(1 << (width - 1)), (1 << (width - 1)) - 1
    if round_ == 0:
        return [rng.randrange(lo, hi + 1)] * n  # all tie: index 0 wins
    if round_ == 1:
        return [hi if i in (n // 2, n - 1) else lo for i in range(n)]  # shared maximum, extremes
    return [rng.randrange(lo, hi + 1) for _ in range(n)]


def pack_results(items: list, classes_bits: int, width: int) -> int:
    """Per lane ``(channel, value)`` or None, packed as the ArrayLayout of {valid, channel,
    value} (first field lowest)."""
    size, word = 1 + classes_bits + width, 0
    for i, item in enumerate(items):
        if item is not None:
            ch, v = item
            word |= (1 | ch << 1 | (v & ((1 << width) - 1)) << (1 + classes_bits)) << (i * size)
    return word


def unpack_word(word: int, width: int, index_bits: int, cls_bits: int) -> tuple:
    logit = word & ((1 << width) - 1)
    logit -= (logit >> (width - 1)) << width
    index = (word >> width) & ((1 << index_bits) - 1)
    cls = (word >> (width + index_bits)) & ((1 << cls_bits) - 1)
    return logit, index, cls, bool(word >> (width + index_bits + cls_bits) & 1)


async def deliver(dut, rng, lane_channels, logits, classes_bits, width) -> None:
    """Every lane's channels in a random order, some first with a stale value."""
    queues = []
    for chans in lane_channels:
        q = [(c, rng.randrange(-9, 9)) for c in chans if rng.random() < 0.3]
        q += [(c, logits[c]) for c in rng.sample(chans, len(chans))]
        queues.append(q)
    while any(queues):
        items = [q.pop(0) if q and rng.random() < 0.7 else None for q in queues]
        dut.results.value = pack_results(items, classes_bits, width)
        await FallingEdge(dut.clk)
    dut.results.value = 0


@cocotb.test()
async def classifier_matches_model(dut):
    cfg = config()
    rng = random.Random(cfg["seed"])
    n, width = cfg["classes"], cfg["acc_width"]
    cbits, ibits = Shape.cast(range(n)).width, Shape.cast(range(n)).width
    kbits = Shape.cast(range(1, n + 1)).width
    model = ClassifierModel(n)
    tb = Bench(dut, ("results", "preset", "start", "words__ready"))
    await tb.start()
    ready = traffic(cfg["shape"], rng, cfg["rate"])
    for r in range(cfg["rounds"]):
        logits = logits_of(rng, n, width, r)
        for c, v in cfg["constants"]:
            logits[c] = v
        dut.preset.value = 1
        await FallingEdge(dut.clk)
        dut.preset.value = 0
        await deliver(dut, rng, cfg["lane_channels"], logits, cbits, width)
        dut.start.value = 1
        await FallingEdge(dut.clk)
        dut.start.value = 0
        busy_cycles = 0
        while True:
            await ReadOnly()
            assert dut.busy.value == 1, f"round {r}: not busy {busy_cycles} cycles after start"
            busy_cycles += 1
            if dut.finishing.value:
                break
            assert busy_cycles < 4 * n + 10, f"round {r}: no finishing"
            await FallingEdge(dut.clk)
        assert busy_cycles == compute_cycles(n), \
            f"round {r}: finishing after {busy_cycles} cycles, model {compute_cycles(n)}"
        got = []
        while len(got) < n:
            await FallingEdge(dut.clk)
            dut.words__ready.value = int(next(ready))
            await ReadOnly()
            taken = dut.words__valid.value and dut.words__ready.value
            if taken:
                got.append(unpack_word(int(dut.words__payload.value), width, ibits, kbits))
            assert bool(dut.done.value) == bool(taken and len(got) == n), f"round {r}: done"
        assert got == model.words(logits), f"round {r}: {got} != {model.words(logits)}"
        await FallingEdge(dut.clk)
        dut.words__ready.value = 0
        await ReadOnly()
        assert dut.busy.value == 0, f"round {r}: still busy after the last word"
        await FallingEdge(dut.clk)
