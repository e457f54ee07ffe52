"""Honest memory of a quantized network: every bit the hardware stores, beside the paper's count.

Per weight layer (see :mod:`ecg_alq.quant.integer` for the formats):

``signs``    one bit per weight per active basis: ``sum over groups of n * active bases``
``alpha``    every active alpha at its mantissa width, plus the layer's fraction length
             (:data:`FIELD_BITS`); for uniform quantizers (alpha ``a, 2a, 4a, ...``) one ``a``
             per group
``bases``    the number of active bases of every group, ``ceil(log2(max_bits + 1))`` bits each
             (the schedule and the memory layout need it)
``bias``     every bias at the layer's bias width
``requant``  the requantization shift (:data:`FIELD_BITS`), the last layer has none

plus one :data:`FIELD_BITS` field for the input shift. The activation width itself is a
generator parameter, not stored data.

The paper's count (mission brief, section 5) is ``average sign bits x all parameters`` (biases
included, alpha ignored); it is printed beside the honest one.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass

from ecg_alq.quant.integer import FrozenLayer
from ecg_alq.quant.layers import labels

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


def count(layers: list[FrozenLayer]) -> MemoryReport:
    """The :class:`MemoryReport` of a frozen network."""
    rows = []
    for f, name in zip(layers, labels([f.spec for f in layers])):
        active = int(f.mask.sum())
        n = f.spec.group_size
        rows.append(LayerMemory(
            name=name, groups=f.spec.groups, group_size=n,
            weights=f.spec.numel, active_bases=active, average_bits=active * n / f.spec.numel,
            signs=active * n, alpha=FIELD_BITS + f.alpha_bits * (
                int(f.mask[:, 0].sum()) if f.powers else active),
            bases=f.spec.groups * math.ceil(math.log2(f.mask.shape[1] + 1)),
            bias=f.bias.numel() * f.bias_bits,
            requant=FIELD_BITS if f.shift is not None else 0))
    params = sum(m.weights for m in rows) + sum(f.bias.numel() for f in layers)
    return MemoryReport(tuple(rows), FIELD_BITS, params)
