"""The whole MIT-BIH database as labelled 10-s MLII windows: every start sample of the 46 records
with an MLII lead, labelled by the rules of :mod:`ecg_alq.data.labels`, with the reserved windows
(:mod:`ecg_alq.data.reserved`) marked so that nothing ever uses them.

Two views:

* :class:`DatabaseRecord` per record: the signal, the class of the window starting at every
  sample, which starts touch a reserved window, and the beats (for auxiliary supervision).
  Training windows are drawn from these (:mod:`ecg_alq.data.pool`).
* :func:`grid_table`: the labelled windows on the 10-s grid (starts 0, 3600, ...) that touch no
  reserved window, as a :class:`~ecg_alq.data.fragments.Fragments` table (``file`` is
  ``"mitdb/NNN@START"``): the test and validation windows of the ``block`` protocol.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ecg_alq.data.fragments import FRAGMENT_LENGTH, Fragments
from ecg_alq.data.labels import BeatCategories, categorize, labels_at, labels_for_all_starts
from ecg_alq.data.mitdb import leads_of, list_records, read_record
from ecg_alq.data.reserved import load_reserved
from ecg_alq.data.root import resolve_data_root


@dataclass(frozen=True, eq=False)
class DatabaseRecord:
    """One record's MLII lead with per-start labels.

    Attributes:
        name: record name (``"100"``); ``number``: the same as an int.
        signal: int16 (n,) raw ADC samples.
        label: int8 (n - 3599,) class id 1..17 of the window starting at each sample, 0 when
            the annotations do not decide.
        reserved: bool (n - 3599,) True where the window starting there overlaps a reserved one.
        reserved_starts: int64 starts of the record's reserved windows.
        beats: the record's beats with their categories (positions in samples).
        beat_symbol: (B,) the beats' annotation symbols, in the order of ``beats.sample``.
    """

    name: str
    signal: np.ndarray
    label: np.ndarray
    reserved: np.ndarray
    reserved_starts: np.ndarray
    beats: BeatCategories
    beat_symbol: np.ndarray

    @property
    def number(self) -> int:
        return int(self.name)

    @property
    def n_starts(self) -> int:
        return len(self.label)

    def grid_starts(self) -> np.ndarray:
        """Starts of the record's consecutive 10-s windows (the partial tail dropped)."""
        return np.arange(0, self.n_starts, FRAGMENT_LENGTH, dtype=np.int64)


def starts_near(windows: np.ndarray, n_starts: int, margin: int = 0,
                length: int = FRAGMENT_LENGTH) -> np.ndarray:
    """bool (n_starts,): True for every start ``s`` whose window ``[s, s + length)`` overlaps a
    window ``[w, w + length)`` of ``windows``, or comes within ``margin`` samples of one."""
    windows = np.asarray(windows, dtype=np.int64)
    return spans_near(windows, windows + length, n_starts, margin, length)


def spans_near(lo: np.ndarray, hi: np.ndarray, n_starts: int, margin: int = 0,
               length: int = FRAGMENT_LENGTH) -> np.ndarray:
    """bool (n_starts,): True for every start whose window comes within ``margin`` samples of a
    sample span ``[lo[i], hi[i])`` (overlap when ``margin`` is 0)."""
    mark = np.zeros(n_starts + 1, dtype=np.int64)
    a = np.clip(np.asarray(lo) - length - margin + 1, 0, n_starts)
    b = np.clip(np.asarray(hi) + margin, 0, n_starts)
    np.add.at(mark, a, 1)
    np.add.at(mark, b, -1)
    return np.cumsum(mark[:-1]) > 0


def _labelled(rec, reserved: np.ndarray) -> DatabaseRecord:
    cats = categorize(rec.beat_sample, rec.beat_symbol, rec.rhythm_sample, rec.rhythm)
    order = np.argsort(rec.beat_sample, kind="stable")
    n_starts = len(rec.signal) - FRAGMENT_LENGTH + 1
    return DatabaseRecord(rec.name, rec.signal, labels_for_all_starts(cats, len(rec.signal)),
                          starts_near(reserved, n_starts), reserved, cats,
                          rec.beat_symbol[order])


@functools.lru_cache(maxsize=2)
def _load(root: Path) -> tuple[DatabaseRecord, ...]:
    recs = [read_record(n, root) for n in list_records(root) if "MLII" in leads_of(n, root)]
    reserved = load_reserved(root, {r.name: len(r.signal) for r in recs})
    return tuple(_labelled(r, reserved.get(r.name, np.empty(0, np.int64))) for r in recs)


def load_database(root: str | Path | None = None) -> tuple[DatabaseRecord, ...]:
    """Every record with an MLII lead (46 of the 48), labelled; cached per data root."""
    return _load(resolve_data_root(root))


@functools.lru_cache(maxsize=2)
def _grid(root: Path) -> Fragments:
    rows = []
    for rec in _load(root):
        starts = rec.grid_starts()
        keep = (rec.label[starts] > 0) & ~rec.reserved[starts]
        rows += [(rec, int(s)) for s in starts[keep]]
    table = Fragments(
        x=np.stack([r.signal[s: s + FRAGMENT_LENGTH] for r, s in rows]),
        class_id=np.array([int(r.label[s]) for r, s in rows], dtype=np.int64),
        file=np.array([f"mitdb/{r.name}@{s}" for r, s in rows]),
        record=np.array([r.number for r, _ in rows], dtype=np.int64),
        start_sample=np.array([s for _, s in rows], dtype=np.int64),
        lead=np.full(len(rows), "MLII"),
        window=np.arange(len(rows), dtype=np.int64),
    )
    table.x.setflags(write=False)
    return table


def grid_table(root: str | Path | None = None) -> Fragments:
    """The labelled, non-reserved 10-s grid windows of every MLII record (see the module text)."""
    return _grid(resolve_data_root(root))


def record_by_number(records: tuple[DatabaseRecord, ...]) -> dict[int, DatabaseRecord]:
    return {r.number: r for r in records}


def window_labels(rec: DatabaseRecord, starts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Class ids and reason codes of windows of ``rec`` at ``starts`` (see :func:`labels_at`)."""
    return labels_at(rec.beats, starts)
