"""A training-only auxiliary head: beat types from an intermediate feature map.

The beat annotations say where every beat is and what kind it is (normal, supraventricular
ectopic, ventricular, fusion, paced or unknown: :data:`ecg_alq.data.pool.BEAT_TYPES`). A 1x1
convolution on the feature map after the third pooling layer (32 channels x 54 positions, each
position about 185 ms) predicts, per position, the type of the beat annotated there (or none).
Its loss is added to the rhythm loss with a weight; the head shapes the shared features and is
then dropped: it is not part of :class:`ecg_alq.model.EcgCnn`, so the model file, the integer
model and the hardware see the unchanged network.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from ecg_alq.data.pool import N_BEAT_TYPES
from ecg_alq.model import EcgCnn, feature_shapes

CUT = 9  #: modules of ``EcgCnn.features`` before the head's input (conv, ReLU, pool x 3)
POOL_INDEX = 5  #: index of that map in :func:`ecg_alq.model.feature_shapes`


class BeatHead(nn.Module):
    """1x1 convolution: (B, 32, 54) features -> (B, 6, 54) beat-type logits."""

    def __init__(self):
        super().__init__()
        channels, self.positions = feature_shapes()[POOL_INDEX]
        self.conv = nn.Conv1d(channels, N_BEAT_TYPES, 1)

    def forward(self, features: torch.Tensor) -> torch.Tensor:
        return self.conv(features)


def forward_with_beats(model: EcgCnn, head: BeatHead, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Rhythm logits (B, 17), exactly ``model(x)``, and beat-type logits (B, 6, 54)."""
    h = model.features[:CUT](x)
    return model.classifier(model.features[CUT:](h)), head(h)


def beat_loss(beat_logits: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
    """Cross-entropy per position, averaged over positions and windows; targets (B, 54)."""
    return F.cross_entropy(beat_logits, targets)
