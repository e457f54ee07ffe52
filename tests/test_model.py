"""The network of the mission brief: parameter count and every layer's output shape."""

from __future__ import annotations

import torch

from ecg_alq.model import EcgCnn, count_parameters

EXPECTED = [  # (layer type, output shape without batch, parameters)
    ("Conv1d", (8, 1800), 136), ("MaxPool1d", (8, 449), 0),
    ("Conv1d", (12, 224), 1164), ("MaxPool1d", (12, 111), 0),
    ("Conv1d", (32, 111), 3488), ("MaxPool1d", (32, 54), 0),
    ("Conv1d", (64, 54), 14400), ("MaxPool1d", (64, 26), 0),
    ("Conv1d", (64, 26), 20544), ("MaxPool1d", (64, 13), 0),
    ("Conv1d", (64, 13), 12352), ("MaxPool1d", (64, 6), 0),
    ("Conv1d", (72, 6), 13896), ("MaxPool1d", (72, 3), 0),
    ("Flatten", (216,), 0), ("Linear", (64,), 13888), ("Linear", (17,), 1105),
]


def test_parameter_count():
    model = EcgCnn()
    assert count_parameters(model) == 80973
    weights = sum(p.numel() for n, p in model.named_parameters() if n.endswith("weight"))
    assert weights == 80576


def test_every_layer_output_shape():
    model = EcgCnn().eval()
    seen = []
    hooks = [m.register_forward_hook(lambda m, i, o: seen.append(
                 (type(m).__name__, tuple(o.shape[1:]), sum(p.numel() for p in m.parameters()))))
             for m in model.modules() if type(m).__name__ in ("Conv1d", "MaxPool1d", "Flatten", "Linear")]
    out = model(torch.zeros(2, 1, 3600))
    for h in hooks:
        h.remove()
    assert seen == EXPECTED
    assert out.shape == (2, 17)
    # every convolution is followed by ReLU, no batch norm
    kinds = [type(m).__name__ for m in model.modules()]
    assert "BatchNorm1d" not in kinds and kinds.count("ReLU") == 8 and kinds.count("Dropout") == 1
