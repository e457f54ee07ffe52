"""The stored integers of a quantized network: alpha in fixed point, biases at accumulator scale.

Formats (one per weight layer ``k``; ``e_k`` is the exponent of the activation entering it, see
:mod:`ecg_alq.quant.activations`):

``alpha``   unsigned ``alpha_bits``-bit mantissas ``m`` with one shared fraction length ``f_k``
            per layer: ``alpha = m * 2^-f_k``. ``f_k`` is the largest that keeps the layer's
            biggest alpha representable; an active alpha never rounds below 1 (it would vanish).
            With ``powers`` scales (the uniform baselines) a group's alpha are ``a, 2a, 4a, ...``:
            only ``a`` is stored (``alpha_bits`` wide), the others are shifts of it.
``bias``    signed integers at the accumulator's scale ``2^(e_k - f_k)``, as wide as the layer's
            largest magnitude needs.
``shift``   requantization of the accumulator to the next activation:
            ``out = clamp(floor(acc * 2^-shift_k + 1/2), 0, 2^A - 1)`` after ReLU with
            ``shift_k = f_k + e_(k+1) - e_k`` (a left shift where negative). The last layer has no
            shift: its accumulator is the logits.

:func:`freeze` rounds a trained model to these formats in place, so the torch model afterwards
computes with exactly the stored values.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
from torch import nn

from ecg_alq.errors import EcgAlqError
from ecg_alq.intmodel.bounds import signed_width as bounds_width
from ecg_alq.intmodel.spec import MAX_ALPHA_BITS, MIN_ALPHA_BITS
from ecg_alq.quant.layers import WeightLayer
from ecg_alq.quant.multibit import MultiBit



@dataclass
class FrozenLayer:
    """One weight layer in stored integers (shapes: G groups, I slots, n weights per group)."""

    spec: WeightLayer
    mask: torch.Tensor  #: bool (G, I) active bases
    beta: torch.Tensor  #: int8 (G, I, n) signs, +1 where pruned
    alpha: torch.Tensor  #: int64 (G, I) mantissas, 0 where pruned
    alpha_frac: int  #: alpha = mantissa * 2^-alpha_frac
    alpha_bits: int
    bias: torch.Tensor  #: int64 (out,) at the accumulator scale 2^(in_exponent - alpha_frac)
    bias_bits: int  #: signed width that holds every bias
    in_exponent: int  #: activation scale 2^e entering the layer
    shift: int | None  #: requantization shift to the next activation (None: logits)
    powers: bool = False  #: alpha of slot i is alpha of slot 0 times 2^i; only slot 0 is stored

    def multibit(self) -> MultiBit:
        """The layer as float :class:`MultiBit` with the rounded alpha."""
        alpha = self.alpha.double() * 2.0**-self.alpha_frac
        return MultiBit(alpha, self.beta, self.mask)


def signed_width(values: torch.Tensor) -> int:
    """Bits of the narrowest two's-complement integer holding every value (at least 1)."""
    if values.numel() == 0:
        return 1
    return bounds_width(int(values.min()), int(values.max()))


def alpha_format(alpha: torch.Tensor, mask: torch.Tensor, bits: int) -> tuple[torch.Tensor, int]:
    """Round one layer's alpha (G, I) to ``bits``-bit mantissas with a shared fraction length.

    Returns (mantissa int64 (G, I), frac): ``alpha ~ mantissa * 2^-frac``; pruned slots are 0.
    """
    if not (isinstance(bits, int) and MIN_ALPHA_BITS <= bits <= MAX_ALPHA_BITS):
        raise EcgAlqError(f"alpha bits must be an integer from {MIN_ALPHA_BITS} to "
                          f"{MAX_ALPHA_BITS}, got {bits!r}")
    top = float((alpha.abs() * mask).max()) if mask.any() else 0.0
    if top == 0.0:
        return torch.zeros_like(alpha, dtype=torch.int64), 0
    frac = math.floor(math.log2((2**bits - 1) / top))
    while round(top * 2.0**frac) > 2**bits - 1:  # guard the floor against rounding up
        frac -= 1
    mant = torch.floor(alpha.double().abs() * 2.0**frac + 0.5).clamp(1, 2**bits - 1)
    return (mant * mask).to(torch.int64), frac


def _power_format(alpha: torch.Tensor, mask: torch.Tensor, bits: int) -> tuple[torch.Tensor, int]:
    """:func:`alpha_format` for groups whose alpha are ``a * 2^i`` (slot i): ``a`` is rounded to
    ``bits`` bits and the slots are exact shifts of it."""
    ratio = alpha[:, 1:] / alpha[:, :1].clamp_min(torch.finfo(alpha.dtype).tiny)
    want = 2.0 ** torch.arange(1, alpha.shape[1], dtype=alpha.dtype)
    if not torch.allclose((ratio * mask[:, 1:])[mask[:, 0]], (want * mask[:, 1:])[mask[:, 0]],
                          rtol=1e-5):
        raise EcgAlqError("powers-of-two alpha expected (uniform quantizer), got other ratios")
    base, frac = alpha_format(alpha[:, :1], mask[:, :1], bits)
    return base * (2 ** torch.arange(alpha.shape[1])) * mask, frac


def freeze(model: nn.Module, layers: list[tuple[WeightLayer, MultiBit]], alpha_bits: int,
           exponents: list[int], powers: bool = False) -> list[FrozenLayer]:
    """Round alpha and biases of ``model`` to their stored formats and write them back.

    ``layers``: every quantized weight layer, in network order, with its multi-bit weights.
    ``exponents``: the activation exponent entering each weight layer (one per layer).
    ``powers``: the groups' alpha are ``a, 2a, 4a, ...`` (uniform quantizers); only ``a`` is stored.
    Returns the frozen layers; ``model`` then computes with exactly the stored values.
    """
    params = dict(model.named_parameters())
    if len(exponents) != len(layers):
        raise EcgAlqError(f"{len(exponents)} activation exponents for {len(layers)} weight layers")
    frozen = []
    for k, (spec, q) in enumerate(layers):
        mant, frac = (_power_format if powers else alpha_format)(q.alpha, q.mask, alpha_bits)
        beta = torch.where(q.mask[:, :, None], q.beta, torch.ones_like(q.beta))
        weight = params[spec.name]
        bias = params[spec.name.removesuffix("weight") + "bias"]
        e_in = exponents[k]
        with torch.no_grad():
            alpha = mant.double() * 2.0**-frac
            w = MultiBit(alpha, beta, q.mask).reconstruct()
            weight.copy_(w.reshape(spec.shape).to(weight.dtype))
            scale = 2.0 ** (e_in - frac)
            bias_int = torch.floor(bias.double() / scale + 0.5).to(torch.int64)
            bias.copy_((bias_int.double() * scale).to(bias.dtype))
        shift = frac + exponents[k + 1] - e_in if k + 1 < len(layers) else None
        frozen.append(FrozenLayer(spec, q.mask.clone(), beta.clone(), mant, frac, alpha_bits,
                                  bias_int, signed_width(bias_int), e_in, shift, powers))
    return frozen
