"""What several commands share: where runs go, how a command was started, the data option and
the hardware-parameter options. Imports nothing heavy: building a parser stays fast."""

from __future__ import annotations

import argparse
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

DEFAULT_RUNS = Path("runs")
DATA_HELP = "data root (else $ECG_ALQ_DATA, else ../shared/data)"


@dataclass(frozen=True)
class Command:
    """One subcommand: its one-line help and the function that adds its options and sets
    ``func`` (the handler) on its parser. ``configure`` may import what the options need (torch
    for the training configs): it runs only for the command on the command line."""

    help: str
    configure: Callable[[argparse.ArgumentParser], None]


def command_line(name: str) -> str:
    """How the running subcommand ``name`` was started (for reports), ``ecg-alq NAME`` when
    called from Python."""
    return "ecg-alq " + " ".join(sys.argv[1:]) if sys.argv[1:2] == [name] else f"ecg-alq {name}"


def add_data(p: argparse.ArgumentParser) -> None:
    p.add_argument("--data", help=DATA_HELP)


def add_hw_options(p: argparse.ArgumentParser, defaults: str = "", model: bool = True) -> None:
    """--model (unless ``model`` is False), --pe, --simd, --alpha-mult and --memory. Their
    defaults are :class:`~ecg_alq.hw.params.HwParams`' or, with ``defaults="the board's"``, the
    board's (the help text says which)."""
    if model:
        p.add_argument("--model", help="integer model file (default: the shipped one)")
    if defaults:
        pe = simd = mult = mem = defaults
    else:
        from ecg_alq.hw.params import HwParams

        d = HwParams()
        pe, simd, mult, mem = d.pe, d.simd, d.alpha_mult, d.memory
    p.add_argument("--pe", type=int, help=f"lanes (output channels in parallel; default {pe})")
    p.add_argument("--simd", type=int, help=f"activations per lane per cycle (default {simd})")
    p.add_argument("--alpha-mult", help=f"dsp or shiftadd (alpha scaling; default {mult})")
    p.add_argument("--memory", help=f"memory style: auto or spram (default {mem})")


def hw_params(args, base=None):
    """The hardware parameters given on the command line, the others from ``base`` (a board's
    defaults) or :class:`~ecg_alq.hw.params.HwParams`' defaults; validated."""
    from dataclasses import replace

    from ecg_alq.hw.params import HwParams

    given = {k: getattr(args, k) for k in ("pe", "simd", "alpha_mult", "memory")
             if getattr(args, k) is not None}
    params = replace(base or HwParams(), **given)
    params.validate()
    return params
