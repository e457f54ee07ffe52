"""The command line's shape: every command's parser sits beside its handler and builds; the
version and the list of commands load neither torch nor Amaranth (so they answer at once)."""

from __future__ import annotations

import subprocess
import sys

import pytest

from ecg_alq.cli import COMMANDS, build_parser, main


@pytest.mark.parametrize("name", sorted(COMMANDS))
def test_every_command_has_a_handler_and_help(name, capsys):
    with pytest.raises(SystemExit) as stop:
        main([name, "--help"])
    assert stop.value.code == 0
    assert COMMANDS[name].help in " ".join(capsys.readouterr().out.split())


def test_all_parsers_build_together():
    parser = build_parser("*")
    args = parser.parse_args(["inspect", "--model", "m.npz"])
    assert args.func.__module__ == "ecg_alq.cli.models" and args.model == "m.npz"


@pytest.mark.parametrize("argv", [["--version"], ["--help"]])
def test_version_and_command_list_load_neither_torch_nor_amaranth(argv):
    code = ("import sys\nfrom ecg_alq.cli import main\ntry:\n    main(%r)\nexcept SystemExit:\n"
            "    pass\nheavy = sorted(m for m in ('torch', 'amaranth', 'numpy') if m in sys.modules)\n"
            "print(heavy)\nsys.exit(1 if heavy else 0)\n") % (argv,)
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_unknown_command_is_an_argparse_error(capsys):
    with pytest.raises(SystemExit) as stop:
        main(["no-such-command"])
    assert stop.value.code == 2 and "invalid choice" in capsys.readouterr().err
