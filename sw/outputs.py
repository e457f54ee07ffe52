"""Output paths checked before any work: one discipline for every command.

A command resolves its outputs first, with :func:`output_file` or :func:`output_folder`, and
gets one clear :class:`OutputError` (nothing computed, nothing written) when an output

* is a directory where a file is expected, or a file where a folder is expected;
* lies under a path whose existing part is a file (``out.csv/x``);
* exists but is not a regular file: a symbolic link, a FIFO, a device or a socket (an atomic
  write renames over its target, which would replace the node itself; see :mod:`atomic`);
* is one of the command's inputs (``--output`` equal to ``--input`` or ``--model``).

A run folder has one writer at a time: :func:`run_folder` holds it for a run and refuses a
second process with a message naming the first.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import stat
import time
from collections.abc import Iterator
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


LOCK_NAME = ".ecg-alq.lock"  #: in a run folder while a process writes into it


@contextlib.contextmanager
def run_folder(path, what: str = "run folder") -> Iterator[Path]:
    """Create ``path`` (checked as :func:`output_folder`) and hold it for this process: another
    process entering it meanwhile gets an :class:`OutputError` naming this one. The lock is an
    ``flock`` on ``path/.ecg-alq.lock``, released when the block ends or the process dies, so a
    killed run leaves no stale lock."""
    path = output_folder(path, what)
    created = not path.exists()
    path.mkdir(parents=True, exist_ok=True)
    fd = os.open(path / LOCK_NAME, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        holder = os.pread(fd, 200, 0).decode(errors="replace").strip() or "another process"
        os.close(fd)
        raise OutputError(f"{what} {path} is being written by {holder}: wait for it to finish "
                          f"or give another folder") from None
    except OSError as exc:  # e.g. a file system without locks
        os.close(fd)
        raise OutputError(f"{what} {path} cannot be locked for writing: {exc}") from None
    os.ftruncate(fd, 0)
    os.pwrite(fd, f"ecg-alq process {os.getpid()} (since "
                  f"{time.strftime('%Y-%m-%d %H:%M:%S')})".encode(), 0)
    try:
        yield path
    finally:
        if created and [p.name for p in path.iterdir()] == [LOCK_NAME]:  # nothing was written:
            (path / LOCK_NAME).unlink()  # removed while still held, so nobody else is inside
            path.rmdir()
        os.close(fd)  # releases the lock
