"""Design-space exploration (``ecg-alq dse``): sweep model files and hardware parameters,
evaluate every point with real place and route, cache, and report Pareto fronts.

Modules: :mod:`~ecg_alq.dse.space` (the points and their keys), :mod:`~ecg_alq.dse.evaluate`
(one point), :mod:`~ecg_alq.dse.run` (cache, process pool or Dask cluster, progress),
:mod:`~ecg_alq.dse.estimator` (resource estimator fitted on real points),
:mod:`~ecg_alq.dse.report` (CSV, JSON, Pareto plots, markdown). Guide: ``docs/dse.md``.
"""

from __future__ import annotations

from pathlib import Path

from ecg_alq.errors import EcgAlqError


def run_dse(spec: dict, out: str | Path, workers: int = 2, cluster: str | None = None,
            prune: bool = False, command: str = "", progress: bool = True) -> dict:
    """Expand ``spec``, evaluate every point (cached under ``out``), write the outputs; returns
    the summary (``points`` and ``estimator``)."""
    if not (isinstance(workers, int) and workers >= 1):
        raise EcgAlqError(f"workers must be an integer >= 1, got {workers!r}")
    from ecg_alq.dse.estimator import ResourceEstimator
    from ecg_alq.dse.report import write_outputs
    from ecg_alq.dse.run import cached, run_sweep
    from ecg_alq.dse.space import expand

    points = expand(spec)
    out = Path(out)
    estimator = None
    if prune:  # fit on the real points earlier runs of this sweep left in ``out``
        known = [r for p in points if (r := cached(p, out)) is not None]
        estimator = ResourceEstimator.fit(known)
    results = run_sweep(points, out, workers=workers, cluster=cluster, estimator=estimator,
                        progress=progress)
    fitted = ResourceEstimator.fit([r for r in results if not r.get("skipped")])
    return write_outputs(results, out, fitted, command)
