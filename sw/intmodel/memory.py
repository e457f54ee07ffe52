"""Honest memory of an integer model: every bit the hardware stores, beside the paper's count.

Counted from the integer model itself (:class:`~ecg_alq.intmodel.spec.IntModel`, i.e. from the
model file), per layer:

``signs``    one bit per weight per active basis: ``sum over groups of n * active bases``
``alpha``    every active alpha at its mantissa width, plus the layer's fraction length
             (:data:`FIELD_BITS`); for ``powers`` layers (alpha ``a, 2a, 4a, ...``, the uniform
             quantizers) one ``a`` per group with bases
``bases``    the number of active bases of every group, ``ceil(log2(max_bases + 1))`` bits each
             (the schedule and the memory layout need it)
``bias``     every bias at the layer's bias width
``requant``  the requantization shift (:data:`FIELD_BITS`); the logits layer has none

plus one :data:`FIELD_BITS` field for the input shift. Shapes and activation widths are
generator parameters fixed by the network, not stored data.

The paper's count (mission brief, section 5) is ``average sign bits x all parameters`` (biases
included, alpha ignored); it is printed beside the honest one.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass

from ecg_alq.intmodel.spec import IntModel

FIELD_BITS = 8  #: one stored shift or fraction length
KIB = 8 * 1024
FLOAT_BITS = 32


@dataclass(frozen=True)
class LayerMemory:
    """Stored bits of one weight layer by kind."""

    name: str
    groups: int
    group_size: int
    weights: int
    active_bases: int
    average_bits: float  #: active bases per weight
    signs: int
    alpha: int
    bases: int
    bias: int
    requant: int

    @property
    def total(self) -> int:
        return self.signs + self.alpha + self.bases + self.bias + self.requant


@dataclass(frozen=True)
class MemoryReport:
    """The whole network: per-layer rows, totals and the paper's count."""

    layers: tuple[LayerMemory, ...]
    input_bits: int  #: the input quantizer's shift field
    parameters: int  #: weights + biases

    @property
    def total_bits(self) -> int:
        return sum(m.total for m in self.layers) + self.input_bits

    @property
    def kib(self) -> float:
        return self.total_bits / KIB

    @property
    def weights(self) -> int:
        return sum(m.weights for m in self.layers)

    @property
    def average_bits(self) -> float:
        """Active bases per weight over the network (what ALQ's target constrains)."""
        return sum(m.signs for m in self.layers) / self.weights

    @property
    def paper_kib(self) -> float:
        """The paper's count: average sign bits x all parameters, alpha not counted."""
        return self.average_bits * self.parameters / KIB

    @property
    def float_kib(self) -> float:
        return self.parameters * FLOAT_BITS / KIB

    def by_kind(self) -> dict[str, int]:
        kinds = ("signs", "alpha", "bases", "bias", "requant")
        out = {k: sum(getattr(m, k) for m in self.layers) for k in kinds}
        out["input"] = self.input_bits
        return out

    def to_dict(self) -> dict:
        return {"total_bits": self.total_bits, "kib": self.kib, "paper_kib": self.paper_kib,
                "float_kib": self.float_kib, "average_bits": self.average_bits,
                "compression": self.float_kib / self.kib, "bits_by_kind": self.by_kind(),
                "layers": [asdict(m) | {"total": m.total} for m in self.layers]}

    def table(self) -> str:
        """Markdown table: one row per layer, then the totals and the paper's count."""
        rows = ["| layer | groups x n | active bases | avg bits | signs | alpha | bases | bias "
                "| requant | bits stored |", "|---|---|---|---|---|---|---|---|---|---|"]
        for m in self.layers:
            rows.append(f"| {m.name} | {m.groups} x {m.group_size} | {m.active_bases} | "
                        f"{m.average_bits:.3f} | {m.signs} | {m.alpha} | {m.bases} | {m.bias} | "
                        f"{m.requant} | {m.total} |")
        k = self.by_kind()
        rows.append(f"| **total** (+{self.input_bits} input shift) | | "
                    f"{sum(m.active_bases for m in self.layers)} | {self.average_bits:.3f} | "
                    f"{k['signs']} | {k['alpha']} | {k['bases']} | {k['bias']} | {k['requant']} | "
                    f"**{self.total_bits}** |")
        return "\n".join(rows) + (
            f"\n\nHonest memory {self.total_bits} bits = **{self.kib:.2f} KiB** "
            f"({self.float_kib / self.kib:.1f}x smaller than {self.float_kib:.1f} KiB float32); "
            f"the paper's count (average sign bits x {self.parameters} parameters, alpha "
            f"ignored) would give {self.paper_kib:.2f} KiB.")


def count(model: IntModel) -> MemoryReport:
    """The :class:`MemoryReport` of an integer model."""
    rows = []
    for layer in model.layers:
        active = layer.active_bases
        stored_alpha = int((layer.bases > 0).sum()) if layer.alpha_kind == "powers" else active
        rows.append(LayerMemory(
            name=layer.name, groups=layer.groups, group_size=layer.group_size,
            weights=layer.numel, active_bases=active, average_bits=layer.average_bits,
            signs=active * layer.group_size, alpha=FIELD_BITS + layer.alpha_bits * stored_alpha,
            bases=layer.groups * math.ceil(math.log2(layer.max_bases + 1)),
            bias=layer.out_channels * layer.bias_bits,
            requant=FIELD_BITS if layer.out_shift is not None else 0))
    params = sum(m.weights for m in rows) + sum(layer.out_channels for layer in model.layers)
    return MemoryReport(tuple(rows), FIELD_BITS, params)
