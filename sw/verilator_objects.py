"""A compiler wrapper that keeps the objects of Verilator's runtime library between builds.

Every Verilator build compiles the same runtime files (``verilated.cpp``, ``verilated_vpi.cpp``,
``verilated_threads.cpp``, ``verilated_dpi.cpp``: about 10 CPU-seconds) before the design's own
few hundred lines. Verilator's makefile runs every compilation as ``$(OBJCACHE) $(CXX) ...``
(the hook meant for ccache, which pip cannot install); :func:`ecg_alq.verilator.prepare_environment`
sets ``OBJCACHE`` to this script. It runs every compilation unchanged, except that an object of a
file in the wheel's ``include`` folder is stored under a key of the whole command line (output name
aside), the source's content and the compiler's identity, and copied back (with its ``.d``
dependency file) when the same key comes again; an object whose dependencies include a file of
the build folder is never stored. The design's own files always compile.

Objects live in ``$XDG_CACHE_HOME/ecg-alq/verilator-objects`` (default ``~/.cache``); set
``ECG_ALQ_OBJECT_CACHE=off`` to compile everything. Run as a script: ``python verilator_objects.py
CXX ARGS...``. Imports nothing of ours (it starts for every compilation).
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
from pathlib import Path

OFF_ENV = "ECG_ALQ_OBJECT_CACHE"


def cache_folder() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "ecg-alq" / "verilator-objects"


def _runtime_source(args: list[str]) -> Path | None:
    """The compiled file when it belongs to Verilator's runtime library (``.../include/``)."""
    if "-c" not in args or "-o" not in args:
        return None
    sources = [Path(a) for a in args if a.endswith(".cpp")]
    if len(sources) != 1 or sources[0].parent.name != "include" or not sources[0].is_file():
        return None
    return sources[0]


def _key(args: list[str], source: Path, compiler: str) -> str:
    """Hash of the command line (the output's folder aside), the source, the runtime's version
    header (a Verilator upgrade in place changes it) and the compiler binary."""
    out = args.index("-o") + 1
    stat = os.stat(compiler)
    h = hashlib.sha256()
    for part in args[:out] + [Path(args[out]).name] + args[out + 1:]:
        h.update(part.encode() + b"\0")
    h.update(f"{os.path.realpath(compiler)}:{stat.st_size}:{stat.st_mtime_ns}".encode())
    h.update(source.read_bytes())
    version = source.parent / "verilated_config.h"
    h.update(version.read_bytes() if version.is_file() else b"")
    return h.hexdigest()[:32]


def _only_installed_headers(dep: Path) -> bool:
    """The dependency file names no file of the build folder (a relative path): the object
    does not depend on the design, so it can be shared between builds."""
    if not dep.is_file():
        return False
    words = dep.read_text().replace("\\\n", " ").split()
    return all(os.path.isabs(w) for w in words if not w.endswith(":"))


def _copy_atomically(src: Path, dst: Path) -> None:
    tmp = dst.with_name(f".{dst.name}.{os.getpid()}.tmp")
    try:
        shutil.copyfile(src, tmp)
        os.replace(tmp, dst)
    finally:
        tmp.unlink(missing_ok=True)


def compile_cached(args: list[str]) -> int:
    """Run the compiler command ``args``, from the cache when it compiles a runtime file."""
    source = None if os.environ.get(OFF_ENV) == "off" else _runtime_source(args)
    compiler = shutil.which(args[0]) if args else None
    if source is None or compiler is None:  # not ours to cache: the command runs as it is
        return subprocess.call(args)
    obj = Path(args[args.index("-o") + 1])
    dep = obj.with_suffix(".d")
    entry = cache_folder() / _key(args, source, compiler)
    if (entry / "object.o").is_file():
        try:
            _copy_atomically(entry / "depend.d", dep)
            _copy_atomically(entry / "object.o", obj)
            return 0
        except OSError:
            pass  # a damaged entry: compile
    code = subprocess.call(args)
    if code == 0 and _only_installed_headers(dep):
        try:
            entry.mkdir(parents=True, exist_ok=True)
            _copy_atomically(dep, entry / "depend.d")
            _copy_atomically(obj, entry / "object.o")  # last: its presence marks a full entry
        except OSError:
            pass  # a read-only or full disk: the build itself succeeded
    return code


if __name__ == "__main__":
    sys.exit(compile_cached(sys.argv[1:]))
