"""The golden model of a quantized run, evaluated: what ``bench/golden_crossval.py`` measures per
fold and the flow's ``golden`` stage reports."""

from __future__ import annotations

import time
from pathlib import Path

from ecg_alq.config import from_record
from ecg_alq.quant.modelfile import load_alq_model
from ecg_alq.data.fragments import Fragments
from ecg_alq.intmodel import load, memory, save
from ecg_alq.quant import export
from ecg_alq.intmodel.bounds import model_bounds
from ecg_alq.intmodel.golden import GoldenModel
from ecg_alq.metrics import classification_metrics
from ecg_alq.training import TrainConfig, split_for


def evaluate_run(run: str | Path, frags: Fragments, data: str | None = None,
                 model_out: str | Path | None = None, agree_on_test: bool = False) -> dict:
    """Export the quantized run folder ``run`` (its ``model.pt``) to ``model_out`` (default
    ``run/golden.npz``), read the file back and classify the run's test fold with the golden
    model alone (numpy integers); ``frags``: the run's protocol's table
    (:func:`ecg_alq.data.splits.evaluation_table`). Compare the torch model with it on every
    window of ``frags`` (only the test windows with ``agree_on_test``; integer logits with torch in
    float64, classes with torch in float32, as trained). Returns the test metrics (accuracy,
    confusion, ...), ``agreement_all``, honest ``memory_kib``, ``average_bits``, the proven
    accumulator widths ``acc_bits`` and the golden model's seconds per fragment."""
    run = Path(run)
    model_out = Path(model_out or run / "golden.npz")
    model = export.from_checkpoint(run / "model.pt")
    save(model, model_out)
    model = load(model_out)  # evaluate what the file holds
    cfg = from_record(TrainConfig, (model.provenance or {}).get("training"), str(run), data)
    split = split_for(cfg, frags)
    t0 = time.perf_counter()
    pred = GoldenModel(model).classify(frags.x[split.test]) - 1
    seconds = time.perf_counter() - t0
    qnet, _ = load_alq_model(run / "model.pt")
    agree = export.agreement(qnet, model, frags.x[split.test] if agree_on_test else frags.x)
    mem = memory.count(model)
    return {"fold": cfg.fold, "protocol": cfg.protocol, "n_test": len(split.test),
            **classification_metrics(frags.label[split.test], pred),
            "test_files": frags.file[split.test].tolist(), "test_predictions": (pred + 1).tolist(),
            "golden_seconds_per_fragment": seconds / max(1, len(split.test)),
            "agreement_all": {k: v for k, v in agree.items() if k != "golden_classes"},
            "memory_kib": mem.kib, "average_bits": mem.average_bits,
            "acc_bits": [b.acc_bits for b in model_bounds(model)]}
