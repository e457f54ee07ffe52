"""``ecg-alq classify-record``: a whole MIT-BIH record in consecutive 10-s windows, compared with
its annotations (golden model; the RTL on a few windows)."""

from __future__ import annotations

import csv
import json

import numpy as np
import pytest

from ecg_alq.cli import main
from ecg_alq.continuous import WINDOW, seen_mask, windows_of
from ecg_alq.data.mitdb import Record


def test_window_edges_a_beat_on_a_boundary_belongs_to_the_next_window():
    beats = np.r_[np.arange(100, 3600, 400), np.arange(3600, 7200, 400), [7250, 7400, 7700]]
    rec = Record("100", "MLII", np.full(3 * WINDOW + 10, 1024, np.int16),
                 beat_sample=beats, beat_symbol=np.full(len(beats), "N"),
                 rhythm_sample=np.array([0, WINDOW, 7300]), rhythm=np.array(["(N", "(AFIB", "(N"]))
    w = windows_of(rec)
    assert [x.start for x in w] == [0, WINDOW, 2 * WINDOW]  # the partial tail is dropped
    assert [x.reason for x in w] == ["clean", "clean", "cut through an episode edge"]
    assert [x.reference for x in w] == [1, 4, 0]  # NSR, AFIB (its beat at 3600 included)
    assert [x.rhythm for x in w] == ["(N", "(AFIB", "(AFIB"]
    assert w[0].beats == {"N": 9} and w[2].beats == {"N": 3}


def _trained(**settings):
    """A stand-in for a model file: only its provenance's training settings matter here."""
    import dataclasses
    from types import SimpleNamespace

    from ecg_alq.training import TrainConfig

    cfg = TrainConfig(protocol="all", val_fraction=0.0, **settings)
    return SimpleNamespace(provenance={"training": dataclasses.asdict(cfg)})


def test_seen_windows_overlap_a_trained_fragment_or_its_margin(frags):
    model = _trained()  # every fragment, re-cut up to 720 samples either side
    rows = np.flatnonzero(frags.record == 100)
    starts = np.sort(frags.start_sample[rows])
    gaps = np.diff(starts)
    k = int(np.argmax(gaps[:-1] + gaps[1:]))  # the fragment with the most room on both sides
    s = int(starts[k + 1])
    assert min(gaps[k], gaps[k + 1]) > 2 * WINDOW + 2 * 720
    lo, hi = s - 720, s + WINDOW + 720
    probe = np.array([hi, hi - 1, lo - WINDOW, lo - WINDOW + 1])
    seen, how = seen_mask("100", probe, model, None)
    assert seen.tolist() == [False, True, False, True]
    assert "trained on 1000 fragments (all protocol), +-720 samples" == how


def test_seen_windows_of_a_database_model_are_its_pool(database):
    from ecg_alq.data.database import record_by_number

    rec = record_by_number(database)[201]
    r = int(rec.reserved_starts[0])
    labelled = int(np.flatnonzero((rec.label > 0) & ~rec.reserved)[0])
    seen, how = seen_mask("201", np.array([r, labelled]), _trained(windows="database"), None)
    assert seen.tolist() == [False, True]  # a reserved window overlaps no allowed start
    assert how == "trained on every window its pool allows (all protocol) and its validation windows"


def test_a_whole_record_is_classified_and_compared_per_class(tmp_path, capsys):
    assert main(["classify-record", "201", "--out", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    rows = list(csv.DictReader(open(tmp_path / "201.csv")))
    assert len(rows) == 180 and rows[1]["start_sample"] == "3600"  # 30 min, 10-s windows
    result = json.loads((tmp_path / "201.json").read_text())
    # reserved windows are neither classified nor scored
    from ecg_alq.continuous import RESERVED
    from ecg_alq.data.reserved import load_reserved

    reserved = {str(s) for s in load_reserved()["201"]}
    assert result["windows_reserved"] == len(reserved) > 0
    for r in rows:
        if r["start_sample"] in reserved:
            assert (r["predicted"], r["reference"], r["why_not_scored"]) == ("", "", RESERVED)
        else:
            assert r["predicted"] and r["why_not_scored"] != RESERVED
    clean = [r for r in rows if r["reference"]]
    assert result["all_clean"]["windows"] == len(clean) > 50
    assert result["all_clean"]["agree"] == sum(r["reference"] == r["predicted"] for r in clean)
    per_class = result["all_clean"]["per_class"]
    assert {"AFIB", "NSR", "Trigeminy"} <= set(per_class)  # 201's rhythms
    for name, c in per_class.items():
        assert f"{name:10s} {c['agree']}/{c['windows']} clean windows agree" in out
    # the shipped model trained on every labelled window but the reserved ones: all are "seen"
    assert all(r["overlaps_training"] == "True" for r in clean)
    assert (tmp_path / "201_timeline.png").stat().st_size > 20_000


def test_records_without_mlii_and_unknown_records_are_refused(tmp_path, capsys):
    assert main(["classify-record", "102", "--out", str(tmp_path)]) == 2
    assert "record 102 has no MLII lead (its leads: V5, V2)" in capsys.readouterr().err
    assert main(["classify-record", "999", "--out", str(tmp_path)]) == 2
    assert "999" in capsys.readouterr().err


@pytest.mark.slow
def test_the_rtl_classifies_windows_of_a_record_bit_exactly(tmp_path, capsys):
    assert main(["classify-record", "201", "--windows", "3", "--rtl", "--out", str(tmp_path)]) == 0
    result = json.loads((tmp_path / "201.json").read_text())
    assert result["classifier"] == "RTL (Verilator)" and result["windows_total"] == 3
    assert result["rtl"]["bit_exact"] and result["rtl"]["fragments"] == 3
    assert "RTL bit-exact on 3 windows" in capsys.readouterr().out
