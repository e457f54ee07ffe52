"""Pławiak's 1000 ten-second fragments (``<root>/plawiak17``) with labels and duplicate groups.

Every fragment is an exact slice of an MIT-BIH record: 3600 raw ADC samples (360 Hz, 11-bit,
zero at 1024, 200 adu/mV). ``fragments.csv`` says where each one was cut from and which files
hold the same window; those files form one *window group* and must never be split between train
and test.
"""

from __future__ import annotations

import csv
import functools
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import scipy.io

from ecg_alq.classes import CLASSES, NUM_CLASSES
from ecg_alq.data.integrity import check_files
from ecg_alq.data.root import require, resolve_data_root
from ecg_alq.errors import EcgAlqError
from ecg_alq.intmodel.spec import ADC_MAX

FRAGMENT_LENGTH = 3600  #: samples per fragment (10 s at 360 Hz)
SAMPLE_RATE_HZ = 360
ADC_ZERO = 1024
ADC_GAIN_PER_MV = 200
EXPECTED_FRAGMENTS = 1000
EXPECTED_WINDOWS = 989  #: distinct (record, start) windows among the 1000 files

_CSV_COLUMNS = (
    "class_id", "class_name", "file", "record", "start_sample", "end_sample_exclusive",
    "source_lead", "same_window_as",
)


@dataclass(frozen=True, eq=False)
class Fragments:
    """The fragment set, one row per file, all arrays of length N.

    Attributes:
        x: int16 (N, 3600) raw ADC samples.
        class_id: int64 (N,) rhythm class 1..17 (network target is ``class_id - 1``).
        file: (N,) path of the ``.mat`` file relative to ``plawiak17/``.
        record: int64 (N,) MIT-BIH record number.
        start_sample: int64 (N,) first sample of the window in the record.
        lead: (N,) ``"MLII"`` or ``"V1"``.
        window: int64 (N,) window-group id; files with equal id hold the same record window.
    """

    x: np.ndarray
    class_id: np.ndarray
    file: np.ndarray
    record: np.ndarray
    start_sample: np.ndarray
    lead: np.ndarray
    window: np.ndarray

    def __len__(self) -> int:
        return len(self.class_id)

    @property
    def label(self) -> np.ndarray:
        """int64 (N,) network target 0..16."""
        return self.class_id - 1

    def subset(self, index: np.ndarray) -> "Fragments":
        """The rows selected by an integer index array (or boolean mask)."""
        return Fragments(**{k: getattr(self, k)[index] for k in self.__dataclass_fields__})


def _read_index(csv_path: Path) -> list[dict[str, str]]:
    with open(csv_path, newline="", encoding="utf-8") as f:
        reader = csv.DictReader(f)
        missing = [c for c in _CSV_COLUMNS if c not in (reader.fieldnames or [])]
        if missing:
            raise EcgAlqError(f"{csv_path}: missing column(s) {', '.join(missing)}")
        return list(reader)


def _read_mat(path: Path) -> np.ndarray:
    if not path.is_file():
        raise EcgAlqError(f"fragment file is missing: {path}")
    try:
        val = scipy.io.loadmat(path)["val"]
    except Exception as exc:  # scipy raises several types for damaged files
        raise EcgAlqError(f"fragment file {path} cannot be read as MATLAB data: {exc}") from None
    if val.shape != (1, FRAGMENT_LENGTH):
        raise EcgAlqError(f"fragment {path} has shape {val.shape}, expected (1, {FRAGMENT_LENGTH})")
    if val.dtype != np.int16:
        raise EcgAlqError(f"fragment {path} has dtype {val.dtype}, expected int16")
    if val.min() < 0 or val.max() > ADC_MAX:
        raise EcgAlqError(f"fragment {path} holds values outside the 11-bit ADC range 0..{ADC_MAX}")
    return val[0]


def _window_groups(rows: list[dict[str, str]]) -> np.ndarray:
    """Group ids from (record, start_sample), cross-checked against ``same_window_as``."""
    keys = [(int(r["record"]), int(r["start_sample"])) for r in rows]
    ids: dict[tuple[int, int], int] = {}
    window = np.array([ids.setdefault(k, len(ids)) for k in keys], dtype=np.int64)
    by_file = {r["file"]: i for i, r in enumerate(rows)}
    for i, r in enumerate(rows):
        for other in filter(None, r["same_window_as"].replace(";", " ").split()):
            j = by_file.get(other)
            if j is None or window[j] != window[i]:
                raise EcgAlqError(
                    f"fragments.csv is inconsistent: {r['file']} lists {other} as the same window, "
                    "but their record/start_sample differ (or it is not in the index)"
                )
    return window


@functools.lru_cache(maxsize=4)
def _load_cached(root: Path) -> Fragments:
    base = require(root, "plawiak17", "Pławiak fragment folder")
    index = require(root, "plawiak17/fragments.csv", "fragment index")
    check_files(root, [index])
    rows = _read_index(index)
    check_files(root, [base / r["file"] for r in rows if (base / r["file"]).is_file()])
    by_id = {c.id: c for c in CLASSES}
    x = np.empty((len(rows), FRAGMENT_LENGTH), dtype=np.int16)
    for i, r in enumerate(rows):
        cls = by_id.get(int(r["class_id"]))
        if cls is None or cls.name != r["class_name"] or not r["file"].startswith(cls.folder + "/"):
            raise EcgAlqError(
                f"fragments.csv row {i + 2}: class {r['class_id']} {r['class_name']!r} does not "
                f"match the known classes or the folder of {r['file']}"
            )
        x[i] = _read_mat(base / r["file"])
        if int(r["end_sample_exclusive"]) - int(r["start_sample"]) != FRAGMENT_LENGTH:
            raise EcgAlqError(f"fragments.csv row {i + 2}: window is not {FRAGMENT_LENGTH} samples")
    frags = Fragments(
        x=x,
        class_id=np.array([int(r["class_id"]) for r in rows], dtype=np.int64),
        file=np.array([r["file"] for r in rows]),
        record=np.array([int(r["record"]) for r in rows], dtype=np.int64),
        start_sample=np.array([int(r["start_sample"]) for r in rows], dtype=np.int64),
        lead=np.array([r["source_lead"] for r in rows]),
        window=_window_groups(rows),
    )
    frags.x.setflags(write=False)
    return frags


def load_fragments(root: str | Path | None = None) -> Fragments:
    """Load and validate all fragments under the data root (see :func:`resolve_data_root`).

    Checks every file's shape, dtype and value range and the index's consistency; the result is
    cached per root within a process. Counts are checked by :func:`check_counts`.
    """
    return _load_cached(resolve_data_root(root))


def check_counts(frags: Fragments) -> list[str]:
    """Differences from the published data set (1000 files, class counts, 989 windows); [] if none."""
    problems = []
    if len(frags) != EXPECTED_FRAGMENTS:
        problems.append(f"{len(frags)} fragments, expected {EXPECTED_FRAGMENTS}")
    counts = np.bincount(frags.class_id, minlength=NUM_CLASSES + 1)[1:]
    for cls, n in zip(CLASSES, counts):
        if n != cls.count:
            problems.append(f"class {cls.id} {cls.name}: {n} fragments, expected {cls.count}")
    n_windows = len(np.unique(frags.window))
    if n_windows != EXPECTED_WINDOWS:
        problems.append(f"{n_windows} distinct windows, expected {EXPECTED_WINDOWS}")
    return problems
