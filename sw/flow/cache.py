"""Stage records of the flow: each finished stage leaves ``<folder>/stage.json`` holding the
fingerprint of its inputs and its result; a later run with the same fingerprint reuses it.

The fingerprint of a stage is the SHA-256 of its inputs written as canonical JSON: settings,
the fingerprints or file hashes of what it reads, and for the hardware stages the source code of
the packages that generate the hardware (a changed generator means a new design)."""

from __future__ import annotations

import dataclasses
import hashlib
import json
import time
from pathlib import Path

from ecg_alq import atomic

RECORD = "stage.json"


def _plain(v):
    if dataclasses.is_dataclass(v):
        return dataclasses.asdict(v)
    if isinstance(v, Path):
        return str(v)
    raise TypeError(f"a stage input or result cannot hold {type(v).__name__}")


def fingerprint(inputs: dict) -> str:
    """SHA-256 (hex) of ``inputs`` as canonical JSON (sorted keys; dataclasses as dicts)."""
    text = json.dumps(inputs, sort_keys=True, default=_plain, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()


def file_sha256(path: str | Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


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


def source_sha256(*names: str) -> str:
    """SHA-256 of the Python sources of the named packages (every module of the folder) and
    modules (``"ecg_alq.hw"``, ``"ecg_alq.quant.export"``, ...)."""
    import importlib

    h = hashlib.sha256()
    for name in names:
        file = Path(importlib.import_module(name).__file__)
        files = sorted(file.parent.glob("*.py")) if file.name == "__init__.py" else [file]
        for p in files:
            h.update(p.name.encode() + b"\0" + p.read_bytes())
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
    atomic.write_json(folder / RECORD, json.loads(json.dumps(record, default=_plain)))
    return record
