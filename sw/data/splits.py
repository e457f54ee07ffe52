"""Deterministic cross-validation folds, saved as JSON manifests.

Three protocols, all 10-fold. The first two split Pławiak's 1000 fragments, keeping every window
group (identical windows, see :mod:`ecg_alq.data.fragments`) inside one fold; the third splits
the labelled 10-s grid windows of the whole database (:func:`ecg_alq.data.database.grid_table`):

``window``  stratified by class over the 989 distinct windows. Windows of the same record can be
            in train and test, as in the published 10-fold results; comparable with them.
            Validation: a class-stratified share of the training windows.
``record``  grouped by subject: no MIT-BIH record is in both train and test, and records 201 and
            202 (one person) stay together. The honest inter-patient figure. Classes recorded in a
            single subject (WPW, IVR, VFL, SDHB) cannot be learned for their test fold.
            Validation: whole training subjects (:func:`subject_validation_split`), so that model
            selection rewards new patients, not memorised ones.
``block``   the monitor's situation for known patients: each record's 30 minutes are cut into 10
            contiguous blocks of 3 minutes (:func:`block_of`); the blocks of each record go to
            the 10 folds in a random order, so every fold holds every record. The test set is
            every labelled grid window of the test blocks. Validation: one training block of
            each record.

A manifest lists, per fold, the files (fragments or grid windows) in its test part. Training uses
the other folds, minus the validation part; the test fold is never seen. Which training windows
the whole database adds, and how far they keep from held-out ones, is
:mod:`ecg_alq.data.pool`'s business.

A third choice, ``all`` (:data:`ALL`), is not an evaluation protocol: it trains on every
fragment, with no test part, for the model the package ships. Its accuracy is the
cross-validated figure of the same configuration under ``window``.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ecg_alq.classes import NUM_CLASSES
from ecg_alq.data.fragments import FRAGMENT_LENGTH, Fragments
from ecg_alq.errors import EcgAlqError

PROTOCOLS = ("window", "record", "block")
FRAGMENT_PROTOCOLS = ("window", "record")  #: the protocols whose test windows are fragments
ALL = "all"  #: train on every fragment (no test part): the shipped model
DEFAULT_FOLDS = 10
DEFAULT_SEED = 2018
SAME_SUBJECT = {202: 201}  #: record -> the record of the same person it is grouped with
RECORD_SAMPLES = 650_000  #: samples of every MIT-BIH record (30:05 min at 360 Hz)

PROTOCOL_TEXT = {
    "window": "10-fold stratified by class over distinct windows; identical windows kept in one fold",
    "record": "10-fold grouped by subject (no record in train and test; 201+202 one subject)",
    "block": "10-fold by 3-minute blocks of every record (every record in every fold), every "
             "labelled 10-s grid window of the test blocks tested; no training sample within 10 s "
             "of a test block",
    ALL: "trained on every training window (fragments, or every labelled database window but the "
         "reserved ones), no test part (accuracy: the cross-validated figure)",
}


@dataclass(frozen=True)
class Split:
    """Row indices into a :class:`Fragments` for one fold: train, validation and test."""

    fold: int
    train: np.ndarray
    val: np.ndarray
    test: np.ndarray


def subject_of(record: np.ndarray) -> np.ndarray:
    """Subject id per row: the record number, with records of one person mapped together."""
    return np.array([SAME_SUBJECT.get(int(r), int(r)) for r in record], dtype=np.int64)


def _unit_table(frags: Fragments, unit: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Unique unit ids and their class-count matrix (units x classes)."""
    units, inverse = np.unique(unit, return_inverse=True)
    counts = np.zeros((len(units), NUM_CLASSES), dtype=np.int64)
    np.add.at(counts, (inverse, frags.label), 1)
    return units, counts


def _assign_balanced(counts: np.ndarray, n_folds: int, rng: np.random.Generator) -> np.ndarray:
    """Assign units (rows of a class-count matrix) to folds, keeping class proportions even.

    Units are taken largest first (random order among equal sizes); each goes to the fold where
    the squared deviation of the per-class counts from their per-fold targets grows least, with
    the fold's total size as a tie-break. Deterministic for a given ``rng`` state.
    """
    target = counts.sum(axis=0) / n_folds  # (classes,)
    fold_counts = np.zeros((n_folds, counts.shape[1]))
    order = np.lexsort((rng.permutation(len(counts)), -counts.sum(axis=1)))
    fold_of = np.empty(len(counts), dtype=np.int64)
    weight = 1.0 / np.maximum(target, 1e-9)
    for u in order:
        after = fold_counts + counts[u]
        cost = (((after - target) ** 2 - (fold_counts - target) ** 2) * weight).sum(axis=1)
        size = fold_counts.sum(axis=1)
        best = np.lexsort((np.arange(n_folds), size, np.round(cost, 9)))[0]
        fold_of[u] = best
        fold_counts[best] += counts[u]
    return fold_of


