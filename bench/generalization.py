"""The headline comparison of issue 15: training recipes and quantizers under the three protocols,
every fold with several seeds, the integer golden model tested, paired tests between them.

    .venv/bin/python bench/generalization.py [--protocols window,block,record] [--folds 0-9]
        [--seeds 0-2] [--configs new,today,...] [--split-seed 2026] [--workers 2] [--collect-only]

A *configuration* is a float training recipe (``bench/recipes.py``) plus a quantizer (ALQ or a
uniform baseline at 8-bit activations). Per (protocol, configuration, seed, fold): the float run
(shared by configurations with the same recipe) and the quantized run under
``runs/generalization/split-SEED/PROTOCOL/...``; the golden model's test predictions of each
finished run are kept in the repository, ``bench/results/generalization-runs/split-SEED/PROTOCOL/
CONFIG/seed-S-fold-K.json`` (``--store``), so a sweep resumes on a fresh clone, and the tables are
collected from there (the committed store holds runs on the shipped data set: with another
``--data``, give another ``--store``). Jobs run fold by fold (seed 0 first), so partial results
are balanced ones.

The split seed 2026 is fresh: the recipes were tuned on folds of seed 2018, on validation data.
Comparisons (:mod:`ecg_alq.stats`), over the folds both configurations finished with the same
seeds: per window (exact McNemar with one seed; with several, a sign-flip test of the per-window
correctness averaged over seeds: windows, not runs, are the units), Holm-corrected over the
comparisons of a protocol; and a sign-flip test over folds (seeds averaged per fold).

Writes ``bench/results/generalization.json`` and regenerates ``docs/RESULTS.md``.
"""

from __future__ import annotations

import argparse
import concurrent.futures as cf
import json
import sys
import time
from pathlib import Path

import numpy as np

from ecg_alq import atomic, stats
from ecg_alq.classes import CLASS_NAMES
from ecg_alq.config import parse_folds
from ecg_alq.data.splits import PROTOCOL_TEXT, evaluation_table, subject_of

BENCH = Path(__file__).resolve().parent
REPO = BENCH.parent
COMMAND = ".venv/bin/python bench/generalization.py"
FRESH_SPLIT_SEED = 2026

ALQ = ("alq", {"target_bits": 1.2})
RECIPE = "database-aux-20"  #: ecg_alq.training.GENERALIZING_RECIPE (why: its comment)
#: name -> (float recipe of bench/recipes.py, (quantizer kind, its settings))
CONFIGS: dict[str, tuple[str, tuple[str, dict]]] = {
    "alq": (RECIPE, ALQ),
    "alq-today-recipe": ("fragments", ALQ),
    "alq-shift": ("aux-20-shift", ALQ),
    "alq-gradual": (RECIPE, ("alq", {"target_bits": 1.2, "rounds": 8, "pr": 0.3,
                                     "epoch_basis": 5, "epoch_coord": 6})),
    "uniform-1": (RECIPE, ("baseline", {"method": "uniform", "weight_bits": 1})),
    "uniform-2": (RECIPE, ("baseline", {"method": "uniform", "weight_bits": 2})),
    "uniform-3": (RECIPE, ("baseline", {"method": "uniform", "weight_bits": 3})),
}
HEADLINE = "alq"
#: the comparisons of each table: (a, b)
COMPARISONS = [(HEADLINE, c) for c in CONFIGS if c != HEADLINE]


def applicable(config: str, protocol: str) -> bool:
    from recipes import applicable as recipe_applicable  # bench/ is the script's folder

    return recipe_applicable(CONFIGS[config][0], protocol)


def stored(store: Path, split_seed: int, protocol: str, config: str, seed: int, fold: int) -> Path:
    """Where the golden result of one finished run is kept (committed)."""
    return store / f"split-{split_seed}" / protocol / config / f"seed-{seed}-fold-{fold}.json"


def folders(runs: Path, split_seed: int, protocol: str, config: str, seed: int, fold: int):
    base = runs / f"split-{split_seed}" / protocol
    recipe = CONFIGS[config][0]
    return (base / f"float-{recipe}" / f"seed-{seed}" / f"fold-{fold}",
            base / config / f"seed-{seed}" / f"fold-{fold}")


