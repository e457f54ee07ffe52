"""The data files a command reads are checked against ``SHA256SUMS`` without being asked.

Every reader of the data (records, annotations, fragments, the fragment index) calls
:func:`check_files` with the files it is about to read. A file whose SHA-256 differs from the
data root's ``SHA256SUMS`` is refused with a message naming it and pointing at
``ecg-alq data verify``. A file that passed is remembered by its path, size and modification
time (in this process and in ``$XDG_CACHE_HOME/ecg-alq/checksums.json``, else
``~/.cache/ecg-alq/``), so the check costs nothing the second time; a file that is changed in
place gets a new modification time and is hashed again (a change that keeps both the size and
the modification time, such as ``cp -p`` of another file of the same size or bit rot, is
found by ``ecg-alq data verify``, which always hashes). A data folder without ``SHA256SUMS``
is refused.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

from ecg_alq.atomic import write_json
from ecg_alq.errors import EcgAlqError, OutputError

SUMS = "SHA256SUMS"  #: the checksum list at the data root (paths relative to it)
_expected: dict[tuple, dict[str, str]] = {}  # (root, list's size, mtime) -> path -> digest
_passed: dict[str, list] = {}  # absolute path -> [size, mtime_ns, digest] of a file that passed
_loaded = False


def cache_file() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "ecg-alq" / "checksums.json"


def sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def _sums(root: Path) -> dict[str, str]:
    """The checksum list of ``root`` (read again when it changed)."""
    path = root / SUMS
    if not path.is_file():
        raise EcgAlqError(f"the data folder {root} has no {SUMS}: its files cannot be "
                          f"checked (see the data folder's README)")
    st = path.stat()
    key = (root, st.st_size, st.st_mtime_ns)
    if key not in _expected:
        table = {}
        for line in path.read_text(encoding="utf-8").splitlines():
            digest, _, rel = line.strip().partition(" ")
            if rel:
                table[rel.lstrip(" *")] = digest
        _expected[key] = table
    return _expected[key]


def _load_passed() -> None:
    global _loaded
    if not _loaded:
        _loaded = True
        try:
            cached = json.loads(cache_file().read_text())
        except (OSError, ValueError):
            cached = None  # no cache yet, or a damaged one: everything is hashed again
        if isinstance(cached, dict):
            _passed.update(cached)


def check_files(root: Path, paths) -> None:
    """Refuse the first of ``paths`` (files under the data root ``root``) whose content does not
    match ``SHA256SUMS``; files the list does not name are not checked."""
    _load_passed()
    sums, new = _sums(root), False
    for path in paths:
        path = Path(path)
        rel = path.relative_to(root).as_posix()
        want = sums.get(rel)
        if want is None:
            continue
        st = path.stat()
        key = str(path.absolute())
        if _passed.get(key) == [st.st_size, st.st_mtime_ns, want]:
            continue
        if sha256(path) != want:
            raise EcgAlqError(f"{path} does not match its checksum in {root / SUMS}: the file is "
                              f"damaged or was changed. Run `ecg-alq data verify` and restore "
                              f"the data folder")
        _passed[key], new = [st.st_size, st.st_mtime_ns, want], True
    if new:
        try:
            write_json(cache_file(), _passed)
        except (OSError, OutputError):
            pass  # an unwritable cache only costs time