def make_folds(
    frags: Fragments, protocol: str, n_folds: int = DEFAULT_FOLDS, seed: int = DEFAULT_SEED
) -> np.ndarray:
    """Fold number (0..n_folds-1) of every row, for ``protocol`` in :data:`PROTOCOLS`."""
    if protocol not in PROTOCOLS:
        raise EcgAlqError(f"unknown split protocol {protocol!r}; choose one of {', '.join(PROTOCOLS)}")
    if n_folds < 2:
        raise EcgAlqError(f"need at least 2 folds, got {n_folds}")
    if protocol == "block":
        return block_folds(frags, n_folds, seed)
    unit = frags.window if protocol == "window" else subject_of(frags.record)
    units, counts = _unit_table(frags, unit)
    if n_folds > len(units):
        raise EcgAlqError(f"{n_folds} folds but only {len(units)} {protocol} groups")
    fold_of_unit = _assign_balanced(counts, n_folds, np.random.default_rng(seed))
    return fold_of_unit[np.searchsorted(units, unit)]


def block_of(start_sample: np.ndarray, n_folds: int = DEFAULT_FOLDS) -> np.ndarray:
    """Block index (0..n_folds-1) of windows starting at ``start_sample``: blocks of
    ``RECORD_SAMPLES // n_folds`` samples rounded down to whole 10-s windows, the last block
    taking the rest of the record."""
    return np.minimum(np.asarray(start_sample) // block_samples(n_folds), n_folds - 1)


def block_samples(n_folds: int = DEFAULT_FOLDS) -> int:
    """Samples per block (a whole number of 10-s windows)."""
    return RECORD_SAMPLES // n_folds // FRAGMENT_LENGTH * FRAGMENT_LENGTH


def block_span(block: int, n_folds: int = DEFAULT_FOLDS) -> tuple[int, int]:
    """Sample span ``[lo, hi)`` of block ``block`` (the last block runs to the record's end)."""
    size = block_samples(n_folds)
    return block * size, (block + 1) * size if block < n_folds - 1 else RECORD_SAMPLES


def block_folds(table: Fragments, n_folds: int, seed: int) -> np.ndarray:
    """Fold of every grid window of ``table``: each record's blocks in a random order (one
    permutation per record, drawn in record order), so block ``b`` of a record is in fold
    ``perm[b]`` and every fold holds one block of every record."""
    if n_folds > RECORD_SAMPLES // FRAGMENT_LENGTH:
        raise EcgAlqError(f"{n_folds} folds but a record has only "
                          f"{RECORD_SAMPLES // FRAGMENT_LENGTH} windows")
    rng = np.random.default_rng(seed)
    perm = {int(r): rng.permutation(n_folds) for r in np.unique(table.record)}
    blocks = block_of(table.start_sample, n_folds)
    return np.array([perm[int(r)][b] for r, b in zip(table.record, blocks)], dtype=np.int64)


def block_validation_split(table: Fragments, folds: np.ndarray, train_rows: np.ndarray,
                           fraction: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Validation = one training block of every record (drawn at random): about 1/9 of the
    training rows whatever ``fraction`` is, as long as it is > 0 (0 gives none). Returns
    ``(train, val)`` row arrays."""
    if fraction == 0.0:
        return np.sort(train_rows), np.empty(0, dtype=np.int64)
    rng = np.random.default_rng(seed)
    is_val = np.zeros(len(train_rows), dtype=bool)
    rec, fold = table.record[train_rows], folds[train_rows]
    for r in np.unique(rec):
        choice = rng.choice(np.unique(fold[rec == r]))
        is_val |= (rec == r) & (fold == choice)
    return np.sort(train_rows[~is_val]), np.sort(train_rows[is_val])


def subject_validation_split(frags: Fragments, train_rows: np.ndarray, fraction: float,
                             seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Validation = whole subjects of ``train_rows``, drawn in random order until they hold at
    least ``fraction`` of the rows; ``fraction`` 0 gives none. Returns ``(train, val)``."""
    if fraction == 0.0:
        return np.sort(train_rows), np.empty(0, dtype=np.int64)
    rng = np.random.default_rng(seed)
    subj = subject_of(frags.record[train_rows])
    chosen, held = [], 0
    for s in rng.permutation(np.unique(subj)):
        if held >= fraction * len(train_rows):
            break
        chosen.append(s)
        held += int((subj == s).sum())
    is_val = np.isin(subj, chosen)
    return np.sort(train_rows[~is_val]), np.sort(train_rows[is_val])


def validation_split(
    frags: Fragments, train_rows: np.ndarray, fraction: float, seed: int
) -> tuple[np.ndarray, np.ndarray]:
    """Carve a class-stratified validation part from ``train_rows``, whole window groups only.

    From each class, ``round(fraction * n)`` of its n window groups (at least one when the class
    has two or more) are drawn at random. Returns ``(train, val)`` row arrays; ``fraction`` 0
    gives an empty validation part.
    """
    if not 0.0 <= fraction < 0.5:
        raise EcgAlqError(f"validation fraction must be in [0, 0.5), got {fraction}")
    if fraction == 0.0:
        return np.sort(train_rows), np.empty(0, dtype=np.int64)
    rng = np.random.default_rng(seed)
    windows, first = np.unique(frags.window[train_rows], return_index=True)
    window_class = frags.class_id[train_rows][first]  # every window group has one class
    val_windows = []
    for c in np.unique(window_class):
        members = rng.permutation(windows[window_class == c])
        k = max(1, round(fraction * len(members))) if len(members) >= 2 else 0
        val_windows.append(members[:k])
    is_val = np.isin(frags.window[train_rows], np.concatenate(val_windows))
    return np.sort(train_rows[~is_val]), np.sort(train_rows[is_val])


def all_split(frags: Fragments, val_fraction: float, seed: int) -> Split:
    """Every row trains (minus a validation part when ``val_fraction`` > 0); no test rows."""
    train, val = validation_split(frags, np.arange(len(frags.label)), val_fraction, seed)
    return Split(0, train, val, np.empty(0, dtype=np.int64))


def fold_split(
    frags: Fragments, folds: np.ndarray, fold: int, val_fraction: float, seed: int,
    protocol: str = "window",
) -> Split:
    """Train/validation/test rows of ``fold``; validation comes from the training folds only,
    carved as ``protocol`` says (see the module text)."""
    n_folds = int(folds.max()) + 1
    if not 0 <= fold < n_folds:
        raise EcgAlqError(f"fold must be in 0..{n_folds - 1}, got {fold}")
    if not 0.0 <= val_fraction < 0.5:
        raise EcgAlqError(f"validation fraction must be in [0, 0.5), got {val_fraction}")
    test = np.flatnonzero(folds == fold)
    rest = np.flatnonzero(folds != fold)
    if protocol == "block":
        train, val = block_validation_split(frags, folds, rest, val_fraction, seed + fold)
    elif protocol == "record":
        train, val = subject_validation_split(frags, rest, val_fraction, seed + fold)
    else:
        train, val = validation_split(frags, rest, val_fraction, seed + fold)
    return Split(fold, train, val, test)


# ----------------------------------------------------------------------------------- manifests


def manifest(frags: Fragments, protocol: str, folds: np.ndarray, seed: int) -> dict:
    """A JSON-ready description of a fold assignment: per fold its test files and class counts."""
    entries = []
    for k in range(int(folds.max()) + 1):
        rows = np.flatnonzero(folds == k)
        entries.append({
            "fold": k,
            "test_files": frags.file[rows].tolist(),
            "class_counts": np.bincount(frags.class_id[rows], minlength=NUM_CLASSES + 1)[1:].tolist(),
            "records": sorted({int(r) for r in frags.record[rows]}),
        } | ({"blocks": _blocks_of_fold(frags, rows, len(np.unique(folds)))}
             if protocol == "block" else {}))
    body = {"protocol": protocol, "description": PROTOCOL_TEXT[protocol], "n_folds": len(entries),
            "seed": seed, "folds": entries}
    body["sha256"] = hashlib.sha256(json.dumps(body["folds"]).encode()).hexdigest()
    return body


def _blocks_of_fold(table: Fragments, rows: np.ndarray, n_folds: int) -> list[list[int]]:
    """[record, block, first sample, end sample] of the blocks holding ``rows``."""
    pairs = sorted({(int(r), int(b)) for r, b in zip(table.record[rows],
                                                     block_of(table.start_sample[rows], n_folds))})
    return [[r, b, *block_span(b, n_folds)] for r, b in pairs]


def evaluation_table(protocol: str, data: str | None = None) -> Fragments:
    """The windows a protocol splits into folds: Pławiak's fragments (``window``, ``record`` and
    ``all``) or the labelled grid windows of the whole database (``block``)."""
    if protocol == "block":
        from ecg_alq.data.database import grid_table

        return grid_table(data)
    from ecg_alq.data.fragments import load_fragments

    return load_fragments(data)


def folds_from_manifest(frags: Fragments, path: str | Path) -> tuple[str, np.ndarray]:
    """Read a manifest and return ``(protocol, fold per row)``; every file must be in one fold."""
    try:
        body = json.loads(Path(path).read_text(encoding="utf-8"))
        fold_entries = body["folds"]
        protocol = body["protocol"]
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise EcgAlqError(f"split manifest {path} cannot be read: {exc}") from None
    where = {f: i for i, f in enumerate(frags.file)}
    folds = np.full(len(frags), -1, dtype=np.int64)
    for entry in fold_entries:
        for f in entry["test_files"]:
            if f not in where:
                raise EcgAlqError(f"split manifest {path}: unknown file {f}")
            if folds[where[f]] >= 0:
                raise EcgAlqError(f"split manifest {path}: {f} is in more than one fold")
            folds[where[f]] = entry["fold"]
    if (folds < 0).any():
        raise EcgAlqError(f"split manifest {path}: {int((folds < 0).sum())} files are in no fold")
    return protocol, folds
