"""Design-space exploration: points and keys, the Pareto fronts, the estimator's error, and a
small real sweep (yosys + nextpnr on a small model with the protocol's geometry) on a local
two-worker Dask cluster, then resumed from its cache by the process-pool runner."""

from __future__ import annotations

import json
from pathlib import Path

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


def _session_processes(sid: int) -> list[int]:
    """PIDs of the live (not zombie) processes of session ``sid``."""
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[3]) == sid and fields[0] != "Z":  # fields: state, ppid, pgrp, session
            found.append(int(stat.parent.name))
    return found


@pytest.mark.slow
def test_ctrl_c_twice_stops_a_real_sweep_then_it_resumes(small_model, tmp_path):
    """The first SIGINT drops the queued point and stops the running build with its tools; the
    second, a moment later, changes nothing; the command is gone within 10 s, leaving no
    process. A rerun builds what is missing; a damaged cache entry is rebuilt with a warning."""
    import signal
    import subprocess
    import sys
    import time

    sweep = tmp_path / "sweep.json"
    sweep.write_text(json.dumps({"models": [str(small_model)], "boards": ["ulx3s"],
                                 "pe": [1, 2], "simd": [4], "clock_mhz": {"ulx3s": 40}}))
    out = tmp_path / "dse"
    argv = [str(Path(sys.executable).parent / "ecg-alq"), "dse", "--sweep", str(sweep), "--workers", "1",
            "--out", str(out)]
    def as_from_a_terminal():  # a test runner's worker may have left SIGINT ignored or blocked
        signal.pthread_sigmask(signal.SIG_SETMASK, [])
        signal.signal(signal.SIGINT, signal.SIG_DFL)
    proc = subprocess.Popen(argv, start_new_session=True, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True, preexec_fn=as_from_a_terminal)
    deadline = time.monotonic() + 120
    while not list(out.glob("builds/*/build/*.il")) and time.monotonic() < deadline:
        time.sleep(0.5)  # the first point's synthesis has started
    assert len(_session_processes(proc.pid)) > 1, "no build was running"
    proc.send_signal(signal.SIGINT)
    t0 = time.monotonic()
    time.sleep(1.0)
    if proc.poll() is None:
        proc.send_signal(signal.SIGINT)
    output, _ = proc.communicate(timeout=10)
    assert time.monotonic() - t0 < 10 and proc.returncode == 130, output
    assert "interrupted" in output
    time.sleep(0.5)
    assert _session_processes(proc.pid) == [], "processes left behind"
    assert not list((out / "points").glob("*.json"))  # nothing finished, nothing cached
    summary = run_dse(json.loads(sweep.read_text()), out, workers=1, progress=False)
    assert all(p["fits"] for p in summary["points"])
    first = sorted((out / "points").glob("*.json"))[0]
    first.write_text(first.read_text()[:40])  # a truncated cache entry
    again = run_dse(json.loads(sweep.read_text()), out, workers=1, progress=False)
    assert [p["logic"] for p in again["points"]] == [p["logic"] for p in summary["points"]]


def test_a_failing_point_does_not_stop_the_others(tmp_path, monkeypatch):
    """A point whose evaluation raises is reported after the others finished and were cached;
    its reason is its own (an earlier run's is removed)."""
    import time

    from ecg_alq.dse import run
    from ecg_alq.intmodel.shipped import default_model_path

    def fake(point, work):
        if point.pe == 1:
            raise RuntimeError("no tools today")
        time.sleep(1.0)
        return {"pe": point.pe, "fits": True}
    monkeypatch.setattr(run, "evaluate", fake)
    points = expand({"models": [str(default_model_path())], "boards": ["ulx3s"], "pe": [1, 2],
                     "simd": [4]})
    (tmp_path / "points").mkdir()
    (tmp_path / "points" / f"{points[1].key}.failed").write_text("an old reason\n")
    with pytest.raises(EcgAlqError, match=r"1 dse point\(s\) failed .*no tools today"):
        run.run_sweep(points, tmp_path, workers=2, progress=False)
    assert run.cached(points[1], tmp_path) == {"pe": 2, "fits": True}
    assert not (tmp_path / "points" / f"{points[1].key}.failed").exists()
