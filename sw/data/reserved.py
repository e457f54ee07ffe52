"""Reserved windows (``<root>/reserved_windows.csv``): 10-s MLII windows of the MIT-BIH records
kept for an external check of the shipped model.

No sample of a reserved window may be trained on (a shifted or re-cut training window that
overlaps one by a single sample included), used for validation, calibration, model selection or
early stopping, or appear in a reported figure. Every protocol (:mod:`ecg_alq.data.splits`,
:mod:`ecg_alq.data.pool`) removes them before anything else (:func:`ecg_alq.data.database.load_database` marks every start
whose window would touch one).
"""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np

from ecg_alq.data.fragments import FRAGMENT_LENGTH
from ecg_alq.data.root import require, resolve_data_root
from ecg_alq.errors import EcgAlqError

FILE = "reserved_windows.csv"
COLUMNS = ("record", "start_sample", "length")


def load_reserved(root: str | Path | None = None, records: dict[str, int] | None = None) -> dict[str, np.ndarray]:
    """Record name -> int64 sorted start samples of its reserved windows (each 3600 samples).

    ``records``: record name -> signal length, to check that every window lies in a known record.
    A missing file, a missing column, a non-integer field, a length other than 3600 or a window
    outside its record is a clear :class:`EcgAlqError` naming the file and the row.
    """
    path = require(resolve_data_root(root), FILE, "list of reserved windows")
    out: dict[str, list[int]] = {}
    try:
        with open(path, newline="", encoding="utf-8") as f:
            reader = csv.DictReader(f)
            missing = [c for c in COLUMNS if c not in (reader.fieldnames or [])]
            if missing:
                raise EcgAlqError(f"{path}: missing column(s) {', '.join(missing)} "
                                  f"(expected {','.join(COLUMNS)})")
            for line, row in enumerate(reader, start=2):
                out.setdefault(_record_name(row, path, line), []).append(
                    _start(row, path, line, records))
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        raise EcgAlqError(f"{path} cannot be read: {exc}") from None
    if not out:
        raise EcgAlqError(f"{path} lists no reserved window")
    return {r: np.unique(np.array(s, dtype=np.int64)) for r, s in out.items()}


def _record_name(row: dict, path: Path, line: int) -> str:
    name = (row.get("record") or "").strip()
    if not name.isdigit():
        raise EcgAlqError(f"{path} line {line}: record {name!r} is not a record number")
    return name


def _start(row: dict, path: Path, line: int, records: dict[str, int] | None) -> int:
    try:
        start, length = int(row["start_sample"]), int(row["length"])
    except (TypeError, ValueError):
        raise EcgAlqError(f"{path} line {line}: start_sample and length must be integers, got "
                          f"{row.get('start_sample')!r}, {row.get('length')!r}") from None
    if length != FRAGMENT_LENGTH or start < 0:
        raise EcgAlqError(f"{path} line {line}: a window of {length} samples from {start}; "
                          f"expected {FRAGMENT_LENGTH} samples from a start >= 0")
    name = row["record"].strip()
    if records is not None:
        if name not in records:
            raise EcgAlqError(f"{path} line {line}: record {name} is not an MLII record of the data")
        if start + length > records[name]:
            raise EcgAlqError(f"{path} line {line}: window {start}..{start + length} runs past the "
                              f"end of record {name} ({records[name]} samples)")
    return start
