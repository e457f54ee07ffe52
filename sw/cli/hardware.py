"""``ecg-alq hw verilog|sim|build|dse``: the accelerator's Verilog, its RTL simulation against the
golden model, board builds and the design-space exploration."""

from __future__ import annotations

from pathlib import Path

from ecg_alq.cli.common import (DEFAULT_RUNS, Command, add_data, add_hw_options, command_line,
                                hw_params)
from ecg_alq.errors import EcgAlqError
from ecg_alq.outputs import output_folder


def cmd_verilog(args) -> int:
    from ecg_alq.hw.generate import describe, generate

    summary = generate(args.model, hw_params(args), output_folder(args.out),
                       check=not args.no_lint)
    print(describe(summary))
    print(f"wrote {Path(args.out) / summary['verilog']} and {Path(args.out) / 'summary.json'}")
    return 0


def cmd_sim(args) -> int:
    from ecg_alq.data.fragments import load_fragments
    from ecg_alq.intmodel import load
    from ecg_alq.intmodel.shipped import default_model_path
    from ecg_alq.sim.network import simulate_or_report, spread_rows

    if args.fragments < 1:
        raise EcgAlqError(f"--fragments must be at least 1, got {args.fragments}")
    out = output_folder(args.out)
    path = args.model or default_model_path()
    frags = load_fragments(args.data)
    rows = spread_rows(frags.label, min(args.fragments, len(frags.label)))
    params, gates, what = hw_params(args), {}, "RTL"
    if args.netlist:
        from ecg_alq.boards.top import board

        spec = board(args.netlist)
        params, gates = hw_params(args, spec.default_params), {"netlist": spec.family}
        what = f"{args.netlist} netlist ({spec.family} cells)"
    print(f"simulating {len(rows)} fragment(s) of {len(set(frags.label[rows]))} classes on the "
          f"{what} of the accelerator of {path}, pe {params.pe} x simd {params.simd} "
          f"({args.simulator})")
    result, failed = simulate_or_report(load(path), params, frags.x[rows], out,
                                        waves=args.waves, idle=args.idle,
                                        backpressure=args.backpressure,
                                        simulator=args.simulator, **gates)
    reps = result["fragments"]
    bad = [r for r in reps if not (r["logits_match"] and r["class_match"])]
    cycles = sorted({r["cycles"] for r in reps})
    correct = sum(int(r["class"] == frags.label[rows[r["index"]]] + 1) for r in reps)
    print(f"{len(reps)} fragment(s): {len(bad)} mismatch(es) against the golden model; "
          f"cycles per inference {cycles} (cycle model {result['expected_cycles']}); "
          f"{correct}/{len(reps)} classified as labelled; {result['seconds']:.1f} s wall")
    if args.waves:
        waves = sorted((out / "sim").glob("*.fst")) + sorted((out / "sim").glob("*.vcd"))
        print("waveform: " + (", ".join(map(str, waves)) or f"none found in {out / 'sim'}"))
    if failed:
        raise EcgAlqError(failed)
    return 0


def cmd_build(args) -> int:
    from ecg_alq.boards.build import build_closing_timing
    from ecg_alq.boards.top import BOARDS
    from ecg_alq.intmodel.shipped import default_model_path

    model = args.model or default_model_path()
    out = output_folder(args.out or DEFAULT_RUNS / f"build-{args.board}")
    print(f"building {args.board} with {model} (yosys, nextpnr, packer; minutes)...")
    spec = BOARDS[args.board]
    if args.seeds < 1:
        raise EcgAlqError(f"--seeds must be at least 1, got {args.seeds}")
    if args.clock_mhz is not None and not args.clock_mhz > 0:
        raise EcgAlqError(f"--clock-mhz must be a positive frequency, got {args.clock_mhz}")
    s = build_closing_timing(args.board, model, hw_params(args, spec.default_params), out,
                             clock_mhz=spec.default_clock_mhz if args.clock_mhz is None
                             else args.clock_mhz,
                             seeds=tuple(range(1, args.seeds + 1)), relax=args.relax_clock,
                             baud=args.baud, precheck=not args.force,
                             boot_offset=boot_offset(args))
    used = ", ".join(f"{k} {v['used']}/{v['available']}" for k, v in s["resources"].items()
                     if v["used"])
    print(f"{s['device']}: {used}")
    fmax = "not reported" if s["fmax_mhz"] is None else f"{s['fmax_mhz']:.1f} MHz"
    print(f"Fmax {fmax} at a {s['clock_mhz']:.3f} MHz clock; "
          f"{s['cycles_per_inference']} cycles = {s['latency_ms']:.2f} ms per fragment")
    mm = s["model_memory"]
    print(f"model-dependent memory on the chip {mm['deployed_bits']} bits, the model file's "
          f"honest count {mm['honest_bits']} bits ({mm['ratio']:.3f}x)")
    print(f"bitstream {s['bitstream']}; report {out / 'report.json'}")
    if s.get("flash_image"):
        print(f"flash image {s['flash_image']} (the bitstream, then the sign rows' boot "
              f"record at {s['boot_offset']:#x}): program it with `iceprog {s['flash_image']}`; the board "
              f"then boots and classifies without a LOAD")
    return 0


def boot_offset(args) -> int | None:
    """The flash offset of the sign rows, or None for a board that is loaded over the link."""
    from ecg_alq.boards.flash_loader import DEFAULT_BOOT_OFFSET

    if args.boot_offset is not None:
        return args.boot_offset
    return DEFAULT_BOOT_OFFSET if args.boot_from_flash else None


