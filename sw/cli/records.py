"""``ecg-alq classify-record``: whole MIT-BIH records in consecutive 10-s windows against their
annotations, with the golden model or the RTL."""

from __future__ import annotations

from ecg_alq.cli.common import (DEFAULT_RUNS, Command, add_data, add_hw_options, command_line,
                                hw_params)
from ecg_alq.errors import EcgAlqError
from ecg_alq.outputs import output_folder


def _report(name: str, r: dict, paths: list, alone: bool) -> None:
    from ecg_alq.continuous import share

    a, u = r["all_clean"], r["unseen_clean"]
    rtl = r.get("rtl") or {}
    print(f"record {name}: {r['windows_total']} windows, {a['windows']} clean: agreement "
          f"{share(a)}; {u['windows']} unseen clean: {share(u)} ({r['classifier']})"
          + (f"; RTL bit-exact on {rtl['fragments']} windows" if rtl.get("bit_exact") else ""))
    if alone:
        for cls, c in a["per_class"].items():
            cu = u["per_class"].get(cls, {"windows": 0, "agree": 0})
            print(f"  {cls:10s} {c['agree']}/{c['windows']} clean windows agree; unseen "
                  f"{cu['agree']}/{cu['windows']}")
        print(f"wrote {', '.join(map(str, paths))}")


def cmd_classify_record(args) -> int:
    from ecg_alq.continuous import classify_record, write_record_outputs, write_summary
    from ecg_alq.data.mitdb import leads_of, list_records

    names = args.records
    if names == ["all"]:
        names = [n for n in list_records(args.data) if "MLII" in leads_of(n, args.data)]
        print(f"{len(names)} records with an MLII lead")
    if args.windows is not None and args.windows < 1:
        raise EcgAlqError(f"--windows must be at least 1, got {args.windows}")
    out = output_folder(args.out)
    rtl = None
    if args.rtl:
        from ecg_alq.sim.network import rtl_classes

        rtl = rtl_classes(hw_params(args), out, progress=lambda line: print(f"  {line}", flush=True))
    results = []
    for name in names:
        r = classify_record(name, args.model, args.data, classifier=rtl, max_windows=args.windows)
        _report(name, r, write_record_outputs(r, out), alone=len(names) == 1)
        results.append(r)
        if r.get("rtl") and not r["rtl"]["bit_exact"]:
            raise EcgAlqError(f"record {name}: the RTL differs from the golden model: {r['rtl']}")
    if len(names) > 1:
        both = write_summary(results, out, command_line("classify-record"))
        a, u = both["all_clean"], both["unseen_clean"]
        print(f"{len(results)} records: {a['agree']}/{a['windows']} clean windows agree, unseen "
              f"{u['agree']}/{u['windows']}; wrote {out / 'summary.md'} and summary.json")
    return 0


def configure(p) -> None:
    p.add_argument("records", nargs="+", metavar="RECORD",
                   help="MIT-BIH record names (e.g. 201), or 'all' (every record with MLII)")
    add_hw_options(p)
    p.add_argument("--rtl", action="store_true", help="classify with the RTL in Verilator "
                   "(--pe/--simd/--memory) instead of the golden model, checked bit-exact")
    p.add_argument("--windows", type=int, help="only the first N windows (quick checks)")
    p.add_argument("--out", default=str(DEFAULT_RUNS / "records"),
                   help="output folder (default runs/records): RECORD.csv, .json, "
                   "_timeline.png; summary.md for several records")
    add_data(p)
    p.set_defaults(func=cmd_classify_record)


COMMANDS = {"classify-record": Command("classify whole MIT-BIH records in consecutive 10-s "
                                       "windows and compare with the annotations; timeline PNG",
                                       configure)}
