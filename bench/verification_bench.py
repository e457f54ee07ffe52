"""The verification benchmark (issue 18): the shipped model's accelerator in the second simulator,
Icarus Verilog in SystemVerilog mode (``-g2012``, through cocotb), and as gate-level netlists of
the boards, on real fragments.

    .venv/bin/python bench/verification_bench.py [--icarus 20] [--netlist 5] [--link 1]
                                                 [--chunk 5]

``--icarus N`` fragments (one of every class first, then spread over the data set) stream through
the default configuration's RTL in Icarus, in chunks of ``--chunk`` (resumable: a finished chunk
of the same RTL and simulator is read back from ``runs/verification/icarus/chunk-K``). The
testbench compares every fragment's logits and class with the golden model and its cycles with
the cycle model. The Verilator figures of the same RTL are the RTL benchmark's
(``bench/rtl_bench.py``); the wall times of both are reported for comparison.

``0`` for either keeps its last figures in the results file. ``--netlist N`` fragments through
each board's gate-level netlist (``ecg-alq sim --netlist``; the board's default hardware
parameters; :mod:`ecg_alq.sim.netlist`) in Verilator, resumable
per board; a board whose netlist cannot be simulated is reported with the reason. ``--link N``
fragments through each board's link top as a netlist, served to the host client
(:func:`link_run`).

Writes ``bench/results/verification.json`` and regenerates ``docs/RESULTS.md``.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import platform
import statistics
import sys
from pathlib import Path

import numpy as np

from ecg_alq import atomic
from ecg_alq.data.fragments import load_fragments
from ecg_alq.hw.cycles import network_cycles
from ecg_alq.hw.params import HwParams
from ecg_alq.hw.plan import plan_network
from ecg_alq.intmodel import load
from ecg_alq.intmodel.shipped import default_model_path
from ecg_alq.errors import EcgAlqError
from ecg_alq.sim.network import bit_exact_summary, simulate_chunks, spread_rows
from ecg_alq.sim.runner import check_simulator
from ecg_alq.boards.uart import MIN_DIVISOR

BENCH = Path(__file__).resolve().parent
REPO = BENCH.parent
COMMAND = ".venv/bin/python bench/verification_bench.py"
LINK_DIVISOR = MIN_DIVISOR  #: UART clock cycles per bit in the link's gate-level run


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


def _reuse(done: Path, key: dict) -> dict | None:
    """A finished result of the same ``key`` that was bit-exact (a refused or failed one runs
    again)."""
    if done.exists():
        old = json.loads(done.read_text())
        if all(old.get(k) == v for k, v in key.items()) and old.get("bit_exact"):
            return old
    return None


def _finish(done: Path, out: dict, t0: float, what: str) -> dict:
    """Add the wall time to ``out``, keep it in ``done`` and say it."""
    import time

    out["seconds"] = time.perf_counter() - t0
    atomic.write_json(done, out)
    print(f"{what}: {out}", flush=True)
    return out


def netlist_run(board_name: str, n: int, runs: Path, data: str | None) -> dict:
    """The shipped model on ``n`` spread fragments through ``board_name``'s gate-level netlist
    (resumable: ``runs/netlist-<board>/result.json``)."""
    import time

    from ecg_alq.boards.top import board
    from ecg_alq.sim.network import mismatches, simulate_or_report

    spec = board(board_name)
    model, frags, params = load(default_model_path()), load_fragments(data), spec.default_params
    rows = [int(r) for r in spread_rows(frags.label, n)]
    key = {"rows": rows, "parameters": params.to_dict(),
           "model_sha256": hashlib.sha256(default_model_path().read_bytes()).hexdigest(),
           "data_sha256": hashlib.sha256(np.ascontiguousarray(frags.x[rows]).tobytes()).hexdigest()}
    work = runs / f"netlist-{board_name}"
    done = work / "result.json"
    if (old := _reuse(done, key)) is not None:
        return old  # (a refused or failed board runs again; its netlist is reused if unchanged)
    out = {"board": board_name, "family": spec.family, **key,
           "expected_cycles": network_cycles(plan_network(model, params)).total}
    t0 = time.perf_counter()
    try:
        res, failure = simulate_or_report(model, params, frags.x[rows], work,
                                          netlist=spec.family, idle=0.0, backpressure=0.0)
        reps = res["fragments"]
        out |= {"fragments": len(reps), "failure": failure, "mismatches": mismatches(reps),
                "bit_exact": failure is None and len(reps) == n,
                "cycles": sorted({r["cycles"] for r in reps}),
                "classes_as_labelled": sum(int(r["class"]) == int(frags.label[rows[r["index"]]])
                                           + 1 for r in reps)}
    except EcgAlqError as exc:
        out |= {"fragments": 0, "bit_exact": None, "not_simulated": str(exc)}
    return _finish(done, out, t0, f"{board_name} netlist")


def link_run(board_name: str, n: int, runs: Path, data: str | None) -> dict:
    """The board's link top (UART receiver and transmitter, protocol parser, the shipped model's
    accelerator with the board's default parameters) synthesized for its family and simulated at
    gate level while the host client classifies ``n`` spread fragments as ``ecg-alq board
    classify`` does after power-up (INFO, LOAD where needed, CLASSIFY): logits, class and cycles
    against the golden and cycle models. The UART runs at ``LINK_DIVISOR`` cycles per bit to keep
    the simulation short (resumable: ``runs/link-<board>/result.json``)."""
    import time

    from ecg_alq.boards import protocol as P
    from ecg_alq.boards.link import LinkTop
    from ecg_alq.boards.top import board
    from ecg_alq.sim.netlist import cell_models, check_modelled, synthesize
    from ecg_alq.sim.runner import SimulationFailed, run

    spec, path = board(board_name), default_model_path()
    model, frags, params = load(path), load_fragments(data), spec.default_params
    rows = [int(r) for r in spread_rows(frags.label, n)]
    work = runs / f"link-{board_name}"
    key = {"rows": rows, "parameters": params.to_dict(), "divisor": LINK_DIVISOR,
           "model_sha256": hashlib.sha256(path.read_bytes()).hexdigest(),
           "data_sha256": hashlib.sha256(np.ascontiguousarray(frags.x[rows]).tobytes()).hexdigest()}
    done = work / "result.json"
    if (old := _reuse(done, key)) is not None:
        return old
    clock_hz, mid = 12_000_000, P.model_id(path)
    top = LinkTop(model, params, clock_hz, clock_hz // LINK_DIVISOR, 100_000, model_id=mid)
    expected = network_cycles(plan_network(model, params)).total
    work.mkdir(parents=True, exist_ok=True)
    np.save(work / "x.npy", frags.x[rows])
    cfg = {"model": str(path), "fragments": str(work / "x.npy"), "divisor": LINK_DIVISOR,
           "model_id": mid, "timeout_cycles": 100_000, "expected_cycles": expected,
           "report": str(work / "link.json")}
    out = {"board": board_name, "family": spec.family, **key, "expected_cycles": expected}
    t0 = time.perf_counter()
    try:
        netlist = synthesize(top, top.accel.layout, spec.family, work / "netlist", name="link")
        gates = {"verilog_path": netlist, **cell_models(spec.family, work / "netlist")}
        check_modelled(netlist, gates["libraries"])
        try:
            run(None, "link", "tb_link", work / "sim", cfg,
                testcase="link_classifies_like_the_board_client", **gates)
            failure = None
        except SimulationFailed as exc:
            failure = str(exc)
        report = json.loads((work / "link.json").read_text()) if (work / "link.json").exists() \
            else []
        out |= {"fragments": sum(1 for r in report if r.get("ok")),
                "bit_exact": failure is None, "failure": failure}
    except EcgAlqError as exc:
        out |= {"fragments": 0, "bit_exact": None, "not_simulated": str(exc)}
    return _finish(done, out, t0, f"{board_name} link netlist")


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--icarus", type=int, default=20, help="fragments simulated in Icarus")
    p.add_argument("--netlist", type=int, default=5, help="fragments per board's netlist")
    p.add_argument("--link", type=int, default=1,
                   help="fragments through each board's link top as a netlist")
    p.add_argument("--chunk", type=int, default=5)
    p.add_argument("--runs", type=Path, default=REPO / "runs" / "verification")
    p.add_argument("--data", default=None)
    args = p.parse_args(argv)
    if min(args.icarus, args.netlist, args.link) < 0:
        p.error("--icarus, --netlist and --link take a number of fragments (0: keep the last "
                "figures)")
    path = default_model_path()
    target = BENCH / "results" / "verification.json"
    out = json.loads(target.read_text()) if target.exists() else {}
    out |= {"command": COMMAND, "model": str(path.relative_to(REPO))
            if path.is_relative_to(REPO) else str(path), "machine": platform.machine()}
    if args.netlist:
        out["netlists"] = [netlist_run(b, args.netlist, args.runs, args.data)
                           for b in ("icebreaker", "ulx3s")]
    if args.link:
        out["links"] = [link_run(b, args.link, args.runs, args.data)
                        for b in ("icebreaker", "ulx3s")]
    if args.icarus:
        out["icarus"] = icarus_run(args.icarus, args.chunk, args.runs, args.data)
    atomic.write_json(target, out)
    from results_md import write_results_md  # bench/ is the script's folder

    write_results_md()
    return 0


if __name__ == "__main__":
    sys.exit(main())
