"""The ``quantize`` command: ALQ with integer activations on a trained float model, one run folder.

Starting from a float model file (``model.pt`` of a ``train`` run), on the same fold, training
rows and augmentation that trained it (its test fold is never used for anything but the final
test):

1. wrap the network with integer activations and calibrate their power-of-two scales on the
   training rows (:mod:`ecg_alq.quant.activations`);
2. run the ALQ schedule (:class:`ecg_alq.quant.alq.Alq`), validation accuracy after every round;
3. freeze alpha and biases to their stored integer formats (:mod:`ecg_alq.quant.integer`), lay
   them out as the integer model (:mod:`ecg_alq.intmodel`) and count its honest memory
   (:mod:`ecg_alq.intmodel.memory`);
4. test once, with integer and with float activations.

The run folder holds::

    config.json           the AlqConfig and the float model it started from
    model.pt              the quantized model file (ecg_alq.checkpoint, format ecg-alq/alq-model)
    model.npz             the integer model file (docs/model-file.md): what the hardware runs
    history.json          per round: bits per layer, average bits, training loss, validation accuracy
    metrics.json          test metrics (protocol stated), memory by kind and layer, timings
    layers.md             the per-layer memory table with the paper's count beside it
    bits_trajectory.png   bits of every layer and validation accuracy over the rounds
    confusion_matrix.png

A finished run folder with the same settings is reused.
"""

from __future__ import annotations

import dataclasses
import json
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from ecg_alq import atomic, plots
from ecg_alq.config import from_record
from ecg_alq.checkpoint import load_checkpoint, load_float_model, save_checkpoint
from ecg_alq.augment import PoolTrainingSet, TrainingSet
from ecg_alq.data.fragments import Fragments
from ecg_alq.data.splits import PROTOCOL_TEXT, Split, evaluation_table
from ecg_alq.errors import EcgAlqError
from ecg_alq.outputs import run_folder
from ecg_alq.metrics import classification_metrics
from ecg_alq.preprocess import model_input
from ecg_alq.intmodel import memory, save
from ecg_alq.quant import export
from ecg_alq.quant.modelfile import alq_model_payload
from ecg_alq.quant.activations import QuantCnn
from ecg_alq.quant.alq import Alq, AlqConfig
from ecg_alq.quant.integer import freeze
from ecg_alq.quant.layers import labels
from ecg_alq.training import TrainConfig, evaluate, split_for, training_set


def _accuracy(model: torch.nn.Module, x: torch.Tensor, y: np.ndarray) -> float:
    """Accuracy on a preprocessed set; NaN for an empty one (protocol ``all`` has no test part)."""
    if not len(y):
        return float("nan")
    return float((evaluate(model, x, torch.from_numpy(y))[1] == y).mean())


def percent(v: float) -> str:
    return "n/a" if v != v else f"{100 * v:.1f} %"


def _layer_records(frozen) -> list[dict]:
    return [{"name": f.spec.name, "shape": list(f.spec.shape), "group_size": f.spec.group_size,
             "max_bits": f.spec.max_bits, "mask": f.mask, "beta": f.beta, "alpha": f.alpha,
             "alpha_frac": f.alpha_frac, "alpha_bits": f.alpha_bits, "bias": f.bias,
             "bias_bits": f.bias_bits, "in_exponent": f.in_exponent, "shift": f.shift,
             "powers": f.powers}
            for f in frozen]


@dataclass
class Prepared:
    """A float model on its fold, wrapped with calibrated integer activations."""

    train_cfg: TrainConfig
    frags: Fragments
    split: Split
    x_all: torch.Tensor  #: float (N, 1, 3600) model inputs of every window of ``frags``
    qnet: QuantCnn
    float_test: float  #: test accuracy of the float model
    calibrated_test: float  #: test accuracy with integer activations, weights still float
    data: TrainingSet | PoolTrainingSet | None = None  #: the float run's training windows

    def accuracy(self, rows: np.ndarray) -> float:
        return _accuracy(self.qnet, self.x_all[rows], self.frags.label[rows])

    def training_set(self, samples: int) -> TrainingSet | PoolTrainingSet:
        """The float run's training windows; database windows: ``samples`` drawn per epoch."""
        if isinstance(self.data, PoolTrainingSet):
            return dataclasses.replace(self.data, samples=samples)
        return self.data