def run_one(runs: Path, store: Path, split_seed: int, protocol: str, config: str, seed: int,
            fold: int, data: str | None) -> dict:
    """Float run, quantized run and golden evaluation of one (configuration, seed, fold); the
    result is kept in ``store`` (:func:`stored`) and read back from there."""
    import torch

    from recipes import recipe_config  # bench/ is the script's folder

    from ecg_alq.quant.evaluate import evaluate_run
    from ecg_alq.quant.alq import AlqConfig
    from ecg_alq.quant.baselines import BaselineConfig, train_baseline
    from ecg_alq.quant.quantize import quantize
    from ecg_alq.training import train

    torch.set_num_threads(1)
    float_dir, quant_dir = folders(runs, split_seed, protocol, config, seed, fold)
    golden = stored(store, split_seed, protocol, config, seed, fold)
    if golden.exists():
        return json.loads(golden.read_text())
    recipe, (kind, settings) = CONFIGS[config]
    train(recipe_config(recipe, protocol, fold, seed, split_seed, data), float_dir, resume=True)
    quiet = lambda *_: None  # noqa: E731
    if kind == "alq":
        quantize(float_dir / "model.pt", AlqConfig(**settings, seed=seed), quant_dir, data, quiet)
    else:
        train_baseline(float_dir / "model.pt", BaselineConfig(**settings, seed=seed), quant_dir,
                       data=data, log=quiet)
    result = evaluate_run(quant_dir, evaluation_table(protocol, data), data, agree_on_test=True)
    quant = json.loads((quant_dir / "metrics.json").read_text())
    result |= {"config": config, "seed": seed, "split_seed": split_seed,
               "val_accuracy": quant.get("val_accuracy")}
    atomic.write_json(golden, result)
    return result


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--protocols", default="window,block,record")
    p.add_argument("--configs", default=",".join(CONFIGS))
    p.add_argument("--folds", type=parse_folds, default=list(range(10)))
    p.add_argument("--seeds", type=parse_folds, default=[0, 1, 2])
    p.add_argument("--split-seed", type=int, default=FRESH_SPLIT_SEED)
    p.add_argument("--workers", type=int, default=2)
    p.add_argument("--runs", type=Path, default=REPO / "runs" / "generalization")
    p.add_argument("--store", type=Path, default=BENCH / "results" / "generalization-runs",
                   help="where each finished run's golden result is kept (committed)")
    p.add_argument("--data", default=None)
    p.add_argument("--collect-only", action="store_true")
    args = p.parse_args(argv)
    protocols, configs = args.protocols.split(","), args.configs.split(",")
    unknown = set(configs) - set(CONFIGS)
    if unknown:
        p.error(f"unknown configurations {sorted(unknown)}; known: {', '.join(CONFIGS)}")
    if not args.collect_only:
        run_sweep(args, protocols, configs)
    write_results(args.store, args.split_seed, protocols, args.data)
    return 0


def run_group(runs: Path, store: Path, split_seed: int, protocol: str, seed: int, fold: int,
              configs: list[str], data: str | None) -> list[dict]:
    """:func:`run_one` for each of ``configs`` in turn: configurations sharing a float recipe
    share its run folder, which one process at a time may write."""
    return [run_one(runs, store, split_seed, protocol, c, seed, fold, data) for c in configs]


def run_sweep(args, protocols: list[str], configs: list[str]) -> None:
    """Every (protocol, seed, fold, float recipe) group of runs on ``args.workers`` processes,
    seed by seed and fold by fold."""
    groups = {}
    for s in args.seeds:
        for k in args.folds:
            for pr in protocols:
                for c in configs:
                    if applicable(c, pr):
                        groups.setdefault((pr, s, k, CONFIGS[c][0]), []).append(c)
    total, done, t0 = sum(map(len, groups.values())), 0, time.time()
    with cf.ProcessPoolExecutor(args.workers) as pool:
        futures = {pool.submit(run_group, args.runs, args.store, args.split_seed, pr, s, k, cs,
                               args.data): (pr, s, k, cs)
                   for (pr, s, k, _), cs in groups.items()}
        for fut in cf.as_completed(futures):
            pr, s, k, cs = futures[fut]
            for c, r in zip(cs, fut.result()):
                done += 1
                print(f"[{done}/{total} {time.time() - t0:.0f} s] {pr} {c} seed {s} fold {k}: "
                      f"golden {100 * r['accuracy']:.1f} % at {r['memory_kib']:.2f} KiB",
                      flush=True)


