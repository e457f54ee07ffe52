"""The three protocols on the whole database: the block manifest, and every fold's training pool
leak-free (no test or validation window, no re-cut of one, no reserved sample)."""

from __future__ import annotations

import json
import shutil
from importlib import resources

import numpy as np
import pytest

from ecg_alq.data.pool import BLOCK_MARGIN, build_pool
from ecg_alq.data.reserved import load_reserved
from ecg_alq.data.splits import (all_split, block_of, fold_split, make_folds, manifest,
                                 subject_of)
from ecg_alq.errors import EcgAlqError

W = 3600
STRIDE = 7  # a stride that does not divide the grid: off-grid starts are tested too


def _split(protocol, table, fold, seed=2018):
    if protocol == "all":
        return all_split(table, 0.1, seed)
    return fold_split(table, make_folds(table, protocol, 10, seed), fold, 0.1, seed, protocol)


def _table(protocol, frags, grid):
    return grid if protocol == "block" else frags


def _min_distance(starts: np.ndarray, windows: np.ndarray) -> np.ndarray:
    """Per start: samples between its window and the nearest of ``windows`` (0 = overlap)."""
    if not len(windows):
        return np.full(len(starts), np.iinfo(np.int64).max)
    gap = np.abs(starts[:, None] - np.asarray(windows)[None, :]) - W
    return np.maximum(gap, -1).min(axis=1) + 1  # overlap -> 0


@pytest.mark.parametrize("protocol,fold", [("window", 0), ("window", 7), ("record", 0),
                                           ("record", 4), ("block", 0), ("block", 9), ("all", 0)])
def test_training_pool_keeps_away_from_held_out_and_reserved_windows(protocol, fold, frags, grid,
                                                                      database):
    table = _table(protocol, frags, grid)
    split = _split(protocol, table, fold)
    pool = build_pool(database, protocol, table, split, 10, STRIDE)
    held = np.concatenate([split.test, split.val])
    assert len(pool) > 20_000 and (pool.label > 0).all()
    subjects_held = set(subject_of(table.record[held]).tolist())
    for i, rec in enumerate(database):
        starts = pool.start[pool.rec == i]
        if not len(starts):
            continue
        assert (rec.label[starts] == pool.label[pool.rec == i]).all()
        assert (_min_distance(starts, rec.reserved_starts) > 0).all(), rec.name
        mine = held[table.record[held] == rec.number]
        distance = _min_distance(starts, table.start_sample[mine])
        if protocol == "record":
            assert int(subject_of(np.array([rec.number]))[0]) not in subjects_held
        elif protocol == "block":
            assert (distance > BLOCK_MARGIN).all(), rec.name
        else:
            assert (distance > 0).all(), rec.name


def test_record_validation_is_by_subject(frags):
    folds = make_folds(frags, "record")
    for k in range(10):
        s = fold_split(frags, folds, k, 0.1, 2018, "record")
        train, val, test = (set(subject_of(frags.record[p]).tolist()) for p in (s.train, s.val, s.test))
        assert val and not (train & val) and not (train & test) and not (val & test)
        assert 0.08 <= len(s.val) / (len(s.train) + len(s.val)) <= 0.3


def test_block_folds_put_every_record_in_every_fold(grid):
    folds = make_folds(grid, "block")
    blocks = block_of(grid.start_sample)
    for r in np.unique(grid.record):
        mine = grid.record == r
        # one fold per block, and different blocks of a record in different folds
        pairs = {(int(b), int(f)) for b, f in zip(blocks[mine], folds[mine])}
        assert len({b for b, _ in pairs}) == len(pairs) == len({f for _, f in pairs})
    s = fold_split(grid, folds, 3, 0.1, 2018, "block")
    assert set(np.unique(folds[s.test])) == {3}
    assert len(np.unique(grid.record[s.val])) == len(np.unique(grid.record[np.concatenate(
        [s.train, s.val])]))  # one validation block of every record


def test_shipped_block_manifest_matches_generator(grid):
    shipped = resources.files("ecg_alq") / "manifests" / "block-10fold.json"
    body = json.loads(shipped.read_text())
    assert body == manifest(grid, "block", make_folds(grid, "block"), body["seed"])


def test_no_reserved_window_is_evaluated(grid, frags, database):
    reserved = load_reserved()
    assert sum(len(v) for v in reserved.values()) == 1600
    for table in (grid, frags):
        for r, starts in reserved.items():
            mine = table.start_sample[table.record == int(r)]
            assert (_min_distance(mine, starts) > 0).all()


def test_fragment_recuts_avoid_reserved_windows(frags):
    from ecg_alq.augment import context_windows

    rows = np.arange(len(frags))
    ctx = context_windows(frags, rows, np.empty(0, np.int64), 720)
    reserved = load_reserved()
    for i in rows:
        lo = frags.start_sample[i] + ctx.lo[i]
        hi = frags.start_sample[i] + ctx.hi[i] + W
        for b in reserved.get(str(frags.record[i]), ()):
            assert hi <= b or lo >= b + W, (frags.file[i], b)


@pytest.mark.parametrize("content,message", [
    (None, "list of reserved windows is missing"),
    ("record,start\n100,0\n", "missing column"),
    ("record,start_sample,length\n100,abc,3600\n", "must be integers"),
    ("record,start_sample,length\n100,0,360\n", "expected 3600 samples"),
    ("record,start_sample,length\n999,0,3600\n", "not an MLII record"),
    ("record,start_sample,length\n", "lists no reserved window"),
])
def test_bad_reserved_file_is_a_clear_error(tmp_path, data_root, content, message):
    root = tmp_path / "data"
    (root / "mitdb").mkdir(parents=True)
    for f in ("RECORDS", "100.hea", "100.dat", "100.atr"):
        shutil.copy(data_root / "mitdb" / f, root / "mitdb" / f)
    if content is not None:
        (root / "reserved_windows.csv").write_text(content)
    with pytest.raises(EcgAlqError, match=message):
        load_reserved(root, {"100": 650_000})


def test_shipped_model_never_trained_on_reserved_windows(frags, database):
    """The shipped model's training windows, rebuilt from the settings its file records (the
    windows its float training and its activation calibration draw from), keep away from every
    reserved window by at least one sample."""
    from ecg_alq import config
    from ecg_alq.intmodel import load
    from ecg_alq.training import TrainConfig, split_for, training_set

    shipped = resources.files("ecg_alq") / "models" / "default.npz"
    recorded = load(shipped).provenance["training"]
    assert (recorded["protocol"], recorded["windows"]) == ("all", "database")
    cfg = config.make(TrainConfig, recorded | {"data": None, "progress": False})
    data = training_set(cfg, frags, split_for(cfg, frags), None)
    pool = data.pool
    assert len(pool) > 50_000
    reserved = load_reserved()
    for i, rec in enumerate(database):
        starts = pool.start[pool.rec == i]
        assert (_min_distance(starts, np.asarray(reserved.get(rec.name, []))) > 0).all(), rec.name