def settings_of(checkpoint: str | Path, config: object, data: str | None) -> tuple[dict, TrainConfig]:
    """The settings a run folder records (its config.json) and the float model's TrainConfig."""
    source = load_checkpoint(checkpoint).get("config")
    load_float_model(checkpoint)  # validates the file
    train_cfg = from_record(TrainConfig, source, str(checkpoint), data)
    settings = {type(config).__name__: dataclasses.asdict(config), "checkpoint": str(checkpoint),
                "source": dataclasses.asdict(train_cfg) | {"data": None}}
    return settings, train_cfg


def _finished(out: Path, settings: dict, log) -> dict | None:
    """The metrics of a finished run folder with the same settings, None if there is none."""
    if (out / "metrics.json").exists() and (out / "config.json").exists():
        if json.loads((out / "config.json").read_text()) == settings:
            log(f"{out}: finished run with the same settings, reused")
            return json.loads((out / "metrics.json").read_text())
        raise EcgAlqError(f"{out} holds a finished run with other settings; choose another --out")
    return None


def begin(checkpoint: str | Path, cfg, out: Path, data: str | None,
          log=print) -> tuple[dict, Prepared | None, dict | None]:
    """Start a run of ``cfg`` (AlqConfig or BaselineConfig) on the float model ``checkpoint``.

    Returns (settings, prepared, None), or (settings, None, metrics) when ``out`` already holds
    the finished run with these settings.
    """
    cfg.validate()
    settings, train_cfg = settings_of(checkpoint, cfg, data)
    if (done := _finished(out, settings, log)) is not None:
        return settings, None, done
    return settings, prepare(checkpoint, train_cfg, cfg.act_bits, cfg.seed, cfg.threads, log), None


CALIBRATION_WINDOWS = 1024  #: database windows drawn for the activation calibration


def calibration_inputs(data: TrainingSet | PoolTrainingSet, seed: int) -> torch.Tensor:
    """Inputs (N, 1, 3600) that calibrate the activations: the training fragments of ``data``,
    or for a model trained on database windows :data:`CALIBRATION_WINDOWS` drawn from the fold's
    pool (as training draws them), so calibration keeps the protocol's distance from held-out
    windows."""
    if not isinstance(data, PoolTrainingSet):
        return data.x
    gen = torch.Generator().manual_seed(seed)
    return model_input(data.pool.windows(data.pool.draw(CALIBRATION_WINDOWS, data.balance, gen)))


def prepare(checkpoint: str | Path, train_cfg: TrainConfig, act_bits: int, seed: int,
            threads: int, log=print) -> Prepared:
    """Load the float model and its fold, add ``act_bits`` activations calibrated on training
    windows (:func:`calibration_inputs`); torch uses ``threads`` CPU threads from here on."""
    torch.set_num_threads(threads)
    net = load_float_model(checkpoint)
    frags = evaluation_table(train_cfg.protocol, train_cfg.data)
    split = split_for(train_cfg, frags)
    x_all = model_input(frags.x)
    torch.manual_seed(seed)
    qnet = QuantCnn(net, act_bits)
    data = training_set(train_cfg, frags, split, x_all)
    qnet.calibrate(calibration_inputs(data, seed))
    test = split.test
    p = Prepared(train_cfg, frags, split, x_all, qnet,
                 _accuracy(net, x_all[test], frags.label[test]), 0.0, data)
    p.calibrated_test = p.accuracy(test)
    log(f"{train_cfg.protocol} fold {train_cfg.fold}: float model {percent(p.float_test)}, with "
        f"{act_bits}-bit activations {percent(p.calibrated_test)} (test); exponents "
        f"{qnet.exponents()}")
    return p


