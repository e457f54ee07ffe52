"""The compiler wrapper that keeps Verilator's runtime objects between builds: a runtime file
compiles once, comes back byte-identical from the cache, a design file always compiles, and an
object that depends on a file of the build folder is never shared."""

from __future__ import annotations

import os
import shutil
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from ecg_alq import verilator_objects as vo

pytestmark = pytest.mark.skipif(shutil.which("g++") is None, reason="needs g++")


@pytest.fixture
def setup(tmp_path, monkeypatch):
    """A fake runtime folder ``include/``, a build folder, a logging compiler, a private cache."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    monkeypatch.delenv(vo.OFF_ENV, raising=False)
    include, build = tmp_path / "include", tmp_path / "build"
    include.mkdir()
    build.mkdir()
    (include / "rt.h").write_text("int rt(void);\n")
    (include / "rt.cpp").write_text('#include "rt.h"\nint rt(void) { return 42; }\n')
    log = tmp_path / "calls.log"
    cxx = tmp_path / "cxx"
    cxx.write_text(f'#!/bin/sh\necho "$@" >> {log}\nexec g++ "$@"\n')
    cxx.chmod(cxx.stat().st_mode | stat.S_IEXEC)
    monkeypatch.chdir(build)
    return include, build, str(cxx), log


def _compile(cxx, source: Path, out: str, *extra) -> int:
    return vo.compile_cached([cxx, *extra, "-MMD", "-c", "-o", out, str(source)])


def test_a_runtime_object_compiles_once_then_comes_from_the_cache(setup):
    include, build, cxx, log = setup
    assert _compile(cxx, include / "rt.cpp", "rt.o") == 0
    first = (build / "rt.o").read_bytes()
    (build / "rt.o").unlink()
    (build / "rt.d").unlink()
    assert _compile(cxx, include / "rt.cpp", "rt.o") == 0
    assert (build / "rt.o").read_bytes() == first and (build / "rt.d").exists()
    assert len(log.read_text().splitlines()) == 1  # the second one never ran the compiler
    assert _compile(cxx, include / "rt.cpp", "rt.o", "-O1") == 0  # other flags: other key
    (include / "rt.cpp").write_text('#include "rt.h"\nint rt(void) { return 7; }\n')
    assert _compile(cxx, include / "rt.cpp", "rt.o") == 0  # other source: other key
    assert len(log.read_text().splitlines()) == 3


def test_design_files_and_build_folder_headers_always_compile(setup, monkeypatch):
    include, build, cxx, log = setup
    (build / "top.cpp").write_text("int top(void) { return 1; }\n")
    (include / "uses_local.cpp").write_text('#include "local.h"\nint f(void) { return L; }\n')
    (build / "local.h").write_text("#define L 3\n")
    for _ in range(2):
        assert _compile(cxx, build / "top.cpp", "top.o") == 0
        assert _compile(cxx, include / "uses_local.cpp", "u.o", "-I.") == 0
    assert len(log.read_text().splitlines()) == 4
    monkeypatch.setenv(vo.OFF_ENV, "off")
    for _ in range(2):
        assert _compile(cxx, include / "rt.cpp", "rt.o") == 0
    assert len(log.read_text().splitlines()) == 6
    assert not vo.cache_folder().exists() or not any(vo.cache_folder().iterdir())


def test_a_failed_compilation_fails_and_stores_nothing(setup):
    include, build, cxx, log = setup
    (include / "bad.cpp").write_text("int bad(void) { return }\n")
    assert _compile(cxx, include / "bad.cpp", "bad.o") != 0
    assert not vo.cache_folder().exists() or not any(vo.cache_folder().iterdir())


def test_a_damaged_entry_is_compiled_again(setup):
    include, build, cxx, log = setup
    assert _compile(cxx, include / "rt.cpp", "rt.o") == 0
    for entry in vo.cache_folder().iterdir():
        (entry / "depend.d").unlink()
    assert _compile(cxx, include / "rt.cpp", "rt.o") == 0
    assert len(log.read_text().splitlines()) == 2 and (build / "rt.o").exists()


def test_verilator_builds_use_the_wrapper(monkeypatch):
    from ecg_alq.verilator import prepare_environment

    for name in ("PATH", "MAKEFLAGS"):  # restored after the test
        monkeypatch.setenv(name, os.environ.get(name, ""))
    monkeypatch.setenv("OBJCACHE", "")
    monkeypatch.delenv("OBJCACHE")
    prepare_environment()
    assert "verilator_objects.py" in os.environ["OBJCACHE"]
    out = subprocess.run([sys.executable, vo.__file__, "true"], capture_output=True)
    assert out.returncode == 0  # a command that is not a compilation passes through
