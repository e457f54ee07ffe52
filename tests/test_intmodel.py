"""The integer model file: round trip, every validation error, accumulator bounds on adversarial
inputs, and the golden model against a plain reference and against the quantized torch model."""

from __future__ import annotations

import json
import zipfile

import numpy as np
import pytest

from ecg_alq.intmodel import IntModel, fileio, load, save
from ecg_alq.quant import export
from ecg_alq.intmodel.bounds import layer_bounds, model_bounds
from ecg_alq.intmodel.golden import GoldenModel, argmax_class
from ecg_alq.intmodel.spec import ModelFileError
from ecg_alq.intmodel.synthetic import conv, dense, random_fragments, random_model

SMALL = [conv(5, 7, stride=2, padding=3, pool_kernel=3, pool_stride=2, group_size=7),
         conv(6, 3, padding=1, pool_kernel=2, pool_stride=2),
         dense(9, group_size=9), dense(4)]


@pytest.fixture
def small() -> IntModel:
    return random_model(SMALL, input_length=50, seed=3)


def _same(a: IntModel, b: IntModel) -> bool:
    if fileio.header_of(a) != fileio.header_of(b):
        return False
    return all(np.array_equal(x, y) for x, y in zip(fileio.arrays_of(a).values(),
                                                   fileio.arrays_of(b).values()))


def test_round_trip_is_exact_and_reproducible(small, tmp_path):
    save(small, tmp_path / "a.npz")
    back = load(tmp_path / "a.npz")
    assert _same(small, back)
    for x, y in zip(small.layers, back.layers):
        assert np.array_equal(x.signs, y.signs) and np.array_equal(x.integer_weights(),
                                                                   y.integer_weights())
    save(back, tmp_path / "b.npz")
    assert (tmp_path / "a.npz").read_bytes() == (tmp_path / "b.npz").read_bytes()
    assert not list(tmp_path.glob(".*tmp"))  # atomic write left nothing behind


def test_the_content_hash_ignores_provenance_and_nothing_else(small, tmp_path):
    from ecg_alq.boards.protocol import model_id

    save(small, tmp_path / "a.npz")
    small.provenance = {"made": "elsewhere, another day"}
    save(small, tmp_path / "b.npz")
    assert (tmp_path / "a.npz").read_bytes() != (tmp_path / "b.npz").read_bytes()
    a, b = load(tmp_path / "a.npz"), load(tmp_path / "b.npz")
    assert fileio.content_sha256(a) == fileio.content_sha256(b)
    assert model_id(tmp_path / "a.npz") == model_id(tmp_path / "b.npz")
    b.layers[-1].bias[0] += 1
    assert fileio.content_sha256(a) != fileio.content_sha256(b)


def test_groups_without_bases_survive_the_round_trip(tmp_path):
    m = random_model(SMALL, input_length=50, seed=1, empty_groups=0.5)
    assert any((layer.bases == 0).any() for layer in m.layers)
    save(m, tmp_path / "m.npz")
    assert _same(m, load(tmp_path / "m.npz"))


# ---------------------------------------------------------------- validation errors


def _rewrite(path, out, header=None, arrays=None, drop=()):
    """Copy the model file ``path`` to ``out`` with a changed header or arrays."""
    with np.load(path, allow_pickle=False) as z:
        data = {k: z[k] for k in z.files}
    h = json.loads(data["header"].tobytes())
    if header:
        header(h)
    data["header"] = np.frombuffer(json.dumps(h).encode(), dtype=np.uint8)
    for k, v in (arrays or {}).items():
        data[k] = v
    for k in drop:
        del data[k]
    np.savez(out, **data)
    return out


def _set(path, value):
    def change(h):
        node = h
        for key in path[:-1]:
            node = node[key]
        node[path[-1]] = value
    return change


