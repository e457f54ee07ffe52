"""Human-readable views of an integer model: the layer table of ``ecg-alq inspect`` and the layer
dump of ``ecg-alq dump``."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ecg_alq.atomic import atomic_path
from ecg_alq.intmodel.bounds import model_bounds
from ecg_alq.intmodel.golden import LayerTrace
from ecg_alq.intmodel.memory import count
from ecg_alq.intmodel.spec import IntModel


def layer_table(model: IntModel) -> str:
    """Markdown: per layer its geometry, bases, widths (alpha, bias, accumulator) and bits."""
    mem = {m.name: m for m in count(model).layers}
    rows = ["| layer | in (C x L) | out (C x L) | kernel/stride/pad | pool | groups x n | bases | "
            "avg bits | alpha | bias | acc bits | basis-sum bits | requant shift | bits stored |",
            "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|"]
    for layer, b in zip(model.layers, model_bounds(model)):
        shift = "logits" if layer.out_shift is None else f"{layer.out_shift} -> u{layer.out_bits}"
        rows.append(
            f"| {layer.name} ({layer.kind}) | {layer.in_channels} x {layer.in_length} | "
            f"{layer.out_channels} x {layer.out_length} | {layer.kernel}/{layer.stride}/"
            f"{layer.padding} | {layer.pool_kernel}/{layer.pool_stride} | {layer.groups} x "
            f"{layer.group_size} | {layer.active_bases} | {layer.average_bits:.3f} | "
            f"u{layer.alpha_bits} {layer.alpha_kind} | s{layer.bias_bits} | {b.acc_bits} | "
            f"{b.basis_sum_bits} | {shift} | {mem[layer.name].total} |")
    return "\n".join(rows)


def summary(model: IntModel) -> str:
    """The layer table, the memory totals and what the provenance says about accuracy."""
    mem = count(model)
    inp = model.input
    lines = [f"input: {inp.length} samples, mean removed, >> {inp.shift}, s{inp.bits}", "",
             layer_table(model), "",
             f"honest memory {mem.total_bits} bits = {mem.kib:.2f} KiB "
             f"({mem.float_kib / mem.kib:.1f}x smaller than float32); {mem.average_bits:.3f} "
             f"average bits; the paper's count would give {mem.paper_kib:.2f} KiB"]
    cv = model.provenance.get("cross_validation")
    for entry in (cv.values() if isinstance(cv, dict) else ()):
        if isinstance(entry, dict) and "accuracy_mean" in entry:
            lines.append(f"cross-validated accuracy of this configuration ({entry.get('model')}): "
                         f"{100 * entry['accuracy_mean']:.2f} % ({entry.get('protocol')})")
    metrics = model.provenance.get("metrics") or {}
    if "accuracy" in metrics:
        lines.append(f"test accuracy of the run that made it: {100 * metrics['accuracy']:.2f} % "
                     f"({metrics.get('protocol')} fold {metrics.get('fold')})")
    return "\n".join(lines)


def write_dump(traces: list[LayerTrace], path: str | Path) -> dict[str, tuple]:
    """Write every layer's integers of fragment 0 of ``traces`` to an ``.npz`` (atomically):
    ``NAME.input``, ``NAME.acc`` (convolution + bias), ``NAME.pooled`` and ``NAME.output``
    (requantized; absent for the logits layer), all int64 (channels, length); ``logits``.
    Returns the shape of every array."""
    arrays: dict[str, np.ndarray] = {}
    for t in traces:
        arrays[f"{t.name}.input"] = t.input[0]
        arrays[f"{t.name}.acc"] = t.acc[0]
        arrays[f"{t.name}.pooled"] = t.pooled[0]
        if t.output is not None:
            arrays[f"{t.name}.output"] = t.output[0]
    arrays["logits"] = traces[-1].pooled[0, :, 0]
    with atomic_path(path) as tmp, open(tmp, "wb") as fh:
        np.savez_compressed(fh, **arrays)
    return {k: v.shape for k, v in arrays.items()}
