"""Full-precision training of the CNN on one fold, with checkpoints, resume and a run folder.

A run folder holds::

    config.json          the TrainConfig used
    last.pt              full training state after the latest epoch (for --resume)
    model.pt             the selected model (best validation accuracy, then lowest loss)
    history.json         per-epoch train/validation loss and accuracy
    metrics.json         test-fold metrics of the selected model, with the protocol stated
    learning_curves.png  confusion_matrix.png

All files are written atomically. Model selection uses only the validation part carved from the
training folds (:func:`ecg_alq.data.splits.validation_split`); the test fold is evaluated once,
after training, with the selected model.
"""

from __future__ import annotations

import dataclasses
import json
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from tqdm import tqdm

from ecg_alq import atomic, plots
from ecg_alq.augment import PoolTrainingSet, TrainingSet, context_windows
from ecg_alq.auxhead import BeatHead, beat_loss, forward_with_beats
from ecg_alq.checkpoint import load_checkpoint, model_file_payload, save_checkpoint
from ecg_alq.config import common_problems, option
from ecg_alq.data.fragments import Fragments
from ecg_alq.data.splits import (ALL, PROTOCOL_TEXT, PROTOCOLS, Split, all_split,
                                 evaluation_table, fold_split, make_folds)
from ecg_alq.errors import EcgAlqError
from ecg_alq.outputs import run_folder
from ecg_alq.metrics import classification_metrics
from ecg_alq.model import EcgCnn
from ecg_alq.preprocess import model_input


@dataclass
class TrainConfig:
    """Every setting of one training run; saved as ``config.json`` in the run folder."""

    protocol: str = option("window", "split protocol: window (stratified fragments), record "
                           "(grouped by subject), block (3-minute blocks of every record), or all "
                           "(everything trains, no test part: for a model to ship)")
    fold: int = option(0, "test fold, 0..n_folds-1")
    n_folds: int = option(10, "number of cross-validation folds")
    split_seed: int = option(2018, "seed of the fold assignment")
    val_fraction: float = option(0.1, "share of the training folds held out for model selection")
    epochs: int = option(150, "training epochs")
    batch_size: int = option(16, "mini-batch size")
    lr: float = option(1e-3, "AdamW learning rate (peak of the schedule)")
    lr_schedule: str = option("cosine", "constant or cosine (decay to 0 over the epochs)")
    weight_decay: float = option(0.0, "AdamW weight decay")
    label_smoothing: float = option(0.1, "cross-entropy label smoothing")
    ema_decay: float = option(0.995, "exponential moving average of the weights per step, used for "
                            "validation and as the final model (0: off)")
    context_shift: int = option(720, "augmentation: re-cut training windows from their record, "
                              "shifted by up to this many samples (never into held-out windows)")
    shift_max: int = option(0, "augmentation: zero-filled time shift of up to this many samples")
    scale_min: float = option(1.0, "augmentation: smallest random amplitude factor")
    scale_max: float = option(1.0, "augmentation: largest random amplitude factor")
    windows: str = option("fragments", "training windows: fragments (the training fragments, "
                          "re-cut by context_shift) or database (every labelled window of the "
                          "46 MLII records the protocol allows, at any start; ecg_alq.data.pool)")
    samples_per_epoch: int = option(8192, "database windows: windows drawn per epoch")
    class_balance: float = option(0.5, "database windows: a class is drawn with probability "
                                  "count ** class_balance (1: as in the data, 0: all alike)")
    pool_stride: int = option(6, "database windows: allowed starts every this many samples")
    aux_weight: float = option(0.0, "weight of the training-only beat-type head's loss "
                               "(database windows; 0: off; ecg_alq.auxhead)")
    seed: int = option(0, "seed of initialisation, shuffling, augmentation and dropout")
    threads: int = option(1, "torch CPU threads (results are bit-reproducible for a given count)")
    limit: int = option(0, "use only this many training fragments (0: all; fragment windows "
                        "only); for quick checks")
    data: str | None = option(None, "data root (else $ECG_ALQ_DATA, else ../shared/data)")
    progress: bool = option(True, "show a progress bar")

    def validate(self) -> None:
        problems = common_problems(self)
        if self.val_fraction == self.val_fraction and not 0 <= self.val_fraction < 1:  # 0: none
            problems.append(f"val_fraction must be in [0, 1), got {self.val_fraction}")
        if self.protocol not in PROTOCOLS + (ALL,):
            problems.append(f"protocol must be one of {PROTOCOLS + (ALL,)}, got {self.protocol!r}")
        if not 0 <= self.fold < self.n_folds:
            problems.append(f"fold must be in 0..{self.n_folds - 1}, got {self.fold}")
        if self.epochs < 1 or self.batch_size < 1 or self.lr <= 0:
            problems.append("epochs, batch_size and lr must be positive")
        if self.lr_schedule not in ("constant", "cosine"):
            problems.append(f"lr_schedule must be constant or cosine, got {self.lr_schedule!r}")
        if not 0.0 <= self.ema_decay < 1.0:
            problems.append(f"ema_decay must be in [0, 1), got {self.ema_decay}")
        if not 0 < self.scale_min <= self.scale_max:
            problems.append("need 0 < scale_min <= scale_max")
        if min(self.shift_max, self.context_shift, self.limit) < 0 or self.threads < 1:
            problems.append("shift_max, context_shift and limit must be >= 0, threads >= 1")
        if self.windows not in WINDOW_SOURCES:
            problems.append(f"windows must be one of {WINDOW_SOURCES}, got {self.windows!r}")
        if self.protocol == "block" and self.windows != "database":
            problems.append("the block protocol trains on database windows: set windows=database")
        if self.samples_per_epoch < 1 or self.pool_stride < 1 or self.aux_weight < 0:
            problems.append("samples_per_epoch and pool_stride must be >= 1, aux_weight >= 0")
        if self.aux_weight and self.windows != "database":
            problems.append("the beat-type head needs database windows (beat annotations)")
        if not 0.0 <= self.class_balance <= 1.0:
            problems.append(f"class_balance must be in [0, 1], got {self.class_balance}")
        if problems:
            raise EcgAlqError("bad training config: " + "; ".join(problems))

    # settings that may differ when a run is resumed (they do not change the result)
    RESUMABLE_CHANGES = ("threads", "progress", "data")


