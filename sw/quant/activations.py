"""Integer activations: the network input and every ReLU output as ``A``-bit integers times 2^e.

The hardware computes on integers, so every tensor that flows between layers is quantized to

    q = clamp(floor(x / 2^e + 1/2), lo, hi) * 2^e        (rounding: half up)

with one power-of-two scale ``2^e`` per quantization point. The input is signed
(``lo, hi = -2^(A-1), 2^(A-1) - 1``); the outputs of the ReLU layers are unsigned
(``0, 2^A - 1``). Because the scales are powers of two and the input is the centred ADC value
times 2^-8, every step is reproducible by integer shifts (the integer model of the next stage):
the input is a rounded right shift of the centred samples and each requantization is a rounded
shift of the accumulator.

Training uses the clipped straight-through estimator: the forward pass rounds, the backward pass
lets the gradient through where ``x`` lies inside the clamp range and stops it outside.

Quantization points of :class:`~ecg_alq.model.EcgCnn` (:data:`POINTS`): the input, after each of
the 7 conv blocks (after the max-pool; the rounding is monotone, so pooling first is the same),
and after the hidden dense layer's ReLU. The logits are not requantized: they are the
accumulator of the last layer.
"""

from __future__ import annotations

import torch
from torch import nn

from ecg_alq.errors import EcgAlqError
from ecg_alq.intmodel.spec import MAX_ACT_BITS as MAX_BITS
from ecg_alq.intmodel.spec import MIN_ACT_BITS as MIN_BITS
from ecg_alq.model import CONV_LAYERS, EcgCnn
from ecg_alq.preprocess import INPUT_SHIFT

POINTS = ("input",) + tuple(f"conv{i + 1}" for i in range(len(CONV_LAYERS))) + ("fc1",)
EXPONENTS = range(-INPUT_SHIFT, 17)  #: candidate scales 2^e searched by calibration


def check_bits(bits: int | None) -> None:
    if bits is not None and not (isinstance(bits, int) and MIN_BITS <= bits <= MAX_BITS):
        raise EcgAlqError(f"activation bits must be an integer from {MIN_BITS} to {MAX_BITS} "
                          f"(or none for float activations), got {bits!r}")


class ActQuant(nn.Module):
    """Fake quantizer of one point: ``bits`` wide, signed or not, scale ``2^exponent``.

    ``exponent`` is an int buffer set by :meth:`QuantCnn.calibrate`; ``enabled`` switches between
    integer and float activations (for reporting both).
    """

    def __init__(self, bits: int, signed: bool):
        super().__init__()
        check_bits(bits)
        self.bits, self.signed, self.enabled = bits, signed, True
        self.register_buffer("exponent", torch.tensor(0, dtype=torch.int64))

    @property
    def limits(self) -> tuple[int, int]:
        """Integer range (lo, hi) of the stored values."""
        if self.signed:
            return -(2 ** (self.bits - 1)), 2 ** (self.bits - 1) - 1
        return 0, 2**self.bits - 1

    def to_int(self, x: torch.Tensor, exponent: int | None = None) -> torch.Tensor:
        """The integers (as floats) of ``x``: clamp(floor(x / 2^e + 1/2), lo, hi)."""
        e = int(self.exponent) if exponent is None else exponent
        lo, hi = self.limits
        return torch.floor(x * 2.0**-e + 0.5).clamp(lo, hi)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if not self.enabled:
            return x
        scale = 2.0 ** int(self.exponent)
        lo, hi = self.limits
        clipped = x.clamp(lo * scale, hi * scale)  # gradient 0 outside the range
        return clipped + (self.to_int(x) * scale - clipped).detach()

    def extra_repr(self) -> str:
        return f"bits={self.bits}, signed={self.signed}, exponent={int(self.exponent)}"


class QuantCnn(nn.Module):
    """:class:`EcgCnn` with an :class:`ActQuant` at every point of :data:`POINTS`.

    ``forward(x)``: (B, 1, 3600) float model input -> (B, 17) logits. The wrapped network's
    parameters keep their names under ``net.``.
    """

    def __init__(self, net: EcgCnn, bits: int):
        super().__init__()
        check_bits(bits)
        self.net, self.bits = net, bits
        self.quant = nn.ModuleList([ActQuant(bits, signed=(p == "input")) for p in POINTS])

    def set_enabled(self, enabled: bool) -> None:
        for q in self.quant:
            q.enabled = enabled

    def exponents(self) -> list[int]:
        return [int(q.exponent) for q in self.quant]

    def points(self, x: torch.Tensor) -> list[torch.Tensor]:
        """The tensor entering every quantization point (before it), in :data:`POINTS` order,
        with the earlier points quantized; the last entry is the logits."""
        feats = self.net.features
        outs = [x]
        h = self.quant[0](x)
        for i in range(len(CONV_LAYERS)):
            conv, relu, pool = feats[3 * i], feats[3 * i + 1], feats[3 * i + 2]
            h = pool(relu(conv(h)))
            outs.append(h)
            h = self.quant[i + 1](h)
        flatten, fc1, relu, dropout, fc2 = self.net.classifier
        h = relu(fc1(flatten(h)))
        outs.append(h)
        h = self.quant[-1](h)
        outs.append(fc2(dropout(h)))
        return outs

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.points(x)[-1]

    @torch.no_grad()
    def calibrate(self, x: torch.Tensor, batch_size: int = 128) -> list[int]:
        """Choose every point's exponent, in order, to minimise the mean squared quantization
        error on the calibration inputs ``x`` (B, 1, 3600), earlier points already quantized.

        The input's exponent is at least -INPUT_SHIFT, so the input integers are a rounded shift
        of the centred ADC samples. Returns the exponents.
        """
        was_training = self.training
        self.eval()
        for k, q in enumerate(self.quant):
            for later in self.quant[k:]:
                later.enabled = False
            values = torch.cat([self.points(xb)[k] for xb in x.split(batch_size)])
            errors = [float(((q.to_int(values, e) * 2.0**e - values) ** 2).mean()) for e in EXPONENTS]
            q.exponent.fill_(EXPONENTS[min(range(len(errors)), key=errors.__getitem__)])
        self.set_enabled(True)
        self.train(was_training)
        return self.exponents()
