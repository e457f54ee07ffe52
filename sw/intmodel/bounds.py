"""Proven worst-case ranges of every layer's integers, hence the widths the hardware needs.

For output channel ``o`` the accumulator is ``bias[o] + sum_j w[o, j] * a_j`` with every input
``a_j`` in ``[lo, hi]`` (the layer's input range; ``lo <= 0 <= hi``, and zero padding is inside
it). Each term is largest at ``a_j = hi`` when ``w > 0`` and at ``a_j = lo`` when ``w < 0``, and
the inputs are independent, so

    acc_max[o] = bias[o] + sum_j max(w_j * lo, w_j * hi)
    acc_min[o] = bias[o] + sum_j min(w_j * lo, w_j * hi)

are the exact extremes over all inputs in range (attained at a window position without padding
by the input that sets each ``a_j`` to its extreme). Max-pooling and requantization only select
and shrink.

Hardware that sums one basis at a time needs two more widths. A basis' sum ``sum_j s_j a_j``
(signs ``s``, ``n`` = group size) satisfies ``|basis sum| <= n * max(-lo, hi)``. Any partial sum
of an output channel (the bias plus any subset of its scaled basis sums, in any order) satisfies
``|partial| <= |bias| + sum over the channel's bases of alpha * n * max(-lo, hi)``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from ecg_alq.intmodel.spec import IntLayer, IntModel

GOLDEN_BITS = 63  #: the golden model's int64 must hold every value with a bit to spare


def signed_width(lo: int, hi: int) -> int:
    """Bits of the narrowest two's-complement integer holding ``lo..hi`` (at least 1)."""
    return max(1, hi.bit_length() + 1 if hi > 0 else 1, (-lo - 1).bit_length() + 1 if lo < 0 else 1)


@dataclass(frozen=True)
class LayerBounds:
    """Worst-case ranges of one layer (inclusive)."""

    name: str
    acc_min: int  #: over all output channels and all inputs in range
    acc_max: int
    basis_sum_max: int  #: |sum_j s_j a_j| of one basis over one group
    partial_sum_max: int  #: |bias + any subset of a channel's alpha * basis sums|

    @property
    def acc_bits(self) -> int:
        """Signed width of the accumulator (bias included)."""
        return signed_width(self.acc_min, self.acc_max)

    @property
    def basis_sum_bits(self) -> int:
        return signed_width(-self.basis_sum_max, self.basis_sum_max)

    @property
    def partial_sum_bits(self) -> int:
        """Signed width of a running accumulator that adds scaled basis sums in any order."""
        return signed_width(-self.partial_sum_max, self.partial_sum_max)


def channel_ranges(layer: IntLayer) -> tuple[np.ndarray, np.ndarray]:
    """int64 (out_channels,) exact minimum and maximum accumulator of every output channel."""
    lo, hi = layer.in_limits
    w = layer.integer_weights().reshape(layer.out_channels, -1).astype(object)  # no overflow
    top = np.where(w > 0, w * hi, w * lo).sum(axis=1) + layer.bias.astype(object)
    bottom = np.where(w > 0, w * lo, w * hi).sum(axis=1) + layer.bias.astype(object)
    return bottom, top


def layer_bounds(layer: IntLayer) -> LayerBounds:
    lo, hi = layer.in_limits
    bottom, top = channel_ranges(layer)
    amax = max(-lo, hi)
    basis = layer.group_size * amax
    channel_of_basis = np.repeat(np.arange(layer.groups), layer.bases) // layer.groups_per_channel
    alpha_sum = np.zeros(layer.out_channels, dtype=object)
    np.add.at(alpha_sum, channel_of_basis, layer.alpha.astype(object))
    partial = alpha_sum * basis + np.abs(layer.bias.astype(object))
    return LayerBounds(layer.name, int(bottom.min()), int(top.max()), basis, int(partial.max()))


def model_bounds(model: IntModel) -> list[LayerBounds]:
    return [layer_bounds(layer) for layer in model.layers]


def check_fits(model: IntModel) -> None:
    """Raise ModelFileError when a layer's values could overflow the golden model's int64."""
    from ecg_alq.intmodel.spec import ModelFileError

    for b in model_bounds(model):
        widest = max(b.acc_bits, b.partial_sum_bits)
        if widest > GOLDEN_BITS:
            raise ModelFileError(f"layer {b.name}: accumulator needs {widest} bits, more than "
                                 f"the {GOLDEN_BITS} the integer model supports")
