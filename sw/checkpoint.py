"""Torch checkpoints: atomic saving, safe loading (``weights_only=True``), the model files.

A *float model file* (``model.pt`` of a training run folder) is a dict::

    format        "ecg-alq/float-model"
    version       1
    state_dict    EcgCnn weights
    class_names   the 17 class names, output index order
    preprocessing ecg_alq.preprocess.PREPROCESSING
    config        the TrainConfig as a dict
    metrics       summary of the test-fold metrics of the run that made it

The quantized model file of a ``quantize`` run is :mod:`ecg_alq.quant.modelfile`'s (it uses the
header check and state loading here).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import torch

from ecg_alq.atomic import atomic_path
from ecg_alq.classes import CLASS_NAMES
from ecg_alq.errors import EcgAlqError
from ecg_alq.model import EcgCnn
from ecg_alq.preprocess import PREPROCESSING

FLOAT_MODEL_FORMAT = "ecg-alq/float-model"
FLOAT_MODEL_VERSION = 1
_SUMMARY_KEYS = ("protocol", "fold", "n_test", "accuracy", "balanced_accuracy", "macro_f1",
                 "selected_epoch")


def save_checkpoint(path: str | Path, payload: dict[str, Any]) -> None:
    """``torch.save`` to a temporary file, then rename: never a half-written checkpoint."""
    with atomic_path(path) as tmp:
        torch.save(payload, tmp)


def load_checkpoint(path: str | Path) -> dict[str, Any]:
    """Load a checkpoint without executing code from it (``weights_only=True``)."""
    path = Path(path)
    if path.is_dir():
        raise EcgAlqError(f"{path} is a folder, not a checkpoint (give the model.pt inside a run "
                          f"folder)")
    if not path.is_file():
        raise EcgAlqError(f"checkpoint not found: {path}")
    _check_kind(path)
    try:
        payload = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:  # torch raises several types for damaged or foreign files
        text = str(exc)
        if "Weights only load failed" in text:
            reason = ("it holds Python objects other than tensors and plain values, and loading "
                      "them could execute code")
        else:
            reason = text.strip().splitlines()[0] if text.strip() else type(exc).__name__
        raise EcgAlqError(f"{path} is not a readable ecg-alq checkpoint: {reason}") from None
    if not isinstance(payload, dict):
        raise EcgAlqError(f"{path} is not an ecg-alq checkpoint (it holds a {type(payload).__name__})")
    return payload


def _check_kind(path: Path) -> None:
    """A torch checkpoint is a zip archive (or, from old torch versions, a pickle); an integer
    model file is a zip too, told apart by its content."""
    from ecg_alq.intmodel.fileio import looks_like_model_file

    if looks_like_model_file(path):
        raise EcgAlqError(f"{path} is an integer model file (ecg-alq's .npz format), not a torch "
                          f"checkpoint: this command takes the model.pt of a train, quantize or "
                          f"baseline run")
    with open(path, "rb") as f:
        head = f.read(4)
    if not (head.startswith(b"PK\x03\x04") or head[:1] == b"\x80"):
        raise EcgAlqError(f"{path} is not a torch checkpoint (neither a zip archive nor a "
                          f"pickle)")


def model_file_payload(model: EcgCnn, config: dict, metrics: dict) -> dict[str, Any]:
    return {
        "format": FLOAT_MODEL_FORMAT,
        "version": FLOAT_MODEL_VERSION,
        "state_dict": model.state_dict(),
        "class_names": list(CLASS_NAMES),
        "preprocessing": dict(PREPROCESSING),
        "config": config,
        "metrics": {k: metrics[k] for k in _SUMMARY_KEYS if k in metrics},
    }


def check_header(path: str | Path, payload: dict, fmt: str, version: int, what: str) -> None:
    if payload.get("format") != fmt:
        hint = " (this is a training state; use model.pt of the run folder)" if "optimizer" in payload else ""
        raise EcgAlqError(f"{path} is not a {what} file (format {payload.get('format')!r}){hint}")
    if payload.get("version") != version:
        raise EcgAlqError(f"{path}: {what} version {payload.get('version')!r} is not supported "
                          f"(this ecg-alq reads version {version})")
    if payload.get("preprocessing") != PREPROCESSING or payload.get("class_names") != list(CLASS_NAMES):
        raise EcgAlqError(f"{path} was trained with other preprocessing or classes than this ecg-alq uses")


def load_state(path: str | Path, model: torch.nn.Module, payload: dict) -> None:
    try:
        model.load_state_dict(payload["state_dict"])
    except (RuntimeError, KeyError, TypeError) as exc:
        raise EcgAlqError(f"{path}: weights do not fit the network: {str(exc).splitlines()[0]}") from None


def load_float_model(path: str | Path) -> EcgCnn:
    """The trained network of a float model file, in eval mode."""
    payload = load_checkpoint(path)
    check_header(path, payload, FLOAT_MODEL_FORMAT, FLOAT_MODEL_VERSION, "float model")
    model = EcgCnn()
    load_state(path, model, payload)
    return model.eval()
