"""The main job, ``ecg-alq flow``: every stage on a brief real run (training, ALQ, golden model,
Verilog, Verilator), its cache, running stages alone, and the report. The board build is left
out here (minutes); ``tests/test_board_build.py`` builds bitstreams, including the clock
relaxation the flow's build stage uses."""

from __future__ import annotations

import json
import time

import pytest

from ecg_alq.cli import main
from ecg_alq.errors import EcgAlqError
from ecg_alq.flow import Background, plan

QUICK = ["flow", "--quick", "--epochs", "1", "--limit", "32", "--no-progress", "--skip", "build"]


@pytest.mark.slow
def test_quick_flow_runs_every_stage_reuses_them_and_writes_the_report(tmp_path, capsys):
    args = QUICK + ["--out", str(tmp_path)]
    assert main(args) == 0
    out = capsys.readouterr().out
    for stage in ("data", "train", "quantize", "golden", "verilog", "sim", "report"):
        assert f"] {stage}: " in out
    assert "data root:" in out and "0 mismatch(es)" in out
    flow = json.loads((tmp_path / "flow.json").read_text())["stages"]
    assert set(flow) == {"data", "train", "quantize", "golden", "verilog", "sim", "report"}
    sim = json.loads((tmp_path / "sim" / flow["sim"]["key"][:12] / "stage.json").read_text())
    assert sim["result"]["bit_exact"] and sim["result"]["fragments"] == 2  # --quick: 2
    report = (tmp_path / "report" / "report.md").read_text()
    for figure in ("learning_curves", "layer_bits", "bits_trajectory", "accuracy_vs_memory",
                   "confusion_matrix", "cycles_per_layer"):
        assert f"figures/{figure}.png" in report
        assert (tmp_path / "report" / "figures" / f"{figure}.png").stat().st_size > 5000
    assert "bit-exact" in report and "| build | not run |" in report
    html = (tmp_path / "report" / "report.html").read_text()
    assert html.count("data:image/png;base64,") == 6 and "figures/" not in html

    models = [tmp_path / "train" / flow["train"]["key"][:12] / "model.pt",
              tmp_path / "golden" / flow["golden"]["key"][:12] / "model.npz"]
    mtimes = [m.stat().st_mtime_ns for m in models]
    assert main(args) == 0  # everything reused
    out = capsys.readouterr().out
    assert out.count(": reused (") == 6
    assert [m.stat().st_mtime_ns for m in models] == mtimes

    # forced: the stage runs again from scratch, what it needs is reused
    chunk = tmp_path / "sim" / flow["sim"]["key"][:12] / "chunk-0" / "chunk.json"
    before = chunk.stat().st_mtime_ns
    assert main(args + ["--stages", "sim", "--force", "sim"]) == 0
    out = capsys.readouterr().out
    assert "] golden: reused" in out and "] sim: simulate" in out
    assert chunk.stat().st_mtime_ns != before

    # one stage alone, with another setting: what it needs is reused, it runs anew
    assert main(QUICK + ["--out", str(tmp_path), "--stages", "quantize", "--target-bits",
                         "1.0"]) == 0
    out = capsys.readouterr().out
    assert "] train: reused" in out and "] quantize: ALQ" in out and "] sim" not in out
    assert len(list((tmp_path / "quantize").iterdir())) == 2  # both settings kept


def test_stage_plan_adds_what_a_stage_needs_and_refuses_what_cannot_be():
    assert plan(["sim"]) == ["data", "train", "quantize", "golden", "verilog", "sim"]
    assert plan(None, ["build"])[-2:] == ["sim", "report"]
    with pytest.raises(EcgAlqError, match="unknown stage 'synth'"):
        plan(["synth"])
    with pytest.raises(EcgAlqError, match="stage golden needs quantize, which was skipped"):
        plan(["golden"], ["quantize"])


def test_background_process_returns_results_and_errors():
    from ecg_alq.boards.top import board
    from ecg_alq.flow.cache import fingerprint

    lines = []
    assert Background(fingerprint, ({"a": 1},), "job", lines.append).result() == \
        fingerprint({"a": 1})
    with pytest.raises(EcgAlqError, match="unknown board 'nope'"):
        Background(board, ("nope",), "job", lines.append).result()
    job = Background(time.sleep, (120,), "job", lines.append)
    job.stop()  # at once, while the process is still starting
    assert not job.process.is_alive()


def test_flow_reports_missing_data_and_bad_options(tmp_path, capsys):
    assert main(["flow", "--data", str(tmp_path / "none"), "--out", str(tmp_path / "o")]) == 2
    assert "ECG data not found (--data option" in capsys.readouterr().err
    assert main(["flow", "--stages", "synth", "--out", str(tmp_path / "o")]) == 2
    assert "unknown stage 'synth'" in capsys.readouterr().err
    assert main(["flow", "--pe", "0", "--out", str(tmp_path / "o")]) == 2
    assert "pe must be an integer in 1..64, got 0" in capsys.readouterr().err
    assert main(["flow", "--board", "ulx3s", "--memory", "spram", "--out", str(tmp_path)]) == 2
    assert "memory style 'spram' needs an iCE40UP5K" in capsys.readouterr().err


def test_code_keys_ignore_docstrings_and_comments_but_not_code(tmp_path, monkeypatch):
    from ecg_alq import cachekey

    pkg = tmp_path / "keyprobe"
    pkg.mkdir()
    (pkg / "__init__.py").write_text('"""A package."""\n')
    mod = pkg / "m.py"
    monkeypatch.syspath_prepend(str(tmp_path))
    mod.write_text('"""Doc."""\n\ndef f(x):\n    """Adds one."""\n    return x + 1\n')
    first = cachekey.code("keyprobe")
    mod.write_text('"""Other words."""\n\ndef f(x):  # a comment\n    """Plus one."""\n'
                   '    return x + 1\n')
    assert cachekey.code("keyprobe") == first
    mod.write_text('"""Doc."""\n\ndef f(x):\n    """Adds one."""\n    return x + 2\n')
    assert cachekey.code("keyprobe") != first
