"""The quantize and baseline runs: the run folder, the quantized model file, predict on it, the
honest memory count, and clear errors for bad settings or files."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from ecg_alq.checkpoint import load_checkpoint, save_checkpoint
from ecg_alq.quant.modelfile import load_alq_model
from ecg_alq.cli import main
from ecg_alq.errors import EcgAlqError
from ecg_alq.predict import predict
from ecg_alq.intmodel import InputSpec, IntLayer, IntModel, memory
from ecg_alq.quant.baselines import BaselineConfig, UniformWeight, train_baseline


def test_memory_counts_every_stored_bit_by_hand():
    # layer 1: 2 channels of 12 weights (3 inputs x kernel 4), one group each, 3 slots,
    # 3 active bases in all, 8-bit alpha, 5-bit biases; layer 2: dense 2 -> 1, no requantization
    first = IntLayer("conv1", "conv", 3, 4, 2, 4, 1, 0, 1, 1, group_size=12, max_bases=3,
                     alpha_bits=8, alpha_frac=4, alpha_kind="free", bias_bits=5, in_bits=8,
                     in_signed=True, in_exponent=-3, out_shift=2, out_bits=8,
                     bases=np.array([2, 1]), alpha=np.array([3, 5, 7]),
                     signs=np.ones((3, 12), dtype=bool), bias=np.array([5, -9]))
    last = IntLayer("fc1", "dense", 2, 1, 1, 1, 1, 0, 1, 1, group_size=2, max_bases=1,
                    alpha_bits=6, alpha_frac=0, alpha_kind="free", bias_bits=3, in_bits=8,
                    in_signed=False, in_exponent=-1, out_shift=None, out_bits=None,
                    bases=np.array([1]), alpha=np.array([1]), signs=np.ones((1, 2), dtype=bool),
                    bias=np.array([3]))
    m = memory.count(IntModel(InputSpec(4, 0, 8, -3), [first, last], ["only"]))
    row = m.layers[0]
    assert (row.signs, row.alpha, row.bases, row.bias, row.requant) == \
        (3 * 12, 3 * 8 + 8, 2 * 2, 2 * 5, 8)
    assert m.layers[1].total == 2 + (6 + 8) + 1 + 3 + 0
    assert m.total_bits == row.total + m.layers[1].total + 8  # + the input shift
    assert m.average_bits == pytest.approx((36 + 2) / 26)
    assert m.paper_kib == pytest.approx(m.average_bits * (26 + 3) / 8192)
    assert "conv1" in m.table() and "fc1" in m.table()


def test_quantize_run_folder_and_its_model(quantized_run, frags):
    metrics = json.loads((quantized_run / "metrics.json").read_text())
    for f in ("model.pt", "history.json", "layers.md", "bits_trajectory.png",
              "confusion_matrix.png", "config.json"):
        assert (quantized_run / f).is_file(), f
    assert metrics["protocol"] == "window" and metrics["act_bits"] == 8
    assert metrics["memory"]["total_bits"] == sum(metrics["memory"]["bits_by_kind"].values())
    assert metrics["memory"]["kib"] > metrics["memory"]["paper_kib"]  # alpha etc. cost bits
    assert metrics["average_bits"] <= 1.5 + 1e-9
    model, payload = load_alq_model(quantized_run / "model.pt")
    ids = predict(quantized_run / "model.pt", frags.x[:40])
    assert ids.min() >= 1 and ids.max() <= 17
    test_ids = np.array(metrics["test_predictions"])
    rows = [list(frags.file).index(f) for f in metrics["test_files"]]
    assert np.array_equal(predict(model, frags.x[rows]), test_ids)  # the file is the tested model
    for layer in payload["layers"]:
        assert layer["alpha"].max() < 2 ** layer["alpha_bits"]
        assert layer["mask"].sum(1).max() <= layer["max_bits"]


def test_quantize_reuses_a_finished_run_and_refuses_other_settings(quantized_run, trained_model):
    from ecg_alq.quant.alq import AlqConfig
    from ecg_alq.quant.quantize import quantize

    cfg = AlqConfig(target_bits=1.5, rounds=1, epoch_basis=1, epoch_coord=1, top_k=0.5, pr=0.9)
    lines = []
    quantize(trained_model, cfg, quantized_run, log=lines.append)
    assert "reused" in lines[0]
    with pytest.raises(EcgAlqError, match="other settings"):
        quantize(trained_model, AlqConfig(target_bits=1.2), quantized_run)


def test_damaged_quantized_model_is_refused(quantized_run, tmp_path):
    payload = load_checkpoint(quantized_run / "model.pt")
    payload["layers"][2]["alpha"] = payload["layers"][2]["alpha"] + 1
    save_checkpoint(tmp_path / "bad.pt", payload)
    with pytest.raises(EcgAlqError, match="differ from its stored signs and alpha"):
        load_alq_model(tmp_path / "bad.pt")
    payload = load_checkpoint(quantized_run / "model.pt")
    payload["act_bits"] = 1
    save_checkpoint(tmp_path / "bits.pt", payload)
    with pytest.raises(EcgAlqError, match="activation bits"):
        load_alq_model(tmp_path / "bits.pt")


@pytest.mark.parametrize("args, message", [
    (["--target-bits", "-1"], "target_bits must be positive"),
    (["--act-bits", "1"], "act_bits must be an integer from 2 to 16"),
    (["--grouping", "row"], "grouping must be one of"),
    (["--alpha-bits", "40"], "alpha_bits must be an integer from 2 to 24"),
])
def test_quantize_command_rejects_bad_settings(trained_model, tmp_path, capsys, args, message):
    assert main(["quantize", "--checkpoint", str(trained_model), "--out", str(tmp_path / "q"),
                 *args]) == 2
    assert message in capsys.readouterr().err
    assert not (tmp_path / "q").exists()


def test_quantize_command_needs_a_float_model(quantized_run, tmp_path, capsys):
    assert main(["quantize", "--checkpoint", str(quantized_run / "model.pt"),
                 "--out", str(tmp_path / "q")]) == 2
    assert "is not a float model file" in capsys.readouterr().err


def test_uniform_quantizer_is_a_sum_of_power_of_two_bases():
    torch.manual_seed(0)
    w = torch.randn(5, 3, 7)
    for bits in (1, 2, 3):
        q = UniformWeight(w, bits)
        levels = q(w).detach()
        assert len(torch.unique(levels[0])) <= 2**bits
        mb = q.multibit(w, 21)
        # the bases are the quantizer's levels exactly (both in float64; the float32 forward
        # differs from them only by its own rounding)
        assert torch.equal(mb.reconstruct().reshape(w.shape), q.double()(w.double()).detach())
        assert torch.allclose(mb.alpha[:, 1:] / mb.alpha[:, :-1], torch.full((5, bits - 1), 2.0,
                                                                              dtype=torch.float64))


def test_uniform_step_gets_a_gradient_and_weights_pass_straight_through():
    w = torch.randn(4, 8, requires_grad=True)
    q = UniformWeight(w, 2)
    q(w).sum().backward()
    assert q.step.grad is not None and torch.isfinite(q.step.grad).all()
    assert w.grad is not None and w.grad.abs().sum() > 0


@pytest.mark.parametrize("method, bits", [("uniform", 2), ("binaryconnect", 1)])
def test_baseline_run_is_stored_like_alq(trained_model, tmp_path, frags, method, bits):
    out = tmp_path / method
    cfg = BaselineConfig(method=method, weight_bits=bits, epochs=1)
    metrics = train_baseline(trained_model, cfg, out, log=lambda *a: None)
    assert metrics["average_bits"] == pytest.approx(bits)
    model, payload = load_alq_model(out / "model.pt")  # weights == stored signs and alpha
    assert all(layer["mask"].all() and layer["mask"].shape[1] == bits for layer in payload["layers"])
    channels = sum(len(layer["bias"]) for layer in payload["layers"])
    # one scale per output channel (the other alpha are shifts of it)
    assert metrics["memory"]["bits_by_kind"]["alpha"] == 8 * channels + 8 * 9
    assert len(predict(out / "model.pt", frags.x[:5])) == 5


def test_bad_baseline_settings(trained_model, tmp_path, capsys):
    assert main(["baseline", "--checkpoint", str(trained_model), "--method", "ternary",
                 "--out", str(tmp_path / "b")]) == 2
    assert "method must be one of" in capsys.readouterr().err


def test_uniform_quantizer_survives_a_step_pushed_through_zero():
    torch.manual_seed(1)
    w = torch.randn(3, 10)
    q = UniformWeight(w, 4)
    with torch.no_grad():
        q.step[1] = -q.step[1]  # what an optimizer step can do to LSQ's step size
    mb = q.multibit(w, 10)
    assert (mb.alpha > 0).all()
    assert torch.equal(mb.reconstruct(), q.double()(w.double()).detach())  # exactly, in float64


def test_protocol_all_trains_and_quantizes_on_every_fragment_without_a_test_part(tmp_path):
    """The shipped model's path: no validation or test rows, so no accuracy is claimed."""
    from ecg_alq.intmodel import load
    from ecg_alq.quant.alq import AlqConfig
    from ecg_alq.quant.quantize import quantize
    from ecg_alq.training import TrainConfig, train

    m = train(TrainConfig(protocol="all", val_fraction=0.0, epochs=1, limit=60, progress=False),
              tmp_path / "fp")
    assert m["n_test"] == 0 and m["n_val"] == 0 and "accuracy" not in m
    assert not (tmp_path / "fp" / "confusion_matrix.png").exists()
    cfg = AlqConfig(target_bits=2.0, rounds=1, epoch_basis=1, epoch_coord=1, top_k=0.5, pr=0.9)
    q = quantize(tmp_path / "fp" / "model.pt", cfg, tmp_path / "q", log=lambda *a: None)
    assert q["n_test"] == 0 and "accuracy" not in q and "val_accuracy" not in q
    model = load(tmp_path / "q" / "model.npz")
    assert model.provenance["training"]["protocol"] == "all"
    assert (tmp_path / "q" / "bits_trajectory.png").is_file()
