"""Paired statistics that can tell two configurations apart.

Both configurations must be measured on the same test windows, folds and seeds; every test here
is paired:

* :func:`mcnemar` - exact McNemar test on pooled per-window correctness: only the windows one
  configuration gets right and the other wrong count; two-sided binomial test of those
  discordant counts against 1/2.
* :func:`sign_flip` - permutation test on paired per-run differences (one per fold x seed):
  the signs of the differences are flipped at random (all 2^n patterns when n <= 16);
  two-sided, on the mean difference.
* :func:`holm` - Holm's step-down correction over the comparisons of one table.

A difference is called "ahead" only where the corrected p-value is below ``alpha`` (0.05).
"""

from __future__ import annotations

import itertools
import math

import numpy as np

ALPHA = 0.05


def mcnemar(correct_a: np.ndarray, correct_b: np.ndarray) -> dict:
    """Exact two-sided McNemar test of two paired 0/1 correctness vectors (same windows, same
    order). Returns the discordant counts ``a_only``/``b_only`` and ``p``."""
    a, b = np.asarray(correct_a, dtype=bool), np.asarray(correct_b, dtype=bool)
    if a.shape != b.shape:
        raise ValueError(f"paired vectors differ in shape: {a.shape} and {b.shape}")
    a_only, b_only = int((a & ~b).sum()), int((~a & b).sum())
    n, k = a_only + b_only, min(a_only, b_only)
    tail = sum(math.comb(n, i) for i in range(k + 1)) / 2.0 ** n if n else 1.0
    return {"n": int(a.size), "a_only": a_only, "b_only": b_only, "p": min(1.0, 2.0 * tail)}


def sign_flip(diffs: np.ndarray, n_random: int = 100_000, seed: int = 0) -> float:
    """Two-sided p-value of the mean of paired differences under random sign flips."""
    d = np.asarray(diffs, dtype=np.float64)
    if d.size == 0:
        raise ValueError("no paired differences")
    observed = abs(d.mean()) - 1e-12
    if d.size <= 16:
        signs = np.array(list(itertools.product((1.0, -1.0), repeat=d.size)))
    else:
        signs = np.random.default_rng(seed).choice((1.0, -1.0), size=(n_random, d.size))
    return float((np.abs((signs * d).mean(axis=1)) >= observed).mean())


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
    """Mean and sample standard deviation (ddof = 1; 0 for a single value)."""
    v = np.asarray(values, dtype=np.float64)
    return float(v.mean()), float(v.std(ddof=1)) if v.size > 1 else 0.0
