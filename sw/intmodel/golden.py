"""The golden model: bit-exact integer inference from a model file alone (numpy int64, no float).

It defines the deployed behaviour (the semantics are in :mod:`ecg_alq.intmodel.spec`); the
hardware must reproduce its integers exactly. Per layer it computes the accumulator (convolution
plus bias), max-pools it and requantizes it; every accumulator is checked against the proven
bound of :mod:`ecg_alq.intmodel.bounds`. :meth:`GoldenModel.trace` returns every layer's
integers for comparison with a hardware simulation, layer by layer.

Shapes: raw fragments int (N, length); activations int64 (N, channels, length); logits int64
(N, classes). Classes are ids 1..K (output index + 1); the argmax takes the lowest index on a tie.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from ecg_alq.errors import EcgAlqError
from ecg_alq.intmodel import fileio
from ecg_alq.intmodel.bounds import layer_bounds
from ecg_alq.intmodel.spec import ADC_MAX, IntLayer, IntModel, center, rshift

BATCH = 64  #: fragments per step (bounds the size of the unfolded windows)


class BoundViolation(AssertionError):
    """An accumulator left its proven range: a bug in the integer model, never the user's."""


@dataclass
class LayerTrace:
    """The integers of one layer for one batch (every array int64, batch first)."""

    name: str
    input: np.ndarray  #: (N, in_channels, in_length)
    acc: np.ndarray  #: (N, out_channels, conv_length) convolution + bias
    pooled: np.ndarray  #: (N, out_channels, out_length) after max-pooling
    output: np.ndarray | None  #: (N, out_channels, out_length) requantized; None for logits


def check_fragments(x: object, length: int) -> np.ndarray:
    """Validate raw fragments (integer (N, length), values 0..2047); returns them as int64."""
    if not isinstance(x, np.ndarray) or not np.issubdtype(x.dtype, np.integer):
        kind = getattr(x, "dtype", type(x).__name__)
        raise EcgAlqError(f"fragments must be an integer array of raw ADC samples, got {kind}")
    if x.ndim != 2 or x.shape[1] != length or x.shape[0] == 0:
        raise EcgAlqError(f"fragments have shape {x.shape}, expected (N, {length}) with N >= 1")
    if x.min() < 0 or x.max() > ADC_MAX:
        raise EcgAlqError(f"fragment values span {int(x.min())}..{int(x.max())}, outside the "
                          f"11-bit ADC range 0..{ADC_MAX}")
    return x.astype(np.int64)


class GoldenModel:
    """Integer inference of one :class:`IntModel` (or model file path)."""

    def __init__(self, model: IntModel | str | Path):
        self.model = model if isinstance(model, IntModel) else fileio.load(model)
        self.model.check()
        # per layer: (fan_in, out) weight matrix in (channel, tap) row order, and its bounds
        self._weights = [layer.integer_weights().reshape(layer.out_channels, -1).T.copy()
                         for layer in self.model.layers]
        self.bounds = [layer_bounds(layer) for layer in self.model.layers]

    # ------------------------------------------------------------------ stages
    def input_integers(self, x: np.ndarray) -> np.ndarray:
        """int64 (N, 1, length): mean removal, rounded shift, clamp (the input preprocessing)."""
        spec = self.model.input
        x = check_fragments(x, spec.length)
        c = center(x)
        lo, hi = spec.limits
        return np.clip(rshift(c, spec.shift), lo, hi)[:, None, :]

    def layer(self, k: int, a: np.ndarray) -> LayerTrace:
        """Run layer ``k`` on its input integers ``a`` (N, in_channels, in_length)."""
        layer: IntLayer = self.model.layers[k]
        n = a.shape[0]
        padded = np.pad(a, ((0, 0), (0, 0), (layer.padding, layer.padding)))
        win = sliding_window_view(padded, layer.kernel, axis=2)[:, :, :: layer.stride, :]
        win = win[:, :, : layer.conv_length, :]  # (N, C, Lc, K)
        cols = win.transpose(0, 2, 1, 3).reshape(n, layer.conv_length, layer.fan_in)
        acc = (cols @ self._weights[k]).transpose(0, 2, 1) + layer.bias[None, :, None]
        b = self.bounds[k]
        if acc.size and (acc.min() < b.acc_min or acc.max() > b.acc_max):
            raise BoundViolation(f"layer {layer.name}: accumulator {acc.min()}..{acc.max()} "
                                 f"outside its proven range {b.acc_min}..{b.acc_max}")
        pooled = sliding_window_view(acc, layer.pool_kernel, axis=2)[:, :, :: layer.pool_stride]
        pooled = pooled[:, :, : layer.out_length].max(axis=3)
        out = None
        if layer.out_shift is not None:
            out = np.clip(rshift(pooled, layer.out_shift), 0, (1 << layer.out_bits) - 1)
        return LayerTrace(layer.name, a, acc, pooled, out)

    # ------------------------------------------------------------------ whole network
    def trace(self, x: np.ndarray) -> list[LayerTrace]:
        """Every layer's integers for raw fragments ``x`` (N, length); the last trace's
        ``pooled`` holds the logits as (N, classes, 1)."""
        traces, a = [], self.input_integers(x)
        for k in range(len(self.model.layers)):
            t = self.layer(k, a)
            traces.append(t)
            a = t.output
        return traces

    def logits(self, x: np.ndarray) -> np.ndarray:
        """int64 (N, classes) integer logits of raw fragments ``x`` (N, length)."""
        x = check_fragments(x, self.model.input.length)
        out = [self.trace(x[i: i + BATCH])[-1].pooled[:, :, 0] for i in range(0, len(x), BATCH)]
        return np.concatenate(out)

    def classify(self, x: np.ndarray) -> np.ndarray:
        """int64 (N,) class ids 1..K."""
        return argmax_class(self.logits(x))


def argmax_class(logits: np.ndarray) -> np.ndarray:
    """Class ids 1..K of integer logits (N, K); on a tie the lowest index wins."""
    return np.argmax(logits, axis=1).astype(np.int64) + 1
