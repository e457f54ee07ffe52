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
import platform
import statistics
import sys
from pathlib import Path

from ecg_alq import atomic
from ecg_alq.data.fragments import load_fragments
from ecg_alq.hw.cycles import network_cycles
from ecg_alq.hw.params import HwParams
from ecg_alq.hw.plan import plan_network
from ecg_alq.intmodel import load
from ecg_alq.intmodel.shipped import default_model_path
from ecg_alq.sim.network import (bit_exact_summary, design_key, mismatches, simulate_chunk,
                                 simulate_chunks, spread_rows)

BENCH = Path(__file__).resolve().parent
REPO = BENCH.parent
COMMAND = ".venv/bin/python bench/rtl_bench.py"


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
    chunks = simulate_chunks(model, params, frags.x, range(len(frags.label)), args.runs,
                             args.chunk, build_dir=args.runs / "build-default",
                             progress=lambda line: print(line, flush=True))
    summary = bit_exact_summary(chunks, frags.label, expected)
    default = {
        "parameters": params.to_dict(), "fragments": summary["fragments"],
        **{k: summary[k] for k in ("logit_mismatches", "class_mismatches", "cycles",
                                   "expected_cycles", "accuracy_vs_labels", "seconds_total")},
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
        res = simulate_chunk(model, hp, frags.x, rows, work, work / "build", design_key(model, hp))
        measured = sorted({r["cycles"] for r in res["report"]})
        points.append({"pe": pe, "simd": simd, "expected_cycles": cyc.total,
                       "measured_cycles": measured, "ideal": cyc.ideal, "ratio": cyc.ratio,
                       "fragments": len(res["report"]),
                       "mismatches": mismatches(res["report"]),
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
