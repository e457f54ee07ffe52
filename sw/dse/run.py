"""Run a sweep: cached, resumable, parallel, with progress.

Every point's result is cached as ``OUT/points/<key>.json`` (written atomically when the point
finishes), so an interrupted sweep continues where it stopped and a second run of the same
sweep only reads. Points run in a local process pool (``workers``) or, given a cluster address
(``cluster="tcp://host:8786"``, the optional ``cluster`` extra: ``pip install ecg-alq[cluster]``),
on an existing Dask cluster, where each point is one task: the same code scales from a laptop
to a cluster. A progress bar shows points done and the estimated time left.

With ``estimator`` (a fitted :class:`~ecg_alq.dse.estimator.ResourceEstimator`), points whose
estimated logic minus twice the estimator's largest leave-one-out error still exceeds the board
are skipped before any place and route and reported as such.
"""

from __future__ import annotations

import json
from concurrent.futures import ProcessPoolExecutor, as_completed
from pathlib import Path

from ecg_alq import atomic
from ecg_alq.dse.evaluate import evaluate
from ecg_alq.dse.space import Point
from ecg_alq.errors import EcgAlqError


def _work(point: Point, out: str) -> dict:
    """One point, in a worker: evaluate and cache (the result file is the completion mark)."""
    result = evaluate(point, Path(out) / "builds" / point.key)
    atomic.write_json(Path(out) / "points" / f"{point.key}.json", result)
    return result


def cached(point: Point, out: Path) -> dict | None:
    path = out / "points" / f"{point.key}.json"
    return json.loads(path.read_text()) if path.exists() else None


def run_sweep(points: list[Point], out: str | Path, workers: int = 2, cluster: str | None = None,
              estimator=None, progress: bool = True) -> list[dict]:
    """Evaluate every point (cached ones are read back); results in the order of ``points``."""
    from tqdm import tqdm

    out = Path(out)
    (out / "points").mkdir(parents=True, exist_ok=True)
    results: dict[str, dict] = {}
    todo, seen = [], set()
    for p in points:
        if p.key in seen:  # the same point twice in a sweep runs once
            continue
        seen.add(p.key)
        hit = cached(p, out)
        if hit is not None:
            results[p.key] = hit
        elif estimator is not None and estimator.hopeless(p):
            results[p.key] = estimator.skipped(p)
        else:
            todo.append(p)
    bar = tqdm(total=len(points), initial=len(points) - len(todo), unit="point",
               desc="dse", disable=not progress)
    if todo:
        if cluster:
            _run_dask(todo, out, cluster, results, bar)
        else:
            with ProcessPoolExecutor(max_workers=max(1, workers)) as pool:
                futures = {pool.submit(_work, p, str(out)): p for p in todo}
                for fut in as_completed(futures):
                    results[futures[fut].key] = fut.result()
                    bar.update(1)
    bar.close()
    return [results[p.key] for p in points]


def _run_dask(todo: list[Point], out: Path, address: str, results: dict, bar) -> None:
    try:
        from distributed import Client, as_completed as dask_completed
    except ImportError:
        raise EcgAlqError("--cluster needs Dask: pip install 'ecg-alq[cluster]'") from None
    try:
        client = Client(address, timeout="10s")
    except OSError as exc:
        raise EcgAlqError(f"cannot reach the Dask cluster at {address}: {exc}") from None
    with client:
        futures = [client.submit(_work, p, str(out.resolve()), key=f"dse-{p.key}", pure=False)
                   for p in todo]
        by_key = {f.key: p for f, p in zip(futures, todo)}
        for fut in dask_completed(futures):
            results[by_key[fut.key].key] = fut.result()
            bar.update(1)
