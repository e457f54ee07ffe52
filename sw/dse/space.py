"""The design space of ``ecg-alq dse``: which points to evaluate.

A sweep is the product of model files and hardware choices (boards, ``pe``, ``simd``,
clock per board). Every :class:`Point` has a stable key: the SHA-256 of its settings and of
the model file's bytes, so a cached result is reused only for exactly the same point.
A sweep file (JSON) holds lists under the same names as the command's options::

    {"models": ["sw/models/default.npz"], "boards": ["ulx3s"], "pe": [2, 4, 8],
     "simd": [4, 8, 16], "clock_mhz": {"ulx3s": 50, "icebreaker": 12}, "alpha_mult": ["dsp"]}
"""

from __future__ import annotations

import hashlib
import itertools
import json
from dataclasses import asdict, dataclass
from pathlib import Path

from ecg_alq.errors import EcgAlqError
from ecg_alq.hw.params import HwParams

DEFAULT_CLOCK_MHZ = {"icebreaker": 12.0, "ulx3s": 50.0}
KNOWN = {"models", "boards", "pe", "simd", "clock_mhz", "alpha_mult"}


@dataclass(frozen=True)
class Point:
    model: str  #: path of the integer model file
    board: str
    pe: int
    simd: int
    clock_mhz: float
    alpha_mult: str = "dsp"

    @property
    def params(self) -> HwParams:
        return HwParams(pe=self.pe, simd=self.simd, alpha_mult=self.alpha_mult)

    @property
    def key(self) -> str:
        model_hash = hashlib.sha256(Path(self.model).read_bytes()).hexdigest()
        settings = asdict(self) | {"model": model_hash}
        return hashlib.sha256(json.dumps(settings, sort_keys=True).encode()).hexdigest()[:16]

    @property
    def label(self) -> str:
        return f"{Path(self.model).stem} {self.board} {self.pe}x{self.simd} @{self.clock_mhz:g}"


def expand(spec: dict) -> list[Point]:
    """All points of a sweep specification, validated up front (clear errors naming the field)."""
    unknown = set(spec) - KNOWN
    if unknown:
        raise EcgAlqError(f"unknown sweep fields {sorted(unknown)}; known: {sorted(KNOWN)}")
    from ecg_alq.boards.top import BOARDS
    from ecg_alq.intmodel.shipped import default_model_path

    models = [str(m) for m in spec.get("models") or [default_model_path()]]
    for m in models:
        if not Path(m).is_file():
            raise EcgAlqError(f"sweep model file not found: {m}")
    boards = spec.get("boards") or ["ulx3s"]
    for b in boards:
        if b not in BOARDS:
            raise EcgAlqError(f"unknown board {b!r} in the sweep; known: {', '.join(BOARDS)}")
    clocks = DEFAULT_CLOCK_MHZ | dict(spec.get("clock_mhz") or {})
    points = []
    for model, board, pe, simd, mult in itertools.product(
            models, boards, spec.get("pe") or [4], spec.get("simd") or [8],
            spec.get("alpha_mult") or ["dsp"]):
        point = Point(model, board, int(pe), int(simd), float(clocks[board]), mult)
        point.params.validate()
        points.append(point)
    if not points:
        raise EcgAlqError("the sweep has no points")
    return points


def load_spec(path: str | Path) -> dict:
    try:
        spec = json.loads(Path(path).read_text())
    except (OSError, json.JSONDecodeError) as exc:
        raise EcgAlqError(f"cannot read the sweep file {path}: {exc}") from None
    if not isinstance(spec, dict):
        raise EcgAlqError(f"the sweep file {path} must hold a JSON object")
    return spec
