"""The label rules of ``ecg_alq.data.labels``: each rule on a made-up record, every start of a
real record, and the published labels of Pławiak's 1000 fragments."""

from __future__ import annotations

import numpy as np
import pytest

from ecg_alq.classes import CLASS_NAMES
from ecg_alq.data.labels import REASONS, categorize, labels_at, labels_for_all_starts

W = 3600


def _label(beats: str, rhythms: list[tuple[int, str]], spacing: int = 300) -> tuple[str, str]:
    """Label of the window [0, 3600) of a record whose beats (one symbol each) are ``spacing``
    samples apart from sample 100, with rhythm labels at the given samples."""
    samples = 100 + spacing * np.arange(len(beats))
    cats = categorize(samples, np.array(list(beats)), np.array([s for s, _ in rhythms]),
                      np.array([r for _, r in rhythms]))
    label, reason = labels_at(cats, [0])
    return (CLASS_NAMES[label[0] - 1] if label[0] else "", REASONS[reason[0]])


@pytest.mark.parametrize("beats,rhythms,want", [
    ("N" * 12, [(0, "(N")], "NSR"),
    ("NNNNVNNNNVNN", [(0, "(N")], "PVC"),
    ("NNNNANNNNNNN", [(0, "(N")], "APB"),
    ("NNNNaNNNNANN", [(0, "(N")], "APB"),
    ("L" * 11, [(0, "(N")], "LBBBB"),
    ("R" * 11, [(0, "(N")], "RBBBB"),
    ("NNNNNFNNNNNN", [(0, "(N")], "Fusion"),
    ("NNNNNNNNNNNV", [(0, "(AFIB")], "AFIB"),  # the rhythm wins over its beats
    ("NVNVNVNVNVNV", [(0, "(B")], "Bigeminy"),
    ("N" * 12, [(0, "(PREX")], "WPW"),
    ("/" * 12, [(0, "(P")], "PR"),
    ("!" * 12, [(0, "(VFL")], "VFL"),  # flutter waves are the beats of VFL
    ("N" * 12, [(1000, "(N")], "NSR"),  # beats before the first label belong to it
    # a short episode inside sinus rhythm: its class when it holds >= 3 beats
    ("NNNNVVVNNNNN", [(0, "(N"), (1300, "(VT"), (2000, "(N")], "VT"),
    ("NNNNAAAANNNN", [(0, "(N"), (1300, "(SVTA"), (2300, "(N")], "SVTA"),
])
def test_each_rule_names_its_class(beats, rhythms, want):
    assert _label(beats, rhythms) == (want, "labelled")


@pytest.mark.parametrize("beats,rhythms,why", [
    ("", [(0, "(N")], "no beats"),
    ("NNNNNNVVVVVV", [(0, "(AFIB"), (1900, "(VT")], "two rhythm classes"),
    ("NNNNNNNNNNVV", [(0, "(N"), (3000, "(VT")], "cut through an episode edge"),
    ("N" * 12, [(0, "(NOD")], "rhythm without a class"),
    ("NNNNNNNNNNNN", [(0, "(N"), (3200, "(SBR")], "rhythm without a class"),
    ("NNNNVNNNANNN", [(0, "(N")], "sinus rhythm with mixed beats"),
    ("NNNN/NNNNNNN", [(0, "(N")], "sinus rhythm with mixed beats"),
])
def test_windows_the_annotations_leave_in_doubt_are_unlabelled(beats, rhythms, why):
    assert _label(beats, rhythms) == ("", why)


def test_labels_of_every_start_equal_the_labels_of_single_windows(database):
    rec = next(r for r in database if r.name == "201")  # AFIB, sinus, trigeminy, ...
    rng = np.random.default_rng(0)
    starts = rng.integers(0, rec.n_starts, 400)
    assert np.array_equal(rec.label[starts], labels_at(rec.beats, starts)[0])
    assert np.array_equal(labels_for_all_starts(rec.beats, len(rec.signal)), rec.label)
    assert len(set(rec.label.tolist())) >= 4


def test_the_rules_give_nearly_every_published_fragment_its_class(frags, database):
    """docs/data.md quotes these counts: 986 same, 11 unlabelled, 3 other."""
    by_number = {r.number: r for r in database}
    outcome = {"same": 0, "unlabelled": 0, "other": 0}
    for i in range(len(frags)):
        rec = by_number[int(frags.record[i])]
        got = int(rec.label[frags.start_sample[i]])
        outcome["same" if got == frags.class_id[i] else "other" if got else "unlabelled"] += 1
    assert outcome == {"same": 986, "unlabelled": 11, "other": 3}
