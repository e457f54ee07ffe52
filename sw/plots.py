"""PNG figures: learning curves and confusion matrices (matplotlib, no display needed)."""

from __future__ import annotations

import warnings

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import matplotlib.ticker  # noqa: E402
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


def bits_trajectory(history: list[dict], names: list[str], path: str | Path, title: str = "") -> None:
    """ALQ over the rounds: bits of every layer, and validation accuracy against average bits.

    ``history`` rows have ``round``, ``average_bits``, ``layer_bits`` (one per layer) and
    ``val_acc``.
    """
    rounds = [h["round"] for h in history]
    fig, (ax_bits, ax_acc) = plt.subplots(1, 2, figsize=(11, 4))
    per_layer = np.array([h["layer_bits"] for h in history])
    for k, name in enumerate(names):
        ax_bits.plot(rounds, per_layer[:, k], marker=".", label=name)
    ax_bits.plot(rounds, [h["average_bits"] for h in history], "k--", lw=2, label="network")
    ax_bits.set_xlabel("round (0: greedy initialisation)")
    ax_bits.set_ylabel("average bits (active bases per weight)")
    ax_bits.legend(fontsize=7, ncol=2)
    avg = [h["average_bits"] for h in history]
    acc = [100 * h.get("val_acc", float("nan")) for h in history]  # no validation part: empty
    ax_acc.plot(avg, acc, "o-")
    for r, a, v in zip(rounds, avg, acc):
        ax_acc.annotate(str(r), (a, v), textcoords="offset points", xytext=(4, 4), fontsize=8)
    ax_acc.set_xlabel("average bits")
    ax_acc.set_ylabel("validation accuracy (%)")
    ax_acc.invert_xaxis()
    for ax in (ax_bits, ax_acc):
        ax.grid(alpha=0.3)
    fig.suptitle(title)
    _save(fig, path)


def accuracy_vs_memory(series: dict[str, list[tuple[float, float, float, str]]], path: str | Path,
                       paper: tuple[float, float, float] | None = None,
                       reference: tuple[str, float] | None = None, title: str = "",
                       marks: list[tuple[str, float, float]] = ()) -> None:
    """Accuracy (%) against honest memory (KiB, log axis), one line per method.

    ``series``: label -> points (memory KiB, accuracy %, std %, point name), sorted by memory.
    ``paper``: (claimed KiB, KiB with its alpha counted, accuracy %) drawn as two marked points.
    ``reference``: (label, accuracy %) drawn as a horizontal line (the float model).
    ``marks``: single points (label, memory KiB, accuracy %), e.g. one run's model.
    """
    fig, ax = plt.subplots(figsize=(8, 5))
    for label, mem, acc in marks:
        ax.plot([mem], [acc], "D", ms=9, mfc="none", mew=2, label=label)
    for label, pts in series.items():
        mem, acc, std, names = zip(*pts)
        ax.errorbar(mem, acc, yerr=std, marker="o", capsize=3, label=label)
        for m, a, n in zip(mem, acc, names):
            ax.annotate(n.split("-")[-1], (m, a), textcoords="offset points", xytext=(4, -10),
                        fontsize=7)
    if paper:
        claimed, counted, acc = paper
        ax.plot([claimed], [acc], "k*", ms=12, label=f"paper's ALQ as claimed ({claimed} KiB, "
                "alpha not counted, leaky split)")
        ax.plot([counted], [acc], "kx", ms=10, label=f"paper's ALQ model, alpha counted ({counted} KiB)")
        ax.axvline(claimed, color="grey", lw=0.8, ls="--")
    if reference:
        ax.axhline(reference[1], color="green", lw=1, ls=":", label=reference[0])
    ax.set_xscale("log")
    ax.xaxis.set_major_formatter(matplotlib.ticker.ScalarFormatter())
    ax.xaxis.set_minor_formatter(matplotlib.ticker.ScalarFormatter())
    ax.tick_params(axis="x", which="minor", labelsize=7)
    ax.set_xlabel("honest memory (KiB, every stored bit)")
    ax.set_ylabel("accuracy (%)")
    ax.grid(alpha=0.3, which="both")
    ax.legend(fontsize=7, loc="lower right")
    ax.set_title(title, fontsize=10)
    _save(fig, path)


def layer_bits(names: list[str], bits: list[float], kib: list[float], path: str | Path,
               title: str = "") -> None:
    """Per weight layer: average bits (active bases per weight) and stored KiB (every bit)."""
    fig, (ax_bits, ax_kib) = plt.subplots(1, 2, figsize=(11, 3.6))
    x = np.arange(len(names))
    ax_bits.bar(x, bits, color="tab:blue")
    ax_bits.set_ylabel("average bits per weight")
    ax_kib.bar(x, kib, color="tab:orange")
    ax_kib.set_ylabel("stored KiB (signs, alpha, bias, requant)")
    for ax in (ax_bits, ax_kib):
        ax.set_xticks(x, names, rotation=45, ha="right", fontsize=8)
        ax.grid(alpha=0.3, axis="y")
    fig.suptitle(title)
    _save(fig, path)