BAD_HEADERS = [
    (_set(["version"], 2), "format version 2 is not supported"),
    (_set(["format"], "other"), "format is 'other'"),
    (_set(["layers", 1, "in_length"], 99), "layer l2: in_length is 99 but the previous stage gives 12"),
    (_set(["layers", 1, "in_bits"], 6), "layer l2: in_bits is 6 but the previous stage gives 8"),
    (_set(["layers", 0, "kernel"], 0), "layer l1: kernel must be a positive integer"),
    (_set(["layers", 0, "alpha_bits"], 40), "layer l1: alpha_bits must be an integer in 2..24"),
    (_set(["layers", 2, "group_size"], 7), "layer l3: group_size 7 does not divide"),
    (_set(["layers", 3, "out_shift"], 3), "out_shift and out_bits must both be set"),
    (_set(["layers", 0, "out_bits"], 1), "out_bits must be an integer in 2..16"),
    (_set(["layers", 0, "surprise"], 1), "unknown fields ['surprise']"),
    (_set(["class_names"], ["a", "b"]), "class_names must be 4 names"),
    (_set(["input", "bits"], 40), "input: length"),
    (lambda h: h["layers"][0].pop("stride"), "missing fields ['stride']"),
]


@pytest.mark.parametrize("change,message", BAD_HEADERS)
def test_bad_headers_get_one_clear_message(small, tmp_path, change, message):
    save(small, tmp_path / "m.npz")
    bad = _rewrite(tmp_path / "m.npz", tmp_path / "bad.npz", header=change)
    with pytest.raises(ModelFileError, match=message.replace("[", r"\[").replace("]", r"\]")) as e:
        load(bad)
    assert str(e.value).startswith(str(bad)) and "\n" not in str(e.value)


def test_bad_arrays_get_one_clear_message(small, tmp_path):
    save(small, tmp_path / "m.npz")
    src = tmp_path / "m.npz"
    layer = small.layers[1]
    cases = {
        "truncated signs": ({"l2.signs": fileio.arrays_of(small)["l2.signs"][:-1]}, (),
                            "l2.signs holds"),
        "truncated alpha": ({"l2.alpha": layer.alpha[:-1].astype(np.uint32)}, (),
                            "alpha has shape"),
        "wrong dtype": ({"l2.bias": layer.bias.astype(np.float32)}, (), "must be one-dimensional int32"),
        "alpha too wide": ({"l2.alpha": np.full(layer.active_bases, 256, np.uint32)}, (),
                           "alpha mantissas must lie in 1..255"),
        "zero alpha": ({"l2.alpha": np.zeros(layer.active_bases, np.uint32)}, (),
                       "alpha mantissas must lie in 1..255"),
        "bias too wide": ({"l2.bias": np.full(layer.out_channels, 5000, np.int32)}, (),
                          "biases must fit 12 signed bits"),
        "too many bases": ({"l2.bases": np.full(layer.groups, 9, np.uint8)}, (),
                           "bases must lie in 0..max_bases=3"),
        "missing array": ({}, ("l3.bias",), "array l3.bias is missing"),
        "extra array": ({"spare": np.zeros(3)}, (), "unexpected arrays"),
    }
    for name, (arrays, drop, message) in cases.items():
        bad = _rewrite(src, tmp_path / f"{name}.npz", arrays=arrays, drop=drop)
        with pytest.raises(ModelFileError, match=message) as e:
            load(bad)
        assert str(e.value).startswith(str(bad)), name
    # a set padding bit after the last sign
    signs = fileio.arrays_of(small)["l1.signs"].copy()
    used = small.layers[0].active_bases * small.layers[0].group_size
    if used % 8:
        signs[-1] |= np.uint8(1 << 7)
        bad = _rewrite(src, tmp_path / "pad.npz", arrays={"l1.signs": signs})
        with pytest.raises(ModelFileError, match="padding bits"):
            load(bad)


