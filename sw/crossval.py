"""Cross-validation: one training run per fold, resumable per fold, and the aggregate report.

``out/fold-K/`` is a run folder of :func:`ecg_alq.training.train`; a fold whose ``metrics.json``
exists is not trained again, and an interrupted fold resumes from its ``last.pt``. The summary
(``out/summary.json``, ``out/confusion_matrix.png``) gives mean and standard deviation over folds
of accuracy, balanced accuracy and macro-F1, and the metrics of the confusion matrix summed over
all test folds (every fragment is tested exactly once).
"""

from __future__ import annotations

import dataclasses
import time
from pathlib import Path

import numpy as np

from ecg_alq import atomic, plots
from ecg_alq.data.splits import PROTOCOL_TEXT
from ecg_alq.metrics import from_confusion
from ecg_alq.training import TrainConfig, train

HEADLINE = ("accuracy", "balanced_accuracy", "macro_f1")


def summarize(cfg: TrainConfig, fold_metrics: list[dict]) -> dict:
    """Mean/std over folds (population std, ddof=0) plus pooled metrics of the summed matrix."""
    summed = np.sum([np.array(m["confusion"]) for m in fold_metrics], axis=0)
    pooled = from_confusion(summed)
    return {
        "protocol": cfg.protocol,
        "protocol_description": PROTOCOL_TEXT[cfg.protocol],
        "folds": [m["fold"] for m in fold_metrics],
        "n_folds": cfg.n_folds,
        "seed": cfg.seed,
        "split_seed": cfg.split_seed,
        "config": dataclasses.asdict(cfg) | {"fold": None},
        **{f"{k}_mean": float(np.mean([m[k] for m in fold_metrics])) for k in HEADLINE},
        **{f"{k}_std": float(np.std([m[k] for m in fold_metrics])) for k in HEADLINE},
        "per_fold": [{k: m[k] for k in ("fold", "n_test", *HEADLINE, "selected_epoch",
                                        "train_seconds")} for m in fold_metrics],
        "train_seconds_median": float(np.median([m["train_seconds"] for m in fold_metrics])),
        "pooled": pooled,
    }


def cross_validate(cfg: TrainConfig, out: str | Path, folds: list[int] | None = None,
                   log=print) -> dict:
    """Train and test every fold in ``folds`` (default all) under ``out``; returns the summary."""
    out = Path(out)
    folds = list(range(cfg.n_folds)) if folds is None else folds
    results = []
    for k in folds:
        t0 = time.perf_counter()
        fold_dir = out / f"fold-{k}"
        done = (fold_dir / "metrics.json").exists()
        m = train(dataclasses.replace(cfg, fold=k), fold_dir, resume=True)
        results.append(m)
        log(f"{cfg.protocol} fold {k}: accuracy {100 * m['accuracy']:.2f} %, macro-F1 "
            f"{m['macro_f1']:.3f} ({'cached' if done else f'{time.perf_counter() - t0:.0f} s'})")
    summary = summarize(cfg, results)
    atomic.write_json(out / "summary.json", summary)
    plots.confusion_matrix(
        np.array(summary["pooled"]["confusion"]), out / "confusion_matrix.png",
        f"{cfg.protocol} protocol, {len(folds)} test folds summed: accuracy "
        f"{100 * summary['pooled']['accuracy']:.2f} %",
    )
    return summary
