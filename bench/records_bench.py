"""Continuous-record classification of every MIT-BIH record with an MLII lead: consecutive 10-s
windows compared with the annotations where they are clean (reserved windows never classified).

    .venv/bin/python bench/records_bench.py [--out runs/records]

First, the windows no model saw: every labelled grid window of every record, classified by the
``block``-protocol model of the fold that held it out (and everything within 10 s of it) from
training, i.e. the shipped configuration cross-validated over whole records
(``bench/generalization.py``, headline configuration, seed 0; all 10 folds must be finished).
Then the shipped model itself: ``ecg-alq classify-record all`` (per-record CSV, JSON and
timeline PNG in ``--out``),
then ``ecg-alq classify-record RECORD --rtl`` on one whole record (``--rtl-record``, default 201;
every window through the RTL in Verilator, pe 4 x simd 8, resumable per chunk in ``--rtl-out``),
keeps the summary in ``bench/results/records.json``, copies record 201's timeline to
``docs/figures/record_201_timeline.png`` and regenerates ``docs/RESULTS.md``.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
from pathlib import Path

import numpy as np

from ecg_alq import atomic
from ecg_alq.cli import main as cli

BENCH = Path(__file__).resolve().parent
REPO = BENCH.parent
COMMAND = ".venv/bin/python bench/records_bench.py"


def cross_validated(store: Path, data: str | None, seed: int = 0) -> dict | None:
    """Per record and pooled agreement of the block-protocol fold models on their test windows
    (None until all 10 folds of ``seed`` are finished); ``store``: where
    ``bench/generalization.py`` keeps each run's golden results."""
    from generalization import FRESH_SPLIT_SEED, HEADLINE  # bench/ is the script's folder

    from ecg_alq.continuous import agreement, pooled
    from ecg_alq.data.splits import evaluation_table

    folder = store / f"split-{FRESH_SPLIT_SEED}" / "block" / HEADLINE
    files = sorted(folder.glob(f"seed-{seed}-fold-*.json"))
    if len(files) < 10:
        return None
    table = evaluation_table("block", data)
    where = {f: i for i, f in enumerate(table.file)}
    rows, predicted = [], []
    for f in files:
        r = json.loads(f.read_text())
        rows += [where[name] for name in r["test_files"]]
        predicted += r["test_predictions"]
    rows, predicted = np.array(rows), np.array(predicted)
    per_record = []
    for rec in np.unique(table.record[rows]):
        mine = table.record[rows] == rec
        per_record.append({"record": str(rec), "cv": agreement(table.class_id[rows][mine],
                                                               predicted[mine])})
    return {"configuration": HEADLINE, "split_seed": FRESH_SPLIT_SEED, "seed": seed,
            "source": str(folder.relative_to(REPO)) if folder.is_relative_to(REPO) else str(folder),
            "pooled": pooled(per_record, "cv"),
            "per_record": {r["record"]: {k: r["cv"][k] for k in ("windows", "agree")}
                           for r in per_record}}


def _earlier_cv() -> dict | None:
    """The committed cross-validated figures, marked, when the block runs are not in the store."""
    from generalization import EARLIER  # bench/ is the script's folder

    path = BENCH / "results" / "records.json"
    earlier = json.loads(path.read_text()).get("cross_validated") if path.exists() else None
    return earlier and earlier | {"earlier": earlier.get("earlier", EARLIER)}


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--out", type=Path, default=REPO / "runs" / "records")
    p.add_argument("--rtl-record", default="201")
    p.add_argument("--rtl-out", type=Path, default=REPO / "runs" / "records-rtl")
    p.add_argument("--cv-store", type=Path, default=BENCH / "results" / "generalization-runs")
    p.add_argument("--data", default=None)
    args = p.parse_args(argv)
    data = ["--data", args.data] if args.data else []
    status = cli(["classify-record", "all", "--out", str(args.out)] + data) or cli(
        ["classify-record", args.rtl_record, "--rtl", "--out", str(args.rtl_out)] + data)
    if status:
        return status
    summary = json.loads((args.out / "summary.json").read_text())
    summary["command"] = COMMAND
    summary["cross_validated"] = cross_validated(args.cv_store, args.data) or _earlier_cv()
    rtl = json.loads((args.rtl_out / f"{args.rtl_record}.json").read_text())
    golden = json.loads((args.out / f"{args.rtl_record}.json").read_text())
    summary["rtl_record"] = {"record": args.rtl_record, **rtl["rtl"],
                             "windows_equal_to_golden": sum(  # reserved ones: not classified
                                 a["predicted"] == b["predicted"]
                                 for a, b in zip(rtl["windows"], golden["windows"]) if b["predicted"]),
                             "windows": sum(1 for b in golden["windows"] if b["predicted"])}
    atomic.write_json(BENCH / "results" / "records.json", summary)
    shutil.copy(args.out / "201_timeline.png", REPO / "docs" / "figures" / "record_201_timeline.png")
    from results_md import write_results_md  # bench/ is the script's folder

    write_results_md()
    return 0


if __name__ == "__main__":
    sys.exit(main())
