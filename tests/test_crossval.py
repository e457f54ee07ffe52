"""Cross-validation bookkeeping, on tiny real runs."""

from __future__ import annotations

import json

import numpy as np

from ecg_alq.crossval import cross_validate
from ecg_alq.training import TrainConfig


def test_crossval_is_resumable_per_fold_and_pools_every_test_fragment(tmp_path):
    cfg = TrainConfig(protocol="record", epochs=1, limit=24, progress=False)
    logs = []
    first = cross_validate(cfg, tmp_path, folds=[0, 1], log=logs.append)
    assert (tmp_path / "fold-0" / "metrics.json").exists()
    mtime = (tmp_path / "fold-0" / "model.pt").stat().st_mtime_ns
    again = cross_validate(cfg, tmp_path, folds=[0, 1], log=logs.append)
    assert (tmp_path / "fold-0" / "model.pt").stat().st_mtime_ns == mtime  # not retrained
    assert sum("cached" in line for line in logs) == 2
    assert first["pooled"] == again["pooled"]
    n = sum(json.loads((tmp_path / f"fold-{k}" / "metrics.json").read_text())["n_test"]
            for k in (0, 1))
    assert first["pooled"]["n"] == n
    accs = [f["accuracy"] for f in first["per_fold"]]
    assert np.isclose(first["accuracy_mean"], np.mean(accs))
    assert (tmp_path / "summary.json").exists() and (tmp_path / "confusion_matrix.png").exists()
    assert "no record in train and test" in first["protocol_description"]
