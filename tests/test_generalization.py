"""Training on database windows: class-balanced draws, the beat-type head that never reaches the
model file, and the paired statistics used to compare configurations."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from scipy.stats import binomtest

from ecg_alq import stats
from ecg_alq.checkpoint import load_checkpoint
from ecg_alq.data.pool import BEAT_TYPES, beat_targets, build_pool
from ecg_alq.data.splits import fold_split, make_folds
from ecg_alq.model import EcgCnn
from ecg_alq.training import TrainConfig, train


@pytest.fixture(scope="module")
def block_pool(database, grid):
    split = fold_split(grid, make_folds(grid, "block"), 0, 0.1, 2018, "block")
    return build_pool(database, "block", grid, split, 10, 50)


def test_class_balance_exponent_controls_the_draws(block_pool):
    counts = block_pool.class_counts()
    assert counts.min() > 0 and counts.max() / counts.min() > 100
    gen = torch.Generator().manual_seed(0)
    for balance in (0.0, 0.5, 1.0):
        drawn = np.bincount(block_pool.label[block_pool.draw(40_000, balance, gen)], minlength=18)[1:]
        expect = block_pool.class_weights(balance) * 40_000
        assert np.allclose(drawn, expect, rtol=0.15, atol=60), (balance, drawn, expect)


def test_beat_targets_put_each_annotated_beat_in_its_slice(block_pool):
    idx = np.arange(0, len(block_pool), len(block_pool) // 50)
    targets = beat_targets(block_pool, idx, 54)
    for row, i in enumerate(idx):
        rec, s = block_pool.records[block_pool.rec[i]], block_pool.start[i]
        inside = (rec.beats.sample >= s) & (rec.beats.sample < s + 3600)
        kinds = {BEAT_TYPES.get(str(b), 0) for b in rec.beat_symbol[inside]}
        assert set(targets[row][targets[row] > 0].tolist()) <= kinds
        # beats 185 ms apart or more land in different slices: as many marks as beats, nearly
        assert abs(int((targets[row] > 0).sum()) - int(inside.sum())) <= 2


def test_the_beat_head_trains_but_never_reaches_the_model_file(tmp_path):
    cfg = TrainConfig(protocol="block", windows="database", epochs=2, samples_per_epoch=64,
                      aux_weight=0.5, batch_size=16, progress=False)
    metrics = train(cfg, tmp_path)
    assert metrics["protocol"] == "block" and metrics["n_test"] > 500
    state = load_checkpoint(tmp_path / "model.pt")["state_dict"]
    assert set(state) == set(EcgCnn().state_dict())  # exactly the network, no head
    assert "beat_head" in load_checkpoint(tmp_path / "last.pt")  # resumable with its head


def test_block_protocol_refuses_fragment_windows():
    from ecg_alq.errors import EcgAlqError

    with pytest.raises(EcgAlqError, match="block protocol trains on database windows"):
        TrainConfig(protocol="block").validate()
    with pytest.raises(EcgAlqError, match="beat-type head needs database windows"):
        TrainConfig(aux_weight=0.3).validate()


def test_mcnemar_is_the_exact_binomial_test_of_the_discordant_windows():
    rng = np.random.default_rng(1)
    a, b = rng.random(500) < 0.9, rng.random(500) < 0.85
    r = stats.mcnemar(a, b)
    assert (r["a_only"], r["b_only"]) == (int((a & ~b).sum()), int((~a & b).sum()))
    assert r["p"] == pytest.approx(binomtest(r["a_only"], r["a_only"] + r["b_only"]).pvalue)
    assert stats.mcnemar(a, a)["p"] == 1.0
    with pytest.raises(ValueError):
        stats.mcnemar(a, b[:10])


def test_sign_flip_holm_and_verdicts():
    assert stats.sign_flip([0.01] * 5) == pytest.approx(2 / 32)  # all 32 patterns enumerated
    assert stats.sign_flip([0.02, -0.02, 0.02, -0.02]) == 1.0
    assert stats.holm([0.01, 0.04, 0.03]) == pytest.approx([0.03, 0.06, 0.06])
    assert stats.verdict("new", "old", 0.02, 0.01) == "new ahead"
    assert stats.verdict("new", "old", -0.02, 0.01) == "old ahead"
    assert stats.verdict("new", "old", 0.05, 0.2) == "no significant difference"
    assert stats.mean_std([0.9, 0.92, 0.94]) == pytest.approx((0.92, 0.02))  # ddof = 1


def test_paired_tests_on_thousands_of_windows_and_several_seeds():
    rng = np.random.default_rng(2)
    a, b = rng.random((3, 6000)) < 0.9, rng.random((3, 6000)) < 0.8
    one = stats.mcnemar(a[0], b[0])  # > 1023 discordant windows: no overflow
    assert one["a_only"] + one["b_only"] > 1023 and 0 <= one["p"] < 1e-20
    several = stats.paired_windows(a, b)
    assert several["seeds"] == 3 and several["p"] == pytest.approx(1 / 20_001)
    same = stats.paired_windows(a, a)
    assert same["p"] == 1.0
    noise = stats.paired_windows(a, rng.permuted(a, axis=1))  # same accuracy, other windows
    assert noise["p"] > 0.01
    assert stats.sign_flip(np.ones(20)) > 0  # a sampled p-value is never 0


def test_seen_windows_of_a_database_trained_model_are_its_pool(grid, database):
    import dataclasses
    from types import SimpleNamespace

    from ecg_alq.continuous import seen_mask

    cfg = TrainConfig(protocol="block", windows="database", aux_weight=0.3)
    model = SimpleNamespace(provenance={"training": dataclasses.asdict(cfg)})
    split = fold_split(grid, make_folds(grid, "block"), 0, 0.1, 2018, "block")
    rows = split.test[grid.record[split.test] == 100]
    train_rows = split.train[grid.record[split.train] == 100]
    seen, how = seen_mask("100", grid.start_sample[rows], model, None)
    assert not seen.any() and "block protocol, fold 0" in how
    held = np.concatenate([rows, split.val[grid.record[split.val] == 100]])
    far = [r for r in train_rows if np.abs(grid.start_sample[held] - grid.start_sample[r]).min()
           > 3 * 3600]  # more than 10 s from every held-out window: in the pool
    assert len(far) > 50 and seen_mask("100", grid.start_sample[far], model, None)[0].all()


def test_a_training_fragment_on_a_held_out_window_is_refused(frags):
    from ecg_alq.augment import context_windows
    from ecg_alq.errors import EcgAlqError

    r = int(np.flatnonzero(frags.record == 100)[0])
    other = frags.subset(np.array([r, r]))  # the same window twice: held out and training
    with pytest.raises(EcgAlqError, match="overlaps a held-out or reserved window"):
        context_windows(other, np.array([0]), np.array([1]), 720)


def test_earlier_summaries_are_kept_marked_until_the_rerun_matches_them():
    """bench/generalization.py: a summary whose runs are not (all) in the store stays, marked,
    with how many are re-run so far; a comparison is recomputed from the store where it can be,
    else kept marked when one side is an earlier summary."""
    import importlib.util
    from pathlib import Path

    path = Path(__file__).resolve().parents[1] / "bench" / "generalization.py"
    spec = importlib.util.spec_from_file_location("bench_generalization", path)
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    EARLIER, _keep_earlier = bench.EARLIER, bench._keep_earlier

    earlier = {"configs": {"alq": {"runs": 30}, "gone": {"runs": 10}},
               "comparisons": [{"a": "alq", "b": "gone"}, {"a": "alq", "b": "uniform-1"}]}
    configs, tests = _keep_earlier(earlier, {"alq": {"runs": 6}, "uniform-1": {"runs": 10}},
                                   [{"a": "alq", "b": "uniform-1", "new": True}])
    assert configs["alq"] == {"runs": 30, "earlier": EARLIER, "rerun_so_far": 6}
    assert configs["gone"] == {"runs": 10, "earlier": EARLIER}
    assert configs["uniform-1"] == {"runs": 10}
    assert tests == [{"a": "alq", "b": "uniform-1", "new": True},
                     {"a": "alq", "b": "gone", "earlier": EARLIER}]
    configs, tests = _keep_earlier({"configs": {"alq": {"runs": 30}}, "comparisons": []},
                                   {"alq": {"runs": 30}}, [])
    assert configs == {"alq": {"runs": 30}} and tests == []
