"""Classification metrics from a confusion matrix (numpy only).

Conventions (as in scikit-learn): balanced accuracy is the mean recall over classes present in
the true labels; macro-F1 averages F1 over classes present in the true or the predicted labels;
a precision or recall with an empty denominator is 0.
"""

from __future__ import annotations

import numpy as np

from ecg_alq.classes import CLASS_NAMES, NUM_CLASSES


def confusion(y_true: np.ndarray, y_pred: np.ndarray, n: int = NUM_CLASSES) -> np.ndarray:
    """int64 (n, n) matrix; rows are true labels 0..n-1, columns predicted."""
    m = np.zeros((n, n), dtype=np.int64)
    np.add.at(m, (np.asarray(y_true), np.asarray(y_pred)), 1)
    return m


def _safe_div(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return np.divide(a, b, out=np.zeros_like(a, dtype=float), where=b > 0)


def from_confusion(m: np.ndarray, names: tuple[str, ...] = CLASS_NAMES) -> dict:
    """Accuracy, balanced accuracy, macro-F1, per-class precision/recall/F1/support, matrix."""
    m = np.asarray(m, dtype=np.int64)
    tp = np.diag(m).astype(float)
    support = m.sum(axis=1)
    predicted = m.sum(axis=0)
    precision = _safe_div(tp, predicted.astype(float))
    recall = _safe_div(tp, support.astype(float))
    f1 = _safe_div(2 * precision * recall, precision + recall)
    present = support > 0
    seen = present | (predicted > 0)
    total = m.sum()
    return {
        "n": int(total),
        "accuracy": float(tp.sum() / total) if total else 0.0,
        "balanced_accuracy": float(recall[present].mean()) if present.any() else 0.0,
        "macro_f1": float(f1[seen].mean()) if seen.any() else 0.0,
        "per_class": {
            name: {"precision": float(p), "recall": float(r), "f1": float(f), "support": int(s)}
            for name, p, r, f, s in zip(names, precision, recall, f1, support)
        },
        "confusion": m.tolist(),
    }


def classification_metrics(y_true: np.ndarray, y_pred: np.ndarray) -> dict:
    """:func:`from_confusion` of labels 0..16."""
    return from_confusion(confusion(y_true, y_pred))
