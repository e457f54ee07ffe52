"""Metrics against values worked out by hand."""

from __future__ import annotations

import numpy as np
import pytest

from ecg_alq.metrics import confusion, from_confusion


def test_metrics_by_hand():
    y_true = np.array([0, 0, 0, 1, 1, 2])
    y_pred = np.array([0, 0, 1, 1, 2, 2])
    m = from_confusion(confusion(y_true, y_pred, 4), names=("a", "b", "c", "d"))
    assert m["accuracy"] == pytest.approx(4 / 6)
    # recalls a 2/3, b 1/2, c 1 -> balanced accuracy over the 3 present classes
    assert m["balanced_accuracy"] == pytest.approx((2 / 3 + 1 / 2 + 1) / 3)
    # precisions a 1, b 1/2, c 1/2; F1 a 0.8, b 0.5, c 2/3; d absent everywhere: not averaged
    assert m["per_class"]["a"]["f1"] == pytest.approx(0.8)
    assert m["macro_f1"] == pytest.approx((0.8 + 0.5 + 2 / 3) / 3)
    assert m["per_class"]["d"] == {"precision": 0.0, "recall": 0.0, "f1": 0.0, "support": 0}
    assert m["confusion"][0] == [2, 1, 0, 0]