WINDOW_SOURCES = ("fragments", "database")
#: the float recipe for generalization (``bench/recipes.py``, docs/RESULTS.md): every allowed
#: database window and the beat-type head (best or tied on validation data of every protocol at
#: 40 epochs, fold 0 of the tuning split), 20 epochs of 8192 windows (half the compute; 0.5 to
#: 1.2 points less validation accuracy on that one fold, within its noise).
#: The cross-validation and the shipped model use it; ``TrainConfig``'s own defaults stay
#: today's recipe so that model files made before it keep their meaning.
GENERALIZING_RECIPE = {"windows": "database", "aux_weight": 0.3, "epochs": 20}


@torch.no_grad()
def evaluate(model: torch.nn.Module, x: torch.Tensor, y: torch.Tensor, batch: int = 250):
    """Mean cross-entropy and predicted labels (int64 numpy) of a preprocessed set."""
    model.eval()
    logits = torch.cat([model(x[i : i + batch]) for i in range(0, len(x), batch)])
    return float(F.cross_entropy(logits, y)), logits.argmax(1).numpy()


def _lr_at(cfg: TrainConfig, epoch: int) -> float:
    if cfg.lr_schedule == "cosine":
        return float(cfg.lr * 0.5 * (1.0 + np.cos(np.pi * epoch / cfg.epochs)))
    return cfg.lr


def _limit(rows: np.ndarray, n: int, seed: int) -> np.ndarray:
    """A random subset of ``n`` rows (all rows when ``n`` is 0)."""
    if not n or n >= len(rows):
        return rows
    return np.sort(np.random.default_rng(seed).choice(rows, size=n, replace=False))


def split_for(cfg: TrainConfig, frags: Fragments) -> Split:
    """The fold's train/validation/test rows as this config defines them."""
    if cfg.protocol == ALL:
        split = all_split(frags, cfg.val_fraction, cfg.split_seed)
    else:
        folds = make_folds(frags, cfg.protocol, cfg.n_folds, cfg.split_seed)
        split = fold_split(frags, folds, cfg.fold, cfg.val_fraction, cfg.split_seed, cfg.protocol)
    return dataclasses.replace(split, train=_limit(split.train, cfg.limit, cfg.seed))


def _train_epoch(cfg: TrainConfig, model: EcgCnn, opt: torch.optim.Optimizer, ema: dict,
                 data: TrainingSet | PoolTrainingSet, gen: torch.Generator,
                 head: BeatHead | None = None) -> tuple[float, float]:
    """One pass over the training set; returns mean loss and accuracy. ``ema`` is updated in
    place. With ``head``, the beat-type loss (weight ``cfg.aux_weight``) is added."""
    model.train()
    total_loss, correct = 0.0, 0
    extra = {"beat_positions": head.positions} if head is not None else {}
    for batch in data.batches(cfg.batch_size, gen, **extra):
        xb, yb = batch[0], batch[1]
        if head is not None:
            logits, beats = forward_with_beats(model, head, xb)
        else:
            logits = model(xb)
        loss = F.cross_entropy(logits, yb, label_smoothing=cfg.label_smoothing)
        if head is not None:
            loss = loss + cfg.aux_weight * beat_loss(beats, batch.beats)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        if cfg.ema_decay:
            with torch.no_grad():
                for k, v in model.state_dict().items():
                    ema[k].lerp_(v, 1.0 - cfg.ema_decay)
        total_loss += loss.item() * len(yb)
        correct += int((logits.argmax(1) == yb).sum())
    return total_loss / len(data), correct / len(data)


