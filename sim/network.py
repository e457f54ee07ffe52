"""Run the accelerator's testbenches on real data: the whole network on fragments
(:mod:`ecg_alq.sim.tb_network`; used by the tests, by ``ecg-alq sim`` and by the RTL benchmark)
and every layer alone (:mod:`ecg_alq.sim.tb_layers`)."""

from __future__ import annotations

import hashlib
import json
import time
from pathlib import Path

import numpy as np

from ecg_alq import atomic
from ecg_alq.errors import EcgAlqError

from ecg_alq.hw.accelerator import Accelerator
from ecg_alq.hw.cycles import network_cycles
from ecg_alq.hw.params import HwParams
from ecg_alq.hw.plan import plan_network
from ecg_alq.hw.tables import BUF_A, BUF_B
from ecg_alq.intmodel import IntModel, save
from ecg_alq.sim.runner import SimulationFailed, run


def spread_rows(labels: np.ndarray, n: int) -> np.ndarray:
    """``n`` row indices: the first fragment of every class present, then evenly spread others
    (every class is covered when ``n`` >= the number of classes)."""
    classes = sorted(set(int(c) for c in labels))
    first = [int(np.flatnonzero(labels == c)[0]) for c in classes][:n]
    step = max(1, len(labels) // max(1, n))
    rest = [i for i in range(0, len(labels), step) if i not in first]
    return np.array(first + rest[: n - len(first)], dtype=np.int64)


def simulate(model: IntModel, params: HwParams, x: np.ndarray, work: str | Path,
             build_dir: str | Path | None = None, **options) -> dict:
    """Simulate ``x`` (raw fragments, int (N, length)) on the accelerator of ``model``.

    Options of the testbench: ``idle``, ``backpressure``, ``seed``, ``reset_after``, ``waves``,
    ``layer_check`` (how many fragments, from the first, are compared layer by layer: each
    layer's output buffer against the golden model's, naming the first that differs),
    ``golden_model`` (compare with another model file than the one the hardware was built from),
    ``simulator`` ("verilator", the default, or "icarus"), ``netlist`` (an FPGA family, "ice40"
    or "ecp5": simulate the accelerator as yosys synthesizes it for that family, with the cell
    models, instead of the RTL; :mod:`ecg_alq.sim.netlist`; no layer-by-layer check there),
    ``optimize`` (False: Verilator's C++ unoptimized, for short runs of large designs).
    The testbench asserts integer logits, class and cycles against the golden and cycle models
    (:class:`~ecg_alq.sim.runner.SimulationFailed` otherwise; ``work/report.json`` still holds
    every fragment's result). ``build_dir`` (default ``work/sim``) can be shared by runs of the
    same design, which then reuse its Verilator build. Returns ``{"fragments": [...],
    "expected_cycles": ..., "seconds": ...}``.
    """
    if options.get("netlist") and options.get("simulator", "verilator") != "verilator":
        raise EcgAlqError("gate-level netlists are simulated in Verilator only: yosys' cell "
                          "libraries do not build in Icarus' SystemVerilog mode")
    work = Path(work).resolve()  # the simulator runs in another folder
    work.mkdir(parents=True, exist_ok=True)
    save(model, work / "model.npz")
    np.save(work / "x.npy", x)
    waves = bool(options.pop("waves", False))
    simulator = options.pop("simulator", "verilator")
    optimize = bool(options.pop("optimize", True))
    family = options.pop("netlist", None)
    acc = Accelerator(model, params)
    expected = network_cycles(acc.layout.plan).total
    cfg = {"model": str(work / "model.npz"), "fragments": str(work / "x.npy"),
           "expected_cycles": expected, "idle": 0.1, "backpressure": 0.3, "seed": 7,
           "reset_after": None, "report": str(work / "report.json"), "layer_check": 1,
           "dst": [c.dst for c in acc.layout.tables.layers], "banks": _banks(acc.layout),
           "sign_rows": acc.layout.sign_rows() if acc.layout.loadable_signs else []} | options
    t0 = time.perf_counter()
    gates = {}
    if family:
        from ecg_alq.sim.netlist import cell_models, check_modelled, synthesize

        gates = {"verilog_path": synthesize(acc, acc.layout, family, work / "netlist"),
                 **cell_models(family, work / "netlist")}
        check_modelled(gates["verilog_path"], gates["libraries"])
        cfg |= {"layer_check": 0, "dst": [], "banks": {}}
    run(acc, "accel", "tb_network", Path(build_dir) if build_dir else work / "sim", cfg,
        waves=waves, simulator=simulator, optimize=optimize, **gates)
    return {"fragments": json.loads((work / "report.json").read_text()),
            "expected_cycles": expected, "seconds": time.perf_counter() - t0}


def simulate_or_report(model: IntModel, params: HwParams, x: np.ndarray, work: str | Path,
                       **options) -> tuple[dict, str | None]:
    """:func:`simulate`, but a failing testbench still returns what it measured: the result
    (its ``fragments`` read back from ``work/report.json``, as far as the run got) and the
    failure's message (None when every check passed)."""
    try:
        return simulate(model, params, x, work, **options), None
    except SimulationFailed as exc:
        report = Path(work) / "report.json"
        done = json.loads(report.read_text()) if report.exists() else []
        return {"fragments": done, "expected_cycles": None, "seconds": float("nan")}, str(exc)


def simulate_layers(model: IntModel, params: HwParams, fragment: np.ndarray, work: str | Path,
                    build_dir: str | Path | None = None, seed: int = 11,
                    golden_model: str | None = None) -> list[dict]:
    """Run every layer of the accelerator of ``model`` alone, on the golden model's dump of
    ``fragment`` (raw samples, int (length,)) and on random integers; the testbench asserts each
    layer's output against the golden model and its cycles against the cycle model. Returns one
    record per (layer, input): ``layer``, ``input``, ``output_match``, ``differing_values``,
    ``cycles``, ``expected_cycles`` (``work/layers.json`` holds them also when the testbench
    fails). ``build_dir`` and ``golden_model`` as in :func:`simulate`."""
    work = Path(work).resolve()  # the simulator runs in another folder
    work.mkdir(parents=True, exist_ok=True)
    save(model, work / "model.npz")
    np.save(work / "fragment.npy", np.asarray(fragment).reshape(-1))
    acc = Accelerator(model, params)
    cycles = network_cycles(acc.layout.plan)
    cfg = {"model": str(work / "model.npz"), "fragment": str(work / "fragment.npy"),
           "src": [c.src for c in acc.layout.tables.layers],
           "dst": [c.dst for c in acc.layout.tables.layers], "banks": _banks(acc.layout),
           "layer_cycles": [lc.total for lc in cycles.layers], "input_cycles": cycles.input,
           "seed": seed, "report": str(work / "layers.json"), "golden_model": golden_model,
           "sign_rows": acc.layout.sign_rows() if acc.layout.loadable_signs else []}
    run(acc, "accel", "tb_layers", Path(build_dir) if build_dir else work / "sim", cfg)
    return json.loads((work / "layers.json").read_text())


def _banks(layout) -> dict[str, list[str]]:
    """Buffer kind (as a JSON key) -> the netlist names of its banks, for a testbench's
    backdoor reads and writes."""
    return {str(kind): layout.bank_names(kind) for kind in (BUF_A, BUF_B)}


def design_key(model: IntModel, params: HwParams) -> str:
    """SHA-256 of the accelerator's Verilog (without source locations): a finished chunk of
    :func:`simulate_chunks` is reused only for the same RTL and the same fragments."""
    from ecg_alq.hw.verilog_text import convert

    acc = Accelerator(model, params)
    text = convert(acc, name="accel", emit_src=False)
    if acc.layout.loadable_signs:  # the sign bits are loaded at run time, not in the Verilog
        text += "\n".join(map(str, acc.layout.sign_rows()))
    return hashlib.sha256(text.encode()).hexdigest()


def simulate_chunk(model: IntModel, params: HwParams, x: np.ndarray, rows, work: Path,
                   build_dir: Path, key: str, simulator: str = "verilator") -> dict:
    """Simulate the fragments ``x[rows]`` in ``simulator`` without idle cycles or back-pressure,
    or read back ``work/chunk.json`` when it holds the same rows (same data) simulated on the
    same RTL (``key``, from :func:`design_key`) in the same simulator. Returns ``{"rows", "report",
    "failure", "seconds", "design", "simulator"}``; every report entry also names its ``row``. A
    failing testbench is recorded, not raised."""
    done = Path(work) / "chunk.json"
    rows = [int(r) for r in rows]
    data = hashlib.sha256(np.ascontiguousarray(x[rows]).tobytes()).hexdigest()
    if done.exists():
        old = json.loads(done.read_text())
        if (old.get("design") == key and old.get("rows") == rows and not old.get("failure")
                and old.get("simulator", "verilator") == simulator and old.get("data") == data):
            return old  # a failed chunk is simulated again
    report_path = Path(work) / "report.json"
    report_path.unlink(missing_ok=True)  # an earlier run's, perhaps of another design
    t0 = time.perf_counter()
    try:
        simulate(model, params, x[rows], work, build_dir=build_dir, idle=0.0, backpressure=0.0,
                 simulator=simulator)
        failure = None
    except SimulationFailed as exc:
        failure = str(exc)
    report = json.loads(report_path.read_text()) if report_path.exists() else []
    for r in report:
        r["row"] = rows[r["index"]]
    result = {"rows": rows, "report": report, "failure": failure,
              "seconds": time.perf_counter() - t0, "design": key, "simulator": simulator,
              "data": data}
    atomic.write_json(done, result)
    return result


def simulate_chunks(model: IntModel, params: HwParams, x: np.ndarray, rows, work: str | Path,
                    chunk: int = 25, build_dir: str | Path | None = None,
                    progress=print, simulator: str = "verilator") -> list[dict]:
    """Simulate ``x[rows]`` in ``simulator`` in chunks of ``chunk`` fragments (``work/chunk-K``,
    one shared build in ``build_dir``, default ``work/build``), resumable per chunk
    (:func:`simulate_chunk`); ``progress`` gets one line per chunk. Returns the chunk results."""
    if chunk < 1:
        raise ValueError(f"chunk must be at least 1, got {chunk}")
    work = Path(work)
    key = design_key(model, params)
    rows = [int(r) for r in rows]
    results = []
    for k, start in enumerate(range(0, len(rows), chunk)):
        res = simulate_chunk(model, params, x, rows[start: start + chunk], work / f"chunk-{k}",
                             Path(build_dir) if build_dir else work / "build", key, simulator)
        results.append(res)
        done = sum(len(c["rows"]) for c in results)
        bad = mismatches(res["report"])
        progress(f"RTL simulation ({simulator}): {done}/{len(rows)} fragments, chunk {k}: "
                 f"{bad} mismatch(es), {res['seconds']:.0f} s" + (f"; FAILED: {res['failure']}" if res["failure"]
                                              else ""))
    return results


def mismatches(report: list[dict]) -> int:
    """Fragments whose integer logits or class differ from the golden model's."""
    return sum(not (r["logits_match"] and r["class_match"]) for r in report)


def bit_exact_summary(chunks: list[dict], labels: np.ndarray, expected_cycles: int) -> dict:
    """What the chunks of :func:`simulate_chunks` showed: fragments, logit and class mismatches
    against the golden model, distinct cycle counts against the cycle model, agreement of the
    RTL's classes with the labels (``labels``: 0-based class per row), wall seconds."""
    reps = [r for c in chunks for r in c["report"]]
    n_asked = sum(len(c["rows"]) for c in chunks)
    return {"fragments": len(reps), "fragments_requested": n_asked,
            "failures": [c["failure"] for c in chunks if c["failure"]],
            "logit_mismatches": sum(not r["logits_match"] for r in reps),
            "class_mismatches": sum(not r["class_match"] for r in reps),
            "cycles": sorted({int(r["cycles"]) for r in reps}), "expected_cycles": expected_cycles,
            "accuracy_vs_labels": sum(int(r["class"]) == int(labels[r["row"]]) + 1 for r in reps)
            / max(1, len(reps)),
            "seconds_total": sum(c["seconds"] for c in chunks),
            "bit_exact": bool(reps) and len(reps) == n_asked and not mismatches(reps)
            and all(int(r["cycles"]) == expected_cycles for r in reps)
            and not any(c["failure"] for c in chunks)}


def rtl_classes(params: HwParams, work: str | Path, progress=print):
    """A classifier for :func:`ecg_alq.continuous.classify_record`: the RTL of ``params`` in
    Verilator, resumable in chunks of 30 windows under ``work/RECORD/rtl``. It returns the
    classes (1..17) of the windows and the bit-exact summary against the golden logits."""
    params.validate()  # now, before any record is read

    def classify(model: IntModel, x: np.ndarray, golden: np.ndarray, record: str):
        expected = network_cycles(plan_network(model, params)).total
        chunks = simulate_chunks(model, params, x, range(len(x)), Path(work) / record / "rtl", 30,
                                 progress=progress)
        reps = sorted((r for c in chunks for r in c["report"]), key=lambda r: r["row"])
        summary = bit_exact_summary(chunks, golden.argmax(axis=1), expected)
        predicted = np.array([r["class"] for r in reps])
        if len(predicted) != len(x):
            raise EcgAlqError(f"the RTL simulation returned {len(predicted)} of {len(x)} windows: "
                              f"{summary['failures']}")
        keep = ("fragments", "logit_mismatches", "class_mismatches", "cycles", "expected_cycles",
                "bit_exact", "seconds_total")
        return predicted, {k: summary[k] for k in keep} | {"parameters": params.to_dict()}

    return classify
