"""The cycle model of the accelerator: exact cycle counts per layer and in total, in Python.

It walks the sequencer's states (:mod:`ecg_alq.hw.sequencer`, ``docs/hardware.md``), taking
every latency from the block that has it:

    INPUT     the input stage after the last sample (``input_stage.input_cycles``)
    per layer SETUP (``sequencer.SETUP_CYCLES``), RUN conv_length x P x F (one chunk issued per
              cycle), FLUSH (``timing.flush_cycles``), then (all but the last layer) DRAIN
              until the output FIFOs are empty and ZEROS (``sequencer.zeros_cycles``)
    last      the classifier's argmax (``classify.compute_cycles``)

DRAIN depends only on when results are pushed into the FIFOs, which the schedule fixes:
:func:`_drain` replays those pushes through the writer's reference model
(:class:`~ecg_alq.hw.writer.WriterModel`), which also gives the deepest FIFO the layer needs.
The simulation must reproduce the totals exactly (``tests/test_hw_network.py``).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

from ecg_alq.hw.classify import compute_cycles
from ecg_alq.hw.input_stage import input_cycles
from ecg_alq.hw.plan import LayerPlan, NetworkPlan
from ecg_alq.hw.sequencer import DRAIN_EXIT_CYCLES, SETUP_CYCLES, zeros_cycles
from ecg_alq.hw.timing import emit_delay, flush_cycles
from ecg_alq.hw.writer import READ_LATENCY, WriterModel


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


def _pushes(lp: LayerPlan) -> dict[int, list[int]]:
    """Cycle (from the layer's first issue) -> the lanes whose pool unit pushes a finished value
    into their FIFO in it: a channel's last chunk of a position that closes a pooling window,
    ``emit_delay - READ_LATENCY`` cycles after its issue."""
    layer = lp.layer
    F, P = lp.chunks, lp.passes
    delay = emit_delay(lp.simd) - READ_LATENCY
    out: dict[int, list[int]] = {}
    for t in range(layer.conv_length):
        d = t - (layer.pool_kernel - 1)
        if d >= 0 and d % layer.pool_stride == 0 and d // layer.pool_stride < layer.out_length:
            for i, lane in enumerate(lp.lanes):
                for p, ps in enumerate(lane.passes):
                    if ps is not None and ps.last:
                        out.setdefault(t * P * F + p * F + F - 1 + delay, []).append(i)
    return out


def _drain(lp: LayerPlan, end_of_flush: int) -> tuple[int, int]:
    """(cycles in DRAIN, deepest FIFO): the layer's pushes replayed through
    :class:`~ecg_alq.hw.writer.WriterModel` cycle by cycle (idle stretches skipped)."""
    pushes = _pushes(lp)
    lanes = len(lp.lanes)
    writer = WriterModel(lanes, depth=sum(map(len, pushes.values())) + 1)  # never full
    pending = sorted(pushes)
    depth, last_write, k = 0, -1, 0
    cycle = pending[0] if pending else 0
    while k < len(pending) or writer.fullest():
        if not writer.fullest() and pending[k] > cycle:
            cycle = pending[k]  # nothing to write until the next push
        now = pushes.get(cycle, []) if k < len(pending) and pending[k] == cycle else []
        k += bool(now)
        write, _, _ = writer.step([(0, 0, 0) if i in now else None for i in range(lanes)], None)
        if write is not None:
            last_write = cycle
        depth = max(depth, writer.fullest())
        cycle += 1
    drain_end = max(end_of_flush, last_write + 1)
    return drain_end - end_of_flush + DRAIN_EXIT_CYCLES, depth


def layer_cycles(lp: LayerPlan, last: bool, pe: int, classes: int) -> LayerCycles:
    layer = lp.layer
    run, flush = lp.compute_cycles, flush_cycles(lp.simd)
    if last:
        return LayerCycles(layer.name, run, flush, 0, 0, SETUP_CYCLES + compute_cycles(classes),
                           float(lp.ideal_cycles(pe)), 0)
    drain, depth = _drain(lp, run + flush)
    zeros = zeros_cycles(len(lp.zero_channels), layer.out_length)
    return LayerCycles(layer.name, run, flush, drain, zeros, SETUP_CYCLES,
                       float(lp.ideal_cycles(pe)), depth)


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