def _keep_if_best(state: dict, score: tuple, weights: dict, row: dict) -> None:
    """Record ``row`` in the history; keep ``weights`` and mark the row if ``score`` is best."""
    if state["best_score"] is None or score > tuple(state["best_score"]):
        state["best_score"] = list(score)
        state["best_model"] = {k: v.clone() for k, v in weights.items()}
        for h in state["history"]:
            h["selected"] = False
        row["selected"] = True
    state["history"].append(row)


def training_set(cfg: TrainConfig, frags: Fragments, split: Split,
                 x_all: torch.Tensor) -> TrainingSet | PoolTrainingSet:
    """The fold's training windows with the augmentation ``cfg`` asks for: the training rows of
    ``frags`` or, with ``windows=database``, the pool of windows the fold allows."""
    if cfg.windows == "database":
        from ecg_alq.data.database import load_database
        from ecg_alq.data.pool import build_pool

        pool = build_pool(load_database(cfg.data), cfg.protocol, frags, split, cfg.n_folds,
                          cfg.pool_stride)
        return PoolTrainingSet(pool, cfg.samples_per_epoch, cfg.class_balance,
                               (cfg.scale_min, cfg.scale_max), cfg.shift_max)
    context = None
    if cfg.context_shift:
        held_out = np.concatenate([split.val, split.test])
        context = context_windows(frags, split.train, held_out, cfg.context_shift, cfg.data)
    return TrainingSet(x_all[split.train], torch.from_numpy(frags.label[split.train]), context,
                       (cfg.scale_min, cfg.scale_max), cfg.shift_max)


def _check_resume(cfg: TrainConfig, saved: dict) -> None:
    mine = dataclasses.asdict(cfg)
    diff = [k for k, v in saved.items()
            if k not in TrainConfig.RESUMABLE_CHANGES and k != "epochs" and mine.get(k) != v]
    if diff:
        raise EcgAlqError(
            "cannot resume: the run folder was made with different settings: "
            + ", ".join(f"{k}={saved[k]!r} (now {mine.get(k)!r})" for k in diff)
        )
    if cfg.epochs != saved["epochs"] and cfg.lr_schedule != "constant":
        raise EcgAlqError("cannot change epochs when resuming with a cosine learning-rate schedule")


def train(cfg: TrainConfig, out: str | Path, resume: bool = False) -> dict:
    """Train on ``cfg.fold``, select on validation, evaluate the test fold; returns the metrics.

    With ``resume`` the run continues from ``out/last.pt``; a finished run is not repeated.
    """
    cfg.validate()
    with run_folder(out):
        return _train(cfg, out, resume)


