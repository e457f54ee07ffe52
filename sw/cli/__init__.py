"""The ``ecg-alq`` command line. Each subcommand is a thin layer over a library function; its
parser sits next to its handler in one module of this package:

- :mod:`.data`      ``data verify|splits``
- :mod:`.training`  ``train``, ``crossval``, ``quantize``, ``baseline``, ``export``
- :mod:`.models`    ``predict``, ``inspect``, ``dump``
- :mod:`.hardware`  ``hw verilog``, ``sim``, ``build``, ``dse``
- :mod:`.board`     ``board classify``
- :mod:`.records`   ``classify-record``
- :mod:`.flow`      ``flow`` (``make run``)

Only the command on the command line gets its options (which may import torch or Amaranth):
``--version`` and the list of commands need neither.

Errors the user can fix (:class:`ecg_alq.errors.EcgAlqError`) are printed as one line on stderr
with exit status 2; there is no traceback for them.
"""

from __future__ import annotations

import argparse
import sys

from ecg_alq import __version__
from ecg_alq.cli import board, data, flow, hardware, models, records, training
from ecg_alq.cli.common import Command
from ecg_alq.errors import EcgAlqError

#: name -> command, in the order ``ecg-alq --help`` lists them
COMMANDS: dict[str, Command] = {}
for _module in (data, training, models, hardware, board, records, flow):
    COMMANDS |= _module.COMMANDS


def build_parser(command: str | None = None) -> argparse.ArgumentParser:
    """The parser of ``ecg-alq``; only ``command``'s subparser gets its options (all of them
    when ``command`` is ``"*"``: for documentation and tests)."""
    p = argparse.ArgumentParser(prog="ecg-alq", description="ECG rhythm classification with "
                                "ALQ-quantized CNNs, from MIT-BIH records to FPGA.")
    p.add_argument("--version", action="version", version=f"ecg-alq {__version__}")
    sub = p.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name, c in COMMANDS.items():
        sp = sub.add_parser(name, help=c.help, description=c.help)
        if command in (name, "*"):
            c.configure(sp)
    return p


def _command_of(argv: list[str]) -> str | None:
    """The subcommand named on the command line (the first word that is not an option)."""
    return next((a for a in argv if not a.startswith("-")), None)


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    args = build_parser(_command_of(argv)).parse_args(argv)
    try:
        return args.func(args)
    except EcgAlqError as exc:
        print(f"ecg-alq: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("ecg-alq: interrupted; long jobs continue where they stopped when run again "
              "(train: --resume)", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
