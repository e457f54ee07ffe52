"""The two protocols that split Pławiak's fragments: leak-free, balanced, deterministic, and equal
to the shipped manifests (the block protocol: tests/test_protocols.py)."""

from __future__ import annotations

from importlib import resources

import numpy as np
import pytest

from ecg_alq.data.splits import (FRAGMENT_PROTOCOLS, PROTOCOLS, fold_split, folds_from_manifest,
                                 make_folds, manifest, subject_of)
from ecg_alq.errors import EcgAlqError


@pytest.fixture(scope="module", params=FRAGMENT_PROTOCOLS)
def protocol_folds(request, frags):
    return request.param, make_folds(frags, request.param)


def test_no_window_or_duplicate_in_train_and_test(frags, protocol_folds):
    protocol, folds = protocol_folds
    assert folds.shape == (1000,) and set(folds.tolist()) == set(range(10))
    for k in range(10):
        s = fold_split(frags, folds, k, 0.1, seed=7, protocol=protocol)
        parts = [s.train, s.val, s.test]
        assert sum(len(p) for p in parts) == 1000
        assert len(np.unique(np.concatenate(parts))) == 1000  # disjoint, complete
        assert np.array_equal(np.sort(s.test), np.flatnonzero(folds == k))
        wins = [set(frags.window[p].tolist()) for p in parts]
        assert not (wins[0] & wins[2]) and not (wins[1] & wins[2]) and not (wins[0] & wins[1])
        # no identical signal either (byte-identical files included)
        test_bytes = {frags.x[i].tobytes() for i in s.test}
        assert not any(frags.x[i].tobytes() in test_bytes for i in np.concatenate(parts[:2]))
        if protocol == "record":
            subj = subject_of(frags.record)
            assert not set(subj[s.test].tolist()) & set(subj[np.concatenate(parts[:2])].tolist())


def test_record_protocol_keeps_201_and_202_together(frags):
    folds = make_folds(frags, "record")
    assert folds[frags.record == 201][0] == folds[frags.record == 202][0]
    for r in np.unique(frags.record):
        assert len(set(folds[frags.record == r].tolist())) == 1


def test_window_protocol_is_stratified(frags):
    folds = make_folds(frags, "window")
    sizes = np.bincount(folds)
    assert sizes.max() - sizes.min() <= 2
    for c in range(1, 18):
        per_fold = np.bincount(folds[frags.class_id == c], minlength=10)
        assert per_fold.max() - per_fold.min() <= 2, (c, per_fold)


def test_validation_part_is_stratified_and_from_training_folds(frags):
    folds = make_folds(frags, "window")
    s = fold_split(frags, folds, 3, 0.1, seed=1)
    assert 80 <= len(s.val) <= 100
    assert not set(s.val.tolist()) & set(np.flatnonzero(folds == 3).tolist())
    assert set(frags.class_id[s.val].tolist()) == set(range(1, 18))


def test_splits_are_deterministic_and_seeded(frags):
    a, b = make_folds(frags, "window", seed=5), make_folds(frags, "window", seed=5)
    assert np.array_equal(a, b)
    assert not np.array_equal(a, make_folds(frags, "window", seed=6))


@pytest.mark.parametrize("protocol", FRAGMENT_PROTOCOLS)
def test_shipped_manifest_matches_generator(frags, protocol, tmp_path):
    shipped = resources.files("ecg_alq") / "manifests" / f"{protocol}-10fold.json"
    with resources.as_file(shipped) as path:
        got_protocol, folds = folds_from_manifest(frags, path)
        import json

        body = json.loads(path.read_text())
    assert got_protocol == protocol
    regenerated = make_folds(frags, protocol)
    assert np.array_equal(folds, regenerated)
    assert body == manifest(frags, protocol, regenerated, body["seed"])


def test_bad_split_requests(frags, tmp_path):
    with pytest.raises(EcgAlqError, match="unknown split protocol"):
        make_folds(frags, "random")
    with pytest.raises(EcgAlqError, match="fold must be in 0..9"):
        fold_split(frags, make_folds(frags, "window"), 10, 0.1, 0)
    with pytest.raises(EcgAlqError, match="only 44 record groups"):
        make_folds(frags, "record", n_folds=50)
    bad = tmp_path / "m.json"
    bad.write_text('{"protocol": "window", "folds": [{"fold": 0, "test_files": ["x.mat"]}]}')
    with pytest.raises(EcgAlqError, match="unknown file x.mat"):
        folds_from_manifest(frags, bad)


def test_splits_command_reproduces_the_shipped_manifests(tmp_path, capsys):
    from ecg_alq.cli import main

    assert main(["data", "splits", "--out", str(tmp_path)]) == 0
    for protocol in PROTOCOLS:
        shipped = resources.files("ecg_alq") / "manifests" / f"{protocol}-10fold.json"
        assert (tmp_path / f"{protocol}-10fold.json").read_text() == shipped.read_text()