def _train(cfg: TrainConfig, out: str | Path, resume: bool = False) -> dict:
    """The body of :func:`train`, inside its locked run folder."""
    out = Path(out)
    last = out / "last.pt"
    if (out / "metrics.json").exists() and resume:  # finished: reuse it if it is the same run
        saved = json.loads((out / "config.json").read_text())
        if saved["epochs"] != cfg.epochs:
            raise EcgAlqError(f"run folder {out} holds a finished run of {saved['epochs']} epochs, "
                              f"not {cfg.epochs}; use another --out")
        _check_resume(cfg, saved)
        return json.loads((out / "metrics.json").read_text())
    if last.exists() and not resume:
        raise EcgAlqError(f"run folder {out} already holds a run; pass --resume or another --out")
    torch.set_num_threads(cfg.threads)
    frags = evaluation_table(cfg.protocol, cfg.data)
    split = split_for(cfg, frags)
    x_all, y_all = model_input(frags.x), torch.from_numpy(frags.label)
    data = training_set(cfg, frags, split, x_all)

    torch.manual_seed(cfg.seed)
    model = EcgCnn()
    shadow = EcgCnn()  # holds the averaged weights for evaluation when ema_decay > 0
    head = BeatHead() if cfg.aux_weight else None  # training only: never in the model file
    params = list(model.parameters()) + (list(head.parameters()) if head else [])
    opt = torch.optim.AdamW(params, lr=cfg.lr, weight_decay=cfg.weight_decay)
    gen = torch.Generator().manual_seed(cfg.seed)
    state = {"epoch": 0, "history": [], "best_score": None, "best_model": None, "seconds": 0.0,
             "ema": {k: v.clone() for k, v in model.state_dict().items()}}
    if resume and last.exists():
        ck = load_checkpoint(last)
        _check_resume(cfg, ck["config"])
        model.load_state_dict(ck["model"])
        if head is not None:
            head.load_state_dict(ck["beat_head"])
        opt.load_state_dict(ck["optimizer"])
        gen.set_state(ck["generator"])
        torch.set_rng_state(ck["torch_rng"])
        state = {k: ck[k] for k in state}
    atomic.write_json(out / "config.json", dataclasses.asdict(cfg))

    bar = tqdm(range(state["epoch"], cfg.epochs), initial=state["epoch"], total=cfg.epochs,
               desc=f"{cfg.protocol} fold {cfg.fold}", unit="ep", disable=not cfg.progress,
               leave=False)
    for epoch in bar:
        t0 = time.perf_counter()
        for group in opt.param_groups:
            group["lr"] = _lr_at(cfg, epoch)
        train_loss, train_acc = _train_epoch(cfg, model, opt, state["ema"], data, gen, head)
        row = {"epoch": epoch + 1, "lr": opt.param_groups[0]["lr"],
               "train_loss": train_loss, "train_acc": train_acc}
        weights = state["ema"] if cfg.ema_decay else model.state_dict()
        if cfg.ema_decay:
            shadow.load_state_dict(weights)
        if len(split.val):
            val_loss, val_pred = evaluate(shadow if cfg.ema_decay else model,
                                          x_all[split.val], y_all[split.val])
            row.update(val_loss=val_loss, val_acc=float((val_pred == frags.label[split.val]).mean()))
            score = (row["val_acc"], -val_loss)
        else:
            score = (epoch,)  # no validation part: keep the last epoch
        _keep_if_best(state, score, weights, row)
        state["epoch"] = epoch + 1
        state["seconds"] += time.perf_counter() - t0
        save_checkpoint(last, {**state, "config": dataclasses.asdict(cfg),
                               "model": model.state_dict(), "optimizer": opt.state_dict(),
                               **({"beat_head": head.state_dict()} if head else {}),
                               "generator": gen.get_state(), "torch_rng": torch.get_rng_state()})
        shown = {"val": f"{row['val_acc']:.3f}"} if "val_acc" in row else {}
        bar.set_postfix(loss=f"{row['train_loss']:.3f}", **shown)
    bar.close()
    return _finish(cfg, out, frags, split, state, data.describe())


def _finish(cfg: TrainConfig, out: Path, frags: Fragments, split: Split, state: dict,
            training_windows: str) -> dict:
    model = EcgCnn()
    model.load_state_dict(state["best_model"])
    selected = next(h["epoch"] for h in state["history"] if h.get("selected"))
    metrics = {
        "protocol": cfg.protocol,
        "protocol_description": PROTOCOL_TEXT[cfg.protocol],
        "fold": cfg.fold,
        "n_folds": cfg.n_folds,
        "seed": cfg.seed,
        "split_seed": cfg.split_seed,
        "n_train": len(split.train),
        "training_windows": training_windows,
        "n_val": len(split.val),
        "n_test": len(split.test),
        "selected_epoch": selected,
        "train_seconds": round(state["seconds"], 1),
        "threads": cfg.threads,
    }
    if len(split.test):  # protocol "all" has no test part
        x_test = model_input(frags.x[split.test])
        test_loss, pred = evaluate(model, x_test, torch.from_numpy(frags.label[split.test]))
        metrics.update(test_loss=test_loss, **classification_metrics(frags.label[split.test], pred),
                       test_files=frags.file[split.test].tolist(),
                       test_predictions=(pred + 1).tolist())
        plots.confusion_matrix(
            np.array(metrics["confusion"]), out / "confusion_matrix.png",
            f"{cfg.protocol} fold {cfg.fold} test: accuracy {100 * metrics['accuracy']:.2f} % "
            f"(n={metrics['n']})",
        )
    save_checkpoint(out / "model.pt", model_file_payload(model, dataclasses.asdict(cfg), metrics))
    atomic.write_json(out / "history.json", state["history"])
    plots.learning_curves(state["history"], out / "learning_curves.png",
                          f"{cfg.protocol} fold {cfg.fold}: selected epoch {selected}")
    atomic.write_json(out / "metrics.json", metrics)
    return metrics

