"""PNG figures: learning curves and confusion matrices (matplotlib, no display needed)."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from ecg_alq.atomic import atomic_path  # noqa: E402
from ecg_alq.classes import CLASS_NAMES  # noqa: E402


def _save(fig, path: str | Path) -> None:
    with atomic_path(path) as tmp:
        fig.savefig(tmp, format="png", dpi=120, bbox_inches="tight")
    plt.close(fig)


def learning_curves(history: list[dict], path: str | Path, title: str = "") -> None:
    """Loss and accuracy per epoch for the train and validation parts (``history`` rows)."""
    epochs = [h["epoch"] for h in history]
    fig, (ax_loss, ax_acc) = plt.subplots(1, 2, figsize=(10, 3.8))
    for part, style in (("train", "-"), ("val", "--")):
        if f"{part}_loss" in history[0]:
            ax_loss.plot(epochs, [h[f"{part}_loss"] for h in history], style, label=part)
            ax_acc.plot(epochs, [100 * h[f"{part}_acc"] for h in history], style, label=part)
    best = [h["epoch"] for h in history if h.get("selected")]
    for ax in (ax_loss, ax_acc):
        if best:
            ax.axvline(best[-1], color="grey", lw=0.8, label="selected")
        ax.set_xlabel("epoch")
        ax.grid(alpha=0.3)
        ax.legend()
    ax_loss.set_ylabel("cross-entropy")
    ax_loss.set_yscale("log")
    ax_acc.set_ylabel("accuracy (%)")
    fig.suptitle(title)
    _save(fig, path)


def confusion_matrix(m: np.ndarray, path: str | Path, title: str = "") -> None:
    """Counts with row-normalised colour; rows are true classes, columns predicted."""
    m = np.asarray(m)
    rows = m.sum(axis=1, keepdims=True)
    frac = np.divide(m, rows, out=np.zeros(m.shape), where=rows > 0)
    fig, ax = plt.subplots(figsize=(8.5, 7.5))
    ax.imshow(frac, cmap="Blues", vmin=0, vmax=1)
    n = len(m)
    for i in range(n):
        for j in range(n):
            if m[i, j]:
                ax.text(j, i, str(m[i, j]), ha="center", va="center", fontsize=7,
                        color="white" if frac[i, j] > 0.6 else "black")
    names = CLASS_NAMES[:n]
    ax.set_xticks(range(n), names, rotation=60, ha="right", fontsize=8)
    ax.set_yticks(range(n), names, fontsize=8)
    ax.set_xlabel("predicted")
    ax.set_ylabel("true")
    ax.set_title(title, fontsize=10)
    _save(fig, path)
