"""Run a sweep: cached, resumable, parallel, with progress.

Every point's result is cached as ``OUT/points/<key>.json`` (written atomically when the point
finishes), so an interrupted sweep continues where it stopped and a second run of the same
sweep only reads. Points run in a local process pool (``workers``) or, given a cluster address
(``cluster="tcp://host:8786"``, the optional ``cluster`` extra: ``pip install ecg-alq[cluster]``),
on an existing Dask cluster, where each point is one task: the same code scales from a laptop
to a cluster. A progress bar shows points done and the estimated time left.

Locally each point runs in a process of its own process group (its yosys and nextpnr with it).
Ctrl-C drops the queued points, stops the running ones with their tools (SIGTERM, then SIGKILL
after :data:`GRACE_SECONDS`) and returns to the caller; further Ctrl-Cs during that second are
ignored, so it cannot hang, and no process is left behind. On a cluster the queued tasks are
cancelled. A cache entry that cannot be read (a truncated file) is discarded with a warning and
its point evaluated again.

With ``estimator`` (a fitted :class:`~ecg_alq.dse.estimator.ResourceEstimator`), points whose
estimated logic minus twice the estimator's largest leave-one-out error still exceeds the board
are skipped before any place and route and reported as such.
"""

from __future__ import annotations

import json
import multiprocessing
import os
import signal
import sys
import threading
import time
import traceback
from multiprocessing.connection import wait
from pathlib import Path

from ecg_alq import atomic
from ecg_alq.dse.evaluate import evaluate
from ecg_alq.dse.space import Point
from ecg_alq.errors import EcgAlqError


GRACE_SECONDS = 3.0  #: after SIGTERM, a stopped point's processes get this long before SIGKILL


def _work(point: Point, out: str) -> dict:
    """One point, in a worker: evaluate and cache (the result file is the completion mark)."""
    result = evaluate(point, Path(out) / "builds" / point.key)
    atomic.write_json(Path(out) / "points" / f"{point.key}.json", result)
    return result


def cached(point: Point, out: Path) -> dict | None:
    """The cached result of ``point``, or None; an unreadable entry is discarded (warned)."""
    path = out / "points" / f"{point.key}.json"
    if not path.exists():
        return None
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (ValueError, UnicodeDecodeError) as exc:
        print(f"warning: discarding the damaged cache entry {path} ({exc}); evaluating "
              f"{point.label} again", file=sys.stderr)
        path.unlink()
        return None


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
            _run_local(todo, out, workers, results, bar)
    bar.close()
    return [results[p.key] for p in points]


def _child(point: Point, out: str) -> None:
    """A point's process: its own process group (so that its tools can be stopped with it and a
    terminal's Ctrl-C goes to the parent alone); a failure leaves its reason beside the cache."""
    os.setpgrp()
    for sig in (signal.SIGTERM, signal.SIGHUP):  # the parent's handlers are not the child's
        signal.signal(sig, signal.SIG_DFL)
    signal.pthread_sigmask(signal.SIG_SETMASK, [])  # the parent blocked them while forking
    failed = Path(out) / "points" / f"{point.key}.failed"
    failed.unlink(missing_ok=True)  # an earlier run's reason is not this one's
    try:
        _work(point, out)
    except BaseException:
        atomic.write_text(failed, "".join(traceback.format_exc(limit=-3)))
        os._exit(1)


class _Stopped(KeyboardInterrupt):
    """SIGTERM or SIGHUP reached the sweep: stop as on Ctrl-C."""


def _raise_stopped(signum, frame):
    raise _Stopped(f"signal {signum}")


def _run_local(todo: list[Point], out: Path, workers: int, results: dict, bar) -> None:
    """Up to ``workers`` points at a time, one process each. A point that fails is reported
    after every other point has finished (its siblings are not stopped); Ctrl-C, SIGTERM or
    SIGHUP stop them all."""
    ctx = multiprocessing.get_context("fork")
    queue, running, failures = list(todo), {}, []
    stops = {}
    if threading.current_thread() is threading.main_thread():  # signal handlers live there
        stops = {sig: signal.signal(sig, _raise_stopped) for sig in (signal.SIGTERM, signal.SIGHUP)}
    try:
        while queue or running:
            while queue and len(running) < workers:
                point = queue.pop(0)
                # daemonic: should anything escape _stop, the interpreter's exit ends it
                # instead of waiting for its build
                proc = ctx.Process(target=_child, args=(point, str(out)), name=point.key,
                                   daemon=True)
                # no signal between the fork and the bookkeeping: every child is known to _stop
                signal.pthread_sigmask(signal.SIG_BLOCK, [signal.SIGINT, *stops])
                try:
                    proc.start()
                    running[proc.sentinel] = (proc, point)
                finally:
                    signal.pthread_sigmask(signal.SIG_UNBLOCK, [signal.SIGINT, *stops])
            for sentinel in wait(list(running)):
                proc, point = running.pop(sentinel)
                proc.join()
                try:
                    results[point.key] = _finished(proc, point, out)
                except EcgAlqError as exc:
                    failures.append(str(exc))
                bar.update(1)
    except BaseException:
        _stop([proc for proc, _ in running.values()])
        raise
    finally:
        for sig, previous in stops.items():
            signal.signal(sig, previous)
    if failures:
        raise EcgAlqError(f"{len(failures)} dse point(s) failed (the others are cached): "
                          + "; ".join(failures))


def _finished(proc, point: Point, out: Path) -> dict:
    result = cached(point, out) if proc.exitcode == 0 else None
    if result is None:
        failed = out / "points" / f"{point.key}.failed"
        why = failed.read_text().strip().splitlines()[-1] if failed.exists() else \
            f"its process ended with status {proc.exitcode}"
        raise EcgAlqError(f"dse point {point.label} failed: {why} (details: {failed})")
    return result


def _stop(procs: list) -> None:
    """Stop points' process groups: SIGTERM, SIGKILL after the grace time; Ctrl-C ignored
    meanwhile (this takes at most GRACE_SECONDS)."""
    main = threading.current_thread() is threading.main_thread()
    previous = signal.signal(signal.SIGINT, signal.SIG_IGN) if main else None
    try:
        for sig in (signal.SIGTERM, signal.SIGKILL):
            for proc in procs:
                try:
                    os.killpg(proc.pid, sig)
                except ProcessLookupError:  # not yet its own group leader: the process alone
                    try:
                        os.kill(proc.pid, sig)
                    except ProcessLookupError:
                        pass
                except PermissionError:
                    pass
            deadline = time.monotonic() + GRACE_SECONDS
            for proc in procs:
                proc.join(max(0.0, deadline - time.monotonic()))
            if all(proc.exitcode is not None for proc in procs):
                break
    finally:
        if main:
            signal.signal(signal.SIGINT, previous)


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
        try:
            for fut in dask_completed(futures):
                results[by_key[fut.key].key] = fut.result()
                bar.update(1)
        except BaseException:  # Ctrl-C: the queued tasks go (running ones end on their own)
            client.cancel(futures)
            raise
