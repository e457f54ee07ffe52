"""Design-space exploration: points and keys, the Pareto fronts, the estimator's error, and a
small real sweep (yosys + nextpnr on a small model with the protocol's geometry) on a local
two-worker Dask cluster, then resumed from its cache by the process-pool runner."""

from __future__ import annotations

import json

import pytest

from ecg_alq.dse import run_dse
from ecg_alq.dse.estimator import ResourceEstimator
from ecg_alq.dse.report import pareto
from ecg_alq.dse.space import Point, expand
from ecg_alq.errors import EcgAlqError
from ecg_alq.hw.params import HardwareParamError


def test_sweeps_expand_and_are_checked(small_model):
    points = expand({"models": [str(small_model)], "boards": ["ulx3s", "icebreaker"],
                     "pe": [1, 2], "simd": [4]})
    assert len(points) == 4 and {p.clock_mhz for p in points} == {30.0, 50.0}
    assert {(p.board, p.memory) for p in points} == {("ulx3s", "auto"), ("icebreaker", "spram")}
    assert len({p.key for p in points}) == 4  # keys differ by every setting
    assert Point(str(small_model), "ulx3s", 1, 4, 50.0).key == points[0].key  # and are stable
    with pytest.raises(EcgAlqError, match="unknown sweep fields \\['pes'\\]"):
        expand({"pes": [1]})
    with pytest.raises(EcgAlqError, match="unknown board 'de10'"):
        expand({"boards": ["de10"]})
    with pytest.raises(HardwareParamError, match="simd must be an integer in 1..64"):
        expand({"simd": [0]})
    with pytest.raises(EcgAlqError, match="model file not found"):
        expand({"models": ["nope.npz"]})


def test_pareto_front_and_estimator_error():
    pts = [{"logic": 100, "latency_ms": 5.0}, {"logic": 200, "latency_ms": 2.0},
           {"logic": 150, "latency_ms": 6.0}, {"logic": 400, "latency_ms": 2.0}]
    assert pareto(pts, "logic", "latency_ms") == pts[:2]
    # an exactly linear resource law is recovered with zero leave-one-out error
    rows = [{"board": "ulx3s", "pe": pe, "simd": s, "logic": 500 + 80 * pe + 9 * pe * s + 30 * s}
            for pe in (1, 2, 4) for s in (4, 8)]
    est = ResourceEstimator.fit(rows)
    assert est.predict("ulx3s", 8, 16) == pytest.approx(500 + 640 + 9 * 128 + 480)
    assert est.errors["ulx3s/dsp"]["max_abs"] < 1e-6 and est.errors["ulx3s/dsp"]["points"] == 6


@pytest.mark.slow
def test_small_sweep_on_a_two_worker_dask_cluster_then_from_cache(small_model, tmp_path):
    from distributed import LocalCluster

    spec = {"models": [str(small_model)], "boards": ["ulx3s"], "pe": [1, 2], "simd": [4],
            "clock_mhz": {"ulx3s": 40}}
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                      dashboard_address=None) as cluster:
        summary = run_dse(spec, tmp_path, cluster=cluster.scheduler_address, progress=False)
    pts = summary["points"]
    assert [(p["pe"], p["simd"]) for p in pts] == [(1, 4), (2, 4)]
    assert all(p["meets_timing"] and p["logic"] > 0 and p["fmax_mhz"] >= 40 for p in pts)
    assert all(p["latency_ms"] == pytest.approx(p["cycles"] / 40e3) for p in pts)
    assert pts[1]["cycles"] < pts[0]["cycles"]  # two lanes are faster
    for name in ("points.csv", "points.json", "summary.md", "accuracy_vs_memory.png",
                 "latency_vs_logic_ulx3s.png"):
        assert (tmp_path / name).stat().st_size > 0
    assert "Pareto-optimal points" in (tmp_path / "summary.md").read_text()
    # a second run (process pool) reads every point from the cache: no build at all
    before = {p.name: p.stat().st_mtime for p in (tmp_path / "points").iterdir()}
    again = run_dse(spec, tmp_path, workers=2, progress=False)
    assert [p["key"] for p in again["points"]] == [p["key"] for p in pts]
    assert {p.name: p.stat().st_mtime for p in (tmp_path / "points").iterdir()} == before
    assert json.loads((tmp_path / "points.json").read_text())["points"][0]["logic"] == \
        pts[0]["logic"]
