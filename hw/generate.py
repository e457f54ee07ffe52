"""``ecg-alq hw verilog``: the accelerator's Verilog and a JSON summary for one model file.

The summary holds the Verilog's SHA-256 (the pair is replaced as a unit), the hardware
parameters, the model (file, SHA-256, honest memory), the
datapath widths, the bits of every on-chip memory, the expected cycles per layer and in total
(:mod:`ecg_alq.hw.cycles`) against the ideal, and the result of ``verilator --lint-only``.
"""

from __future__ import annotations

import hashlib
import json
import subprocess
from pathlib import Path

from ecg_alq.atomic import write_json, write_text
from ecg_alq.errors import EcgAlqError
from ecg_alq.hw.accelerator import Accelerator
from ecg_alq.hw.cycles import network_cycles
from ecg_alq.hw.params import HwParams
from ecg_alq.intmodel import load, memory
from ecg_alq.intmodel.shipped import default_model_path
from ecg_alq.verilator import prepare_environment

TOP = "ecg_alq_accel"


#: the documented waivers of ``verilator -Wall`` (rule, family of signals, reason)
WAIVERS = Path(__file__).resolve().parent / "lint_waivers.vlt"


def lint(path: Path) -> dict:
    """``verilator --lint-only -Wall`` twice, warnings reported and not fatal: without the
    waivers (``warnings``) and with :data:`WAIVERS` (``unwaived``, what is left); errors counted."""
    prepare_environment()

    def run(*extra: str) -> tuple[int, list[str]]:
        proc = subprocess.run(["verilator", "--lint-only", "-Wall", "-Wno-fatal", "--top-module",
                               TOP, *extra, str(path)], capture_output=True, text=True)
        return proc.returncode, proc.stderr.splitlines()

    _, everything = run()
    returncode, left = run(str(WAIVERS))
    return {"command": f"verilator --lint-only -Wall -Wno-fatal {WAIVERS.name} {path.name}",
            "returncode": returncode,
            "errors": sum(1 for x in left if x.startswith("%Error")),
            "warnings": sum(1 for x in everything if x.startswith("%Warning")),
            "unwaived": [x for x in left if x.startswith("%Warning")]}


def generate(model_path: str | Path | None, params: HwParams, out: str | Path,
             check: bool = True) -> dict:
    """Write ``out/ecg_alq_accel.v`` and ``out/summary.json``; returns the summary."""
    from ecg_alq.hw.verilog_text import convert

    path = Path(model_path) if model_path else default_model_path()
    model = load(path)
    acc = Accelerator(model, params)
    out = Path(out)
    vpath = out / f"{TOP}.v"
    text = convert(acc, name=TOP)
    # the pair is replaced as a unit: the old summary goes first, so that an interruption leaves
    # the old pair, or a Verilog file without a summary, never a summary of other Verilog
    (out / "summary.json").unlink(missing_ok=True)
    write_text(vpath, text)
    cycles = network_cycles(acc.layout.plan)
    t = acc.layout.tables
    summary = {
        "top": TOP, "verilog": vpath.name,
        "verilog_sha256": hashlib.sha256(text.encode()).hexdigest(), "parameters": params.to_dict(),
        "model": {"file": str(path), "sha256": hashlib.sha256(path.read_bytes()).hexdigest(),
                  "honest_memory_kib": memory.count(model).kib,
                  "layers": [layer.name for layer in model.layers]},
        "widths": {"activation": t.act_bits, "alpha": t.alpha_bits, "basis_sum": t.psum_width,
                   "accumulator": t.acc_width, "bias": t.bias_width, "logit": t.acc_width},
        "memory_bits": acc.layout.memory_bits(),
        "model_memory": acc.layout.model_memory(),
        "cycles": cycles.to_dict(),
        "basis_additions": acc.layout.plan.basis_additions,
    }
    if check:
        summary["lint"] = lint(vpath)
        if summary["lint"]["errors"] or summary["lint"]["returncode"]:
            write_json(out / "summary.json", summary)
            raise EcgAlqError(f"verilator --lint-only found {summary['lint']['errors']} error(s) "
                              f"in {vpath}")
    write_json(out / "summary.json", summary)
    return summary


def describe(summary: dict) -> str:
    c = summary["cycles"]
    mem = summary["memory_bits"]
    lines = [f"{summary['verilog']}: pe {summary['parameters']['pe']}, simd "
             f"{summary['parameters']['simd']}, model {summary['model']['file']}",
             f"cycles per inference {c['total']} (ideal {c['ideal']:.0f}, ratio {c['ratio']:.3f})",
             "per layer: " + ", ".join(f"{lc['name']} {lc['total']}" for lc in c["layers"]),
             f"on-chip memory {sum(mem.values())} bits: " + json.dumps(mem)]
    mm = summary["model_memory"]
    lines.append(f"model-dependent memory: the chip holds {mm['deployed_bits']} bits "
                 f"({json.dumps(mm['deployed_by_kind'])}), the model file's honest count is "
                 f"{mm['honest_bits']} bits: {mm['ratio']:.3f}x")
    if "lint" in summary:
        lint_ = summary["lint"]
        lines.append(f"verilator --lint-only -Wall: {lint_['errors']} errors, "
                     f"{len(lint_['unwaived'])} warnings not waived (of {lint_['warnings']}; "
                     f"waivers: {WAIVERS.name})")
        lines += [f"  {w}" for w in lint_["unwaived"][:10]]
    return "\n".join(lines)
