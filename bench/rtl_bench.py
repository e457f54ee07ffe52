"""The RTL benchmark (issue 5): all 1000 fragments through the Verilator simulation of the shipped
model's accelerator, and cycles against the ideal for several PE/SIMD points.

    .venv/bin/python bench/rtl_bench.py [--chunk 50] [--points 4x8,2x8,8x16,16x16] [--check 2]

1. Default configuration (pe 4, simd 8): the 1000 fragments in chunks (resumable: a finished
   chunk's ``runs/rtl/chunk-K/chunk.json`` is read back when it was simulated on the same RTL,
   by the SHA-256 of the Verilog). Every fragment's integer logits and
   class are compared with the golden model and its cycle count with the cycle model; the
   simulation wall time is measured.
2. Each PE/SIMD point: expected cycles from the cycle model against the ideal
   ``basis additions / (pe x simd)``, confirmed by simulating ``--check`` real fragments.

Writes ``bench/results/rtl_bench.json`` and regenerates ``docs/RESULTS.md``.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import platform
import statistics
import sys
import time
from pathlib import Path

from ecg_alq import atomic
from ecg_alq.data.fragments import load_fragments
from ecg_alq.hw.cycles import network_cycles
from ecg_alq.hw.params import HwParams
from ecg_alq.hw.plan import plan_network
from ecg_alq.intmodel import load
from ecg_alq.intmodel.shipped import default_model_path
from ecg_alq.sim.network import simulate, spread_rows
from ecg_alq.sim.runner import SimulationFailed

BENCH = Path(__file__).resolve().parent
REPO = BENCH.parent
COMMAND = ".venv/bin/python bench/rtl_bench.py"


def design_key(model, params) -> str:
    """SHA-256 of the accelerator's Verilog (without source locations): a finished chunk is
    reused only for the same RTL and the same fragments."""
    from amaranth.back import verilog

    from ecg_alq.hw.accelerator import Accelerator

    text = verilog.convert(Accelerator(model, params), name="accel", emit_src=False)
    return hashlib.sha256(text.encode()).hexdigest()


def run_chunk(model, params, x, rows, work: Path, build: Path, key: str) -> dict:
    """Simulate one chunk (reusing one finished with the same RTL); returns its report and
    wall time."""
    done = work / "chunk.json"
    if done.exists():
        old = json.loads(done.read_text())
        if old.get("design") == key and old.get("rows") == [int(r) for r in rows]:
            return old
    t0 = time.perf_counter()
    try:
        simulate(model, params, x[rows], work, build_dir=build, idle=0.0, backpressure=0.0)
        failure = None
    except SimulationFailed as exc:
        failure = str(exc)
    report = json.loads((work / "report.json").read_text())
    for r in report:
        r["row"] = int(rows[r["index"]])
    result = {"rows": [int(r) for r in rows], "report": report, "failure": failure,
              "seconds": time.perf_counter() - t0, "design": key}
    atomic.write_json(done, result)
    return result


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--chunk", type=int, default=50)
    p.add_argument("--points", default="4x8,2x8,8x16,16x16")
    p.add_argument("--check", type=int, default=2, help="fragments simulated per PE/SIMD point")
    p.add_argument("--runs", type=Path, default=REPO / "runs" / "rtl")
    p.add_argument("--data", default=None)
    args = p.parse_args(argv)
    path = default_model_path()
    model = load(path)
    frags = load_fragments(args.data)
    params = HwParams()
    expected = network_cycles(plan_network(model, params)).total
    n = len(frags.label)
    key = design_key(model, params)
    chunks = []
    for k, start in enumerate(range(0, n, args.chunk)):
        rows = list(range(start, min(n, start + args.chunk)))
        res = run_chunk(model, params, frags.x, rows, args.runs / f"chunk-{k}",
                        args.runs / "build-default", key)
        chunks.append(res)
        reps = res["report"]
        bad = sum(not (r["logits_match"] and r["class_match"]) for r in reps)
        print(f"chunk {k}: {len(reps)} fragments, {bad} mismatches, {res['seconds']:.0f} s",
              flush=True)
    reps = [r for c in chunks for r in c["report"]]
    default = {
        "parameters": params.to_dict(), "fragments": len(reps),
        "logit_mismatches": sum(not r["logits_match"] for r in reps),
        "class_mismatches": sum(not r["class_match"] for r in reps),
        "cycles": sorted({r["cycles"] for r in reps}), "expected_cycles": expected,
        "accuracy_vs_labels": sum(r["class"] == int(frags.label[r["row"]]) + 1 for r in reps)
        / max(1, len(reps)),
        "seconds_total": sum(c["seconds"] for c in chunks),
        "seconds_per_fragment_median": statistics.median(c["seconds"] / len(c["report"])
                                                         for c in chunks),
    }
    points = []
    rows = spread_rows(frags.label, args.check)
    for text in args.points.split(","):
        pe, simd = (int(v) for v in text.split("x"))
        hp = HwParams(pe=pe, simd=simd)
        cyc = network_cycles(plan_network(model, hp))
        work = args.runs / f"point-{pe}x{simd}"
        res = run_chunk(model, hp, frags.x, rows, work, work / "build", design_key(model, hp))
        measured = sorted({r["cycles"] for r in res["report"]})
        points.append({"pe": pe, "simd": simd, "expected_cycles": cyc.total,
                       "measured_cycles": measured, "ideal": cyc.ideal, "ratio": cyc.ratio,
                       "fragments": len(res["report"]),
                       "mismatches": sum(not (r["logits_match"] and r["class_match"])
                                         for r in res["report"]),
                       "layers": {lc.name: lc.total for lc in cyc.layers}})
        print(f"pe {pe} simd {simd}: {cyc.total} cycles (measured {measured}), ideal "
              f"{cyc.ideal:.0f}, ratio {cyc.ratio:.3f}", flush=True)
    out = {"command": COMMAND, "model": str(path.relative_to(REPO)) if path.is_relative_to(REPO)
           else str(path), "machine": platform.machine(), "default": default, "points": points}
    atomic.write_json(BENCH / "results" / "rtl_bench.json", out)
    from results_md import write_results_md  # bench/ is the script's folder

    write_results_md()
    return 0


if __name__ == "__main__":
    sys.exit(main())