def cmd_dse(args) -> int:
    from ecg_alq.dse import run_dse
    from ecg_alq.dse.space import load_spec, override

    output_folder(args.out)
    spec = override(load_spec(args.sweep) if args.sweep else {}, models=args.models,
                    boards=args.boards, pe=args.pe, simd=args.simd, clock_mhz=args.clock_mhz)
    summary = run_dse(spec, args.out, workers=args.workers, cluster=args.cluster,
                      prune=args.prune, command=command_line("dse"))
    n = len(summary["points"])
    ok = sum(bool(p.get("meets_timing")) for p in summary["points"])
    print(f"{n} point(s), {ok} fit and meet timing; wrote {args.out}/points.csv, points.json, "
          f"summary.md and the Pareto plots")
    return 0


def _configure_hw(p) -> None:
    sub = p.add_subparsers(dest="hw_command", required=True, metavar="ACTION")
    v = sub.add_parser("verilog", help="the accelerator's Verilog and a JSON summary")
    add_hw_options(v)
    v.add_argument("--out", required=True, help="output folder")
    v.add_argument("--no-lint", action="store_true", help="skip verilator --lint-only")
    v.set_defaults(func=cmd_verilog)


def _configure_sim(p) -> None:
    add_hw_options(p)
    p.add_argument("--fragments", type=int, default=20,
                   help="how many (every class first, then spread over the data set)")
    p.add_argument("--idle", type=float, default=0.05, help="probability of an idle input cycle")
    p.add_argument("--backpressure", type=float, default=0.2,
                   help="probability that the output is not ready")
    p.add_argument("--waves", action="store_true",
                   help="write a waveform (FST with Debian's liblz4-dev installed, else VCD)")
    p.add_argument("--simulator", default="verilator", choices=["verilator", "icarus"],
                   help="Verilator (default) or Icarus Verilog in SystemVerilog mode")
    p.add_argument("--netlist", metavar="BOARD", choices=["icebreaker", "ulx3s"],
                   help="simulate the gate-level netlist yosys synthesizes for this board (its "
                   "FPGA family's cells and cell models; the board's default hardware parameters "
                   "unless given) instead of the RTL")
    p.add_argument("--out", default=str(DEFAULT_RUNS / "sim"), help="work folder")
    add_data(p)
    p.set_defaults(func=cmd_sim)


def _configure_build(p) -> None:
    from ecg_alq.boards.flash_loader import DEFAULT_BOOT_OFFSET
    from ecg_alq.boards.protocol import BAUD
    from ecg_alq.boards.top import BOARDS

    p.add_argument("--board", required=True, choices=sorted(BOARDS))
    add_hw_options(p, defaults="the board's")
    p.add_argument("--baud", type=int, default=BAUD, help=f"UART baud rate (default {BAUD})")
    p.add_argument("--clock-mhz", type=float,
                   help="accelerator clock (a PLL makes it unless it is the oscillator's; "
                   "default: the board's, " + ", ".join(
                       f"{b.name} {b.default_clock_mhz:g}" for b in BOARDS.values()) + ")")
    p.add_argument("--seeds", type=int, default=4, help="placement seeds to try, in turn, until "
                   "one meets the clock (default 4; a build that meets it at once runs once)")
    p.add_argument("--relax-clock", action="store_true", help="when every seed misses the "
                   "clock, build again at 97 %% of the best Fmax reached (as the flow does)")
    p.add_argument("--out", help="output folder (default runs/build-BOARD)")
    p.add_argument("--force", action="store_true", help="run the tools even when the memories "
                   "cannot fit the device's block RAM (to see the tools' numbers)")
    p.add_argument("--boot-from-flash", action="store_true", help="memory style spram: the "
                   "design reads its sign rows from the configuration flash after power-up "
                   "(no host LOAD); writes the flash image (bitstream + rows)")
    p.add_argument("--boot-offset", type=lambda v: int(v, 0),
                   help=f"flash byte offset of the sign rows (implies --boot-from-flash; "
                   f"default {DEFAULT_BOOT_OFFSET:#x})")
    p.set_defaults(func=cmd_build)


def _configure_dse(p) -> None:
    from ecg_alq.boards.top import BOARDS

    clocks = ", ".join(f"{b.name}={b.default_clock_mhz:g}" for b in BOARDS.values())
    p.add_argument("--sweep", help="JSON sweep file (see docs/dse.md); options below override it")
    p.add_argument("--models", help="comma-separated integer model files (default: the shipped)")
    p.add_argument("--boards", help="comma-separated: icebreaker, ulx3s (default ulx3s)")
    p.add_argument("--pe", help="comma-separated lane counts, e.g. 2,4,8")
    p.add_argument("--simd", help="comma-separated SIMD widths, e.g. 4,8,16")
    p.add_argument("--clock-mhz", help=f"board=MHz[,board=MHz] (default: each board's, {clocks})")
    p.add_argument("--workers", type=int, default=2, help="local worker processes (default 2)")
    p.add_argument("--cluster", help="Dask scheduler address (tcp://host:8786) to run on a cluster")
    p.add_argument("--prune", action="store_true",
                   help="skip points the resource estimator (fitted on cached real points) "
                   "finds hopeless")
    p.add_argument("--out", default=str(DEFAULT_RUNS / "dse"), help="output and cache folder")
    p.set_defaults(func=cmd_dse)


COMMANDS = {
    "hw": Command("hardware generators", _configure_hw),
    "sim": Command("run real fragments through the RTL or a board's gate-level netlist "
                   "(Verilator or Icarus) and compare with the golden model", _configure_sim),
    "build": Command("bitstream for a board (yosys + nextpnr + packer) and report",
                     _configure_build),
    "dse": Command("design-space exploration with real place and route (cached, resumable, "
                   "parallel)", _configure_dse),
}
