"""Training on the real data: the loss falls, runs resume exactly, run folders are complete."""

from __future__ import annotations

import json

import pytest
import torch

import ecg_alq.training as training
from ecg_alq.checkpoint import load_checkpoint
from ecg_alq.cli import main
from ecg_alq.errors import EcgAlqError
from ecg_alq.training import TrainConfig, train


def test_short_training_drives_the_loss_far_down(tmp_path):
    cfg = TrainConfig(epochs=40, limit=64, batch_size=8, lr=1e-3, lr_schedule="constant",
                      label_smoothing=0.0, context_shift=0, ema_decay=0.0, progress=False)
    train(cfg, tmp_path)
    history = json.loads((tmp_path / "history.json").read_text())
    first = history[0]["train_loss"]
    last = min(h["train_loss"] for h in history[-5:])
    assert first > 2.0  # about ln(17) = 2.83 at the start
    assert last < 0.2 * first, (first, last)
    assert max(h["train_acc"] for h in history[-5:]) > 0.85


def test_run_folder_contents(trained_model):
    out = trained_model.parent
    for name in ("config.json", "last.pt", "model.pt", "history.json", "metrics.json",
                 "learning_curves.png", "confusion_matrix.png"):
        assert (out / name).stat().st_size > 0, name
    m = json.loads((out / "metrics.json").read_text())
    assert m["protocol"] == "window" and "stratified" in m["protocol_description"]
    assert m["n_test"] == len(m["test_files"]) == len(m["test_predictions"]) == 100
    assert m["n_train"] == 120
    for key in ("accuracy", "balanced_accuracy", "macro_f1", "per_class", "confusion"):
        assert key in m
    assert sum(map(sum, m["confusion"])) == 100
    assert set(m["per_class"]["NSR"]) == {"precision", "recall", "f1", "support"}


def test_interrupted_run_resumes_to_the_same_result(tmp_path, monkeypatch):
    cfg = TrainConfig(epochs=4, limit=48, batch_size=8, progress=False,
                      shift_max=50, scale_min=0.9, scale_max=1.1, context_shift=300,
                      ema_decay=0.9)
    straight = train(cfg, tmp_path / "straight")

    real_save, calls = training.save_checkpoint, []

    def save_then_stop(path, payload):
        real_save(path, payload)
        calls.append(path)
        if len(calls) == 2:
            raise KeyboardInterrupt

    monkeypatch.setattr(training, "save_checkpoint", save_then_stop)
    with pytest.raises(KeyboardInterrupt):
        train(cfg, tmp_path / "resumed")
    monkeypatch.undo()
    assert load_checkpoint(tmp_path / "resumed" / "last.pt")["epoch"] == 2
    resumed = train(cfg, tmp_path / "resumed", resume=True)

    a = load_checkpoint(tmp_path / "straight" / "last.pt")
    b = load_checkpoint(tmp_path / "resumed" / "last.pt")
    for k in a["model"]:
        assert torch.equal(a["model"][k], b["model"][k]), k
    strip = lambda h: [{k: v for k, v in r.items()} for r in h]  # noqa: E731
    assert strip(a["history"]) == strip(b["history"])
    assert straight["test_predictions"] == resumed["test_predictions"]


def test_resume_refuses_other_settings_and_fresh_runs_refuse_old_folders(tmp_path):
    cfg = TrainConfig(epochs=1, limit=16, lr=0.002, progress=False)
    train(cfg, tmp_path)
    with pytest.raises(EcgAlqError, match="already holds a run"):
        train(cfg, tmp_path)
    # a finished run is reused only for the same settings, never silently for other ones
    assert train(cfg, tmp_path, resume=True)["n_train"] == 16
    with pytest.raises(EcgAlqError, match=r"seed=0 \(now 1\)"):
        train(TrainConfig(epochs=1, limit=16, lr=0.002, seed=1, progress=False), tmp_path, resume=True)
    with pytest.raises(EcgAlqError, match="finished run of 1 epochs, not 2"):
        train(TrainConfig(epochs=2, limit=16, lr=0.002, progress=False), tmp_path, resume=True)
    (tmp_path / "metrics.json").unlink()
    with pytest.raises(EcgAlqError, match=r"lr=0.002 \(now 0.01\)"):
        train(TrainConfig(epochs=1, limit=16, lr=0.01, progress=False), tmp_path, resume=True)


@pytest.mark.parametrize("settings, message", [
    ({"protocol": "random"}, "protocol must be one of"),
    ({"fold": 10}, "fold must be in 0..9"),
    ({"lr_schedule": "step"}, "lr_schedule must be constant or cosine"),
    ({"scale_min": 1.2, "scale_max": 1.1}, "scale_min <= scale_max"),
])
def test_bad_configs_are_rejected(tmp_path, settings, message):
    with pytest.raises(EcgAlqError, match=message):
        train(TrainConfig(**settings), tmp_path)
    assert not (tmp_path / "last.pt").exists()


def test_train_command_line(tmp_path, capsys):
    cfg_file = tmp_path / "cfg.json"
    cfg_file.write_text(json.dumps({"epochs": 1, "limit": 16, "progress": False, "lr": 0.001}))
    out = tmp_path / "run"
    assert main(["train", "--config", str(cfg_file), "--fold", "2", "--out", str(out)]) == 0
    saved = json.loads((out / "config.json").read_text())
    assert saved["fold"] == 2 and saved["lr"] == 0.001 and saved["epochs"] == 1
    assert "fold 2 test (100 fragments)" in capsys.readouterr().out
    cfg_file.write_text(json.dumps({"epoch": 3}))
    assert main(["train", "--config", str(cfg_file), "--out", str(tmp_path / "x")]) == 2
    assert "unknown TrainConfig setting(s): epoch" in capsys.readouterr().err
