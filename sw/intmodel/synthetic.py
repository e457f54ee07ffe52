"""Random but valid integer models of any geometry, for tests of the format, the golden model and
the hardware (awkward sizes, groups with no active bases, other bitwidths).

Geometry is a list of layer dicts with the keys of :func:`conv` / :func:`dense`; every other
field is drawn from a seeded generator, and each requantization shift is chosen from the layer's
proven accumulator range so that activations use their range instead of saturating.
"""

from __future__ import annotations

import numpy as np

from ecg_alq.intmodel.bounds import channel_ranges
from ecg_alq.intmodel.spec import ADC_MAX, InputSpec, IntLayer, IntModel


def conv(out_channels: int, kernel: int, stride: int = 1, padding: int = 0, pool_kernel: int = 1,
         pool_stride: int = 1, group_size: int | None = None, max_bases: int = 3) -> dict:
    """A convolution; ``group_size`` None means one group per output channel."""
    return dict(kind="conv", out_channels=out_channels, kernel=kernel, stride=stride,
                padding=padding, pool_kernel=pool_kernel, pool_stride=pool_stride,
                group_size=group_size, max_bases=max_bases)


def dense(out_features: int, group_size: int | None = None, max_bases: int = 3) -> dict:
    return dict(kind="dense", out_channels=out_features, group_size=group_size,
                max_bases=max_bases)


def random_model(geometry: list[dict], input_length: int, seed: int = 0, act_bits: int = 8,
                 alpha_bits: int = 8, input_shift: int = 2, empty_groups: float = 0.1,
                 class_names: list[str] | None = None) -> IntModel:
    """A checked IntModel with the given layer geometry (the last layer gives the logits).

    ``empty_groups``: the share of groups drawn with no active basis at all.
    """
    rng = np.random.default_rng(seed)
    channels, length, exponent = 1, input_length, 0
    layers: list[IntLayer] = []
    for k, geo in enumerate(geometry):
        geo = dict(geo)
        if geo["kind"] == "dense":
            geo.update(kernel=length, stride=1, padding=0, pool_kernel=1, pool_stride=1)
        fan_in = channels * geo["kernel"]
        n = geo.pop("group_size") or fan_in
        groups = geo["out_channels"] * fan_in // n
        bases = rng.integers(1, geo["max_bases"] + 1, groups)
        bases[rng.random(groups) < empty_groups] = 0
        b = int(bases.sum())
        last = k == len(geometry) - 1
        layer = IntLayer(
            name=f"l{k + 1}", in_channels=channels, in_length=length, group_size=n,
            alpha_bits=alpha_bits, alpha_frac=alpha_bits - 1, alpha_kind="free", bias_bits=12,
            in_bits=act_bits, in_signed=k == 0, in_exponent=exponent, out_shift=None,
            out_bits=None, bases=bases.astype(np.int64),
            alpha=rng.integers(1, 1 << alpha_bits, b).astype(np.int64),
            signs=rng.random((b, n)) < 0.5, bias=rng.integers(-2000, 2001, geo["out_channels"]),
            **geo)
        if not last:
            lo, hi = channel_ranges(layer)
            # a typical accumulator is about a fifth of the worst case: map that onto the range
            top = max(1, int(max(hi.max(), -lo.min())) // 5)
            layer.out_shift = max(0, top.bit_length() - act_bits)
            layer.out_bits = act_bits
            exponent = layer.in_exponent - layer.alpha_frac + layer.out_shift
            channels, length = layer.out_channels, layer.out_length
        layers.append(layer)
    names = class_names or [f"class{i}" for i in range(layers[-1].out_channels)]
    model = IntModel(InputSpec(input_length, input_shift, act_bits, 0), layers, names,
                     {"created_by": "ecg_alq.intmodel.synthetic", "seed": seed})
    model.check()
    return model


def random_fragments(n: int, length: int, seed: int = 0) -> np.ndarray:
    """int16 (n, length) raw ADC-like samples: a random walk around 1024 with spikes, in 0..2047."""
    rng = np.random.default_rng(seed)
    walk = np.cumsum(rng.normal(0, 6, (n, length)), axis=1)
    spikes = (rng.random((n, length)) < 0.01) * rng.normal(0, 400, (n, length))
    return np.clip(1024 + walk - walk.mean(1, keepdims=True) + spikes, 0, ADC_MAX).astype(np.int16)

