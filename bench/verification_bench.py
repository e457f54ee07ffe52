"""The verification benchmark (issue 18): the shipped model's accelerator in the second simulator,
Icarus Verilog in SystemVerilog mode (``-g2012``, through cocotb), on real fragments.

    .venv/bin/python bench/verification_bench.py [--icarus 20] [--chunk 5]

``--icarus N`` fragments (one of every class first, then spread over the data set) stream through
the default configuration's RTL in Icarus, in chunks of ``--chunk`` (resumable: a finished chunk
of the same RTL and simulator is read back from ``runs/verification/icarus/chunk-K``). The
testbench compares every fragment's logits and class with the golden model and its cycles with
the cycle model. The Verilator figures of the same RTL are the RTL benchmark's
(``bench/rtl_bench.py``); the wall times of both are reported for comparison.

Writes ``bench/results/verification.json`` and regenerates ``docs/RESULTS.md``.
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
from ecg_alq.sim.network import bit_exact_summary, simulate_chunks, spread_rows
from ecg_alq.sim.runner import check_simulator

BENCH = Path(__file__).resolve().parent
REPO = BENCH.parent
COMMAND = ".venv/bin/python bench/verification_bench.py"


def icarus_run(n: int, chunk: int, runs: Path, data: str | None) -> dict:
    """The shipped model's default accelerator on ``n`` spread fragments in Icarus."""
    check_simulator("icarus")
    model = load(default_model_path())
    frags = load_fragments(data)
    params = HwParams()
    expected = network_cycles(plan_network(model, params)).total
    chunks = simulate_chunks(model, params, frags.x, spread_rows(frags.label, n), runs / "icarus",
                             chunk, build_dir=runs / "icarus" / "build", simulator="icarus",
                             progress=lambda line: print(line, flush=True))
    summary = bit_exact_summary(chunks, frags.label, expected)
    return {"simulator": "icarus", "mode": "-g2012 (cocotb)", "parameters": params.to_dict(),
            **summary, "seconds_per_fragment_median": statistics.median(
                c["seconds"] / max(1, len(c["report"])) for c in chunks)}


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--icarus", type=int, default=20, help="fragments simulated in Icarus")
    p.add_argument("--chunk", type=int, default=5)
    p.add_argument("--runs", type=Path, default=REPO / "runs" / "verification")
    p.add_argument("--data", default=None)
    args = p.parse_args(argv)
    if args.icarus < 1:
        p.error(f"--icarus must be at least 1, got {args.icarus}")
    path = default_model_path()
    out = {"command": COMMAND, "model": str(path.relative_to(REPO)) if path.is_relative_to(REPO)
           else str(path), "machine": platform.machine(),
           "icarus": icarus_run(args.icarus, args.chunk, args.runs, args.data)}
    atomic.write_json(BENCH / "results" / "verification.json", out)
    from results_md import write_results_md  # bench/ is the script's folder

    write_results_md()
    return 0


if __name__ == "__main__":
    sys.exit(main())
