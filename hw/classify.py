"""The classifier at the end of the accelerator: it keeps the last layer's logits, picks the
winning class and streams one output word per class.

The last layer's lanes deliver their channels' results (``results``: per lane a valid flag, the
channel and its value); ``preset`` loads the fixed logits of the channels that have no basis
(their bias alone, ``constants``) at the start of that layer. ``start`` begins the argmax once
every logit is in: two cycles per logit 1..classes-1, (a) a register loads logit ``i``, (b) it
is compared with the best so far (registered), and a last (a) applies the final comparison:
:func:`compute_cycles` in all, ``finishing`` high in the last of them. The lowest index wins a
tie. Then the words follow on ``words`` (an ``amaranth.lib.stream`` of {logit, index, cls,
last}), index 0 first, each held until taken; ``done`` is high in the cycle the last is taken.

Ports::

    results    In  lanes x {valid, channel: range(classes), value: signed(acc_width)}
    preset     In  1       load the constant logits (the last layer's SETUP)
    start      In  1       every logit is final: take the argmax (when idle)
    busy       Out 1       from ``start`` until the last word is taken
    finishing  Out 1       the argmax's last cycle (the accelerator stops counting after it)
    words      Out stream of {logit: signed(acc_width), index: range(classes),
                              cls: class id 1..classes, last: 1}
    done       Out 1       the last word is taken this cycle

:class:`ClassifierModel` is the reference of the same behaviour.
"""

from __future__ import annotations

from amaranth import Array, Module, Signal, signed
from amaranth.lib import data, stream
from amaranth.lib.wiring import In, Out

from ecg_alq.hw.params import Checked, must_be_positive, reject


def compute_cycles(classes: int) -> int:
    """Cycles from ``start`` to the first word: two per logit after the first, and one more."""
    return 2 * (classes - 1) + 1


def word_layout(classes: int, acc_width: int) -> data.StructLayout:
    return data.StructLayout({"logit": signed(acc_width), "index": range(classes),
                              "cls": range(1, classes + 1), "last": 1})


class Classifier(Checked):
    """``lane_channels[i]``: the logit indices lane ``i`` computes; ``constants``: (index, value)
    of the logits without a basis."""

    @classmethod
    def check(cls, classes, acc_width, lane_channels, constants):
        must_be_positive(classes=classes, acc_width=acc_width, lanes=len(lane_channels))
        covered = sorted([c for chans in lane_channels for c in chans] + [c for c, _ in constants])
        if covered != list(range(classes)):
            reject(f"every one of the {classes} logits needs exactly one source (a lane's "
                   f"channel or a constant); got {covered}")

    def __init__(self, classes: int, acc_width: int, lane_channels: list[list[int]],
                 constants: list[tuple[int, int]]):
        self.classes, self.acc_width = classes, acc_width
        self.lane_channels, self.constants = [list(c) for c in lane_channels], list(constants)
        result = data.StructLayout({"valid": 1, "channel": range(classes),
                                    "value": signed(acc_width)})
        super().__init__({
            "results": In(data.ArrayLayout(result, len(lane_channels))), "preset": In(1),
            "start": In(1), "busy": Out(1), "finishing": Out(1),
            "words": Out(stream.Signature(word_layout(classes, acc_width))), "done": Out(1)})

    def elaborate(self, platform):
        m = Module()
        logits = [Signal(signed(self.acc_width), name=f"logit{j}") for j in range(self.classes)]
        for i, chans in enumerate(self.lane_channels):
            r = self.results[i]
            with m.If(r.valid):
                for j in chans:
                    with m.If(r.channel == j):
                        m.d.sync += logits[j].eq(r.value)
        with m.If(self.preset):
            m.d.sync += [logits[c].eq(v) for c, v in self.constants]
        self._argmax(m, Array(logits))
        return m

    def _argmax(self, m: Module, logits: Array) -> None:
        n = self.classes
        li = Signal(range(n + 1))  # logit index: the argmax's, then the output word's
        best, best_i = Signal(signed(self.acc_width)), Signal(range(n))
        cand = Signal(signed(self.acc_width), reset_less=True)  # logit ``li``, registered
        cand_i = Signal.like(li)
        greater = Signal()  # cand > best, registered
        half, compared = Signal(), Signal()
        li_moved = Signal()  # ``li`` changed in the last cycle: ``cand`` is not logit ``li`` yet
        m.d.sync += [cand.eq(logits[li]), cand_i.eq(li), greater.eq(cand > best), li_moved.eq(0)]
        w = self.words
        with m.FSM():
            with m.State("IDLE"):
                with m.If(self.start):
                    m.d.sync += [li.eq(1), best.eq(logits[0]), best_i.eq(0), half.eq(0),
                                 compared.eq(0)]
                    m.next = "ARGMAX"
            with m.State("ARGMAX"):
                m.d.comb += self.busy.eq(1)
                with m.If(~half):
                    with m.If(compared & greater):
                        m.d.sync += [best.eq(cand), best_i.eq(cand_i)]
                    with m.If(li == n):
                        m.d.comb += self.finishing.eq(1)
                        m.d.sync += [li.eq(0), li_moved.eq(1)]
                        m.next = "OUTPUT"
                    with m.Else():
                        m.d.sync += half.eq(1)
                with m.Else():
                    m.d.sync += [li.eq(li + 1), half.eq(0), compared.eq(1)]
            with m.State("OUTPUT"):
                # the word is the registered ``cand``: valid once it holds logit ``li``
                m.d.comb += [self.busy.eq(1), w.valid.eq(~li_moved), w.payload.logit.eq(cand),
                             w.payload.index.eq(li), w.payload.cls.eq(best_i + 1),
                             w.payload.last.eq(li == n - 1)]
                with m.If(w.ready & w.valid):
                    with m.If(li == n - 1):
                        m.d.comb += self.done.eq(1)
                        m.next = "IDLE"
                    with m.Else():
                        m.d.sync += [li.eq(li + 1), li_moved.eq(1)]


class ClassifierModel:
    """Reference of :class:`Classifier`: the words it streams for given logits and the cycles
    it takes before the first."""

    def __init__(self, classes: int):
        self.classes = classes

    def words(self, logits) -> list[tuple[int, int, int, bool]]:
        """(logit, index, class id 1..classes, last) per class; the lowest index wins a tie."""
        logits = [int(v) for v in logits]
        if len(logits) != self.classes:
            raise ValueError(f"need {self.classes} logits, got {len(logits)}")
        winner = logits.index(max(logits)) + 1
        return [(v, i, winner, i == self.classes - 1) for i, v in enumerate(logits)]

    def cycles(self) -> int:
        return compute_cycles(self.classes)
