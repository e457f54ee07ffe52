"""Dataclass configs <-> JSON files and command-line options, written once for every config.

Every field of a config dataclass becomes a ``--field-name`` option with the field's default and
type; a ``--config FILE.json`` option loads values first, explicit options win.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import math
import typing
from pathlib import Path
from typing import Any, TypeVar

from ecg_alq.errors import EcgAlqError

C = TypeVar("C")


def parse_folds(text: str) -> list[int]:
    """``"0-9"``, ``"3"`` or ``"0,2,5"`` -> list of fold numbers."""
    try:
        out: list[int] = []
        for part in text.split(","):
            lo, _, hi = part.partition("-")
            out += list(range(int(lo), int(hi or lo) + 1))
        return out
    except ValueError:
        raise argparse.ArgumentTypeError(f"folds must look like 0-9 or 0,3,5, got {text!r}") from None


def common_problems(obj: Any) -> list[str]:
    """Problems every config shares, for its ``validate``: a float setting that is NaN or
    infinite, a ``label_smoothing`` outside [0, 1), a ``weight_decay`` below 0."""
    problems = []
    for f in dataclasses.fields(obj):
        v = getattr(obj, f.name)
        if isinstance(v, float) and not math.isfinite(v):
            problems.append(f"{f.name} must be a finite number, got {v}")
    smoothing = getattr(obj, "label_smoothing", 0.0)
    if _number(smoothing) and not 0 <= smoothing < 1:
        problems.append(f"label_smoothing must be in [0, 1), got {smoothing}")
    decay = getattr(obj, "weight_decay", 0.0)
    if _number(decay) and decay < 0:
        problems.append(f"weight_decay must be >= 0, got {decay}")
    return problems


def _number(v: Any) -> bool:
    """A finite int or float, not a boolean (the others are reported elsewhere)."""
    return isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)


def out_of_range(name: str, value: Any, lo: int, hi: int) -> list[str]:
    """``[message]`` when ``value`` is not an integer in ``lo..hi``, else ``[]`` (for the
    ``validate`` methods that collect problems)."""
    if isinstance(value, int) and not isinstance(value, bool) and lo <= value <= hi:
        return []
    return [f"{name} must be an integer from {lo} to {hi}, got {value!r}"]


def option(default: Any, help: str) -> Any:
    """A dataclass field with a default and the help text its command-line option shows."""
    return dataclasses.field(default=default, metadata={"help": help})


def _field_type(cls: type, field: dataclasses.Field) -> type:
    hint = typing.get_type_hints(cls)[field.name]
    args = [a for a in typing.get_args(hint) if a is not type(None)]
    return args[0] if args else hint


def add_options(parser: argparse.ArgumentParser, cls: type, skip: tuple[str, ...] = (),
                only: tuple[str, ...] = ()) -> None:
    """Add one option per field of dataclass ``cls`` (defaults left as None = not given), all but
    ``skip`` or, with ``only``, just those (then without ``--config``: the parser's first config
    class has it)."""
    if not only:
        parser.add_argument("--config", metavar="FILE.json", help="read settings from a JSON file")
    for f in dataclasses.fields(cls):
        if f.name in skip or (only and f.name not in only):
            continue
        kind = _field_type(cls, f)
        doc = (f.metadata or {}).get("help", "")
        default = f.default if f.default is not dataclasses.MISSING else None
        flag = "--" + f.name.replace("_", "-")
        if kind is bool:
            parser.add_argument(flag, action=argparse.BooleanOptionalAction, default=None,
                                help=f"{doc} (default {default})")
        else:
            parser.add_argument(flag, type=kind, default=None, metavar=kind.__name__.upper(),
                                help=f"{doc} (default {default})")


def from_args(cls: type[C], args: argparse.Namespace, **overrides: Any) -> C:
    """Build ``cls`` from a JSON file (if given), then explicit options, then ``overrides``."""
    values: dict[str, Any] = {}
    if getattr(args, "config", None):
        values.update(load_json(cls, args.config))
    for f in dataclasses.fields(cls):
        given = getattr(args, f.name, None)
        if given is not None:
            values[f.name] = given
    values.update(overrides)
    return make(cls, values)


def make(cls: type[C], values: dict[str, Any]) -> C:
    """``cls(**values)`` with unknown keys and wrong types reported clearly."""
    names = {f.name for f in dataclasses.fields(cls)}
    unknown = sorted(set(values) - names)
    if unknown:
        raise EcgAlqError(f"unknown {cls.__name__} setting(s): {', '.join(unknown)}")
    for f in dataclasses.fields(cls):
        if f.name in values and values[f.name] is not None:
            kind = _field_type(cls, f)
            v = values[f.name]
            if kind is float and isinstance(v, int) and not isinstance(v, bool):
                values[f.name] = float(v)
            elif not isinstance(v, kind) or (kind is int and isinstance(v, bool)):
                raise EcgAlqError(
                    f"{cls.__name__}.{f.name} must be {kind.__name__}, got {v!r}"
                )
    obj = cls(**values)
    check = getattr(obj, "validate", None)
    if check:
        check()
    return obj


def from_record(cls: type[C], recorded: Any, what: str, data: str | None = None) -> C:
    """The ``cls`` config that ``what`` (a model file, a run) recorded as the dict ``recorded``
    (e.g. a model file's ``provenance["training"]``), with the data root ``data`` when given
    (else the recorded one). One error behaviour: a missing record, an unknown setting or a
    wrong type is an :class:`EcgAlqError` naming ``what``."""
    if not isinstance(recorded, dict):
        raise EcgAlqError(f"{what} records no {cls.__name__} settings")
    values = dict(recorded) | ({"data": data} if data is not None else {})
    try:
        return make(cls, values)
    except EcgAlqError as exc:
        raise EcgAlqError(f"{what}: its recorded settings do not fit this ecg-alq ({exc})") from None


def load_json(cls: type, path: str | Path) -> dict[str, Any]:
    try:
        values = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise EcgAlqError(f"config file {path} cannot be read: {exc}") from None
    if not isinstance(values, dict):
        raise EcgAlqError(f"config file {path} must hold a JSON object")
    return values
