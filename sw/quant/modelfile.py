"""The quantized model file (``model.pt`` of a ``quantize`` run folder).

Format ``"ecg-alq/alq-model"``: besides the keys of a float model file
(:mod:`ecg_alq.checkpoint`), the :class:`~ecg_alq.quant.activations.QuantCnn` state (weights
already rounded to their stored values, activation exponents) and every weight layer in stored
integers under ``layers`` (the fields of :class:`~ecg_alq.quant.integer.FrozenLayer`).
:func:`load_model` reads either kind of model file.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import torch

from ecg_alq.checkpoint import check_header, load_checkpoint, load_float_model, load_state
from ecg_alq.classes import CLASS_NAMES
from ecg_alq.errors import EcgAlqError
from ecg_alq.model import EcgCnn
from ecg_alq.preprocess import PREPROCESSING
from ecg_alq.quant.activations import QuantCnn, check_bits

ALQ_MODEL_FORMAT = "ecg-alq/alq-model"
ALQ_MODEL_VERSION = 1


def alq_model_payload(model: torch.nn.Module, layers: list[dict], config: dict, source: dict,
                      metrics: dict) -> dict[str, Any]:
    """A quantized model file: ``model`` is a QuantCnn, ``layers`` the frozen layers as dicts."""
    return {
        "format": ALQ_MODEL_FORMAT,
        "version": ALQ_MODEL_VERSION,
        "state_dict": model.state_dict(),
        "act_bits": model.bits,
        "layers": layers,
        "class_names": list(CLASS_NAMES),
        "preprocessing": dict(PREPROCESSING),
        "config": config,
        "source": source,
        "metrics": metrics,
    }


def load_alq_model(path: str | Path, payload: dict[str, Any] | None = None
                   ) -> tuple[torch.nn.Module, dict[str, Any]]:
    """The QuantCnn of a quantized model file (eval mode, integer activations) and the payload
    (``payload``: the file's already loaded content).

    Checks that the stored weights are exactly the reconstruction of the stored integers.
    """
    payload = load_checkpoint(path) if payload is None else payload
    check_header(path, payload, ALQ_MODEL_FORMAT, ALQ_MODEL_VERSION, "quantized model")
    try:
        check_bits(payload.get("act_bits"))
        model = QuantCnn(EcgCnn(), payload["act_bits"])
    except EcgAlqError as exc:
        raise EcgAlqError(f"{path}: {exc}") from None
    load_state(path, model, payload)
    params = dict(model.named_parameters())
    try:
        for layer in payload["layers"]:
            alpha = layer["alpha"].double() * 2.0 ** -layer["alpha_frac"] * layer["mask"]
            w = torch.einsum("gi,gin->gn", alpha, layer["beta"].double())
            if not torch.equal(w.reshape(layer["shape"]).float(), params[layer["name"]].detach()):
                raise EcgAlqError(f"{path}: weights of {layer['name']} differ from its stored "
                                  "signs and alpha (damaged file)")
    except (KeyError, TypeError, RuntimeError, AttributeError) as exc:
        raise EcgAlqError(f"{path}: malformed layer records ({type(exc).__name__}: {exc})") from None
    return model.eval(), payload


def load_model(path: str | Path) -> torch.nn.Module:
    """The network of a float or quantized model file, in eval mode."""
    payload = load_checkpoint(path)
    if payload.get("format") == ALQ_MODEL_FORMAT:
        return load_alq_model(path, payload)[0]
    return load_float_model(path)