def finish(p: Prepared, layers: list, alpha_bits: int, powers: bool, settings: dict,
           out: Path, seconds: float, title: str) -> tuple[dict, memory.MemoryReport]:
    """Freeze ``layers`` (WeightLayer, MultiBit) into ``p.qnet``, test once, write the run folder
    (model.pt, metrics.json, layers.md, confusion_matrix.png, config.json last)."""
    qnet, split, labels = p.qnet, p.split, p.frags.label
    exponents = qnet.exponents()
    frozen = freeze(qnet, layers, alpha_bits, exponents[: len(layers)], powers)
    records = _layer_records(frozen)
    int_model = export.from_records(records, qnet.bits, {})
    mem = memory.count(int_model)
    metrics = {
        "protocol": p.train_cfg.protocol,
        "protocol_description": PROTOCOL_TEXT[p.train_cfg.protocol],
        "fold": p.train_cfg.fold,
        "n_folds": p.train_cfg.n_folds,
        "n_test": len(split.test),
        "average_bits": mem.average_bits,
        "layer_bits": [float(f.mask.sum(1).double().mean()) for f in frozen],
        "memory": mem.to_dict(),
        "act_bits": qnet.bits,
        "alpha_bits": alpha_bits,
        "activation_exponents": exponents,
        "seconds": round(seconds, 1),
    }
    if len(split.val):
        metrics["val_accuracy"] = p.accuracy(split.val)
    if len(split.test):  # protocol "all" has no test part
        test_x, test_y = p.x_all[split.test], labels[split.test]
        _, pred = evaluate(qnet, test_x, torch.from_numpy(test_y))
        qnet.set_enabled(False)
        float_act_test = _accuracy(qnet, test_x, test_y)
        qnet.set_enabled(True)
        metrics.update(**classification_metrics(test_y, pred),
                       accuracy_float_activations=float_act_test, float_model_accuracy=p.float_test,
                       test_files=p.frags.file[split.test].tolist(),
                       test_predictions=(pred + 1).tolist())
        plots.confusion_matrix(
            np.array(metrics["confusion"]), out / "confusion_matrix.png",
            f"{title}, {mem.kib:.2f} KiB, {p.train_cfg.protocol} fold {p.train_cfg.fold}: "
            f"accuracy {100 * metrics['accuracy']:.2f} % (n={metrics['n']})")
    summary = {k: metrics[k] for k in ("protocol", "fold", "n_test", "accuracy",
                                       "accuracy_float_activations", "average_bits") if k in metrics}
    summary["memory_kib"] = mem.kib
    config = next(v for k, v in settings.items() if k.endswith("Config"))
    payload = alq_model_payload(qnet, records, config, settings["source"], summary)
    save_checkpoint(out / "model.pt", payload)
    int_model.provenance = export.provenance_of(payload, out / "model.pt")
    save(int_model, out / "model.npz")
    atomic.write_text(out / "layers.md", mem.table() + "\n")
    atomic.write_json(out / "metrics.json", metrics)
    atomic.write_json(out / "config.json", settings)
    return metrics, mem


def quantize(checkpoint: str | Path, cfg: AlqConfig, out: str | Path, data: str | None = None,
             log=print) -> dict:
    """Quantize the float model file ``checkpoint`` into the run folder ``out``; returns metrics."""
    cfg.validate()
    with run_folder(out):
        return _quantize(checkpoint, cfg, out, data, log)


def _quantize(checkpoint: str | Path, cfg: AlqConfig, out: str | Path, data: str | None = None,
              log=print) -> dict:
    """The body of :func:`quantize`, inside its locked run folder."""
    out = Path(out)
    settings, p, done = begin(checkpoint, cfg, out, data, log)
    if done is not None:
        return done
    t0 = time.perf_counter()
    teacher = load_float_model(checkpoint) if cfg.distill else None
    alq = Alq(p.qnet, cfg, teacher)
    train_cfg = p.train_cfg

    def report(row: dict) -> None:
        log(f"round {row['round']}: {row['average_bits']:.3f} average bits, validation "
            f"{percent(row.get('val_acc', float('nan')))}, layer bits "
            + " ".join(f"{b:.2f}" for b in row["layer_bits"]))

    validate = (lambda: p.accuracy(p.split.val)) if len(p.split.val) else None
    history = alq.run(p.training_set(cfg.samples_per_epoch), validate, log=report)
    seconds = time.perf_counter() - t0
    atomic.write_json(out / "history.json", history)
    plots.bits_trajectory(history, labels([s.spec for s in alq.layers]), out / "bits_trajectory.png",
                          f"ALQ, {train_cfg.protocol} fold {train_cfg.fold}, target "
                          f"{cfg.target_bits} bits, {cfg.grouping} groups")
    metrics, mem = finish(p, [(s.spec, s.q) for s in alq.layers], cfg.alpha_bits, False, settings,
                          out, seconds, f"ALQ {cfg.target_bits} bits")
    log(f"test accuracy {percent(metrics.get('accuracy', float('nan')))} with {cfg.act_bits}-bit "
        f"activations ({percent(metrics.get('accuracy_float_activations', float('nan')))} with float "
        f"activations), {mem.average_bits:.3f} average bits, honest memory {mem.kib:.2f} KiB "
        f"(paper's count {mem.paper_kib:.2f} KiB), {seconds:.0f} s")
    return metrics
