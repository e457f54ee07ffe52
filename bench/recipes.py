"""Training recipes for generalization, compared on validation data (issue 15).

    .venv/bin/python bench/recipes.py [--recipes a,b] [--protocols window,record,block]
                                      [--folds 0-3] [--seeds 0] [--split-seed 2018] [--workers 2]

Every (recipe, protocol, seed, fold) is one float training run under
``runs/recipes/split-SEED/PROTOCOL/RECIPE/seed-S/fold-K`` (resumable per epoch; finished runs are
read back). Recipes are chosen by their **validation** accuracy (the selected epoch's), carved from
the training folds as each protocol says; the test figures are written beside them for the record
but are not what a recipe is chosen by. The split seed 2018 (folds 0-3) is the tuning split; the
final comparison uses a fresh one (``bench/generalization.py``).

Writes ``bench/results/recipes.json``.
"""

from __future__ import annotations

import argparse
import concurrent.futures as cf
import json
import sys
import time
from pathlib import Path

import numpy as np

from ecg_alq import atomic, config
from ecg_alq.config import parse_folds
from ecg_alq.training import GENERALIZING_RECIPE, TrainConfig, train

BENCH = Path(__file__).resolve().parent
REPO = BENCH.parent
COMMAND = ".venv/bin/python bench/recipes.py"

DATABASE = {"windows": "database", "epochs": 40}
#: name -> settings over bench/configs/fp.json (today's recipe: the training fragments, re-cut)
RECIPES: dict[str, dict] = {
    "fragments": {},
    "database": DATABASE,
    "database-aux": DATABASE | {"aux_weight": 0.3},
    "database-natural": DATABASE | {"class_balance": 1.0},
    "database-uniform": DATABASE | {"class_balance": 0.0},
    "database-aux-long": DATABASE | {"aux_weight": 0.3, "epochs": 80},
    "database-aux-20": GENERALIZING_RECIPE,  # the chosen one (ecg_alq.training)
    "database-aux1-20": DATABASE | {"aux_weight": 1.0, "epochs": 20},
    # round 4, for new patients (record protocol, subject validation, folds 0-3): one change each
    # over the chosen recipe
    "aux-20-scale": GENERALIZING_RECIPE | {"scale_min": 0.7, "scale_max": 1.4},
    "aux-20-natural": GENERALIZING_RECIPE | {"class_balance": 1.0},
    "aux-20-uniform": GENERALIZING_RECIPE | {"class_balance": 0.0},
    "aux-20-decay": GENERALIZING_RECIPE | {"weight_decay": 0.05},
    "aux-20-shift": GENERALIZING_RECIPE | {"shift_max": 90},
}


def recipe_config(name: str, protocol: str, fold: int, seed: int, split_seed: int,
                  data: str | None) -> TrainConfig:
    base = config.load_json(TrainConfig, BENCH / "configs" / "fp.json")
    return config.make(TrainConfig, base | RECIPES[name] | {
        "protocol": protocol, "fold": fold, "seed": seed, "split_seed": split_seed,
        "progress": False, "threads": 1, "data": data})


def run_dir(runs: Path, split_seed: int, protocol: str, recipe: str, seed: int, fold: int) -> Path:
    return runs / f"split-{split_seed}" / protocol / recipe / f"seed-{seed}" / f"fold-{fold}"


def _one(cfg: TrainConfig, out: Path) -> dict:
    train(cfg, out, resume=True)
    return _result(out)


def _result(out: Path) -> dict:
    """Validation (selected epoch) and test figures of a finished run folder."""
    metrics = json.loads((out / "metrics.json").read_text())
    history = json.loads((out / "history.json").read_text())
    chosen = next(h for h in history if h.get("selected"))
    return {"val_accuracy": chosen.get("val_acc"), "val_loss": chosen.get("val_loss"),
            "selected_epoch": chosen["epoch"], "test_accuracy": metrics["accuracy"],
            "test_balanced_accuracy": metrics["balanced_accuracy"],
            "train_seconds": metrics["train_seconds"]}


def applicable(recipe: str, protocol: str) -> bool:
    """The block protocol tests grid windows: it needs database training windows."""
    return protocol != "block" or RECIPES[recipe].get("windows") == "database"


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--recipes", default=",".join(RECIPES))
    p.add_argument("--protocols", default="window,record,block")
    p.add_argument("--folds", type=parse_folds, default=[0])
    p.add_argument("--seeds", type=parse_folds, default=[0])
    p.add_argument("--split-seed", type=int, default=2018)
    p.add_argument("--workers", type=int, default=2)
    p.add_argument("--runs", type=Path, default=REPO / "runs" / "recipes")
    p.add_argument("--data", default=None)
    p.add_argument("--collect-only", action="store_true",
                   help="only gather the finished run folders into the results file")
    args = p.parse_args(argv)
    if args.collect_only:
        base = args.runs / f"split-{args.split_seed}"
        done = {"/".join(d.relative_to(base).parts): _result(d)
                for d in sorted(base.glob("*/*/seed-*/fold-*")) if (d / "metrics.json").exists()}
        write_results(args.runs, args.split_seed, done)
        return 0
    names = args.recipes.split(",")
    unknown = set(names) - set(RECIPES)
    if unknown:
        p.error(f"unknown recipes {sorted(unknown)}; known: {', '.join(RECIPES)}")
    jobs = [(r, pr, s, k) for k in args.folds for s in args.seeds for pr in args.protocols.split(",")
            for r in names if applicable(r, pr)]
    t0 = time.time()
    results = {}
    with cf.ProcessPoolExecutor(args.workers) as pool:
        futures = {pool.submit(_one, recipe_config(r, pr, k, s, args.split_seed, args.data),
                               run_dir(args.runs, args.split_seed, pr, r, s, k)): (r, pr, s, k)
                   for r, pr, s, k in jobs}
        for i, fut in enumerate(cf.as_completed(futures), 1):
            r, pr, s, k = futures[fut]
            res = results[f"{pr}/{r}/seed-{s}/fold-{k}"] = fut.result()
            print(f"[{i}/{len(jobs)} {time.time() - t0:.0f} s] {pr} {r} seed {s} fold {k}: "
                  f"validation {100 * res['val_accuracy']:.1f} %, test "
                  f"{100 * res['test_accuracy']:.1f} % ({res['train_seconds']:.0f} s)", flush=True)
    write_results(args.runs, args.split_seed, results)
    return 0


def write_results(runs: Path, split_seed: int, new: dict) -> None:
    """Merge ``new`` runs into ``bench/results/recipes.json`` with per-recipe means."""
    path = BENCH / "results" / "recipes.json"
    body = json.loads(path.read_text()) if path.exists() else {}
    key = f"split-{split_seed}"
    runs_of = body.setdefault(key, {}).setdefault("runs", {})
    runs_of.update(new)
    summary = {}
    for name, res in runs_of.items():
        pr, recipe = name.split("/")[:2]
        summary.setdefault(f"{pr}/{recipe}", []).append(res)
    body[key]["summary"] = {k: {"runs": len(v), **{
        f"{m}_mean": float(np.mean([x[m] for x in v]))
        for m in ("val_accuracy", "test_accuracy", "test_balanced_accuracy")}}
        for k, v in sorted(summary.items())}
    body["command"] = COMMAND
    body["recipes"] = RECIPES
    atomic.write_json(path, body)


if __name__ == "__main__":
    sys.exit(main())
