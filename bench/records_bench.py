"""Continuous-record classification of every MIT-BIH record with an MLII lead (issue 7): the
shipped model on consecutive 10-s windows, compared with the annotations where they are clean.

    .venv/bin/python bench/records_bench.py [--out runs/records]

Runs ``ecg-alq classify-record all`` (per-record CSV, JSON and timeline PNG in ``--out``),
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

from ecg_alq import atomic
from ecg_alq.cli import main as cli

BENCH = Path(__file__).resolve().parent
REPO = BENCH.parent
COMMAND = ".venv/bin/python bench/records_bench.py"


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--out", type=Path, default=REPO / "runs" / "records")
    p.add_argument("--rtl-record", default="201")
    p.add_argument("--rtl-out", type=Path, default=REPO / "runs" / "records-rtl")
    p.add_argument("--data", default=None)
    args = p.parse_args(argv)
    data = ["--data", args.data] if args.data else []
    status = cli(["classify-record", "all", "--out", str(args.out)] + data) or cli(
        ["classify-record", args.rtl_record, "--rtl", "--out", str(args.rtl_out)] + data)
    if status:
        return status
    summary = json.loads((args.out / "summary.json").read_text())
    summary["command"] = COMMAND
    rtl = json.loads((args.rtl_out / f"{args.rtl_record}.json").read_text())
    golden = json.loads((args.out / f"{args.rtl_record}.json").read_text())
    summary["rtl_record"] = {"record": args.rtl_record, **rtl["rtl"],
                             "windows_equal_to_golden": sum(
                                 a["predicted"] == b["predicted"]
                                 for a, b in zip(rtl["windows"], golden["windows"])),
                             "windows": len(rtl["windows"])}
    atomic.write_json(BENCH / "results" / "records.json", summary)
    shutil.copy(args.out / "201_timeline.png", REPO / "docs" / "figures" / "record_201_timeline.png")
    from results_md import write_results_md  # bench/ is the script's folder

    write_results_md()
    return 0


if __name__ == "__main__":
    sys.exit(main())
