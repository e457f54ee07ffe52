"""Conversion of a quantized torch model to the integer model (``ecg-alq export``).

The ALQ and baseline runs already train with the stored formats: power-of-two activation scales,
alpha as fixed-point mantissas with one fraction length per layer, biases at the accumulator
scale, one requantization shift per layer (:mod:`ecg_alq.quant.integer`). Their model file keeps
every weight layer in those integers (the *layer records*); this module lays them out as an
:class:`~ecg_alq.intmodel.spec.IntModel` (network geometry from :mod:`ecg_alq.model`, active
bases only, in slot order) and checks that the torch model computes exactly the integers of the
golden model (:func:`agreement`).
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np
import torch

from ecg_alq import __version__
from ecg_alq.classes import CLASS_NAMES
from ecg_alq.errors import EcgAlqError
from ecg_alq.intmodel.golden import GoldenModel, argmax_class
from ecg_alq.intmodel.spec import InputSpec, IntLayer, IntModel
from ecg_alq.model import CONV_LAYERS, HIDDEN_UNITS
from ecg_alq.preprocess import INPUT_SHIFT
from ecg_alq.data.fragments import FRAGMENT_LENGTH


def _geometry() -> list[dict]:
    """Name, kind and convolution geometry of the 9 weight layers of EcgCnn, in order."""
    out, channels, length = [], 1, FRAGMENT_LENGTH
    for k, s in enumerate(CONV_LAYERS):
        out.append(dict(name=f"conv{k + 1}", kind="conv", in_channels=channels, in_length=length,
                        out_channels=s.out_channels, kernel=s.kernel, stride=s.stride,
                        padding=s.padding, pool_kernel=s.pool_kernel, pool_stride=s.pool_stride))
        conv = (length + 2 * s.padding - s.kernel) // s.stride + 1
        channels, length = s.out_channels, (conv - s.pool_kernel) // s.pool_stride + 1
    dense = dict(kind="dense", stride=1, padding=0, pool_kernel=1, pool_stride=1)
    out.append(dict(name="fc1", in_channels=channels, in_length=length, kernel=length,
                    out_channels=HIDDEN_UNITS, **dense))
    out.append(dict(name="fc2", in_channels=HIDDEN_UNITS, in_length=1, kernel=1,
                    out_channels=len(CLASS_NAMES), **dense))
    return out


def _array(v) -> np.ndarray:
    return v.numpy() if isinstance(v, torch.Tensor) else np.asarray(v)


def from_records(records: list[dict], act_bits: int, provenance: dict) -> IntModel:
    """The IntModel of the layer records of a quantized model file (one dict per weight layer:
    shape, group_size, max_bits, mask (G, I), beta (G, I, n), alpha (G, I) mantissas,
    alpha_frac, alpha_bits, bias, bias_bits, in_exponent, shift, powers)."""
    geometry = _geometry()
    if len(records) != len(geometry):
        raise EcgAlqError(f"{len(records)} weight layers, the network has {len(geometry)}")
    layers = []
    for k, (rec, geo) in enumerate(zip(records, geometry)):
        mask = _array(rec["mask"]).astype(bool)
        beta = _array(rec["beta"])
        alpha = _array(rec["alpha"]).astype(np.int64)
        numel = geo["out_channels"] * geo["in_channels"] * geo["kernel"]
        if int(np.prod(rec["shape"])) != numel or mask.shape[0] * beta.shape[2] != numel:
            raise EcgAlqError(f"layer {geo['name']}: weight shape {tuple(rec['shape'])} does not "
                              "fit the network")
        g_idx, slot = np.nonzero(mask)  # row-major: by group, then slot order
        last = k == len(records) - 1
        layers.append(IntLayer(
            **geo, group_size=int(beta.shape[2]), max_bases=int(rec["max_bits"]),
            alpha_bits=int(rec["alpha_bits"]), alpha_frac=int(rec["alpha_frac"]),
            alpha_kind="powers" if rec["powers"] else "free", bias_bits=int(rec["bias_bits"]),
            in_bits=act_bits, in_signed=k == 0, in_exponent=int(rec["in_exponent"]),
            out_shift=None if last else int(rec["shift"]), out_bits=None if last else act_bits,
            bases=mask.sum(1).astype(np.int64), alpha=alpha[g_idx, slot],
            signs=beta[g_idx, slot] > 0, bias=_array(rec["bias"]).astype(np.int64)))
    e0 = layers[0].in_exponent
    model = IntModel(InputSpec(FRAGMENT_LENGTH, e0 + INPUT_SHIFT, act_bits, e0), layers,
                     list(CLASS_NAMES), provenance)
    model.check()
    return model


def from_checkpoint(path: str | Path) -> IntModel:
    """The IntModel of a quantized model file (``model.pt`` of a quantize or baseline run)."""
    from ecg_alq.quant.modelfile import load_alq_model

    path = Path(path)
    _, payload = load_alq_model(path)
    provenance = provenance_of(payload, path)
    return from_records(payload["layers"], int(payload["act_bits"]), provenance)


def provenance_of(payload: dict, source: str | Path | None = None) -> dict:
    """Where a model comes from: its configs (quantization and the float training), fold and
    protocol, test metrics of its run, the seeds, and the source file's SHA-256."""
    prov = {"created_by": f"ecg-alq {__version__}",
            "quantization": payload.get("config"), "training": payload.get("source"),
            "metrics": payload.get("metrics")}
    if source is not None:
        prov["source_file"] = Path(source).name
        prov["source_sha256"] = hashlib.sha256(Path(source).read_bytes()).hexdigest()
    return prov


