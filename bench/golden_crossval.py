"""The integer golden model, cross-validated: the project's headline accuracy (issue 4).

    .venv/bin/python bench/golden_crossval.py [--point alq-channel-1.2] [--protocols window,record]

For every fold, the point's quantized run of ``bench/quant_crossval.py`` (run first for missing
folds; finished ones are reused) is exported to an integer model file, which is then read back
and the fold's test fragments are classified by the golden model alone (numpy integers). The
torch model of the same run is compared with it on all 1000 fragments: integer logits (torch in
float64) and classes (torch in float32, as trained). Memory is counted from the integer file.

Writes ``bench/results/golden_crossval.json`` and regenerates ``docs/RESULTS.md``.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np
import torch

from ecg_alq import atomic
from ecg_alq.quant.modelfile import load_alq_model
from ecg_alq.data.fragments import load_fragments
from ecg_alq.data.splits import PROTOCOL_TEXT
from ecg_alq.quant.evaluate import evaluate_run
from ecg_alq.metrics import from_confusion

BENCH = Path(__file__).resolve().parent
REPO = BENCH.parent
COMMAND = ".venv/bin/python bench/golden_crossval.py"


def summarize(point: str, protocol: str, folds: list[dict], torch_acc: list[float]) -> dict:
    acc = [f["accuracy"] for f in folds]
    summed = np.sum([np.array(f["confusion"]) for f in folds], axis=0)
    return {"point": point, "protocol": protocol, "protocol_description": PROTOCOL_TEXT[protocol],
            "folds": [f["fold"] for f in folds],
            "accuracy_mean": float(np.mean(acc)), "accuracy_std": float(np.std(acc)),
            "macro_f1_mean": float(np.mean([f["macro_f1"] for f in folds])),
            "balanced_accuracy_mean": float(np.mean([f["balanced_accuracy"] for f in folds])),
            "torch_accuracy_mean": float(np.mean(torch_acc)),
            "memory_kib_mean": float(np.mean([f["memory_kib"] for f in folds])),
            "memory_kib_max": float(np.max([f["memory_kib"] for f in folds])),
            "logit_mismatches": sum(f["agreement_all"]["logit_mismatches"] for f in folds),
            "class_mismatches_float32": sum(f["agreement_all"]["class_mismatches_float32"]
                                            for f in folds),
            "fragments_compared": sum(f["agreement_all"]["n"] for f in folds),
            "max_acc_bits": int(np.max([f["acc_bits"] for f in folds])),
            "golden_ms_per_fragment": 1000 * float(np.median(
                [f["golden_seconds_per_fragment"] for f in folds])),
            "pooled": from_confusion(summed), "per_fold": folds}


def main(argv=None) -> int:
    from quant_crossval import HEADLINE, main as quant_main  # bench/ is the script's folder

    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--point", default=HEADLINE)
    p.add_argument("--protocols", default="window,record")
    p.add_argument("--runs", type=Path, default=REPO / "runs" / "bench")
    p.add_argument("--data", default=None)
    args = p.parse_args(argv)
    torch.set_num_threads(1)
    protocols = args.protocols.split(",")
    missing = [pr for pr in protocols if len(list(
        (args.runs / f"quant-{pr}" / args.point).glob("fold-*/metrics.json"))) < 10]
    if missing:
        quant_main(["--points", args.point, "--protocols", ",".join(missing), "--runs",
                    str(args.runs)] + (["--data", args.data] if args.data else []))
    frags = load_fragments(args.data)
    out = {"command": COMMAND, "point": args.point, "torch": torch.__version__, "protocols": {}}
    for pr in protocols:
        folds, torch_acc = [], []
        for k in range(10):
            run = args.runs / f"quant-{pr}" / args.point / f"fold-{k}"
            folds.append(evaluate_run(run, frags, args.data))
            torch_acc.append(load_alq_model(run / "model.pt")[1]["metrics"]["accuracy"])
            f = folds[-1]
            print(f"{pr} fold {k}: golden {100 * f['accuracy']:.1f} % (torch "
                  f"{100 * torch_acc[-1]:.1f} %), {f['agreement_all']['logit_mismatches']} "
                  f"logit mismatches on 1000, {f['memory_kib']:.2f} KiB", flush=True)
        out["protocols"][pr] = summarize(args.point, pr, folds, torch_acc)
    path = BENCH / "results" / "golden_crossval.json"
    previous = json.loads(path.read_text()).get("protocols", {}) if path.exists() else {}
    out["protocols"] = previous | out["protocols"]
    atomic.write_json(path, out)
    from results_md import write_results_md

    write_results_md()
    return 0


if __name__ == "__main__":
    sys.exit(main())
