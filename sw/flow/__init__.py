"""The end-to-end flow (``ecg-alq flow``, ``make run``): from the data check to the bitstream and
a report, as a chain of cached stages (:mod:`ecg_alq.flow.stages`).

Every stage works in ``<out>/<stage>/<fingerprint>/`` and leaves a record there when it finishes
(:mod:`ecg_alq.flow.cache`); a run with the same inputs reuses the record, so a second flow
only redoes what changed, and switching an option back finds the earlier results. Asking for a
stage runs the stages it needs first (cached ones cost nothing). ``<out>/flow.json`` names the
folders of the latest run; ``<out>/report/`` holds its report.
"""

from __future__ import annotations

import os
import shutil
import signal
import threading
import time
from multiprocessing import get_context
from pathlib import Path

from ecg_alq import atomic
from ecg_alq.errors import EcgAlqError
from ecg_alq.flow import cache
from ecg_alq.flow.stages import STAGES, Flow, FlowConfig, build_run

__all__ = ["STAGES", "FlowConfig", "run_flow", "plan"]


def plan(wanted: list[str] | None = None, skip: list[str] | None = None) -> list[str]:
    """The stages to visit, in order: ``wanted`` (default all) and everything they need, less
    ``skip``. The report covers whatever ran."""
    for name in (wanted or []) + (skip or []):
        if name not in STAGES:
            raise EcgAlqError(f"unknown stage {name!r}; stages: {', '.join(STAGES)}")
    chosen = set(wanted or STAGES) - set(skip or [])
    todo = set()

    def need(name: str, by: str | None) -> None:
        if name in (skip or []):
            raise EcgAlqError(f"stage {by} needs {name}, which was skipped")
        todo.add(name)
        for dep in STAGES[name].needs:
            need(dep, name)

    for name in chosen:
        need(name, None)
    return [name for name in STAGES if name in todo]


def _heartbeat(what: str, log, done: threading.Event, every: float = 60.0) -> None:
    t0 = time.perf_counter()

    def beat():
        while not done.wait(every):
            log(f"  {what}: still running, {time.perf_counter() - t0:.0f} s")
    threading.Thread(target=beat, daemon=True).start()


def _child(conn, fn, *args) -> None:
    """Body of a background process: its own process group (so that stopping the flow stops the
    tools it started), ``fn(*args)``'s result or error message sent back over ``conn``."""
    os.setpgrp()
    try:
        conn.send(("ok", fn(*args)))
    except EcgAlqError as exc:
        conn.send(("error", str(exc)))
    except BaseException as exc:  # noqa: BLE001 - reported to the parent, which raises
        conn.send(("crash", f"{type(exc).__name__}: {exc}"))


class Background:
    """``fn(*args)`` in a second process (spawned: no state shared with this one; ``fn`` must be
    a module-level function), with a line on ``log`` every minute until :meth:`result`."""

    def __init__(self, fn, args: tuple, what: str, log):
        ctx = get_context("spawn")
        self.conn, child_conn = ctx.Pipe(duplex=False)
        self.process = ctx.Process(target=_child, args=(child_conn, fn, *args), daemon=False)
        self.process.start()
        self.done = threading.Event()
        _heartbeat(what, log, self.done)

    def result(self):
        """Wait for the result; an error in the process is raised here as :class:`EcgAlqError`.
        Interrupted (Ctrl-C), it returns at once: :meth:`stop` then ends the process."""
        try:
            status, value = self.conn.recv()
        except EOFError:
            raise EcgAlqError("the background process ended without a result") from None
        finally:
            self.done.set()
        self.process.join()
        if status != "ok":
            raise EcgAlqError(value)
        return value

    def stop(self) -> None:
        """Stop the process and everything it started (its process group)."""
        self.done.set()
        for sig in (signal.SIGTERM, signal.SIGKILL):
            if not self.process.is_alive():
                return
            try:
                os.killpg(self.process.pid, sig)
            except ProcessLookupError:  # not yet its own group (still starting)
                self.process.kill()
            self.process.join(10)


