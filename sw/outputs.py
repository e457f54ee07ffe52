"""Output paths checked before any work: one discipline for every command.

A command resolves its outputs first, with :func:`output_file` or :func:`output_folder`, and
gets one clear :class:`OutputError` (nothing computed, nothing written) when an output

* is a directory where a file is expected, or a file where a folder is expected;
* lies under a path whose existing part is a file (``out.csv/x``);
* exists but is not a regular file: a symbolic link, a FIFO, a device or a socket (an atomic
  write renames over its target, which would replace the node itself; see :mod:`atomic`);
* is one of the command's inputs (``--output`` equal to ``--input`` or ``--model``).
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

from ecg_alq.errors import OutputError


def _kind(path: Path) -> str | None:
    """What is at ``path`` without following a link: None (nothing), "file", "folder",
    "symbolic link", "FIFO", "device" or "socket"."""
    try:
        mode = path.lstat().st_mode
    except FileNotFoundError:
        return None
    except NotADirectoryError:  # a parent is a file: reported by _check_parents
        return None
    if stat.S_ISLNK(mode):
        return "symbolic link"
    if stat.S_ISDIR(mode):
        return "folder"
    if stat.S_ISREG(mode):
        return "file"
    if stat.S_ISFIFO(mode):
        return "FIFO"
    if stat.S_ISSOCK(mode):
        return "socket"
    return "device"


def _check_parents(path: Path, what: str) -> None:
    """The nearest existing ancestor of ``path`` must be a folder we may write into."""
    for parent in path.absolute().parents:
        kind = _kind(parent)
        if kind is None:
            continue
        if kind == "symbolic link" and parent.is_dir():
            kind = "folder"
        if kind != "folder":
            raise OutputError(f"{what} {path}: {parent} is a {kind}, not a folder")
        if not os.access(parent, os.W_OK | os.X_OK):
            raise OutputError(f"{what} {path}: cannot write into the folder {parent}")
        return


def _same(a: Path, b) -> bool:
    try:
        return b is not None and Path(b).exists() and os.path.samefile(a, b)
    except OSError:
        return False


def output_file(path, *inputs, what: str = "output") -> Path:
    """``path`` as a file to write (created or replaced whole), checked against the rules above;
    ``inputs``: the command's input files (None entries are skipped)."""
    path = Path(path)
    kind = _kind(path)
    if kind == "folder":
        raise OutputError(f"{what} {path} is a folder: give a file name")
    if kind not in (None, "file"):
        raise OutputError(f"{what} {path} is a {kind}, not a regular file: give another path")
    _check_parents(path, what)
    for source in inputs:
        if kind == "file" and _same(path, source):
            raise OutputError(f"{what} {path} is also an input ({source}): writing it would "
                              f"destroy the input; give another path")
    return path


def output_folder(path, what: str = "output folder") -> Path:
    """``path`` as a folder to create or write into, checked against the rules above."""
    path = Path(path)
    kind = _kind(path)
    if kind == "symbolic link" and path.is_dir():
        kind = "folder"
    if kind not in (None, "folder"):
        raise OutputError(f"{what} {path} is a {kind}, not a folder")
    _check_parents(path, what)
    return path
