"""``ecg-alq board classify``: fragments over the serial link of a board running the accelerator
(a real port; the tests drive the same client against the simulated link)."""

from __future__ import annotations

import sys

from ecg_alq.cli.common import Command
from ecg_alq.errors import EcgAlqError
from ecg_alq.outputs import output_file


def cmd_classify(args) -> int:
    from ecg_alq.boards.host import BoardClient, classify_all, open_port
    from ecg_alq.boards.protocol import model_id
    from ecg_alq.classes import CLASS_NAMES
    from ecg_alq.intmodel import load
    from ecg_alq.intmodel.golden import GoldenModel
    from ecg_alq.intmodel.shipped import default_model_path
    from ecg_alq.predict import load_npy
    from ecg_alq.preprocess import raw_fragments

    model = args.model or default_model_path()
    if args.out:
        output_file(args.out, args.input, model)
    x = raw_fragments(load_npy(args.input), what=args.input)
    golden = GoldenModel(model).logits(x) if args.check else None  # also checks the model file
    port = open_port(args.port, args.baud, timeout=args.timeout)
    done = classify_all(BoardClient(port), x, model_id=model_id(model), model=load(model),
                        progress=lambda k, n: print(f"\r{k}/{n} fragment(s)", end="",
                                                    file=sys.stderr, flush=True))
    print(file=sys.stderr)
    rows = []
    for k, r in enumerate(done):
        row = {"index": k, "class_id": r.class_id, "class": CLASS_NAMES[r.class_id - 1],
               "cycles": r.cycles, "logits": list(r.logits)}
        if golden is not None:
            row["matches_golden"] = list(r.logits) == golden[k].tolist()
        rows.append(row)
        print(f"{k}: class {r.class_id} ({row['class']}), {r.cycles} cycles"
              + ("" if golden is None else f", golden model {'equal' if row['matches_golden'] else 'DIFFERENT'}"))
    if args.out:
        from ecg_alq.atomic import write_json

        write_json(args.out, {"port": args.port, "model": str(model), "results": rows})
        print(f"wrote {args.out}")
    if golden is not None and not all(r["matches_golden"] for r in rows):
        raise EcgAlqError("the board's logits differ from the golden model's")
    return 0


def configure(p) -> None:
    from ecg_alq.boards.protocol import BAUD

    sub = p.add_subparsers(dest="board_command", required=True, metavar="ACTION")
    c = sub.add_parser("classify", help="send fragments over the serial port, print the classes")
    c.add_argument("--port", required=True, help="serial port, e.g. /dev/ttyUSB1")
    c.add_argument("--input", required=True, help=".npy of raw fragments, (N, 3600) or (3600,)")
    c.add_argument("--model", help="the model file the bitstream was built from (default: the "
                   "shipped one); the board must report the same model id")
    c.add_argument("--baud", type=int, default=BAUD, help=f"baud rate (default {BAUD})")
    c.add_argument("--timeout", type=float, default=5.0, help="seconds to wait for an answer")
    c.add_argument("--check", action="store_true",
                   help="compare every logit with the golden model (bit-exact check)")
    c.add_argument("--out", help="write the results as JSON")
    c.set_defaults(func=cmd_classify)


COMMANDS = {"board": Command("talk to a board running the accelerator", configure)}
