"""Every command checks its outputs before any work (issue 17): a folder where a file belongs, a
file where a folder belongs, a path under a file, a symbolic link, a FIFO or an input as the
output each give exit status 2 and one line of error, and nothing is written or changed."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import numpy as np
import pytest

from ecg_alq import atomic
from ecg_alq.cli import main
from ecg_alq.errors import OutputError
from ecg_alq.intmodel.shipped import default_model_path

#: command line before the output option, with {x} (a raw .npy) and {model} (an integer model)
FILE_COMMANDS = {
    "predict": (["predict", "--input", "{x}", "--model", "{model}", "--output"], "{x}"),
    "dump": (["dump", "--input", "{x}", "--model", "{model}", "--out"], "{x}"),
    "export": (["export", "--checkpoint", "{model}", "--out"], "{model}"),
    "board classify": (["board", "classify", "--port", "/dev/null-port", "--input", "{x}",
                        "--model", "{model}", "--out"], "{x}"),
}
FOLDER_COMMANDS = {
    "train": ["train", "--out"],
    "crossval": ["crossval", "--out"],
    "quantize": ["quantize", "--checkpoint", "{model}", "--out"],
    "baseline": ["baseline", "--checkpoint", "{model}", "--out"],
    "classify-record": ["classify-record", "100", "--out"],
    "data splits": ["data", "splits", "--out"],
    "hw verilog": ["hw", "verilog", "--out"],
    "sim": ["sim", "--out"],
    "build": ["build", "--board", "icebreaker", "--out"],
    "dse": ["dse", "--out"],
    "flow": ["flow", "--out"],
}


def _snapshot(root: Path) -> dict:
    """Every path below ``root`` with its kind and, for files, content hash."""
    out = {}
    for p in sorted(root.rglob("*")):
        if p.is_symlink() or not p.is_file():
            out[str(p)] = "link" if p.is_symlink() else "dir" if p.is_dir() else "other"
        else:
            out[str(p)] = hashlib.sha256(p.read_bytes()).hexdigest()
    return out


@pytest.fixture
def place(tmp_path):
    x = tmp_path / "x.npy"
    np.save(x, np.zeros((2, 3600), dtype=np.int16))
    model = tmp_path / "model.npz"
    model.write_bytes(default_model_path().read_bytes())
    (tmp_path / "a_file").write_text("not a folder\n")
    (tmp_path / "a_folder").mkdir()
    (tmp_path / "a_link").symlink_to(tmp_path / "target.csv")
    os.mkfifo(tmp_path / "a_fifo")
    return tmp_path, {"x": str(x), "model": str(model)}


def _run_refused(argv: list[str], root: Path, capsys, expect: str) -> None:
    before = _snapshot(root)
    assert main(argv) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("ecg-alq: error:") and "\n" not in err and expect in err, err
    assert "Traceback" not in err
    assert _snapshot(root) == before, "something was written or changed"


@pytest.mark.parametrize("name", list(FILE_COMMANDS))
@pytest.mark.parametrize("case", ["folder", "under a file", "symbolic link", "FIFO", "input"])
def test_file_outputs_are_checked_before_any_work(place, capsys, name, case):
    root, paths = place
    head, source = FILE_COMMANDS[name]
    output, expect = {
        "folder": (root / "a_folder", "is a folder"),
        "under a file": (root / "a_file" / "out.csv", "is a file, not a folder"),
        "symbolic link": (root / "a_link", "symbolic link"),
        "FIFO": (root / "a_fifo", "FIFO"),
        "input": (source.format(**paths), "is also an input"),
    }[case]
    argv = [a.format(**paths) for a in head] + [str(output)]
    _run_refused(argv, root, capsys, expect)


def test_the_model_is_an_input_too(place, capsys):
    root, paths = place
    argv = ["predict", "--input", paths["x"], "--model", paths["model"], "--output",
            paths["model"]]
    _run_refused(argv, root, capsys, "is also an input")


@pytest.mark.parametrize("name", list(FOLDER_COMMANDS))
@pytest.mark.parametrize("case", ["file", "under a file"])
def test_folder_outputs_are_checked_before_any_work(place, capsys, name, case):
    root, paths = place
    output, expect = {"file": (root / "a_file", "is a file, not a folder"),
                      "under a file": (root / "a_file" / "run", "is a file, not a folder")}[case]
    argv = [a.format(**paths) for a in FOLDER_COMMANDS[name]] + [str(output)]
    _run_refused(argv, root, capsys, expect)


def test_atomic_writes_replace_only_regular_files(tmp_path):
    os.mkfifo(tmp_path / "fifo")
    (tmp_path / "link").symlink_to(tmp_path / "elsewhere")
    (tmp_path / "folder").mkdir()
    (tmp_path / "file").write_text("x")
    for name in ("fifo", "link", "folder"):
        with pytest.raises(OutputError, match="refusing to replace it"):
            atomic.write_text(tmp_path / name, "new")
    with pytest.raises(OutputError, match="is a file, not a folder"):
        atomic.write_text(tmp_path / "file" / "inner.txt", "new")
    assert (tmp_path / "fifo").is_fifo() and (tmp_path / "link").is_symlink()
    atomic.write_text(tmp_path / "file", "new")
    assert (tmp_path / "file").read_text() == "new"


def test_build_refuses_a_zero_clock(place, capsys):
    root, _ = place
    _run_refused(["build", "--board", "icebreaker", "--clock-mhz", "0", "--out",
                  str(root / "b")], root, capsys, "--clock-mhz must be a positive frequency")


def test_an_interrupted_hw_verilog_never_leaves_a_mismatched_pair(tmp_path, monkeypatch):
    """The summary names the SHA-256 of its Verilog; a second run cut between the Verilog and
    the summary leaves the new Verilog alone, not beside the old summary."""
    import json

    from ecg_alq.hw import generate as gen
    from ecg_alq.hw.params import HwParams

    out = tmp_path / "v"
    gen.generate(None, HwParams(pe=2, simd=8), out, check=False)
    v = out / f"{gen.TOP}.v"
    first = json.loads((out / "summary.json").read_text())
    assert first["verilog_sha256"] == hashlib.sha256(v.read_bytes()).hexdigest()

    def cut(*_):
        raise KeyboardInterrupt
    monkeypatch.setattr(gen, "write_json", cut)
    with pytest.raises(KeyboardInterrupt):
        gen.generate(None, HwParams(pe=4, simd=8), out, check=False)
    summary = out / "summary.json"
    assert not summary.exists() or json.loads(summary.read_text())["verilog_sha256"] == \
        hashlib.sha256(v.read_bytes()).hexdigest()


def test_a_run_folder_has_one_writer(tmp_path, capsys):
    """A second process writing into a run folder is refused, naming the first; the lock goes
    with the first process; an early error leaves no empty folder behind."""
    import subprocess
    import sys
    import time

    from ecg_alq.outputs import LOCK_NAME, run_folder

    out = tmp_path / "run"
    holder = subprocess.Popen(
        [sys.executable, "-c", "import sys, time\nfrom ecg_alq.outputs import run_folder\n"
         f"with run_folder({str(out)!r}):\n    print('in', flush=True)\n    time.sleep(60)"],
        stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "in"
        assert main(["train", "--out", str(out), "--epochs", "1"]) == 2
        err = capsys.readouterr().err
        assert f"ecg-alq process {holder.pid}" in err and "being written" in err, err
        assert sorted(p.name for p in out.iterdir()) == [LOCK_NAME]
    finally:
        holder.kill()
        holder.wait()
    time.sleep(0.1)
    with run_folder(out):  # free again once the holder is gone
        pass
    with pytest.raises(RuntimeError):
        with run_folder(tmp_path / "early"):
            raise RuntimeError("an error before anything was written")
    assert not (tmp_path / "early").exists()