def _finished(store: Path, split_seed: int, protocol: str, config: str) -> dict:
    """(seed, fold) -> golden result of every finished run of a configuration."""
    out = {}
    for path in (store / f"split-{split_seed}" / protocol / config).glob("seed-*-fold-*.json"):
        r = json.loads(path.read_text())
        out[(r["seed"], r["fold"])] = r
    return out


def _rows(r: dict, table) -> np.ndarray:
    """Rows of ``table`` of a run's test windows, in the run's order."""
    where = {f: i for i, f in enumerate(table.file)}
    return np.array([where[f] for f in r["test_files"]])


def _correct(r: dict, table) -> np.ndarray:
    return np.asarray(r["test_predictions"]) == table.class_id[_rows(r, table)]


def summarize(protocol: str, config: str, results: dict, table) -> dict:
    runs = [results[k] for k in sorted(results)]
    acc = [r["accuracy"] for r in runs]
    mean, std = stats.mean_std(acc)
    per_class, subjects = _per_class(runs, table)
    out = {"config": config, "recipe": CONFIGS[config][0], "quantizer": CONFIGS[config][1],
           "runs": len(runs), "seeds": sorted({s for s, _ in results}),
           "folds": sorted({k for _, k in results}),
           "accuracy_mean": mean, "accuracy_std": std,
           "balanced_accuracy_mean": float(np.mean([r["balanced_accuracy"] for r in runs])),
           "macro_f1_mean": float(np.mean([r["macro_f1"] for r in runs])),
           "memory_kib_mean": float(np.mean([r["memory_kib"] for r in runs])),
           "val_accuracy_mean": float(np.mean([r["val_accuracy"] for r in runs])),
           "memory_kib_max": float(np.max([r["memory_kib"] for r in runs])),
           "average_bits_mean": float(np.mean([r["average_bits"] for r in runs])),
           "per_class": per_class}
    if protocol == "record":
        for n in (2, 5):
            keep = [c for c, s in subjects.items() if s >= n]
            hits = sum(per_class[c]["correct"] for c in keep)
            total = sum(per_class[c]["windows"] for c in keep)
            out[f"accuracy_classes_in_{n}_subjects"] = hits / total if total else None
            out[f"classes_in_{n}_subjects"] = keep
    return out


def _per_class(runs: list[dict], table) -> tuple[dict, dict]:
    """Per class: windows tested (over all runs), correct ones, recall, and subjects."""
    per_class, subjects = {}, {}
    for cid, name in enumerate(CLASS_NAMES, start=1):
        subjects[name] = len(np.unique(subject_of(table.record[table.class_id == cid])))
    for r in runs:
        truth, pred = table.class_id[_rows(r, table)], np.asarray(r["test_predictions"])
        for cid, name in enumerate(CLASS_NAMES, start=1):
            c = per_class.setdefault(name, {"windows": 0, "correct": 0, "subjects": subjects[name]})
            c["windows"] += int((truth == cid).sum())
            c["correct"] += int(((truth == cid) & (pred == cid)).sum())
    for c in per_class.values():
        c["recall"] = c["correct"] / c["windows"] if c["windows"] else None
    return per_class, subjects


def compare(a: str, b: str, res_a: dict, res_b: dict, table) -> dict | None:
    """Paired tests of ``a`` against ``b`` over the folds both finished with the same seeds:
    per window (:func:`ecg_alq.stats.paired_windows`: exact McNemar with one seed) and per fold
    (seeds averaged, then :func:`ecg_alq.stats.sign_flip`)."""
    folds = sorted({k for _, k in res_a} & {k for _, k in res_b})
    if not folds:
        return None
    seeds = sorted(set.intersection(*({s for s, k in res if k == f}
                                      for f in folds for res in (res_a, res_b))))
    if not seeds:
        return None
    ca, cb, fold_diffs = [], [], []
    for k in folds:
        for s in seeds:
            if res_a[(s, k)]["test_files"] != res_b[(s, k)]["test_files"]:
                raise ValueError(f"fold {k} seed {s}: {a} and {b} tested different windows")
        ca.append(np.stack([_correct(res_a[(s, k)], table) for s in seeds]))
        cb.append(np.stack([_correct(res_b[(s, k)], table) for s in seeds]))
        fold_diffs.append(float(ca[-1].mean() - cb[-1].mean()))
    ca, cb = np.concatenate(ca, axis=1), np.concatenate(cb, axis=1)
    return {"a": a, "b": b, "folds": folds, "seeds": seeds, "runs": len(folds) * len(seeds),
            "accuracy_a": float(ca.mean()), "accuracy_b": float(cb.mean()),
            "difference": float(ca.mean() - cb.mean()),
            "windows_test": stats.paired_windows(ca, cb),
            "sign_flip_folds_p": stats.sign_flip(fold_diffs)}


