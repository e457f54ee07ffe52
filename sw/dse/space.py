"""The design space of ``ecg-alq dse``: which points to evaluate.

A sweep is the product of model files and hardware choices (boards, ``pe``, ``simd``,
clock per board). Every :class:`Point` has a stable key (:attr:`Point.key`, the scheme of
:mod:`ecg_alq.cachekey`), so a cached result is reused only for exactly the same build.
A sweep file (JSON) holds lists under the same names as the command's options::

    {"models": ["sw/models/default.npz"], "boards": ["ulx3s"], "pe": [2, 4, 8],
     "simd": [4, 8, 16], "clock_mhz": {"ulx3s": 50, "icebreaker": 33}, "alpha_mult": ["dsp"],
     "memory": ["auto"]}

``memory`` defaults to each board's own style (iCEBreaker ``spram``, ULX3S ``auto``).
"""

from __future__ import annotations

import itertools
import json
from dataclasses import asdict, dataclass
from functools import cached_property
from pathlib import Path

from ecg_alq import cachekey
from ecg_alq.errors import EcgAlqError
from ecg_alq.hw.params import HwParams

KNOWN = {"models", "boards", "pe", "simd", "clock_mhz", "alpha_mult", "memory"}
#: the code that makes a point's bitstream (part of its key)
BUILD_CODE = ("ecg_alq.intmodel", "ecg_alq.hw", "ecg_alq.boards")


@dataclass(frozen=True)
class Point:
    model: str  #: path of the integer model file
    board: str
    pe: int
    simd: int
    clock_mhz: float
    alpha_mult: str = "dsp"
    memory: str = "auto"

    @property
    def params(self) -> HwParams:
        return HwParams(pe=self.pe, simd=self.simd, alpha_mult=self.alpha_mult,
                        memory=self.memory)

    @cached_property
    def key(self) -> str:
        """The point's key (:mod:`ecg_alq.cachekey`, as for the flow's build stage): its
        settings, the model's content, the code of the generators and the board tops, and the
        tools' versions: a cached result is reused only for the same build."""
        from ecg_alq.intmodel import load
        from ecg_alq.intmodel.fileio import content_sha256

        settings = asdict(self) | {"model": content_sha256(load(self.model)),
                                   "code": cachekey.code(*BUILD_CODE),
                                   "tools": cachekey.tool_versions()}
        return cachekey.key(settings)[:16]

    @property
    def label(self) -> str:
        style = "" if self.memory == "auto" else f" {self.memory}"
        return (f"{Path(self.model).stem} {self.board} {self.pe}x{self.simd}{style} "
                f"@{self.clock_mhz:g}")


def _list(spec: dict, name: str, kind, default: list) -> list:
    value = spec.get(name)
    if value is None:
        return default
    if not isinstance(value, list) or not value or not all(isinstance(v, kind) and
                                                           not isinstance(v, bool) for v in value):
        raise EcgAlqError(f"sweep field {name!r} must be a non-empty list of "
                          f"{kind.__name__ if isinstance(kind, type) else 'values'}, got {value!r}")
    return value


def expand(spec: dict) -> list[Point]:
    """All points of a sweep specification, validated up front (clear errors naming the
    field, before any point runs: types, files, boards, hardware parameters, clocks)."""
    from ecg_alq.boards.top import BOARDS, board, clock_setting
    from ecg_alq.intmodel.shipped import default_model_path

    unknown = set(spec) - KNOWN
    if unknown:
        raise EcgAlqError(f"unknown sweep fields {sorted(unknown)}; known: {sorted(KNOWN)}")
    models = [str(m) for m in _list(spec, "models", str, [str(default_model_path())])]
    for m in models:
        if not Path(m).is_file():
            raise EcgAlqError(f"sweep model file not found: {m}")
    boards = _list(spec, "boards", str, ["ulx3s"])
    for b in boards:
        if b not in BOARDS:
            raise EcgAlqError(f"unknown board {b!r} in the sweep; known: {', '.join(BOARDS)}")
    clocks = spec.get("clock_mhz") or {}
    if not isinstance(clocks, dict) or not all(isinstance(v, (int, float)) and v > 0
                                               for v in clocks.values()):
        raise EcgAlqError(f"sweep field 'clock_mhz' must map boards to MHz > 0, got {clocks!r}")
    clocks = {b: float(clocks.get(b, BOARDS[b].default_clock_mhz)) for b in boards}
    for b, mhz in clocks.items():
        clock_setting(board(b), mhz * 1e6)  # a clock the PLL cannot make fails here
    points = []
    for model, b, pe, simd, mult in itertools.product(
            models, boards, _list(spec, "pe", int, [4]), _list(spec, "simd", int, [8]),
            _list(spec, "alpha_mult", str, ["dsp"])):
        for memory in _list(spec, "memory", str, [BOARDS[b].default_params.memory]):
            point = Point(model, b, pe, simd, clocks[b], mult, memory)
            point.params.validate()
            points.append(point)
    return points


def load_spec(path: str | Path) -> dict:
    try:
        spec = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:  # JSON and UTF-8 decoding errors are ValueErrors
        raise EcgAlqError(f"cannot read the sweep file {path}: {exc}") from None
    if not isinstance(spec, dict):
        raise EcgAlqError(f"the sweep file {path} must hold a JSON object")
    return spec


def override(spec: dict, models: str | None = None, boards: str | None = None,
             pe: str | None = None, simd: str | None = None, clock_mhz: str | None = None) -> dict:
    """``spec`` with the fields given as command-line text replaced: ``models``, ``boards``,
    ``pe`` and ``simd`` comma-separated, ``clock_mhz`` as ``board=MHz[,board=MHz]``."""
    spec = dict(spec)
    for name, text in (("pe", pe), ("simd", simd)):
        if text:
            try:
                spec[name] = [int(v) for v in text.split(",")]
            except ValueError:
                raise EcgAlqError(f"--{name} takes comma-separated integers, got {text!r}") from None
    for name, text in (("models", models), ("boards", boards)):
        if text:
            spec[name] = text.split(",")
    if clock_mhz:
        try:
            spec["clock_mhz"] = {b: float(f) for b, f in
                                 (item.split("=") for item in clock_mhz.split(","))}
        except ValueError:
            raise EcgAlqError(f"--clock-mhz takes board=MHz[,board=MHz], got {clock_mhz!r}") from None
    return spec