def layer_cycles(layers: list[dict], path: str | Path, title: str = "") -> None:
    """Cycles per layer from the cycle model, stacked by phase, with the ideal (basis additions
    / (pe x simd)) as a mark. ``layers``: rows with name, run, flush, drain, zeros, overhead,
    ideal."""
    fig, ax = plt.subplots(figsize=(9, 3.8))
    x = np.arange(len(layers))
    bottom = np.zeros(len(layers))
    for phase in ("run", "flush", "drain", "zeros", "overhead"):
        v = np.array([lc[phase] for lc in layers], dtype=float)
        if v.any():
            ax.bar(x, v, bottom=bottom, label=phase)
            bottom += v
    ax.plot(x, [lc["ideal"] for lc in layers], "k_", ms=18, mew=2, label="ideal")
    ax.set_xticks(x, [lc["name"] for lc in layers], rotation=45, ha="right", fontsize=8)
    ax.set_ylabel("cycles per fragment")
    ax.grid(alpha=0.3, axis="y")
    ax.legend(fontsize=8)
    ax.set_title(title, fontsize=10)
    _save(fig, path)


def resource_use(resources: dict[str, dict], fmax_mhz: float | None, clock_mhz: float,
                 path: str | Path, title: str = "") -> None:
    """Share of each resource kind used (kinds with any use) and Fmax against the clock."""
    used = {k: v for k, v in resources.items() if v["used"] and v["available"]}
    fig, (ax_res, ax_clk) = plt.subplots(1, 2, figsize=(10, 3.6),
                                         gridspec_kw={"width_ratios": [3, 1]})
    names = list(used)
    share = [100 * used[k]["used"] / used[k]["available"] for k in names]
    bars = ax_res.barh(names, share, color=["tab:red" if s > 100 else "tab:blue" for s in share])
    for bar, k in zip(bars, names):
        ax_res.text(bar.get_width() + 1, bar.get_y() + bar.get_height() / 2,
                    f"{used[k]['used']}/{used[k]['available']}", va="center", fontsize=8)
    ax_res.set_xlim(0, 125)
    ax_res.set_xlabel("used (%)")
    ax_res.invert_yaxis()
    ax_clk.bar(["clock", "Fmax"], [clock_mhz, fmax_mhz or 0], color=["grey", "tab:green"])
    ax_clk.set_ylabel("MHz")
    for ax in (ax_res, ax_clk):
        ax.grid(alpha=0.3, axis="x" if ax is ax_res else "y")
    fig.suptitle(title)
    _save(fig, path)


def record_timeline(signal_mv: np.ndarray, fs: int, window: int, predicted: list[int],
                    reference: list[int], rhythms: list[tuple[float, float, str]],
                    path: str | Path, title: str = "") -> None:
    """A whole record at a glance: the signal (mV; min and max per second), the class of every
    window as predicted (dots) and as the annotations give it where clean (bars behind), and the
    annotated rhythm episodes. ``predicted``/``reference``: class ids 1..17 per window (0: not
    clean; predicted 0: not classified); ``rhythms``: (start s, end s, label); time axis in
    minutes. NaN samples (windows kept out of every figure) are left blank."""
    fig, (ax_sig, ax_cls, ax_rhy) = plt.subplots(
        3, 1, figsize=(13, 7), sharex=True, gridspec_kw={"height_ratios": [1.2, 3, 0.5]})
    n = len(signal_mv) // fs
    per_s = signal_mv[: n * fs].reshape(n, fs)
    t = np.arange(n) / 60
    with warnings.catch_warnings():  # a wholly blank second has no minimum
        warnings.simplefilter("ignore", RuntimeWarning)
        ax_sig.fill_between(t, np.nanmin(per_s, 1), np.nanmax(per_s, 1), color="k", lw=0)
    ax_sig.set_ylabel("mV")
    starts = np.arange(len(predicted)) * window / fs / 60
    width = window / fs / 60
    ref = np.asarray(reference)
    clean = ref > 0
    ax_cls.bar(starts[clean], 0.8, width=width, bottom=ref[clean] - 1.4, align="edge",
               color="tab:green", alpha=0.35, label="annotations (clean windows)")
    pred = np.asarray(predicted)
    agree = clean & (pred == ref)
    differ = clean & (pred != ref)
    other = ~clean & (pred > 0)  # 0: not classified (reserved)
    for mask, style, label in ((agree, "o", "predicted, agrees"), (differ, "x", "predicted, differs"),
                               (other, ".", "predicted, window not clean")):
        if mask.any():
            ax_cls.plot(starts[mask] + width / 2, pred[mask] - 1, style, ms=5, label=label,
                        color={"o": "tab:green", "x": "tab:red", ".": "grey"}[style])
    ax_cls.set_yticks(range(len(CLASS_NAMES)), CLASS_NAMES, fontsize=7)
    ax_cls.set_ylim(-1, len(CLASS_NAMES))
    ax_cls.grid(alpha=0.3)
    ax_cls.legend(fontsize=7, loc="upper right", ncol=2)
    labels = sorted({r[2] for r in rhythms})
    colours = plt.get_cmap("tab20")
    for start, end, label in rhythms:
        ax_rhy.axvspan(start / 60, end / 60, color=colours(labels.index(label) % 20))
        if (end - start) / 60 > 0.6:
            ax_rhy.text((start + end) / 120, 0.5, label.lstrip("("), ha="center", va="center",
                        fontsize=7)
    ax_rhy.set_yticks([])
    ax_rhy.set_ylabel("rhythm", fontsize=8)
    ax_rhy.set_xlabel("time (min)")
    ax_rhy.set_xlim(0, n / 60)
    fig.suptitle(title)
    _save(fig, path)
