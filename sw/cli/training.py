"""``ecg-alq train|crossval|quantize|baseline|export``: the torch side, from a float model to
the integer model file."""

from __future__ import annotations

from ecg_alq.cli.common import DEFAULT_RUNS, Command, add_data
from ecg_alq.config import add_options, from_args, parse_folds
from ecg_alq.errors import EcgAlqError
from ecg_alq.outputs import output_file, output_folder


def cmd_train(args) -> int:
    from ecg_alq.training import TrainConfig, train

    cfg = from_args(TrainConfig, args)
    out = output_folder(args.out or DEFAULT_RUNS / f"train-{cfg.protocol}-fold{cfg.fold}")
    m = train(cfg, out, resume=args.resume)
    print(f"{cfg.protocol} fold {cfg.fold} test ({m['n_test']} fragments): accuracy "
          f"{100 * m['accuracy']:.2f} %, balanced accuracy {100 * m['balanced_accuracy']:.2f} %, "
          f"macro-F1 {m['macro_f1']:.3f}; selected epoch {m['selected_epoch']}")
    print(f"run folder: {out} (model.pt, metrics.json, learning_curves.png, confusion_matrix.png)")
    return 0


def cmd_crossval(args) -> int:
    from ecg_alq.crossval import cross_validate
    from ecg_alq.training import TrainConfig

    cfg = from_args(TrainConfig, args)
    out = output_folder(args.out or DEFAULT_RUNS / f"crossval-{cfg.protocol}")
    s = cross_validate(cfg, out, args.folds)
    print(f"{s['protocol_description']}; folds {s['folds']}")
    for k in ("accuracy", "balanced_accuracy", "macro_f1"):
        print(f"  {k:18s} {100 * s[k + '_mean']:.2f} +- {100 * s[k + '_std']:.2f} %")
    print(f"summary: {out / 'summary.json'}")
    return 0


def cmd_quantize(args) -> int:
    from ecg_alq.quant.alq import AlqConfig
    from ecg_alq.quant.quantize import quantize

    cfg = from_args(AlqConfig, args)
    out = output_folder(args.out or DEFAULT_RUNS / f"quantize-{cfg.grouping}-{cfg.target_bits:g}bits")
    quantize(args.checkpoint, cfg, out, data=args.data)
    print(f"run folder: {out} (model.pt, metrics.json, layers.md, bits_trajectory.png, "
          "confusion_matrix.png)")
    return 0


def cmd_baseline(args) -> int:
    from ecg_alq.quant.baselines import BaselineConfig, train_baseline

    cfg = from_args(BaselineConfig, args)
    out = output_folder(args.out or DEFAULT_RUNS / f"baseline-{cfg.method}-{cfg.bits}bit")
    train_baseline(args.checkpoint, cfg, out, data=args.data)
    print(f"run folder: {out} (model.pt, metrics.json, layers.md, confusion_matrix.png)")
    return 0


def cmd_export(args) -> int:
    from ecg_alq.intmodel import memory, save
    from ecg_alq.quant import export

    output_file(args.out, args.checkpoint)
    model = export.from_checkpoint(args.checkpoint)
    save(model, args.out)
    mem = memory.count(model)
    print(f"wrote {args.out}: honest memory {mem.kib:.2f} KiB ({mem.average_bits:.3f} average "
          f"bits)")
    if args.check:
        a = export.check_against_torch(args.checkpoint, model, args.data)
        print(f"golden model against torch on the {a['n']} {a['what']} fragments: "
              f"{a['logit_mismatches']} integer-logit and {a['class_mismatches_float32']} class "
              f"mismatches; golden accuracy {100 * a['golden_accuracy']:.2f} %")
        if a["logit_mismatches"] or a["class_mismatches_float32"]:
            raise EcgAlqError("the integer model does not reproduce the torch model (see above)")
    return 0


def _configure_train(p) -> None:
    from ecg_alq.training import TrainConfig

    add_options(p, TrainConfig)
    p.add_argument("--out", help="run folder (default runs/train-PROTOCOL-foldK)")
    p.add_argument("--resume", action="store_true", help="continue the run in --out")
    p.set_defaults(func=cmd_train)


def _configure_crossval(p) -> None:
    from ecg_alq.training import TrainConfig

    add_options(p, TrainConfig, skip=("fold",))
    p.add_argument("--folds", type=parse_folds, help="folds to run, e.g. 0-9 or 0,3 (default all)")
    p.add_argument("--out", help="output folder (default runs/crossval-PROTOCOL)")
    p.set_defaults(func=cmd_crossval)


def _configure_quantize(p) -> None:
    from ecg_alq.quant.alq import AlqConfig

    p.add_argument("--checkpoint", required=True, help="float model file (model.pt of a train "
                   "run); ALQ uses the fold and training rows it was trained on")
    add_options(p, AlqConfig)
    add_data(p)
    p.add_argument("--out", help="run folder (default runs/quantize-GROUPING-Bbits)")
    p.set_defaults(func=cmd_quantize)


def _configure_baseline(p) -> None:
    from ecg_alq.quant.baselines import BaselineConfig

    p.add_argument("--checkpoint", required=True, help="float model file (model.pt of a train run)")
    add_options(p, BaselineConfig)
    add_data(p)
    p.add_argument("--out", help="run folder (default runs/baseline-METHOD-Kbit)")
    p.set_defaults(func=cmd_baseline)


def _configure_export(p) -> None:
    p.add_argument("--checkpoint", required=True,
                   help="quantized model file (model.pt of a quantize or baseline run)")
    p.add_argument("--out", required=True, help="integer model file to write (.npz)")
    p.add_argument("--no-check", dest="check", action="store_false",
                   help="skip comparing golden and torch on the run's test fragments")
    add_data(p)
    p.set_defaults(func=cmd_export)


COMMANDS = {
    "train": Command("train the full-precision CNN on one fold", _configure_train),
    "crossval": Command("train and test every fold (resumable per fold)", _configure_crossval),
    "quantize": Command("ALQ with integer activations on a trained float model",
                        _configure_quantize),
    "baseline": Command("uniform k-bit or BinaryConnect training in ALQ's harness",
                        _configure_baseline),
    "export": Command("write the integer model file of a quantized model", _configure_export),
}