EARLIER = ("collected before per-run results were kept in the repository; those runs were lost "
           "with their machine, so this summary cannot be recomputed until they are re-run")


def _keep_earlier(earlier: dict, configs: dict, tests: list) -> tuple[dict, list]:
    """Add to a protocol's new tables (of the same split seed) the earlier summaries that the
    stored runs do not yet match in number (with ``rerun_so_far``: how many are stored) and the
    comparisons that none of them can recompute, each marked ``earlier`` (their Holm correction
    is the earlier table's)."""
    configs = dict(configs)
    for c, sm in earlier.get("configs", {}).items():
        new = configs.get(c)
        if new is None or new["runs"] < sm["runs"]:
            configs[c] = sm | {"earlier": sm.get("earlier", EARLIER)}
            if new is not None:
                configs[c]["rerun_so_far"] = new["runs"]
    done = {(t["a"], t["b"]) for t in tests}
    kept = [t | {"earlier": t.get("earlier", EARLIER)} for t in earlier.get("comparisons", [])
            if (t["a"], t["b"]) not in done
            and any("earlier" in configs[c] for c in (t["a"], t["b"]))]
    return configs, tests + kept


def write_results(store: Path, split_seed: int, protocols: list[str], data: str | None) -> dict:
    path = BENCH / "results" / "generalization.json"
    body = json.loads(path.read_text()) if path.exists() else {}
    if body.get("split_seed") != split_seed:  # another split's tables are not kept
        body = {}
    body |= {"command": COMMAND, "split_seed": split_seed,
             "configs": {k: {"recipe": r, "quantizer": q} for k, (r, q) in CONFIGS.items()}}
    body.setdefault("protocols", {})
    for pr in protocols:
        table = evaluation_table(pr, data)
        results = {c: _finished(store, split_seed, pr, c) for c in CONFIGS}
        configs = {c: summarize(pr, c, res, table) for c, res in results.items() if res}
        tests = [t for a, b in COMPARISONS if a in configs and b in configs
                 if (t := compare(a, b, results[a], results[b], table))]
        for t, p_adj in zip(tests, stats.holm([t["windows_test"]["p"] for t in tests])):
            t["windows_test"]["p_holm"] = p_adj
            t["verdict"] = stats.verdict(t["a"], t["b"], t["difference"], p_adj)
        configs, tests = _keep_earlier(body["protocols"].get(pr, {}), configs, tests)
        body["protocols"][pr] = {"description": PROTOCOL_TEXT[pr], "configs": configs,
                                 "comparisons": tests}
        for c, s in configs.items():
            spread = f" +- {100 * s['accuracy_std']:.2f}" if s["accuracy_std"] is not None else ""
            print(f"{pr} {c}: {100 * s['accuracy_mean']:.2f}{spread} % ({s['runs']} runs), "
                  f"{s['memory_kib_mean']:.2f} KiB")
        for t in tests:
            print(f"{pr} {t['a']} vs {t['b']}: {100 * t['difference']:+.2f} points over "
                  f"{t['runs']} runs, {t['windows_test']['test']} p = "
                  f"{t['windows_test']['p']:.3g} (Holm {t['windows_test']['p_holm']:.3g}): "
                  f"{t['verdict']}")
    atomic.write_json(path, body)
    from results_md import write_results_md  # bench/ is the script's folder

    write_results_md()
    return body


if __name__ == "__main__":
    sys.exit(main())
