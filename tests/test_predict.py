"""``ecg-alq predict`` and ``predict()``: real fragments in, CSV out; bad input gets one message."""

from __future__ import annotations

import csv
import subprocess
import sys

import numpy as np
import pytest

from ecg_alq.classes import CLASS_NAMES
from ecg_alq.cli import main
from ecg_alq.predict import predict


def test_predict_command_writes_the_csv(trained_model, frags, tmp_path, capsys):
    x = frags.x[::50]  # 20 real fragments
    np.save(tmp_path / "x.npy", x)
    out = tmp_path / "y.csv"
    assert main(["predict", "--model", str(trained_model), "--input", str(tmp_path / "x.npy"),
                 "--output", str(out)]) == 0
    rows = list(csv.reader(out.open()))
    assert rows[0] == ["index", "class_id", "class_name"]
    assert len(rows) == 21
    ids = predict(trained_model, x)
    for i, (idx, cid, name) in enumerate(rows[1:]):
        assert int(idx) == i and int(cid) == ids[i] and name == CLASS_NAMES[ids[i] - 1]
    assert "classified 20 fragment(s)" in capsys.readouterr().out


def _bad_inputs(frags):
    good = frags.x[:3]
    nan = good.astype(np.float64)
    nan[0, 5] = np.nan
    high = good.copy()
    high[1, 7] = 3000
    return {
        "float-with-nan": (nan, "dtype is float64, expected int16.*1 NaN"),
        "int32 out of range": (high.astype(np.int32) * 2, "outside the 11-bit ADC range"),
        "two-dimensional single": (good[0][None, :3000], r"shape is \(1, 3000\)"),
        "short": (good[:, :3000], r"shape is \(3, 3000\), expected \(N, 3600\)"),
        "empty": (good[:0], "holds no fragments"),
        "out-of-range": (high, "outside the 11-bit ADC range"),
        "objects": (np.array([good, None], dtype=object), "holds Python objects"),
    }


@pytest.mark.parametrize("case", ["float-with-nan", "int32 out of range", "two-dimensional single",
                                  "short", "empty", "out-of-range", "objects"])
def test_bad_input_gets_one_clear_error_and_no_output(case, trained_model, frags, tmp_path, capsys):
    array, message = _bad_inputs(frags)[case]
    np.save(tmp_path / "x.npy", array, allow_pickle=True)
    out = tmp_path / "y.csv"
    assert main(["predict", "--model", str(trained_model), "--input", str(tmp_path / "x.npy"),
                 "--output", str(out)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("ecg-alq: error:") and err.count("\n") == 1
    assert __import__("re").search(message, err), err
    assert not out.exists()
    assert list(tmp_path.iterdir()) == [tmp_path / "x.npy"]  # no temporary files left either


@pytest.mark.parametrize("what", ["missing-input", "garbage-input", "missing-model",
                                  "garbage-model", "training-state"])
def test_unreadable_files(what, trained_model, frags, tmp_path, capsys):
    x, model = tmp_path / "x.npy", trained_model
    np.save(x, frags.x[:2])
    if what == "missing-input":
        x = tmp_path / "nope.npy"
    elif what == "garbage-input":
        x.write_bytes(b"this is not numpy")
    elif what == "missing-model":
        model = tmp_path / "nope.pt"
    elif what == "garbage-model":
        model = tmp_path / "bad.pt"
        model.write_bytes(b"\x00" * 100)
    elif what == "training-state":
        model = trained_model.parent / "last.pt"
    out = tmp_path / "y.csv"
    assert main(["predict", "--model", str(model), "--input", str(x), "--output", str(out)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("ecg-alq: error:") and "Traceback" not in err
    assert not out.exists()


def test_console_script_is_installed():
    exe = __import__("pathlib").Path(sys.executable).parent / "ecg-alq"
    done = subprocess.run([str(exe), "--help"], capture_output=True, text=True, check=True)
    assert "predict" in done.stdout and "train" in done.stdout
