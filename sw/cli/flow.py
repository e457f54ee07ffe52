"""``ecg-alq flow`` (``make run``): every stage from the data check to the board's bitstream,
cached, then the report (:mod:`ecg_alq.flow`)."""

from __future__ import annotations

import signal
import sys
from pathlib import Path

from ecg_alq.cli.common import DEFAULT_RUNS, Command, add_hw_options, command_line, hw_params
from ecg_alq.config import add_options, from_args
from ecg_alq.outputs import output_folder

ALQ_OPTIONS = ("target_bits", "grouping", "act_bits")


def _config(args):
    """The :class:`~ecg_alq.flow.FlowConfig` of the command line: the flow's recipe (or the
    quick one) under the options given."""
    from ecg_alq.boards.top import board
    from ecg_alq.flow import FlowConfig
    from ecg_alq.flow.stages import QUICK_ALQ, QUICK_SIM_FRAGMENTS, QUICK_TRAIN, TRAIN_RECIPE
    from ecg_alq.quant.alq import AlqConfig
    from ecg_alq.training import TrainConfig

    recipe = TRAIN_RECIPE | (QUICK_TRAIN if args.quick else {})
    train = from_args(TrainConfig, args, **{k: v for k, v in recipe.items()
                                            if getattr(args, k) is None})
    alq = (QUICK_ALQ if args.quick else {}) | {k: getattr(args, k) for k in ALQ_OPTIONS
                                                if getattr(args, k) is not None}
    sim = args.sim_fragments if args.sim_fragments is not None else (
        QUICK_SIM_FRAGMENTS if args.quick else 0)
    return FlowConfig(train=train, alq=AlqConfig(**alq, threads=train.threads), board=args.board,
                      params=hw_params(args, board(args.board).default_params),
                      clock_mhz=args.clock_mhz, sim_fragments=sim, sim_chunk=args.sim_chunk,
                      seeds=args.seeds, out=output_folder(args.out),
                      command=command_line("flow"))


def cmd_flow(args) -> int:
    from ecg_alq.flow import run_flow

    def names(text):
        return [n for n in (text or "").split(",") if n] or None

    config = _config(args)
    # a terminated flow stops the build it runs in the background (run_flow's cleanup)
    previous = signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    try:
        flow = run_flow(config, stages=names(args.stages), skip=names(args.skip),
                        force=names(args.force), jobs=args.jobs,
                        log=lambda line: print(line, flush=True))
    finally:
        signal.signal(signal.SIGTERM, previous)
    if "report" in flow.records:
        r = flow.result("report")
        print(f"report: {r['markdown']} (figures beside it), {r['html']} (one file)")
    print(f"stage folders: {Path(args.out) / 'flow.json'}")
    return 0


def configure(p) -> None:
    from ecg_alq.boards.top import BOARDS
    from ecg_alq.flow import STAGES
    from ecg_alq.quant.alq import AlqConfig
    from ecg_alq.training import TrainConfig

    add_options(p, TrainConfig)
    add_options(p, AlqConfig, only=ALQ_OPTIONS)
    p.add_argument("--board", default="icebreaker", choices=sorted(BOARDS),
                   help="board to build for (default icebreaker)")
    add_hw_options(p, defaults="the board's", model=False)
    p.add_argument("--clock-mhz", type=float, help="accelerator clock (default: the board's; "
                   "a build that misses it is rebuilt at a clock below its Fmax)")
    p.add_argument("--seeds", type=int, default=2, help="placement seeds tried at the clock "
                   "before it is relaxed (default 2)")
    p.add_argument("--sim-fragments", type=int, help="test fragments simulated in RTL "
                   "(default 0: the whole test fold; --quick: 2)")
    p.add_argument("--sim-chunk", type=int, default=20,
                   help="fragments per simulator run, the unit of resumption (default 20)")
    p.add_argument("--stages", help="run only these stages (and what they need; finished ones "
                   "are reused): " + ",".join(STAGES))
    p.add_argument("--skip", help="leave these stages out, e.g. build")
    p.add_argument("--force", help="recompute these stages even when their results exist")
    p.add_argument("--jobs", type=int, default=2,
                   help="2: the board build runs beside the RTL simulation (default 2)")
    p.add_argument("--out", default=str(DEFAULT_RUNS / "flow"), help="run folder (default runs/flow)")
    p.add_argument("--quick", action="store_true",
                   help="brief training (2 epochs of 100 fragments or 128 database windows "
                   "unless given), a one-round ALQ and 2 simulated fragments: a smoke test of "
                   "every stage")
    p.set_defaults(func=cmd_flow)


COMMANDS = {"flow": Command("the main job: data check, training, ALQ, golden model, Verilog, RTL "
                            "simulation, bitstream, report (every stage cached)", configure)}
