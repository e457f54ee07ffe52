"""Stage records of the flow: each finished stage leaves ``<folder>/stage.json`` holding the
fingerprint of its inputs and its result; a later run with the same fingerprint reuses it.

The fingerprint of a stage is its key in the one scheme of :mod:`ecg_alq.cachekey`: its
settings, the fingerprints or content hashes of what it reads, the code of the modules that make
its output (by meaning: docstrings and comments do not count) and, for the board build, the
tools' versions."""

from __future__ import annotations

import hashlib
import json
import time
from pathlib import Path

from ecg_alq import atomic, cachekey
from ecg_alq.data.integrity import sha256

RECORD = "stage.json"


def fingerprint(inputs: dict) -> str:
    """SHA-256 (hex) of a stage's ``inputs`` (:func:`ecg_alq.cachekey.key`)."""
    return cachekey.key(inputs)


file_sha256 = sha256  #: SHA-256 (hex) of a file's content


def tree_listing(root: Path) -> str:
    """SHA-256 of every file's relative path, size and modification time under ``root``: a cheap
    key that changes when any file is replaced, grown or touched (the content is checked by the
    data stage itself)."""
    h = hashlib.sha256()
    for p in sorted(root.rglob("*")):
        if p.is_file():
            st = p.stat()
            h.update(f"{p.relative_to(root)}\0{st.st_size}\0{st.st_mtime_ns}\n".encode())
    return h.hexdigest()


def load(folder: Path, key: str) -> dict | None:
    """The record in ``folder`` if it was made from inputs with fingerprint ``key``."""
    path = folder / RECORD
    if not path.exists():
        return None
    try:
        record = json.loads(path.read_text())
    except json.JSONDecodeError:
        return None  # a damaged record is recomputed
    return record if record.get("key") == key else None


def store(folder: Path, name: str, key: str, inputs: dict, result: dict, seconds: float) -> dict:
    """Write the record last (atomically): a stage that stopped half-way leaves none."""
    record = {"stage": name, "key": key, "inputs": inputs, "result": result,
              "seconds": round(seconds, 1), "finished": time.strftime("%Y-%m-%d %H:%M:%S")}
    atomic.write_json(folder / RECORD, json.loads(json.dumps(record, default=cachekey.plain)))
    return record
