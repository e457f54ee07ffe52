"""Make the shipped default model, ``sw/models/default.npz``, with the project's own flow.

    .venv/bin/python bench/ship_default.py [--config alq]

1. float training with the configuration's recipe (default: the headline of
   ``bench/generalization.py``) under protocol ``all``: every labelled window of the database
   except the reserved ones, no validation or test part (the weight average of the last epoch
   is kept);
2. its quantizer (ALQ) on the same windows;
3. the integer model file of that run, with the cross-validated figures of the same
   configuration (``bench/results/generalization.json``: all three protocols) added to its
   provenance, written to ``sw/models/default.npz``.

Each step reuses its finished run folder under ``runs/ship/``. No figure of this model is an
accuracy: every labelled window trained it. Its accuracy is the cross-validated one of its
configuration.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
from pathlib import Path

from ecg_alq.data.splits import ALL
from ecg_alq.intmodel import load, memory, save
from ecg_alq.quant.alq import AlqConfig
from ecg_alq.quant.quantize import quantize
from ecg_alq.training import train

BENCH = Path(__file__).resolve().parent
REPO = BENCH.parent
TARGET = REPO / "sw" / "models" / "default.npz"


def cross_validation(config: str) -> dict:
    """The measured cross-validated figures of ``config`` (integer golden model), per protocol."""
    path = BENCH / "results" / "generalization.json"
    res = json.loads(path.read_text()) if path.exists() else {"protocols": {}}
    out = {}
    for pr, body in res["protocols"].items():
        s = body["configs"].get(config)
        if s:
            out[pr] = {"model": "integer golden model", "protocol": body["description"],
                       "split_seed": res["split_seed"], "runs": s["runs"],
                       "accuracy_mean": s["accuracy_mean"], "accuracy_std": s["accuracy_std"],
                       "macro_f1_mean": s["macro_f1_mean"], "memory_kib_mean": s["memory_kib_mean"],
                       "command": res["command"]}
    if "window" not in out:
        raise SystemExit(f"no cross-validated figures for {config}: run bench/generalization.py")
    return out


def main(argv=None) -> int:
    from generalization import CONFIGS, HEADLINE  # bench/ is the script's folder
    from recipes import recipe_config

    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--config", default=HEADLINE)
    p.add_argument("--runs", type=Path, default=REPO / "runs" / "ship")
    p.add_argument("--data", default=None)
    p.add_argument("--threads", type=int, default=1,
                   help="torch threads (1, as in the cross-validation runs)")
    args = p.parse_args(argv)
    recipe, (kind, settings) = CONFIGS[args.config]
    if kind != "alq":
        raise SystemExit(f"{args.config} is not an ALQ configuration")
    cv = cross_validation(args.config)
    cfg = dataclasses.replace(recipe_config(recipe, ALL, 0, 0, 2018, args.data),
                              val_fraction=0.0, threads=args.threads)
    train(cfg, args.runs / "float", resume=True)
    quantize(args.runs / "float" / "model.pt", AlqConfig(**settings, threads=args.threads),
             args.runs / "alq", data=args.data)
    model = load(args.runs / "alq" / "model.npz")
    model.provenance = model.provenance | {
        "name": "ecg-alq default model",
        "config": args.config,
        "data": "every labelled 10-s MLII window of the 46 MIT-BIH records with an MLII lead "
                "(any start, rules of docs/data.md), the reserved windows excluded",
        "command": ".venv/bin/python bench/ship_default.py",
        "cross_validation": cv,
    }
    save(model, TARGET)
    mem = memory.count(model)
    print(f"wrote {TARGET}: {mem.kib:.2f} KiB honest memory, {mem.average_bits:.3f} average bits; "
          f"cross-validated accuracy of this configuration "
          f"{100 * cv['window']['accuracy_mean']:.2f} % (window protocol)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
