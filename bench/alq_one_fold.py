"""Probe of the ALQ schedule on one fold (float activations, alpha in float, sign bits only).

    .venv/bin/python bench/alq_one_fold.py [--fold 0] [--target-bits 1.4]

Starts from the full-precision model that ``bench/fp_crossval.py`` trained for the fold
(window protocol), runs the default :class:`ecg_alq.quant.alq.AlqConfig` schedule, prints one
row per round (average sign bits, bits per layer, validation accuracy) and the test accuracy, and
writes ``runs/bench/alq-probe-fold-K.json``. Not the issue-3 benchmark: no integer activations
and no honest memory count yet.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import torch

from ecg_alq import atomic
from ecg_alq.checkpoint import load_float_model
from ecg_alq.data.fragments import load_fragments
from ecg_alq.errors import EcgAlqError
from ecg_alq.preprocess import model_input
from ecg_alq.quant.alq import Alq, AlqConfig
from ecg_alq.training import TrainConfig, evaluate, split_for, training_set

REPO = Path(__file__).resolve().parent.parent


def main(argv=None) -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--fold", type=int, default=0)
    p.add_argument("--target-bits", type=float, default=1.4)
    p.add_argument("--grouping", default="kernel")
    p.add_argument("--tag", default="")
    p.add_argument("--runs", type=Path, default=REPO / "runs" / "bench")
    args = p.parse_args(argv)
    torch.set_num_threads(1)
    fp_dir = args.runs / "fp-window" / f"fold-{args.fold}"
    if not (fp_dir / "model.pt").exists():
        raise SystemExit(f"{fp_dir / 'model.pt'} missing: run bench/fp_crossval.py --folds {args.fold}")
    cfg = TrainConfig(**json.loads((fp_dir / "config.json").read_text()))
    frags = load_fragments(cfg.data)
    split = split_for(cfg, frags)
    x_all, y_all = model_input(frags.x), torch.from_numpy(frags.label)
    model = load_float_model(fp_dir / "model.pt")

    def accuracy(rows) -> float:
        return float((evaluate(model, x_all[rows], y_all[rows])[1] == frags.label[rows]).mean())

    fp_test = accuracy(split.test)
    t0 = time.perf_counter()
    alq = Alq(model, AlqConfig(target_bits=args.target_bits, grouping=args.grouping))
    history = alq.run(training_set(cfg, frags, split, x_all), lambda: accuracy(split.val),
                      log=lambda row: print(json.dumps(row), flush=True))
    result = {"fold": args.fold, "protocol": cfg.protocol, "fp_test_accuracy": fp_test,
              "alq_test_accuracy": accuracy(split.test), "average_bits": alq.average_bits(),
              "layer_bits": alq.layer_bits(), "seconds": time.perf_counter() - t0,
              "history": history}
    atomic.write_json(args.runs / f"alq-probe-fold-{args.fold}{args.tag}.json", result)
    print(f"fold {args.fold}: test accuracy {100 * fp_test:.1f} % (float) -> "
          f"{100 * result['alq_test_accuracy']:.1f} % at {result['average_bits']:.3f} average sign "
          f"bits, {result['seconds']:.0f} s")


if __name__ == "__main__":
    try:
        main()
    except EcgAlqError as exc:
        raise SystemExit(f"error: {exc}") from None
