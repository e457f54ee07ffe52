"""``ecg-alq data verify|splits``: the data folder's checksums and counts, the fold manifests."""

from __future__ import annotations

import sys
from pathlib import Path

from ecg_alq.cli.common import Command, add_data
from ecg_alq.outputs import output_folder


def cmd_verify(args) -> int:
    from ecg_alq.data.verify import verify

    report, problems = verify(args.data)
    print("\n".join(report))
    if problems:
        print(f"{len(problems)} problem(s):", *problems[:20], sep="\n  ", file=sys.stderr)
        return 1
    print("data OK")
    return 0


def cmd_splits(args) -> int:
    from ecg_alq.atomic import write_json
    from ecg_alq.data.splits import PROTOCOLS, evaluation_table, make_folds, manifest

    output_folder(args.out)
    for protocol in PROTOCOLS:
        frags = evaluation_table(protocol, args.data)
        folds = make_folds(frags, protocol, args.n_folds, args.split_seed)
        path = Path(args.out) / f"{protocol}-{args.n_folds}fold.json"
        write_json(path, manifest(frags, protocol, folds, args.split_seed))
        print(f"wrote {path}")
    return 0


def configure(p) -> None:
    sub = p.add_subparsers(dest="data_command", required=True, metavar="ACTION")
    v = sub.add_parser("verify", help="check SHA256SUMS and the expected counts")
    add_data(v)
    v.set_defaults(func=cmd_verify)
    s = sub.add_parser("splits", help="write the fold manifests of the three protocols")
    add_data(s)
    s.add_argument("--out", default="splits", help="folder for the manifests (default splits/)")
    s.add_argument("--n-folds", type=int, default=10)
    s.add_argument("--split-seed", type=int, default=2018)
    s.set_defaults(func=cmd_splits)


COMMANDS = {"data": Command("check the data folder, write split manifests", configure)}