def test_damaged_and_foreign_files_are_rejected(small, tmp_path, trained_model):
    save(small, tmp_path / "m.npz")
    whole = (tmp_path / "m.npz").read_bytes()
    (tmp_path / "cut.npz").write_bytes(whole[: len(whole) // 2])
    np.save(tmp_path / "plain.npy", np.zeros(3))
    np.savez(tmp_path / "pickled.npz", header=np.array([{"a": 1}], dtype=object))
    (tmp_path / "text.npz").write_text("hello")
    cases = {"cut.npz": "damaged or truncated", "plain.npy": "single array",
             "pickled.npz": "damaged or truncated", "text.npz": "damaged or truncated",
             "missing.npz": "model file not found"}
    for name, message in cases.items():
        with pytest.raises(ModelFileError, match=message):
            load(tmp_path / name)
    with pytest.raises(ModelFileError, match="torch checkpoint"):
        load(trained_model)
    assert zipfile.is_zipfile(tmp_path / "m.npz")


# ---------------------------------------------------------------- bounds and golden model


def _reference_logits(model: IntModel, x: np.ndarray) -> np.ndarray:
    """A slow, obviously correct loop version of the specification, on Python integers."""
    out = []
    for frag in x.astype(np.int64):
        c = frag - (frag.sum() + len(frag) // 2) // len(frag)
        s = model.input.shift
        lo, hi = model.input.limits
        a = [[min(hi, max(lo, (int(v) + (1 << s >> 1)) >> s))] for v in c]  # (L, C)
        a = np.array(a, dtype=object).T
        for layer in model.layers:
            w = layer.integer_weights().astype(object)
            acc = np.zeros((layer.out_channels, layer.conv_length), dtype=object)
            for o in range(layer.out_channels):
                for t in range(layer.conv_length):
                    total = int(layer.bias[o])
                    for ci in range(layer.in_channels):
                        for j in range(layer.kernel):
                            p = t * layer.stride + j - layer.padding
                            if 0 <= p < layer.in_length:
                                total += int(w[o, ci, j]) * int(a[ci, p])
                    acc[o, t] = total
            pooled = np.array([[max(acc[o, t * layer.pool_stride: t * layer.pool_stride +
                                       layer.pool_kernel]) for t in range(layer.out_length)]
                               for o in range(layer.out_channels)], dtype=object)
            if layer.out_shift is None:
                out.append([int(v) for v in pooled[:, 0]])
                break
            s = layer.out_shift
            shifted = [(int(v) + (1 << s >> 1)) >> s if s > 0 else int(v) << -s
                       for v in pooled.reshape(-1)]
            a = np.array([min((1 << layer.out_bits) - 1, max(0, v)) for v in shifted],
                         dtype=object).reshape(pooled.shape)
    return np.array(out, dtype=np.int64)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_golden_model_matches_a_loop_reference(seed):
    geometry = [conv(3, 5, stride=2, padding=2, pool_kernel=3, pool_stride=2, group_size=5,
                     max_bases=4),
                conv(4, 4, stride=3, padding=1, group_size=6), dense(5, group_size=4)]
    model = random_model(geometry, input_length=37, seed=seed, act_bits=5, alpha_bits=5)
    x = random_fragments(4, 37, seed=seed)
    assert np.array_equal(GoldenModel(model).logits(x), _reference_logits(model, x))


def test_accumulator_bounds_are_attained_by_adversarial_inputs():
    """All-positive signs and all-maximum inputs reach the proven maximum exactly (and all-minimum
    inputs the minimum); the golden model accepts both and its widths are those of the bounds."""
    model = random_model([conv(4, 5, group_size=5), dense(3)], input_length=12, seed=5,
                         empty_groups=0.0)
    first = model.layers[0]
    first.signs[:] = True
    golden = GoldenModel(model)
    lo, hi = first.in_limits
    b = layer_bounds(first)
    for value, want in ((hi, b.acc_max), (lo, b.acc_min)):
        a = np.full((1, 1, first.in_length), value, dtype=np.int64)
        t = golden.layer(0, a)
        interior = t.acc[0, :, first.padding: first.conv_length - first.padding]
        assert interior.max() == want if value == hi else interior.min() == want
    assert b.acc_bits == max(int(b.acc_max).bit_length(), int(-b.acc_min - 1).bit_length()) + 1
    assert b.partial_sum_max >= max(b.acc_max, -b.acc_min)
    # a forged weight beyond the bound is caught
    golden.bounds[0] = type(b)(b.name, b.acc_min, b.acc_max - 1, b.basis_sum_max,
                               b.partial_sum_max)
    with pytest.raises(AssertionError, match="outside its proven range"):
        golden.layer(0, np.full((1, 1, first.in_length), hi, dtype=np.int64))


def test_argmax_tie_takes_the_lowest_index():
    assert argmax_class(np.array([[3, 7, 7, 1], [0, 0, 0, 0]])).tolist() == [2, 1]


def test_golden_rejects_bad_fragments(small):
    g = GoldenModel(small)
    for bad, message in ((np.zeros((2, 49), np.int16), r"shape \(2, 49\)"),
                         (np.full((1, 50), np.nan), "integer array"),
                         (np.full((1, 50), 4000, np.int16), "outside the 11-bit ADC range")):
        with pytest.raises(Exception, match=message):
            g.logits(bad)


# ---------------------------------------------------------------- export and agreement


def test_export_agrees_with_torch_on_all_1000_fragments(quantized_run, frags):
    """The quantized torch model in float64 computes exactly the golden model's integer logits,
    and in float32 the same class, on every one of the 1000 real fragments."""
    from ecg_alq.quant.modelfile import load_alq_model

    model = export.from_checkpoint(quantized_run / "model.pt")
    shipped_with_run = load(quantized_run / "model.npz")
    assert _same(model, shipped_with_run)
    qnet, _ = load_alq_model(quantized_run / "model.pt")
    result = export.agreement(qnet, model, frags.x)
    assert result["n"] == 1000
    assert result["logit_mismatches"] == 0
    assert result["class_mismatches"] == 0
    assert result["class_mismatches_float32"] == 0
    bounds = model_bounds(model)
    assert all(b.acc_bits <= 32 for b in bounds)


# ---------------------------------------------------------------- command line and shipped model


def test_export_inspect_and_dump_commands(quantized_run, frags, tmp_path, capsys):
    from ecg_alq.cli import main

    out = tmp_path / "q.npz"
    assert main(["export", "--checkpoint", str(quantized_run / "model.pt"), "--out", str(out)]) == 0
    text = capsys.readouterr().out
    assert "0 integer-logit and 0 class mismatches" in text and "honest memory" in text
    assert _same(load(out), load(quantized_run / "model.npz"))
    assert main(["inspect", "--model", str(out)]) == 0
    text = capsys.readouterr().out
    assert "| conv1 (conv) | 1 x 3600 | 8 x 449 |" in text and "| fc2 (dense) |" in text
    np.save(tmp_path / "x.npy", frags.x[:3])
    assert main(["dump", "--model", str(out), "--input", str(tmp_path / "x.npy"), "--index", "2",
                 "--out", str(tmp_path / "d.npz")]) == 0
    with np.load(tmp_path / "d.npz") as d:
        traces = GoldenModel(out).trace(frags.x[2:3])
        assert np.array_equal(d["conv3.acc"], traces[2].acc[0])
        assert np.array_equal(d["fc1.output"], traces[7].output[0])
        assert np.array_equal(d["logits"], traces[-1].pooled[0, :, 0])
        assert d["conv1.input"].shape == (1, 3600) and "fc2.output" not in d.files
    assert main(["dump", "--model", str(out), "--input", str(tmp_path / "x.npy"), "--index", "3",
                 "--out", str(tmp_path / "e.npz")]) == 2
    assert "outside the 3 fragment(s)" in capsys.readouterr().err
    assert main(["export", "--checkpoint", str(out), "--out", str(tmp_path / "z.npz")]) == 2
    assert "is an integer model file" in capsys.readouterr().err  # recognised by content