@torch.no_grad()
def torch_integer_logits(qnet: torch.nn.Module, model: IntModel, x_raw: np.ndarray) -> np.ndarray:
    """The quantized torch model's logits in float64, scaled to the integer logits' units.

    Every value of the torch model is an integer times a power of two far inside float64's
    53-bit mantissa, so in float64 its logits times ``2^(alpha_frac - in_exponent)`` of the last
    layer are exactly the integer model's accumulators. Raises if any is not an integer.
    """
    from ecg_alq.preprocess import model_input

    net = _float64_copy(qnet)
    last = model.layers[-1]
    scale = 2.0 ** (last.alpha_frac - last.in_exponent)
    x = model_input(x_raw).double()
    out = torch.cat([net(x[i: i + 128]) for i in range(0, len(x), 128)]).numpy() * scale
    if not np.array_equal(out, np.round(out)):
        raise EcgAlqError("the torch model's logits are not integers at the integer scale: it "
                          "does not compute in the stored formats")
    return out.astype(np.int64)


def _float64_copy(qnet: torch.nn.Module) -> torch.nn.Module:
    import copy

    return copy.deepcopy(qnet).double().eval()


def agreement(qnet: torch.nn.Module, model: IntModel, x_raw: np.ndarray) -> dict:
    """Compare the torch model (float32 as deployed in torch, and float64) with the golden model
    on raw fragments ``x_raw`` (N, length). Returns counts of class and logit mismatches."""
    from ecg_alq.preprocess import model_input

    golden = GoldenModel(model).logits(x_raw)
    exact = torch_integer_logits(qnet, model, x_raw)
    with torch.no_grad():
        x = model_input(x_raw)
        f32 = torch.cat([qnet.eval()(x[i: i + 128]) for i in range(0, len(x), 128)]).numpy()
    g_class = argmax_class(golden)
    return {"n": len(x_raw),
            "logit_mismatches": int((exact != golden).any(axis=1).sum()),
            "class_mismatches": int((argmax_class(exact) != g_class).sum()),
            "class_mismatches_float32": int((np.argmax(f32, axis=1) + 1 != g_class).sum()),
            "golden_classes": g_class}


def check_against_torch(checkpoint: str | Path, model: IntModel, data: str | None = None) -> dict:
    """:func:`agreement` of the quantized model file ``checkpoint`` and its integer ``model`` on
    the test windows of the fold that trained it (every window of the protocol's table for
    protocol ``all``), with the golden model's accuracy there (``golden_accuracy``) and which
    windows they were (``what``)."""
    from ecg_alq.config import from_record
    from ecg_alq.data.splits import evaluation_table
    from ecg_alq.quant.modelfile import load_alq_model
    from ecg_alq.training import TrainConfig, split_for

    cfg = from_record(TrainConfig, (model.provenance or {}).get("training"), str(checkpoint), data)
    frags = evaluation_table(cfg.protocol, data)
    split = split_for(cfg, frags)
    rows = split.test if len(split.test) else np.arange(len(frags.label))
    qnet, _ = load_alq_model(checkpoint)
    a = agreement(qnet, model, frags.x[rows])
    return a | {"golden_accuracy": float((a["golden_classes"] == frags.label[rows] + 1).mean()),
                "what": f"{cfg.protocol} fold {cfg.fold} test" if len(split.test) else "all"}
