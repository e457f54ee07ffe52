"""Atomic file output: write to a temporary file beside the target, then rename over it.

A reader (or a resumed job) therefore sees either the old complete file or the new complete file,
never a half-written one. Only a regular file is ever replaced: a rename would put a file in
place of a symbolic link, a FIFO or a device node, so such a target is refused.
"""

from __future__ import annotations

import contextlib
import json
import os
import stat
import uuid
from pathlib import Path
from typing import Any, Iterator

from ecg_alq.errors import OutputError


@contextlib.contextmanager
def atomic_path(target: str | os.PathLike) -> Iterator[Path]:
    """Yield a temporary path in the target's folder; on success rename it to ``target``.

    On an exception the temporary file is removed and ``target`` is left untouched.
    """
    target = Path(target)
    try:
        mode = target.lstat().st_mode
    except (FileNotFoundError, NotADirectoryError):
        mode = None
    if mode is not None and not stat.S_ISREG(mode):
        what = "a folder" if stat.S_ISDIR(mode) else "a symbolic link" if stat.S_ISLNK(mode) \
            else "not a regular file"
        raise OutputError(f"{target} is {what}: refusing to replace it; give another path")
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
    except (FileExistsError, NotADirectoryError):
        raise OutputError(f"{target}: a part of its folder path is a file, not a folder") from None
    # a unique name in the same folder (so the rename is atomic); created later by the caller,
    # with the usual permissions
    tmp_path = target.with_name(f".{target.name}.{os.getpid()}.{uuid.uuid4().hex[:8]}.tmp")
    try:
        yield tmp_path
        os.replace(tmp_path, target)
    finally:
        if tmp_path.exists():
            tmp_path.unlink()


def write_text(target: str | os.PathLike, text: str) -> None:
    """Write ``text`` (UTF-8) to ``target`` atomically."""
    with atomic_path(target) as tmp:
        tmp.write_text(text, encoding="utf-8")


def write_json(target: str | os.PathLike, obj: Any) -> None:
    """Write ``obj`` as indented JSON to ``target`` atomically."""
    write_text(target, json.dumps(obj, indent=2, sort_keys=False) + "\n")
