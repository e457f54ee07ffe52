"""The paper's 17-layer 1-D CNN: 7 x (Conv1d + ReLU + MaxPool1d), flatten, 2 dense layers.

Input (batch, 1, 3600) float, output (batch, 17) logits (softmax only inside the loss).
80,973 parameters. The layer table is the single source of truth for the architecture; the
quantization, export and hardware code read the same table.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from ecg_alq.classes import NUM_CLASSES
from ecg_alq.data.fragments import FRAGMENT_LENGTH


@dataclass(frozen=True)
class ConvSpec:
    """One Conv1d (+bias, +ReLU) followed by MaxPool1d (no padding, floor)."""

    out_channels: int
    kernel: int
    stride: int
    padding: int
    pool_kernel: int
    pool_stride: int


CONV_LAYERS: tuple[ConvSpec, ...] = (
    ConvSpec(8, 16, 2, 7, 8, 4),
    ConvSpec(12, 12, 2, 5, 4, 2),
    ConvSpec(32, 9, 1, 4, 5, 2),
    ConvSpec(64, 7, 1, 3, 4, 2),
    ConvSpec(64, 5, 1, 2, 2, 2),
    ConvSpec(64, 3, 1, 1, 2, 2),
    ConvSpec(72, 3, 1, 1, 2, 2),
)
HIDDEN_UNITS = 64
DROPOUT = 0.1


def conv_out_length(length: int, kernel: int, stride: int, padding: int = 0) -> int:
    """Output length of a 1-D convolution or pooling (floor mode)."""
    return (length + 2 * padding - kernel) // stride + 1


def feature_shapes(length: int = FRAGMENT_LENGTH) -> list[tuple[int, int]]:
    """(channels, length) after each conv and each pool, in order (14 entries)."""
    shapes = []
    for spec in CONV_LAYERS:
        length = conv_out_length(length, spec.kernel, spec.stride, spec.padding)
        shapes.append((spec.out_channels, length))
        length = conv_out_length(length, spec.pool_kernel, spec.pool_stride)
        shapes.append((spec.out_channels, length))
    return shapes


class EcgCnn(nn.Module):
    """The network of the mission brief (section 2). ``forward(x)``: (B, 1, 3600) -> (B, 17)."""

    def __init__(self, num_classes: int = NUM_CLASSES, dropout: float = DROPOUT):
        super().__init__()
        layers: list[nn.Module] = []
        in_ch = 1
        for spec in CONV_LAYERS:
            layers += [
                nn.Conv1d(in_ch, spec.out_channels, spec.kernel, spec.stride, spec.padding),
                nn.ReLU(),
                nn.MaxPool1d(spec.pool_kernel, spec.pool_stride),
            ]
            in_ch = spec.out_channels
        self.features = nn.Sequential(*layers)
        channels, length = feature_shapes()[-1]
        self.classifier = nn.Sequential(
            nn.Flatten(),
            nn.Linear(channels * length, HIDDEN_UNITS),
            nn.ReLU(),
            nn.Dropout(dropout),
            nn.Linear(HIDDEN_UNITS, num_classes),
        )

        self.reset_parameters()

    def reset_parameters(self) -> None:
        """He (Kaiming-normal) weights for the ReLU layers, zero biases.

        PyTorch's default initialisation shrinks the signal about threefold per layer; over nine
        layers without normalisation that stalls the start of training.
        """
        for m in self.modules():
            if isinstance(m, (nn.Conv1d, nn.Linear)):
                nn.init.kaiming_normal_(m.weight, nonlinearity="relu")
                nn.init.zeros_(m.bias)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.classifier(self.features(x))


def count_parameters(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())
