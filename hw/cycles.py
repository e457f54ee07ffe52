"""The cycle model of the accelerator: exact cycle counts per layer and in total, in Python.

It follows the sequencer of :mod:`ecg_alq.hw.accelerator` state by state (``docs/hardware.md``):

    INPUT     the input stage after the last sample: mean, preprocessing pass (``input_cycles``)
    per layer SETUP 1, RUN conv_length x P x F (one chunk issued per cycle), FLUSH,
              then (all but the last layer) DRAIN until the output FIFOs are empty, and ZEROS:
              1 + out_length cycles per channel without bases, plus 1
    last      ARGMAX 2 x (classes - 1) + 1 (a logit read, then compared, per two cycles)

DRAIN depends only on when results are emitted, which the schedule fixes: a channel's pooled
output leaves its lane's FIFO through a writer that takes one value per cycle, lowest lane first.
:func:`layer_cycles` replays that queue, which also gives the deepest FIFO the layer needs.
The simulation must reproduce the totals exactly (``tests/test_hw_network.py``).
"""

from __future__ import annotations

from collections import deque
from dataclasses import asdict, dataclass

from ecg_alq.hw.plan import LayerPlan, NetworkPlan
from ecg_alq.hw.input_stage import input_cycles
from ecg_alq.hw.timing import emit_delay, flush_cycles


@dataclass(frozen=True)
class LayerCycles:
    name: str
    run: int  #: chunks issued: conv_length x P x F
    flush: int
    drain: int
    zeros: int
    overhead: int  #: SETUP (and ARGMAX for the last layer)
    ideal: float  #: basis additions / (pe x simd)
    fifo_depth: int  #: the deepest any lane's output FIFO gets

    @property
    def total(self) -> int:
        return self.run + self.flush + self.drain + self.zeros + self.overhead


def _emissions(lp: LayerPlan) -> list[deque]:
    """Per lane, the cycles (from the layer's first issue) at which its emitted values become
    readable in its FIFO, in order."""
    layer = lp.layer
    F, P = lp.chunks, lp.passes
    closing = []
    for t in range(layer.conv_length):
        d = t - (layer.pool_kernel - 1)
        closing.append(d >= 0 and d % layer.pool_stride == 0
                       and d // layer.pool_stride < layer.out_length)
    out = []
    for lane in lp.lanes:
        ends = [p for p, ps in enumerate(lane.passes) if ps is not None and ps.last]
        times = deque()
        for t in range(layer.conv_length):
            if closing[t]:
                base = t * P * F
                times.extend(base + p * F + F - 1 + emit_delay(lp.simd) for p in ends)
        out.append(times)
    return out


def _drain(lp: LayerPlan, end_of_flush: int) -> tuple[int, int]:
    """(cycles in DRAIN, deepest FIFO): replay the writer, which each cycle pops one value from
    the lowest lane whose FIFO holds a readable one."""
    arrivals = sorted((t, i) for i, q in enumerate(_emissions(lp)) for t in q)
    held = [0] * len(lp.lanes)
    depth, last_pop, k = 0, -1, 0
    cycle = arrivals[0][0] if arrivals else 0
    while k < len(arrivals) or any(held):
        if not any(held) and arrivals[k][0] > cycle:
            cycle = arrivals[k][0]  # nothing to write until the next value arrives
        while k < len(arrivals) and arrivals[k][0] <= cycle:
            held[arrivals[k][1]] += 1
            k += 1
        depth = max(depth, max(held))
        held[next(i for i, n in enumerate(held) if n)] -= 1
        last_pop = cycle
        cycle += 1
    drain_end = max(end_of_flush, last_pop + 1)
    return drain_end - end_of_flush + 1, depth


def layer_cycles(lp: LayerPlan, last: bool, pe: int, classes: int) -> LayerCycles:
    layer = lp.layer
    run = lp.compute_cycles
    if last:
        return LayerCycles(layer.name, run, flush_cycles(lp.simd), 0, 0, 2 * classes,
                           float(lp.ideal_cycles(pe)), 0)
    drain, depth = _drain(lp, run + flush_cycles(lp.simd))
    zeros = len(lp.zero_channels) * (1 + layer.out_length) + 1
    return LayerCycles(layer.name, run, flush_cycles(lp.simd), drain, zeros, 1, float(lp.ideal_cycles(pe)),
                       depth)


@dataclass(frozen=True)
class NetworkCycles:
    layers: tuple[LayerCycles, ...]
    input: int  #: the input stage: mean and preprocessing pass
    ideal: float

    @property
    def total(self) -> int:
        return self.input + sum(lc.total for lc in self.layers)

    @property
    def ratio(self) -> float:
        """Cycles over the ideal ``basis additions / (pe x simd)``."""
        return self.total / self.ideal

    def to_dict(self) -> dict:
        return {"total": self.total, "ideal": self.ideal, "ratio": self.ratio, "input": self.input,
                "layers": [asdict(lc) | {"total": lc.total} for lc in self.layers]}


def network_cycles(plan: NetworkPlan) -> NetworkCycles:
    """Compute cycles of one inference, as the accelerator's ``cycles`` counter reports them."""
    n = len(plan.layers)
    layers = tuple(layer_cycles(lp, k == n - 1, plan.params.pe, plan.model.num_classes)
                   for k, lp in enumerate(plan.layers))
    return NetworkCycles(layers, input_cycles(plan.model.input.length), float(plan.ideal_cycles))
