"""Bad inputs get one clear line and exit status 2, before any work (issue 17, points 7, 9, 12,
13, 15): training settings out of range, booleans as integers in a model file, ``.npy`` headers
that lie, model files recognised by their content, not their name."""

from __future__ import annotations

import io
import json
import shutil

import numpy as np
import pytest

from ecg_alq.cli import main
from ecg_alq.intmodel import load
from ecg_alq.intmodel.shipped import default_model_path


def _refused(argv, capsys, expect: str) -> None:
    assert main([str(a) for a in argv]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("ecg-alq: error:") and "\n" not in err and expect in err, err


@pytest.fixture
def raw(tmp_path):
    path = tmp_path / "x.npy"
    np.save(path, np.full((2, 3600), 1000, dtype=np.int16))
    return path


@pytest.mark.parametrize("option,value,expect", [
    ("--lr", "inf", "lr must be a finite number"),
    ("--lr", "nan", "lr must be a finite number"),
    ("--label-smoothing", "5", "label_smoothing must be in [0, 1)"),
    ("--weight-decay", "-5", "weight_decay must be >= 0"),
    ("--val-fraction", "1.5", "val_fraction must be in [0, 1)"),
])
def test_training_settings_are_checked_before_a_folder_is_made(tmp_path, capsys, option, value,
                                                               expect):
    _refused(["train", option, value, "--out", tmp_path / "run"], capsys, expect)
    assert not (tmp_path / "run").exists()


@pytest.mark.parametrize("command", [["quantize"], ["baseline"]])
def test_quantizer_settings_are_finite(tmp_path, capsys, command):
    _refused(command + ["--checkpoint", tmp_path / "none.pt", "--lr", "inf", "--out",
                        tmp_path / "q"], capsys, "lr must be a finite number")


def _with_header(tmp_path, change) -> str:
    """The shipped model file with its JSON header changed by ``change(header)``."""
    with np.load(default_model_path(), allow_pickle=False) as z:
        arrays = {k: z[k] for k in z.files}
    header = json.loads(arrays["header"].tobytes().decode())
    change(header)
    arrays["header"] = np.frombuffer(json.dumps(header).encode(), dtype=np.uint8)
    path = tmp_path / "changed.npz"
    np.savez(path, **arrays)
    return str(path)


@pytest.mark.parametrize("command", ["inspect", "predict", "dump"])
def test_a_boolean_is_not_an_integer_in_a_model_file(tmp_path, capsys, raw, command):
    path = _with_header(tmp_path, lambda h: h["layers"][0].update(kernel=True))
    argv = {"inspect": ["inspect", "--model", path],
            "predict": ["predict", "--model", path, "--input", raw, "--output", tmp_path / "o"],
            "dump": ["dump", "--model", path, "--input", raw, "--out", tmp_path / "d.npz"]}
    _refused(argv[command], capsys, "kernel must be a positive integer, got True")


def test_an_npy_header_claiming_a_huge_array_is_refused_before_allocating(tmp_path, capsys):
    buf = io.BytesIO()
    np.save(buf, np.zeros((2, 3600), dtype=np.int16))
    lying = buf.getvalue().replace(b"(2, 3600)", b"(100000000, 3600)")
    (tmp_path / "big.npy").write_bytes(lying)
    _refused(["predict", "--input", tmp_path / "big.npy", "--output", tmp_path / "o.csv"],
             capsys, "its header claims")


@pytest.mark.parametrize("content,expect", [
    (b"index,class\n0,1\n", "no valid NumPy header"),
    (None, "is a folder"),
])
def test_inputs_that_are_no_npy_arrays(tmp_path, capsys, content, expect):
    path = tmp_path / "in.npy"
    if content is None:
        path.mkdir()
    else:
        path.write_bytes(content)
    _refused(["predict", "--input", path, "--output", tmp_path / "o.csv"], capsys, expect)


@pytest.mark.parametrize("name", ["my-model", "default.NPZ", "model.bin"])
def test_an_integer_model_is_recognised_by_content(tmp_path, capsys, raw, name):
    path = tmp_path / name
    shutil.copy(default_model_path(), path)
    assert main(["predict", "--model", str(path), "--input", str(raw), "--output",
                 str(tmp_path / "o.csv")]) == 0
    assert (tmp_path / "o.csv").read_text().count("\n") == 3
    assert load(path).num_classes == 17


@pytest.mark.parametrize("what,expect", [
    ("integer model", "is an integer model file"),
    ("zeros", "neither a zip archive nor a pickle"),
    ("folder", "is a folder, not a checkpoint"),
])
def test_checkpoints_are_recognised_by_content(tmp_path, capsys, what, expect):
    path = tmp_path / "model.pt"
    if what == "integer model":
        shutil.copy(default_model_path(), path)
    elif what == "zeros":
        path.write_bytes(bytes(100))
    else:
        path.mkdir()
    _refused(["quantize", "--checkpoint", path, "--out", tmp_path / "q"], capsys, expect)
    assert not (tmp_path / "q").exists()


def test_a_build_that_cannot_fit_the_logic_is_refused_at_once(tmp_path, capsys):
    """pe 64 x simd 64 on the iCEBreaker: refused before synthesis with the estimated and the
    available logic cells (issue 17, acceptance 5: under 30 s; here well under a second)."""
    import time

    t0 = time.perf_counter()
    _refused(["build", "--board", "icebreaker", "--pe", "64", "--simd", "64", "--out",
              tmp_path / "b"], capsys, "need at least 36,288 logic cells")
    assert time.perf_counter() - t0 < 30
    assert not (tmp_path / "b").exists()


@pytest.mark.parametrize("form", ["1-D", "int32", "uint16", "big-endian int16"])
def test_one_input_rule_for_predict_dump_and_the_api(tmp_path, capsys, form):
    """A fragment as (3600,), or as any integer dtype holding raw ADC samples, is what int16
    (1, 3600) is, in predict, dump and the Python API alike; out-of-range values are refused."""
    from ecg_alq.predict import predict

    x = np.random.default_rng(0).integers(900, 1200, (1, 3600)).astype(np.int16)
    y = {"1-D": x[0], "int32": x.astype(np.int32), "uint16": x.astype(np.uint16),
         "big-endian int16": x.astype(">i2")}[form]
    np.save(tmp_path / "y.npy", y)
    assert main(["predict", "--input", str(tmp_path / "y.npy"), "--output",
                 str(tmp_path / "y.csv")]) == 0
    assert main(["dump", "--input", str(tmp_path / "y.npy"), "--out",
                 str(tmp_path / "d.npz")]) == 0
    assert predict(None, y).tolist() == predict(None, x).tolist()
    np.save(tmp_path / "bad.npy", np.full((1, 3600), 5000, dtype=np.int32))
    capsys.readouterr()
    for argv in (["predict", "--output", tmp_path / "b.csv"], ["dump", "--out", tmp_path / "b.npz"]):
        _refused(argv + ["--input", tmp_path / "bad.npy"], capsys, "outside the 11-bit ADC range")


@pytest.mark.parametrize("argv,expect", [
    (["flow", "--jobs", "0"], "jobs must be an integer >= 1, got 0"),
    (["dse", "--workers", "0"], "workers must be an integer >= 1, got 0"),
])
def test_zero_workers_are_refused_not_taken_as_one(tmp_path, capsys, argv, expect):
    _refused(argv + ["--out", tmp_path / "o"], capsys, expect)
    assert not (tmp_path / "o").exists()


def test_a_truncated_integer_model_is_named_as_one(tmp_path, capsys, raw):
    path = tmp_path / "half.npz"
    path.write_bytes(default_model_path().read_bytes()[:7000])
    _refused(["predict", "--model", path, "--input", raw, "--output", tmp_path / "o.csv"],
             capsys, "is not a readable ecg-alq model file (damaged or truncated")


@pytest.mark.parametrize("content,expect", [(b"\xff\xfe{\x00", "cannot read the sweep file"),
                                            (b'{"pe": [1,', "cannot read the sweep file"),
                                            (b"[1, 2]", "must hold a JSON object")])
def test_bad_sweep_files(tmp_path, capsys, content, expect):
    (tmp_path / "s.json").write_bytes(content)
    _refused(["dse", "--sweep", tmp_path / "s.json", "--out", tmp_path / "d"], capsys, expect)
