"""Training windows from the whole database: every labelled 10-s MLII window, at any start
(every ``stride``-th sample), that a protocol's fold allows, drawn class-balanced per batch.

What a fold allows (:func:`allowed_mask`), on top of "labelled, and overlapping no reserved
window" for every protocol:

``window``, ``all``  no sample of a held-out (test or validation) fragment's window, in any
                     lead (the clipping rule of the record-context shift);
``record``           no record of a test or validation subject;
``block``            no sample within 10 s (:data:`BLOCK_MARGIN`) of a test or validation block.

Beat annotations come along with every window (:func:`beat_targets`), for the training-only
auxiliary head (:mod:`ecg_alq.auxhead`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from ecg_alq.classes import NUM_CLASSES
from ecg_alq.data.database import DatabaseRecord, spans_near, starts_near
from ecg_alq.data.fragments import FRAGMENT_LENGTH, Fragments
from ecg_alq.data.splits import Split, block_of, block_span, subject_of

BLOCK_MARGIN = FRAGMENT_LENGTH  #: samples kept free between a training window and a held-out block
#: beat symbol -> beat type of the auxiliary target (0: no beat); AAMI-like groups
BEAT_TYPES = {**dict.fromkeys("NLRejB", 1), **dict.fromkeys("AaJS", 2),
              **dict.fromkeys("VEr!", 3), "F": 4, **dict.fromkeys("/fQ?", 5)}
N_BEAT_TYPES = 6


def allowed_mask(rec: DatabaseRecord, protocol: str, table: Fragments, split: Split,
                 n_folds: int) -> np.ndarray:
    """bool (rec.n_starts,): starts of ``rec`` whose window may train this fold's model."""
    ok = (rec.label > 0) & ~rec.reserved
    held = np.concatenate([split.test, split.val]).astype(np.int64)
    mine = held[table.record[held] == rec.number]
    if protocol in ("window", "all"):
        return ok & ~starts_near(table.start_sample[mine], rec.n_starts)
    if protocol == "record":
        banned = set(subject_of(table.record[held]).tolist())
        return ok if int(subject_of(np.array([rec.number]))[0]) not in banned else np.zeros_like(ok)
    if protocol == "block":
        blocks = np.unique(block_of(table.start_sample[mine], n_folds))
        spans = np.array([block_span(int(b), n_folds) for b in blocks], dtype=np.int64).reshape(-1, 2)
        return ok & ~spans_near(spans[:, 0], spans[:, 1], rec.n_starts, BLOCK_MARGIN)
    raise ValueError(f"unknown protocol {protocol!r}")


@dataclass(frozen=True, eq=False)
class WindowPool:
    """Allowed training windows, sorted by class.

    Attributes:
        records: the database records the windows come from.
        rec: int64 (P,) index into ``records``; start: int64 (P,) first sample; label: int64
            (P,) class id 1..17. Sorted by label; ``offsets[c]:offsets[c+1]`` are class c+1's.
    """

    records: tuple[DatabaseRecord, ...]
    rec: np.ndarray
    start: np.ndarray
    label: np.ndarray
    offsets: np.ndarray

    def __len__(self) -> int:
        return len(self.label)

    def class_counts(self) -> np.ndarray:
        return np.diff(self.offsets)

    def class_weights(self, balance: float) -> np.ndarray:
        """float64 (17,) probability of drawing each class: count ** ``balance``, normalised
        (1: as in the data, 0: every class alike)."""
        counts = self.class_counts().astype(np.float64)
        w = np.where(counts > 0, counts ** balance, 0.0)
        return w / w.sum()

    def draw(self, n: int, balance: float, gen: torch.Generator) -> np.ndarray:
        """``n`` pool indices: a class drawn by :meth:`class_weights`, then a window of it."""
        probs = torch.from_numpy(self.class_weights(balance))
        cls = torch.multinomial(probs, n, replacement=True, generator=gen).numpy()
        u = torch.rand(n, generator=gen, dtype=torch.float64).numpy()
        counts = self.class_counts()[cls]
        return self.offsets[cls] + np.minimum((u * counts).astype(np.int64), counts - 1)

    def windows(self, index: np.ndarray) -> np.ndarray:
        """int16 (len(index), 3600) raw samples of the pool windows ``index``."""
        cols = np.arange(FRAGMENT_LENGTH)
        return np.stack([self.records[r].signal[s + cols]
                         for r, s in zip(self.rec[index], self.start[index])])


def build_pool(records: tuple[DatabaseRecord, ...], protocol: str, table: Fragments, split: Split,
               n_folds: int, stride: int) -> WindowPool:
    """The pool of one fold: every ``stride``-th allowed start of every record."""
    recs, starts, labels = [], [], []
    for i, rec in enumerate(records):
        ok = allowed_mask(rec, protocol, table, split, n_folds)
        s = np.flatnonzero(ok[::stride]) * stride
        recs.append(np.full(len(s), i, dtype=np.int64))
        starts.append(s.astype(np.int64))
        labels.append(rec.label[s].astype(np.int64))
    rec, start, label = (np.concatenate(a) for a in (recs, starts, labels))
    order = np.argsort(label, kind="stable")
    offsets = np.searchsorted(label[order], np.arange(1, NUM_CLASSES + 2))
    return WindowPool(records, rec[order], start[order], label[order], offsets)


def beat_targets(pool: WindowPool, index: np.ndarray, positions: int) -> np.ndarray:
    """int64 (len(index), positions): the beat type (:data:`BEAT_TYPES`) annotated in each of
    ``positions`` equal slices of every window, 0 where no beat lies (the last beat of a slice
    wins)."""
    out = np.zeros((len(index), positions), dtype=np.int64)
    for row, (r, s) in enumerate(zip(pool.rec[index], pool.start[index])):
        rec = pool.records[r]
        a, b = np.searchsorted(rec.beats.sample, [s, s + FRAGMENT_LENGTH])
        where = (rec.beats.sample[a:b] - s) * positions // FRAGMENT_LENGTH
        kinds = [BEAT_TYPES.get(str(sym), 0) for sym in rec.beat_symbol[a:b]]
        out[row, where] = kinds
    return out
