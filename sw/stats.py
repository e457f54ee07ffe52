"""Paired statistics that can tell two configurations apart.

Both configurations must be measured on the same test windows, folds and seeds; every test here
is paired:

* :func:`mcnemar` - exact McNemar test on per-window correctness (each window once: one seed):
  only the windows one configuration gets right and the other wrong count; two-sided binomial
  test of those discordant counts against 1/2.
* :func:`paired_windows` - the same question with several seeds: each window's correctness is
  averaged over the seeds (the window, not the run, is the unit that is exchangeable), and the
  signs of the per-window differences are flipped at random; with one seed it is
  :func:`mcnemar`.
* :func:`sign_flip` - permutation test on paired differences (e.g. one per fold, seeds averaged
  first): the signs are flipped at random (all 2^n patterns when n <= 16); two-sided, on the
  mean difference.
* :func:`holm` - Holm's step-down correction over the comparisons of one table.

A difference is called "ahead" only where the corrected p-value is below ``alpha`` (0.05).
"""

from __future__ import annotations

import itertools

import numpy as np
from scipy.stats import binomtest

ALPHA = 0.05


def mcnemar(correct_a: np.ndarray, correct_b: np.ndarray) -> dict:
    """Exact two-sided McNemar test of two paired 0/1 correctness vectors (same windows, same
    order). Returns the discordant counts ``a_only``/``b_only`` and ``p``."""
    a, b = np.asarray(correct_a, dtype=bool), np.asarray(correct_b, dtype=bool)
    if a.shape != b.shape:
        raise ValueError(f"paired vectors differ in shape: {a.shape} and {b.shape}")
    a_only, b_only = int((a & ~b).sum()), int((~a & b).sum())
    p = float(binomtest(a_only, a_only + b_only).pvalue) if a_only + b_only else 1.0
    return {"test": "exact McNemar", "windows": int(a.size), "a_only": a_only,
            "b_only": b_only, "p": p}


def paired_windows(correct_a: np.ndarray, correct_b: np.ndarray, n_random: int = 20_000,
                   seed: int = 0) -> dict:
    """Paired test of two configurations on the same windows over the same seeds:
    ``correct_a``/``correct_b`` bool (seeds, windows). One seed: :func:`mcnemar`. Several: a
    sign-flip permutation test of the per-window mean differences (two-sided, on their sum;
    p = (hits + 1) / (n_random + 1)). ``a_only``/``b_only``: windows with a positive/negative
    mean difference."""
    a, b = np.atleast_2d(correct_a).astype(bool), np.atleast_2d(correct_b).astype(bool)
    if a.shape != b.shape:
        raise ValueError(f"paired arrays differ in shape: {a.shape} and {b.shape}")
    if a.shape[0] == 1:
        return mcnemar(a[0], b[0]) | {"seeds": 1}
    d = (a.astype(np.float64) - b).mean(axis=0)
    d = d[d != 0]
    out = {"test": "sign-flip over windows (seeds averaged per window)", "windows": a.shape[1],
           "seeds": a.shape[0], "a_only": int((d > 0).sum()), "b_only": int((d < 0).sum())}
    if not d.size:
        return out | {"p": 1.0}
    rng = np.random.default_rng(seed)
    observed, hits = abs(d.sum()) - 1e-9, 0
    for start in range(0, n_random, 1000):
        signs = rng.choice((1.0, -1.0), size=(min(1000, n_random - start), d.size))
        hits += int((np.abs(signs @ d) >= observed).sum())
    return out | {"p": (hits + 1) / (n_random + 1)}


def sign_flip(diffs: np.ndarray, n_random: int = 100_000, seed: int = 0) -> float:
    """Two-sided p-value of the mean of paired differences under random sign flips."""
    d = np.asarray(diffs, dtype=np.float64)
    if d.size == 0:
        raise ValueError("no paired differences")
    observed = abs(d.mean()) - 1e-12
    if d.size <= 16:
        signs = np.array(list(itertools.product((1.0, -1.0), repeat=d.size)))
        return float((np.abs((signs * d).mean(axis=1)) >= observed).mean())
    signs = np.random.default_rng(seed).choice((1.0, -1.0), size=(n_random, d.size))
    return (int((np.abs((signs * d).mean(axis=1)) >= observed).sum()) + 1) / (n_random + 1)


def holm(p_values: list[float]) -> list[float]:
    """Holm-adjusted p-values, in the input order (monotone, capped at 1)."""
    order = np.argsort(p_values, kind="stable")
    m = len(p_values)
    adjusted = np.empty(m)
    running = 0.0
    for rank, i in enumerate(order):
        running = max(running, min(1.0, (m - rank) * p_values[i]))
        adjusted[i] = running
    return adjusted.tolist()


def verdict(name_a: str, name_b: str, diff: float, p_adjusted: float, alpha: float = ALPHA) -> str:
    """"A ahead" / "B ahead" when significant, else "no significant difference"."""
    if p_adjusted >= alpha:
        return "no significant difference"
    return f"{name_a} ahead" if diff > 0 else f"{name_b} ahead"


def mean_std(values: list[float]) -> tuple[float, float]:
    """Mean and sample standard deviation (ddof = 1; None for a single value)."""
    v = np.asarray(values, dtype=np.float64)
    return float(v.mean()), float(v.std(ddof=1)) if v.size > 1 else None
