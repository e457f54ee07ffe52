"""Run the accelerator's testbenches on real data: the whole network on fragments
(:mod:`ecg_alq.sim.tb_network`; used by the tests, by ``ecg-alq sim`` and by the RTL benchmark)
and every layer alone (:mod:`ecg_alq.sim.tb_layers`)."""

from __future__ import annotations

import json
import time
from pathlib import Path

import numpy as np

from ecg_alq.hw.accelerator import Accelerator
from ecg_alq.hw.cycles import network_cycles
from ecg_alq.hw.params import HwParams
from ecg_alq.intmodel import IntModel, save
from ecg_alq.sim.runner import run


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
    ``golden_model`` (compare with another model file than the one the hardware was built from).
    The testbench asserts integer logits, class and cycles against the golden and cycle models
    (:class:`~ecg_alq.sim.runner.SimulationFailed` otherwise; ``work/report.json`` still holds
    every fragment's result). ``build_dir`` (default ``work/sim``) can be shared by runs of the
    same design, which then reuse its Verilator build. Returns ``{"fragments": [...],
    "expected_cycles": ..., "seconds": ...}``.
    """
    work = Path(work).resolve()  # the simulator runs in another folder
    work.mkdir(parents=True, exist_ok=True)
    save(model, work / "model.npz")
    np.save(work / "x.npy", x)
    waves = bool(options.pop("waves", False))
    acc = Accelerator(model, params)
    expected = network_cycles(acc.plan).total
    cfg = {"model": str(work / "model.npz"), "fragments": str(work / "x.npy"),
           "expected_cycles": expected, "idle": 0.1, "backpressure": 0.3, "seed": 7,
           "reset_after": None, "report": str(work / "report.json"), "layer_check": 1,
           "simd": params.simd, "dst": [c.dst for c in acc.tables.layers]} | options
    t0 = time.perf_counter()
    run(acc, "accel", "tb_network", Path(build_dir) if build_dir else work / "sim", cfg,
        waves=waves)
    return {"fragments": json.loads((work / "report.json").read_text()),
            "expected_cycles": expected, "seconds": time.perf_counter() - t0}


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
    cycles = network_cycles(acc.plan)
    cfg = {"model": str(work / "model.npz"), "fragment": str(work / "fragment.npy"),
           "simd": params.simd, "src": [c.src for c in acc.tables.layers],
           "dst": [c.dst for c in acc.tables.layers],
           "layer_cycles": [lc.total for lc in cycles.layers], "input_cycles": cycles.input,
           "seed": seed, "report": str(work / "layers.json"), "golden_model": golden_model}
    run(acc, "accel", "tb_layers", Path(build_dir) if build_dir else work / "sim", cfg)
    return json.loads((work / "layers.json").read_text())
