"""Make the shipped default model, ``sw/models/default.npz``, with the project's own flow.

    .venv/bin/python bench/ship_default.py [--point alq-channel-1.2]

1. float training with the recipe ``bench/configs/fp.json`` on all 1000 fragments (protocol
   ``all``: no validation or test part, so the weight average of the last epoch is kept);
2. ALQ with the settings of the point (default: the headline of ``bench/quant_crossval.py``);
3. the integer model file of that run, with the cross-validated figures of the same
   configuration (``bench/results/golden_crossval.json`` and ``quant_crossval.json``, both
   protocols) added to its provenance, written to ``sw/models/default.npz``.

Each step reuses its finished run folder under ``runs/ship/``. No figure of this model is an
accuracy: every fragment trained it. Its accuracy is the cross-validated one of its configuration.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from ecg_alq import config
from ecg_alq.data.splits import ALL
from ecg_alq.intmodel import load, memory, save
from ecg_alq.quant.alq import AlqConfig
from ecg_alq.quant.quantize import quantize
from ecg_alq.training import TrainConfig, train

BENCH = Path(__file__).resolve().parent
REPO = BENCH.parent
TARGET = REPO / "sw" / "models" / "default.npz"


def cross_validation(point: str) -> dict:
    """The measured cross-validated figures of ``point`` (golden model where measured)."""
    out = {}
    golden = BENCH / "results" / "golden_crossval.json"
    if golden.exists():
        res = json.loads(golden.read_text())
        if res["point"] == point:
            for pr, s in res["protocols"].items():
                out[pr] = {"model": "integer golden model", "protocol": s["protocol_description"],
                           "accuracy_mean": s["accuracy_mean"], "accuracy_std": s["accuracy_std"],
                           "macro_f1_mean": s["macro_f1_mean"],
                           "memory_kib_mean": s["memory_kib_mean"], "command": res["command"]}
    quant = json.loads((BENCH / "results" / "quant_crossval.json").read_text())
    for pr, res in quant["protocols"].items():
        s = res["points"].get(point)
        if s and pr not in out:
            out[pr] = {"model": "quantized torch model", "protocol": pr,
                       "accuracy_mean": s["accuracy_mean"], "accuracy_std": s["accuracy_std"],
                       "macro_f1_mean": s["macro_f1_mean"],
                       "memory_kib_mean": s["memory_kib_mean"], "command": quant["command"]}
    if "window" not in out:
        raise SystemExit(f"no cross-validated figures for {point}: run bench/golden_crossval.py")
    return out


def main(argv=None) -> int:
    from quant_crossval import HEADLINE, POINTS  # bench/ is the script's folder

    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--point", default=HEADLINE)
    p.add_argument("--runs", type=Path, default=REPO / "runs" / "ship")
    p.add_argument("--data", default=None)
    p.add_argument("--threads", type=int, default=1,
                   help="torch threads (1, as in the cross-validation runs)")
    args = p.parse_args(argv)
    kind, settings = POINTS[args.point]
    if kind != "alq":
        raise SystemExit(f"{args.point} is not an ALQ point")
    recipe = config.load_json(TrainConfig, BENCH / "configs" / "fp.json")
    cfg = config.make(TrainConfig, recipe | {"protocol": ALL, "val_fraction": 0.0,
                                             "threads": args.threads, "data": args.data})
    train(cfg, args.runs / "float", resume=True)
    alq_cfg = AlqConfig(**settings, threads=args.threads)
    quantize(args.runs / "float" / "model.pt", alq_cfg, args.runs / "alq", data=args.data)
    cv = cross_validation(args.point)
    model = load(args.runs / "alq" / "model.npz")
    model.provenance = model.provenance | {
        "name": "ecg-alq default model",
        "point": args.point,
        "data": "Pławiak's 1000 ten-second MIT-BIH fragments (17 classes), all used for training",
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