class _Runner:
    def __init__(self, flow: Flow, force: set[str], jobs: int):
        self.flow, self.force, self.jobs = flow, force, jobs
        self.out = Path(flow.config.out)
        self.pending = {}  # stage -> (Background, key, inputs, folder, start time)
        self.queue_after: list[str] = []  # the stages still to visit

    def visit(self, name: str, number: str) -> None:
        flow, stage = self.flow, STAGES[name]
        inputs = stage.inputs(flow)
        key = cache.fingerprint(inputs)
        folder = (self.out / "report") if not stage.cached else self.out / name / key[:12]
        record = cache.load(folder, key) if stage.cached and name not in self.force else None
        if record is not None:
            flow.records[name] = record | {"folder": str(folder), "reused": True}
            flow.log(f"[{number}] {name}: reused ({folder}, {record['seconds']:.0f} s when made)")
            return
        flow.log(f"[{number}] {name}: {stage.summary} ... ({folder})")
        if name in self.force and stage.cached and folder.exists():
            shutil.rmtree(folder)  # also what the stage itself would resume from
        folder.mkdir(parents=True, exist_ok=True)
        if name == "build" and self.jobs > 1 and "sim" in self.queue_after:
            c = flow.config
            job = Background(build_run, (c.board, flow.model_path(), c.params, c.clock_mhz,
                                         c.seeds, folder), f"{c.board} build", flow.log)
            self.pending[name] = (job, key, inputs, folder, time.perf_counter())
            flow.log("  running in a second process beside the simulation")
            return
        t0 = time.perf_counter()
        result = stage.run(flow, folder)
        self._finish(name, key, inputs, folder, result, time.perf_counter() - t0)

    def collect(self) -> None:
        """Wait for the stages running in the background; record their results."""
        for name, (job, key, inputs, folder, t0) in list(self.pending.items()):
            self.flow.log(f"  waiting for the {name} stage ...")
            result = job.result()  # interrupted or failed: still pending, stopped by run_flow
            del self.pending[name]
            self._finish(name, key, inputs, folder, result, time.perf_counter() - t0)

    def _finish(self, name, key, inputs, folder, result, seconds) -> None:
        if STAGES[name].cached:
            record = cache.store(folder, name, key, inputs, result, seconds)
        else:
            record = {"stage": name, "key": key, "result": result, "seconds": round(seconds, 1)}
        self.flow.records[name] = record | {"folder": str(folder), "reused": False}
        self.flow.log(f"  {name}: done in {seconds:.0f} s")


def run_flow(config: FlowConfig, stages: list[str] | None = None, skip: list[str] | None = None,
             force: list[str] | None = None, jobs: int = 2, log=print) -> Flow:
    """Run the flow; returns its state (records of every stage visited). ``stages``: the stages
    wanted (default all), ``skip``: stages left out, ``force``: stages recomputed even when a
    record with the same inputs exists, ``jobs``: 2 runs the board build in a second process
    beside the RTL simulation (each keeps one core busy)."""
    if not (isinstance(jobs, int) and jobs >= 1):
        raise EcgAlqError(f"jobs must be an integer >= 1, got {jobs!r}")
    order = plan(stages, skip)
    for name in force or []:
        if name not in STAGES:
            raise EcgAlqError(f"unknown stage {name!r} to force; stages: {', '.join(STAGES)}")
    flow = Flow(config, log)
    runner = _Runner(flow, set(force or []), jobs)
    t0 = time.perf_counter()
    try:
        for k, name in enumerate(order):
            runner.queue_after = order[k + 1:]
            if name == "report":
                runner.collect()
            runner.visit(name, f"{k + 1}/{len(order)}")
        runner.collect()
    finally:
        for job, *_ in runner.pending.values():  # a stage failed or Ctrl-C: stop the build
            job.stop()
    atomic.write_json(Path(config.out) / "flow.json", {
        "stages": {n: {"folder": r["folder"], "key": r["key"], "reused": r["reused"],
                       "seconds": r["seconds"]} for n, r in flow.records.items()},
        "seconds": round(time.perf_counter() - t0, 1)})
    return flow
