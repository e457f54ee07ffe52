"""``ecg-alq classify-record``: a whole MIT-BIH record in consecutive 10-s windows, compared with
its annotations (golden model; the RTL on a few windows)."""

from __future__ import annotations

import csv
import json

import pytest

from ecg_alq.cli import main
from ecg_alq.continuous import reference_class


@pytest.mark.parametrize("rhythm,changes,beats,want", [
    ("(N", (), {"N": 12}, "NSR"),
    ("(N", (), {"N": 10, "V": 2}, "PVC"),
    ("(N", (), {"N": 10, "A": 1}, "APB"),
    ("(N", (), {"L": 11}, "LBBBB"),
    ("(N", (), {"N": 9, "F": 1}, "Fusion"),
    ("(AFIB", (), {"N": 15, "V": 1}, "AFIB"),
    ("(B", (), {"N": 6, "V": 6}, "Bigeminy"),
    ("(PREX", (), {"N": 12}, "WPW"),
    ("(BII", (), {"N": 7}, "SDHB"),
    ("(P", (), {"/": 12}, "PR"),
])
def test_clean_windows_get_the_class_their_annotations_name(rhythm, changes, beats, want):
    from ecg_alq.classes import CLASS_NAMES

    cid, why = reference_class(rhythm, changes, beats)
    assert (CLASS_NAMES[cid - 1], why) == (want, "clean")


@pytest.mark.parametrize("rhythm,changes,beats,why", [
    ("(N", ("(AFIB",), {"N": 12}, "rhythm changes inside"),
    ("none", (), {"N": 12}, "before the first rhythm label"),
    ("(NOD", (), {"N": 12}, "rhythm (NOD has no class"),
    ("(N", (), {"N": 8, "V": 2, "A": 1}, "sinus rhythm with mixed beats ANV"),
])
def test_windows_the_annotations_leave_in_doubt_are_not_scored(rhythm, changes, beats, why):
    assert reference_class(rhythm, changes, beats) == (0, why)


def test_a_whole_record_is_classified_and_compared_per_class(tmp_path, capsys):
    assert main(["classify-record", "201", "--out", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    rows = list(csv.DictReader(open(tmp_path / "201.csv")))
    assert len(rows) == 180 and rows[1]["start_sample"] == "3600"  # 30 min, 10-s windows
    result = json.loads((tmp_path / "201.json").read_text())
    clean = [r for r in rows if r["reference"]]
    assert result["all_clean"]["windows"] == len(clean) > 50
    assert result["all_clean"]["agree"] == sum(r["reference"] == r["predicted"] for r in clean)
    per_class = result["all_clean"]["per_class"]
    assert {"AFIB", "NSR", "Trigeminy"} <= set(per_class)  # 201's rhythms
    for name, c in per_class.items():
        assert f"{name:10s} {c['agree']}/{c['windows']} clean windows agree" in out
    # the shipped model trained on every fragment: windows overlapping one are not "unseen"
    seen = [r for r in clean if r["overlaps_training"] == "True"]
    assert 0 < len(seen) and result["unseen_clean"]["windows"] == len(clean) - len(seen)
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
