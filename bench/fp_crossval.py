"""Full-precision 10-fold cross-validation of the CNN under both split protocols.

    .venv/bin/python bench/fp_crossval.py [--workers 2] [--folds 0-9] [--runs runs/bench]

Trains every (protocol, fold) pair with the recipe in ``bench/configs/fp.json`` (one torch thread
per worker), resumable per fold: finished folds are read back, an interrupted one resumes from its
last epoch. Writes ``bench/results/fp_crossval.json``, the summed confusion matrices to
``docs/figures/`` and regenerates ``docs/RESULTS.md``.
"""

from __future__ import annotations

import argparse
import concurrent.futures as cf
import dataclasses
import json
import platform
import shutil
import sys
import time
from pathlib import Path

import torch

from ecg_alq import atomic, config
from ecg_alq.config import parse_folds
from ecg_alq.crossval import cross_validate
from ecg_alq.data.splits import FRAGMENT_PROTOCOLS  # this recipe trains on fragments
from ecg_alq.training import TrainConfig, train

BENCH = Path(__file__).resolve().parent
REPO = BENCH.parent
RECIPE = BENCH / "configs" / "fp.json"
COMMAND = ".venv/bin/python bench/fp_crossval.py"


def _one(cfg: TrainConfig, out: Path) -> str:
    m = train(cfg, out, resume=True)
    return f"{cfg.protocol} fold {cfg.fold}: {100 * m['accuracy']:.1f} % ({m['train_seconds']:.0f} s)"


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--workers", type=int, default=2)
    p.add_argument("--folds", type=parse_folds, default=list(range(10)))
    p.add_argument("--runs", type=Path, default=REPO / "runs" / "bench")
    p.add_argument("--data", default=None)
    args = p.parse_args(argv)

    base = config.make(TrainConfig, config.load_json(TrainConfig, RECIPE) | {
        "progress": False, "threads": 1, "data": args.data})
    jobs = [(dataclasses.replace(base, protocol=pr, fold=k), args.runs / f"fp-{pr}" / f"fold-{k}")
            for pr in FRAGMENT_PROTOCOLS for k in args.folds]
    t0 = time.time()
    with cf.ProcessPoolExecutor(args.workers) as pool:
        futures = [pool.submit(_one, cfg, out) for cfg, out in jobs]
        for i, fut in enumerate(cf.as_completed(futures), 1):
            print(f"[{i}/{len(jobs)} {time.time() - t0:.0f} s] {fut.result()}", flush=True)

    result = {"command": COMMAND, "recipe": json.loads(RECIPE.read_text()),
              "machine": f"{platform.machine()}, {torch.get_num_threads()} threads available, "
                         f"{args.workers} folds trained at once with 1 thread each",
              "torch": torch.__version__, "protocols": {}}
    for pr in FRAGMENT_PROTOCOLS:
        summary = cross_validate(dataclasses.replace(base, protocol=pr), args.runs / f"fp-{pr}",
                                 args.folds, log=lambda *_: None)
        result["protocols"][pr] = summary
        shutil.copy(args.runs / f"fp-{pr}" / "confusion_matrix.png",
                    REPO / "docs" / "figures" / f"fp_confusion_{pr}.png")
    atomic.write_json(BENCH / "results" / "fp_crossval.json", result)
    from results_md import write_results_md  # noqa: E402  (bench/ is the script's folder)

    write_results_md()
    for pr, s in result["protocols"].items():
        print(f"{pr}: accuracy {100 * s['accuracy_mean']:.2f} +- {100 * s['accuracy_std']:.2f} %")
    return 0


if __name__ == "__main__":
    sys.exit(main())
