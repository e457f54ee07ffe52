"""Corrupt data is refused without being asked (issue 17, point 5): every command that reads a
record or a fragment checks the files it reads against SHA256SUMS (cached by size and
modification time) and names the damaged file."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from ecg_alq.cli import main

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture
def corrupt_root(tmp_path, data_root):
    """The data folder as links to the real files, but record 100's signal with 300 KB zeroed
    (the same size)."""
    root = tmp_path / "data"
    for p in data_root.rglob("*"):
        q = root / p.relative_to(data_root)
        if p.is_dir():
            q.mkdir(parents=True, exist_ok=True)
        else:
            q.parent.mkdir(parents=True, exist_ok=True)
            q.symlink_to(p)
    dat = root / "mitdb" / "100.dat"
    raw = bytearray(dat.read_bytes())
    raw[1000:301000] = bytes(300000)
    dat.unlink()
    dat.write_bytes(bytes(raw))
    return root


@pytest.mark.parametrize("argv", [
    ["classify-record", "100"],
    ["train", "--windows", "database", "--epochs", "1"],
    ["flow", "--quick"],
])
def test_a_corrupt_record_is_refused_naming_the_file(corrupt_root, tmp_path, capsys, argv):
    assert main(argv + ["--data", str(corrupt_root), "--out", str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err
    assert "100.dat" in err and ("checksum" in err or "SHA256" in err), err
    assert "Traceback" not in err


def test_the_records_benchmark_refuses_a_corrupt_record(corrupt_root, tmp_path):
    proc = subprocess.run([sys.executable, str(REPO / "bench" / "records_bench.py"), "--data",
                           str(corrupt_root), "--out", str(tmp_path / "r"), "--rtl-out",
                           str(tmp_path / "rtl"), "--cv-store", str(tmp_path / "cv")],
                          capture_output=True, text=True, timeout=600)
    assert proc.returncode != 0
    assert "100.dat does not match its checksum" in proc.stdout + proc.stderr, proc.stderr[-2000:]
    assert "Traceback" not in proc.stderr


def test_data_verify_names_a_bad_file_once(corrupt_root, capsys):
    assert main(["data", "verify", "--data", str(corrupt_root)]) == 1
    err = capsys.readouterr().err
    assert err.count("100.dat") == 1, err
