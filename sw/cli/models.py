"""``ecg-alq predict|inspect|dump``: using an integer model file (the shipped one by default)."""

from __future__ import annotations

import sys

from ecg_alq.cli.common import Command
from ecg_alq.errors import EcgAlqError
from ecg_alq.outputs import output_file

MODEL_HELP = "integer model file (default: the shipped one)"


def cmd_predict(args) -> int:
    from ecg_alq.intmodel.shipped import default_model_path
    from ecg_alq.predict import PROGRESS_CHUNK, predict_file

    model = args.model or default_model_path()
    output_file(args.output, args.input, model)

    def progress(done: int, total: int) -> None:
        if total > PROGRESS_CHUNK:
            print(f"\r{done}/{total} fragments", end="\n" if done == total else "",
                  file=sys.stderr, flush=True)
    ids = predict_file(model, args.input, args.output, progress)
    print(f"classified {len(ids)} fragment(s) with {model}; wrote {args.output}")
    return 0


def cmd_inspect(args) -> int:
    from ecg_alq.intmodel import load
    from ecg_alq.intmodel.describe import summary
    from ecg_alq.intmodel.shipped import default_model_path

    path = args.model or default_model_path()
    print(f"{path}\n")
    print(summary(load(path)))
    return 0


def cmd_dump(args) -> int:
    import numpy as np

    from ecg_alq.intmodel.describe import write_dump
    from ecg_alq.intmodel.golden import GoldenModel
    from ecg_alq.intmodel.shipped import default_model_path
    from ecg_alq.predict import load_npy
    from ecg_alq.preprocess import raw_fragments

    output_file(args.out, args.input, args.model or default_model_path())
    golden = GoldenModel(args.model or default_model_path())
    x = raw_fragments(load_npy(args.input), what=args.input)
    if not 0 <= args.index < len(x):
        raise EcgAlqError(f"--index {args.index} is outside the {len(x)} fragment(s) of {args.input}")
    traces = golden.trace(x[args.index: args.index + 1])
    shapes = write_dump(traces, args.out)
    print(f"wrote {args.out}: " + ", ".join(f"{k} {v}" for k, v in shapes.items()))
    logits = traces[-1].pooled[0, :, 0]
    print(f"class {int(np.argmax(logits)) + 1} ({golden.model.class_names[int(np.argmax(logits))]})")
    return 0


def _configure_predict(p) -> None:
    p.add_argument("--model", help="integer model file (.npz, run bit-exactly by the golden "
                   "model) or torch model file (model.pt of a train or quantize run); default: "
                   "the shipped integer model")
    p.add_argument("--input", required=True, help="int16 (N, 3600) raw MLII ADC samples, .npy")
    p.add_argument("--output", required=True, help="CSV to write: index,class_id,class_name")
    p.set_defaults(func=cmd_predict)


def _configure_inspect(p) -> None:
    p.add_argument("--model", help=MODEL_HELP)
    p.set_defaults(func=cmd_inspect)


def _configure_dump(p) -> None:
    p.add_argument("--model", help=MODEL_HELP)
    p.add_argument("--input", required=True, help="raw fragments, int16 (N, 3600) or (3600,) .npy")
    p.add_argument("--index", type=int, default=0, help="which fragment of --input (default 0)")
    p.add_argument("--out", required=True, help=".npz to write: NAME.input/acc/pooled/output")
    p.set_defaults(func=cmd_dump)


COMMANDS = {
    "predict": Command("classify raw fragments from an .npy file", _configure_predict),
    "inspect": Command("layer table, widths and memory of an integer model", _configure_inspect),
    "dump": Command("every layer's integers for one fragment (golden model)", _configure_dump),
}
