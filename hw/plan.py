"""The schedule of the accelerator, compiled from an integer model and the hardware parameters.

Read together with ``docs/hardware.md``. Per layer:

- **Lanes own channels.** Each of the ``pe`` lanes computes a fixed set of output channels,
  chosen by longest-processing-time-first on the channels' numbers of active bases, so that the
  lanes' loads are as equal as the channel granularity allows. A lane works through its
  channels one basis (one *pass*) at a time; a channel with no basis costs no pass (its output is
  the constant ``requant(bias)``, written once per position at the end of the layer).
- **A pass** sums ``fan_in = in_channels x kernel`` activations, ``simd`` per cycle, in
  ``F = ceil(fan_in / simd)`` cycles. All lanes see the same activations (the window of the
  current output position) and each applies its own sign bits.
- **An iteration** is one output position: every lane runs ``P`` passes, ``P`` being the largest
  lane load (lighter lanes run bubbles). A layer takes ``conv_length x P x F`` compute cycles.

The reduction order in hardware is position-major (tap ``j``, then input channel ``c``), the
layout of the activation memories, so each chunk is a contiguous run of the activation memory;
the signs are permuted accordingly (the sum of a channel's single group does not depend on the
order). This needs one group per output channel (ALQ's ``channel`` grouping).

The *ideal* cycle count is ``basis additions / (pe x simd)`` with ``basis additions = sum over
layers and channels of active bases x fan_in x conv_length``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from fractions import Fraction

import numpy as np

from ecg_alq.intmodel.spec import IntLayer, IntModel
from ecg_alq.hw.params import HardwareParamError, HwParams


@dataclass(frozen=True)
class Pass:
    """One basis of one channel, as a lane runs it."""

    channel: int
    basis: int  #: row of the layer's alpha/signs arrays
    alpha: int  #: mantissa
    first: bool  #: first basis of the channel: the accumulator starts from the bias
    last: bool  #: last basis: the channel's accumulator is complete after this pass


@dataclass
class LanePlan:
    channels: list[int]  #: channels this lane owns, in processing order
    passes: list[Pass | None] = field(default_factory=list)  #: padded with None to P


@dataclass
class LayerPlan:
    index: int
    layer: IntLayer
    simd: int
    lanes: list[LanePlan]
    zero_channels: list[int]  #: channels without active bases (constant output)

    @property
    def fan_in(self) -> int:
        return self.layer.fan_in

    @property
    def chunks(self) -> int:
        """F: cycles of one pass."""
        return -(-self.fan_in // self.simd)

    @property
    def passes(self) -> int:
        """P: passes per output position (the heaviest lane's load)."""
        return max((len(lane.passes) for lane in self.lanes), default=0)

    @property
    def compute_cycles(self) -> int:
        return self.layer.conv_length * self.passes * self.chunks

    @property
    def basis_additions(self) -> int:
        return self.layer.active_bases * self.fan_in * self.layer.conv_length

    def ideal_cycles(self, pe: int) -> Fraction:
        return Fraction(self.basis_additions, pe * self.simd)

    def hw_order(self) -> np.ndarray:
        """int (fan_in,): for element e of a chunk-ordered window (position-major: ``e = j *
        in_channels + c``) the index ``c * kernel + j`` of its weight in the model's order."""
        c_in, k = self.layer.in_channels, self.layer.kernel
        e = np.arange(self.fan_in)
        return (e % c_in) * k + e // c_in

    def sign_words(self, lane: int) -> np.ndarray:
        """bool (P * F, simd): the lane's sign bits, pass by pass, chunk by chunk (1 = +1).
        Bubbles and the lanes past ``fan_in`` in the last chunk are 0 (they are masked)."""
        words = np.zeros((self.passes, self.chunks * self.simd), dtype=bool)
        order = self.hw_order()
        for p, ps in enumerate(self.lanes[lane].passes):
            if ps is not None:
                words[p, : self.fan_in] = self.layer.signs[ps.basis][order]
        return words.reshape(self.passes * self.chunks, self.simd)


def _check(model: IntModel) -> None:
    for layer in model.layers:
        if layer.group_size != layer.fan_in:
            raise HardwareParamError(
                f"layer {layer.name}: the accelerator needs one group per output channel (ALQ "
                f"grouping 'channel'); this model has groups of {layer.group_size} of the "
                f"{layer.fan_in} weights of a channel. Quantize with --grouping channel.")
        if layer.alpha_kind not in ("free", "powers"):
            raise HardwareParamError(f"layer {layer.name}: unknown alpha kind {layer.alpha_kind}")


def assign_lanes(bases_per_channel: np.ndarray, pe: int) -> list[list[int]]:
    """Longest processing time first: channels by decreasing bases (then index) to the lane with
    the smallest load (then the lowest lane). Channels without bases are not assigned. Each
    lane's channels are returned in increasing order."""
    loads = [0] * pe
    lanes: list[list[int]] = [[] for _ in range(pe)]
    order = sorted((c for c in range(len(bases_per_channel)) if bases_per_channel[c] > 0),
                   key=lambda c: (-int(bases_per_channel[c]), c))
    for c in order:
        k = min(range(pe), key=lambda i: (loads[i], i))
        lanes[k].append(c)
        loads[k] += int(bases_per_channel[c])
    return [sorted(lane) for lane in lanes]


def plan_layer(index: int, layer: IntLayer, params: HwParams) -> LayerPlan:
    bases = layer.bases.reshape(layer.out_channels, layer.groups_per_channel).sum(axis=1)
    offsets = layer.basis_offsets()
    lanes = []
    for channels in assign_lanes(bases, params.pe):
        passes: list[Pass | None] = []
        for c in channels:
            first_row, n = int(offsets[c]), int(bases[c])
            passes += [Pass(c, first_row + i, int(layer.alpha[first_row + i]), i == 0, i == n - 1)
                       for i in range(n)]
        lanes.append(LanePlan(channels, passes))
    plan = LayerPlan(index, layer, params.simd, lanes,
                     [c for c in range(layer.out_channels) if bases[c] == 0])
    for lane in plan.lanes:
        lane.passes += [None] * (plan.passes - len(lane.passes))
    return plan


@dataclass
class NetworkPlan:
    model: IntModel
    params: HwParams
    layers: list[LayerPlan]

    @property
    def basis_additions(self) -> int:
        return sum(lp.basis_additions for lp in self.layers)

    @property
    def ideal_cycles(self) -> Fraction:
        return Fraction(self.basis_additions, self.params.pe * self.params.simd)

    @property
    def compute_cycles(self) -> int:
        return sum(lp.compute_cycles for lp in self.layers)


def plan_network(model: IntModel, params: HwParams) -> NetworkPlan:
    """Validate ``params`` against ``model`` and compile the schedule of every layer."""
    params.validate()
    model.check()
    _check(model)
    return NetworkPlan(model, params, [plan_layer(k, layer, params)
                                       for k, layer in enumerate(model.layers)])
