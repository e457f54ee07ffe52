"""Evaluate one design point: accuracy, memory, cycles, and real place and route.

Accuracy is the model's cross-validated accuracy of its integer golden model, measured once
when the model file was made and stored in its provenance (``bench/ship_default.py``); a model
without it is reported as not measured (never estimated). Memory is the honest count of every
stored bit (:mod:`ecg_alq.intmodel.memory`). Cycles come from the validated cycle model
(equal to the RTL's in every simulation). Resources and Fmax come from a real build
(:func:`ecg_alq.boards.build.build`); a point that does not fit or misses its clock is a result
too, with the tools' numbers.
"""

from __future__ import annotations

import time
from pathlib import Path

from ecg_alq.dse.space import Point

FRAGMENT_SECONDS = 10.0  #: one fragment is 10 s of ECG


def model_figures(path: str) -> dict:
    """Accuracy (from the model's provenance), honest memory and average bits of a model file."""
    from ecg_alq.intmodel import load, memory

    model = load(path)
    cv = (model.provenance or {}).get("cross_validation", {})
    report = memory.count(model)
    window, record = cv.get("window", {}), cv.get("record", {})
    return {"accuracy_window": window.get("accuracy_mean"),
            "accuracy_window_protocol": window.get("protocol"),
            "accuracy_record": record.get("accuracy_mean"),
            "memory_kib": report.kib, "average_bits": report.average_bits}


def point_record(point: Point) -> dict:
    """What every result row holds about its point: settings and the model's figures."""
    return {"key": point.key, "label": point.label, "model": point.model, "board": point.board,
            "pe": point.pe, "simd": point.simd, "clock_mhz": point.clock_mhz,
            "alpha_mult": point.alpha_mult, "memory_style": point.memory} | model_figures(point.model)


def evaluate(point: Point, work: str | Path) -> dict:
    """Everything ``ecg-alq dse`` reports about ``point``; ``work`` holds the build."""
    from ecg_alq.boards.build import BuildFailed, build
    from ecg_alq.hw.cycles import network_cycles
    from ecg_alq.hw.plan import plan_network
    from ecg_alq.intmodel import load

    t0 = time.perf_counter()
    out = point_record(point)
    cycles = network_cycles(plan_network(load(point.model), point.params))
    out |= {"cycles": cycles.total, "cycles_ideal": cycles.ideal}
    try:
        rep = build(point.board, point.model, point.params, Path(work) / "build",
                    clock_mhz=point.clock_mhz)
        out |= {"fits": True, "meets_timing": True, "failure": None}
    except BuildFailed as exc:
        rep = exc.report
        out |= {"fits": exc.fits, "meets_timing": False, "failure": str(exc)}
    if rep:
        out["clock_actual_mhz"] = rep["clock_mhz"]
        res = rep["resources"]

        def used(*kinds):
            return next((res[k]["used"] for k in kinds if k in res), None)

        out |= {"logic": used("TRELLIS_COMB", "ICESTORM_LC"), "ff": used("TRELLIS_FF"),
                "bram": used("DP16KD", "ICESTORM_RAM"), "spram": used("ICESTORM_SPRAM"),
                "dsp": used("MULT18X18D", "ICESTORM_DSP"), "fmax_mhz": rep["fmax_mhz"],
                "resources": res}
    if out["meets_timing"]:  # the build's latency: at the clock the PLL actually makes
        latency = rep["latency_ms"] / 1e3
        out |= {"latency_ms": rep["latency_ms"], "fragments_per_s": 1 / latency,
                "realtime_margin": FRAGMENT_SECONDS / latency}
    else:
        out |= {"latency_ms": None, "fragments_per_s": None, "realtime_margin": None}
    out["seconds"] = time.perf_counter() - t0
    return out
