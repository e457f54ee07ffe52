"""The accelerator's hardware data, without building any hardware: its schedule (plan and tables),
the geometry of every on-chip memory and the words of its sign memory.

:class:`Layout` is what the host client (sign rows to load), the board builds (memory kinds and
sizes, which ones are SPRAM), the DSE and the simulations read; the
:class:`~ecg_alq.hw.accelerator.Accelerator` component is wired from the same object. Building
one elaborates nothing (no Amaranth component is made), so nothing is left unused.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

from amaranth import signed
from amaranth.lib import data

from ecg_alq.hw.cycles import network_cycles
from ecg_alq.hw.input_stage import RAW_BITS
from ecg_alq.hw.params import HwParams, bits, width
from ecg_alq.hw.plan import NetworkPlan, plan_network
from ecg_alq.hw.tables import BUF_A, BUF_B, Tables, build_tables
from ecg_alq.hw.writer import write_layout
from ecg_alq.intmodel import memory
from ecg_alq.intmodel.spec import IntModel


def fifo_depth(plan: NetworkPlan) -> int:
    """Entries of each lane's output FIFO: one more than the cycle model's replay of the writer
    ever finds waiting in a lane's FIFO (a push needs a free entry at the start of its cycle).
    Exactly what the schedule needs; the sticky ``error`` would show if the RTL ever needed
    more, and every simulation checks it."""
    return max(lc.fifo_depth for lc in network_cycles(plan).layers) + 1


@dataclass(frozen=True, eq=False)
class Layout:
    """The hardware data of ``model`` at ``params`` (build with :meth:`of`)."""

    plan: NetworkPlan
    tables: Tables
    params: HwParams

    @classmethod
    def of(cls, model: IntModel, params: HwParams = HwParams()) -> "Layout":
        plan = plan_network(model, params)
        return cls(plan, build_tables(plan), params)

    # ------------------------------------------------------------------ class ports
    @property
    def num_classes(self) -> int:
        return self.plan.model.num_classes

    @property
    def index_width(self) -> int:
        """Bits of a class index ``0..classes-1`` (``out_index``)."""
        return bits(self.num_classes - 1)

    @property
    def class_width(self) -> int:
        """Bits of a class id ``1..classes`` (``out_class``)."""
        return bits(self.num_classes)

    # ------------------------------------------------------------------ memory geometry
    def _rows(self, elements: int) -> int:
        return max(1, -(-elements // self.params.simd))

    @cached_property
    def buf_rows(self) -> dict[int, int]:
        """Rows of each activation buffer's banks."""
        return {b: self._rows(n) for b, n in self.tables.buffer_elements.items()}

    @cached_property
    def row_w(self) -> int:
        """Bits of a (signed) row address, with room for the fetch's row + 1."""
        return width(max(self.buf_rows.values()) + 2) + 2

    @property
    def sign_depth(self) -> int:
        """Rows of the sign memory."""
        return max(1, len(self.tables.signs[0]))

    @cached_property
    def pass_layout(self) -> data.StructLayout:
        T = self.tables
        return data.StructLayout({
            "valid": 1, "channel": self._channel_bits, "local": bits(max(T.max_local, 1)),
            "alpha": T.alpha_bits, "first": 1, "last": 1, "bias": signed(T.bias_width)})

    def pass_words(self) -> list[list[int]]:
        """Per lane, the words of its pass table (``pass_layout`` packed), all layers' rows."""
        return [[self.pass_layout.const({
            "valid": e.valid, "channel": e.channel, "local": e.local, "alpha": e.alpha,
            "first": e.first, "last": e.last, "bias": e.bias}).as_value().value for e in lane]
            for lane in self.tables.passes]

    def bank_names(self, kind: int) -> list[str]:
        """Netlist names of activation buffer ``kind``'s banks (``tables.BUF_A``/``BUF_B``):
        bank ``b`` holds elements ``b, b + simd, ...`` (what testbenches read and write)."""
        return [f"mem{kind}_{b}" for b in range(self.params.simd)]

    @cached_property
    def zero_layout(self) -> data.StructLayout:
        return data.StructLayout({"channel": self._channel_bits, "level": self.tables.act_bits})

    @property
    def _channel_bits(self) -> int:
        return bits(max(c.out_channels for c in self.tables.layers))

    @cached_property
    def fifo_depth(self) -> int:
        return fifo_depth(self.plan)

    @property
    def fifo_width(self) -> int:
        return write_layout(self.params.simd, self.row_w, self.tables.act_bits).size - 1

    @cached_property
    def element_w(self) -> int:
        """Bits of a chunk's element index: from the most negative window start to past the end."""
        S = self.params.simd
        reach = max(max(-c.start, c.in_elements + c.fan_in + 2 * S) for c in self.tables.layers)
        return bits(reach) + 1

    def memories(self) -> list[tuple[str, int, int]]:
        """Every on-chip memory instance as (kind, width in bits, depth in words)."""
        T, S, PE, A = self.tables, self.params.simd, self.params.pe, self.tables.act_bits
        out = [("input_samples", RAW_BITS, T.input_length)]
        out += [("activations_a", A, self.buf_rows[BUF_A])] * S
        out += [("activations_b", A, self.buf_rows[BUF_B])] * S
        out += [("sign_bits", PE * S, self.sign_depth)]
        out += [("pass_tables", self.pass_layout.size, len(x)) for x in T.passes]
        out += [("pooling_state", A * T.max_windows, max(1, T.max_local))] * PE
        out += [("empty_channels", self.zero_layout.size, len(T.zeros))]
        out += [("output_fifos", self.fifo_width, self.fifo_depth)] * PE
        return out

    def memory_bits(self) -> dict[str, int]:
        """Bits of every on-chip memory, by kind (what the FPGA must hold)."""
        out: dict[str, int] = {}
        for kind, w, depth in self.memories():
            out[kind] = out.get(kind, 0) + w * depth
        return out

    def model_bits(self) -> dict[str, int]:
        """Bits the accelerator holds that depend on the model's parameters, by kind, as the chip
        stores them (to set beside the model file's honest count): the sign memory (rows padded
        to ``pe x simd``), the pass tables (alpha, bias, channel, flags per pass and lane), the
        empty-channel table, and the requantization shifts (constants in logic)."""
        mem = self.memory_bits()
        shifts = [c.shift for c in self.tables.layers] + [self.tables.input_shift]
        lo, hi = min(shifts), max(shifts)
        shift_bits = max(bits(abs(lo)), bits(hi)) + 1 if lo < 0 else bits(hi)
        return {"sign_bits": mem["sign_bits"], "pass_tables": mem.get("pass_tables", 0),
                "empty_channels": mem.get("empty_channels", 0),
                "shifts": len(shifts) * shift_bits}

    def model_memory(self) -> dict:
        """The model file's honest count (every stored bit, :func:`ecg_alq.intmodel.memory.count`)
        beside what the accelerator holds of the model (:meth:`model_bits`), in bits."""
        deployed = self.model_bits()
        honest = memory.count(self.plan.model).total_bits
        return {"honest_bits": honest, "deployed_bits": sum(deployed.values()),
                "deployed_by_kind": deployed, "ratio": sum(deployed.values()) / honest}

    # ------------------------------------------------------------------ SPRAM and signs
    @property
    def loadable_signs(self) -> bool:
        """The sign bits live in SPRAM and are loaded at run time (``memory = "spram"``)."""
        return self.params.memory == "spram"

    def spram_kinds(self) -> tuple[str, ...]:
        """The memory kinds asked to be SPRAM (``"spram"`` style); the rest are block RAM. Each
        kind is also the name of its memories in the netlist (the board build finds them so)."""
        return ("input_samples", "sign_bits") if self.loadable_signs else ()

    def sign_rows(self) -> list[int]:
        """The sign memory's words, one per row: lane ``i``'s ``simd`` sign bits (1 = +1) in
        bits ``i * simd`` and up. What a host loads into a ``"spram"`` accelerator."""
        S = self.params.simd
        rows = []
        for r in range(self.sign_depth):
            word = 0
            for i, lane in enumerate(self.tables.signs):
                if r < len(lane):
                    word |= sum(int(v) << j for j, v in enumerate(lane[r])) << (i * S)
            rows.append(word)
        return rows
