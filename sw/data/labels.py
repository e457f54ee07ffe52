"""The rule set that names the rhythm class of any 10-s window of an MIT-BIH record, from the
record's reference annotations alone (or leaves it unlabelled when they do not decide).

Every beat annotation (``BEAT_SYMBOLS`` of :mod:`ecg_alq.data.mitdb`, ventricular flutter waves
``!`` included) belongs to the rhythm episode in force at its sample; beats before a record's
first rhythm label belong to that first episode. A window ``[start, start + 3600)`` is judged
only by the beats inside it:

1. **Rhythm classes.** Episodes ``(AFIB``, ``(AFL``, ``(SVTA``, ``(PREX``, ``(B``, ``(T``, ``(VT``,
   ``(IVR``, ``(VFL``, ``(BII``, ``(P`` name AFIB, AFL, SVTA, WPW, Bigeminy, Trigeminy, VT, IVR,
   VFL, SDHB, PR. A rhythm *defines* a window when at least :data:`MIN_RUN` (3) of the window's
   beats lie in episodes of that rhythm (three beats: the shortest run the database annotates as
   a rhythm; beats of two short episodes of one rhythm in one window add up).
2. **Doubt.** The window is unlabelled when two different rhythm classes define it, when a
   rhythm class has only 1 or 2 beats in it (a cut through an episode's edge), when a rhythm
   outside the 17 (``(NOD``, ``(AB``, ``(SBR``) has any beat in it, or when it holds no beat.
3. **One rhythm class** defines the window: that class, whatever the sinus beats beside it.
4. **Sinus only** (every beat in ``(N``): the class of its beat symbols: only ``N``: NSR; only
   ``L``: LBBBB; only ``R``: RBBBB; ``N`` with ``A`` and/or ``a``: APB; ``N`` with ``V``: PVC;
   ``N`` with ``F``: Fusion. Any other mixture (``N`` with ``V`` and ``A``, paced or junctional
   beats in sinus rhythm, ...) is unlabelled.

The label depends only on which beats lie in the window, so it is constant between two beat
positions; :func:`labels_for_all_starts` uses that to label every start sample of a record at
once. Applied to the windows of Pławiak's 1000 published fragments, the rules give the published
class to most of them (``ecg-alq data labels`` and ``tests/test_labels.py`` give the counts).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ecg_alq.classes import CLASS_NAMES, NUM_CLASSES
from ecg_alq.data.fragments import FRAGMENT_LENGTH

MIN_RUN = 3  #: beats of an episode inside a window for the episode to define the window

#: rhythm label -> class name, for the rhythms that are classes of their own
RHYTHM_CLASS = {"(AFIB": "AFIB", "(AFL": "AFL", "(SVTA": "SVTA", "(PREX": "WPW", "(B": "Bigeminy",
                "(T": "Trigeminy", "(VT": "VT", "(IVR": "IVR", "(VFL": "VFL", "(BII": "SDHB",
                "(P": "PR"}
SINUS = "(N"
#: beat symbols of a sinus-only window -> class name
SINUS_BEATS = {frozenset("N"): "NSR", frozenset("L"): "LBBBB", frozenset("R"): "RBBBB",
               frozenset("NA"): "APB", frozenset("Na"): "APB", frozenset("NAa"): "APB",
               frozenset("NV"): "PVC", frozenset("NF"): "Fusion"}

#: reason codes of unlabelled windows (label 0); index = code
REASONS = ("labelled", "no beats", "two rhythm classes", "cut through an episode edge",
           "rhythm without a class", "sinus rhythm with mixed beats")


def class_id(name: str) -> int:
    return CLASS_NAMES.index(name) + 1


@dataclass(frozen=True)
class BeatCategories:
    """Every beat of a record mapped to one category, for counting per window.

    Attributes:
        sample: int64 (B,) beat positions, ascending.
        category: int64 (B,) index into ``names``.
        names: category names: ``"rhythm:(AFIB"`` for a beat in a rhythm-class episode,
            ``"other:(NOD"`` in a rhythm without a class, ``"sinus:N"`` for a sinus beat.
    """

    sample: np.ndarray
    category: np.ndarray
    names: tuple[str, ...]


def categorize(beat_sample: np.ndarray, beat_symbol: np.ndarray, rhythm_sample: np.ndarray,
               rhythm: np.ndarray) -> BeatCategories:
    """The category of every beat (see :class:`BeatCategories`); rhythm labels sorted by sample."""
    order = np.argsort(beat_sample, kind="stable")
    beat_sample, beat_symbol = np.asarray(beat_sample)[order], np.asarray(beat_symbol)[order]
    if len(rhythm_sample):
        k = np.searchsorted(rhythm_sample, beat_sample, side="right") - 1
        episode = np.asarray(rhythm)[np.maximum(k, 0)]
    else:
        episode = np.full(len(beat_sample), "none")
    keys = []
    for ep, sym in zip(episode.tolist(), beat_symbol.tolist()):
        if ep in RHYTHM_CLASS:
            keys.append("rhythm:" + ep)
        elif ep == SINUS:
            keys.append("sinus:" + sym)
        else:
            keys.append("other:" + ep)
    names = tuple(sorted(set(keys)))
    index = {n: i for i, n in enumerate(names)}
    return BeatCategories(beat_sample.astype(np.int64),
                          np.array([index[k] for k in keys], dtype=np.int64), names)


def labels_of_counts(names: tuple[str, ...], counts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """int8 class ids (0: unlabelled) and int8 reason codes of windows from their beat counts
    per category: ``counts`` int (W, len(names)); the rules of the module text, in order."""
    counts = np.asarray(counts)
    if counts.ndim == 1:
        counts = counts[None, :]
    kind = np.array([n.split(":", 1)[0] for n in names])
    rhythm = counts[:, kind == "rhythm"]
    rhythm_class = np.array([class_id(RHYTHM_CLASS[n.split(":", 1)[1]]) for n in names
                             if n.startswith("rhythm:")], dtype=np.int64)
    defining = rhythm >= MIN_RUN
    n_defining = defining.sum(axis=1)
    edge = ((rhythm > 0) & (rhythm < MIN_RUN)).any(axis=1)
    other = counts[:, kind == "other"].sum(axis=1) > 0
    sinus_names = [n.split(":", 1)[1] for n in names if n.startswith("sinus:")]
    present = counts[:, kind == "sinus"] > 0
    bits = (present * (1 << np.arange(len(sinus_names), dtype=np.int64))).sum(axis=1)
    by_bits = {sum(1 << sinus_names.index(s) for s in symbols): class_id(name)
               for symbols, name in SINUS_BEATS.items() if set(symbols) <= set(sinus_names)}
    sinus_class = np.array([by_bits.get(int(b), 0) for b in bits], dtype=np.int64)
    rhythm_label = (defining * rhythm_class).max(axis=1, initial=0)
    reason = np.select([counts.sum(axis=1) == 0, n_defining > 1, edge, other,
                        n_defining == 1, sinus_class > 0],
                       [1, 2, 3, 4, 0, 0], default=5)
    label = np.where(reason > 0, 0, np.where(n_defining == 1, rhythm_label, sinus_class))
    return label.astype(np.int8), reason.astype(np.int8)


def _labels_of_ranges(cats: BeatCategories, lo: np.ndarray, hi: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Labels and reasons of windows holding beats ``lo[i]:hi[i]`` (computed once per pair)."""
    onehot = np.zeros((len(cats.sample) + 1, len(cats.names)), dtype=np.int32)
    onehot[1 + np.arange(len(cats.sample)), cats.category] = 1
    cum = np.cumsum(onehot, axis=0)  # cum[k] = counts over the first k beats
    key = lo * (len(cats.sample) + 1) + hi
    pairs, inverse = np.unique(key, return_inverse=True)
    a, b = np.divmod(pairs, len(cats.sample) + 1)
    label, reason = labels_of_counts(cats.names, cum[b] - cum[a])
    return label[inverse], reason[inverse]


def labels_at(cats: BeatCategories, starts: np.ndarray,
              length: int = FRAGMENT_LENGTH) -> tuple[np.ndarray, np.ndarray]:
    """int8 class ids (0: unlabelled) and int8 reason codes (:data:`REASONS`) of the windows
    ``[s, s + length)`` for every ``s`` in ``starts`` (samples)."""
    starts = np.asarray(starts, dtype=np.int64)
    lo = np.searchsorted(cats.sample, starts, side="left")
    hi = np.searchsorted(cats.sample, starts + length, side="left")
    return _labels_of_ranges(cats, lo, hi)


def labels_for_all_starts(cats: BeatCategories, n_samples: int,
                          length: int = FRAGMENT_LENGTH) -> np.ndarray:
    """int8 (n_samples - length + 1,) class id of the window starting at every sample."""
    return labels_at(cats, np.arange(n_samples - length + 1), length)[0]


def class_counts(labels: np.ndarray) -> np.ndarray:
    """int64 (17,) labelled windows per class."""
    return np.bincount(labels[labels > 0].astype(np.int64), minlength=NUM_CLASSES + 1)[1:]
