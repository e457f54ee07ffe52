"""The ``ecg-alq`` command line. Each subcommand is a thin layer over a library function.

Errors the user can fix (:class:`ecg_alq.errors.EcgAlqError`) are printed as one line on stderr
with exit status 2; there is no traceback for them.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

from ecg_alq import __version__
from ecg_alq.config import add_options, from_args, parse_folds
from ecg_alq.errors import EcgAlqError

DEFAULT_RUNS = Path("runs")


def command_line(name: str) -> str:
    """How the running subcommand ``name`` was started (for reports), ``ecg-alq NAME`` when
    called from Python."""
    return "ecg-alq " + " ".join(sys.argv[1:]) if sys.argv[1:2] == [name] else f"ecg-alq {name}"


def cmd_data_verify(args) -> int:
    from ecg_alq.data.verify import verify

    report, problems = verify(args.data)
    print("\n".join(report))
    if problems:
        print(f"{len(problems)} problem(s):", *problems[:20], sep="\n  ", file=sys.stderr)
        return 1
    print("data OK")
    return 0


def cmd_data_splits(args) -> int:
    from ecg_alq.atomic import write_json
    from ecg_alq.data.splits import PROTOCOLS, evaluation_table, make_folds, manifest

    for protocol in PROTOCOLS:
        frags = evaluation_table(protocol, args.data)
        folds = make_folds(frags, protocol, args.n_folds, args.split_seed)
        path = Path(args.out) / f"{protocol}-{args.n_folds}fold.json"
        write_json(path, manifest(frags, protocol, folds, args.split_seed))
        print(f"wrote {path}")
    return 0


def cmd_train(args) -> int:
    from ecg_alq.training import TrainConfig, train

    cfg = from_args(TrainConfig, args)
    out = Path(args.out or DEFAULT_RUNS / f"train-{cfg.protocol}-fold{cfg.fold}")
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
    out = Path(args.out or DEFAULT_RUNS / f"crossval-{cfg.protocol}")
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
    out = Path(args.out or DEFAULT_RUNS / f"quantize-{cfg.grouping}-{cfg.target_bits:g}bits")
    quantize(args.checkpoint, cfg, out, data=args.data)
    print(f"run folder: {out} (model.pt, metrics.json, layers.md, bits_trajectory.png, "
          "confusion_matrix.png)")
    return 0


def cmd_baseline(args) -> int:
    from ecg_alq.quant.baselines import BaselineConfig, train_baseline

    cfg = from_args(BaselineConfig, args)
    out = Path(args.out or DEFAULT_RUNS / f"baseline-{cfg.method}-{cfg.bits}bit")
    train_baseline(args.checkpoint, cfg, out, data=args.data)
    print(f"run folder: {out} (model.pt, metrics.json, layers.md, confusion_matrix.png)")
    return 0


def cmd_predict(args) -> int:
    from ecg_alq.intmodel.shipped import default_model_path
    from ecg_alq.predict import predict_file

    model = args.model or default_model_path()
    ids = predict_file(model, args.input, args.output)
    print(f"classified {len(ids)} fragment(s) with {model}; wrote {args.output}")
    return 0


def cmd_export(args) -> int:
    from ecg_alq.quant.modelfile import load_alq_model
    from ecg_alq.data.splits import evaluation_table
    from ecg_alq.intmodel import memory, save
    from ecg_alq.quant import export
    from ecg_alq.training import TrainConfig, split_for

    model = export.from_checkpoint(args.checkpoint)
    save(model, args.out)
    mem = memory.count(model)
    print(f"wrote {args.out}: honest memory {mem.kib:.2f} KiB ({mem.average_bits:.3f} average "
          f"bits)")
    if args.check:
        cfg = TrainConfig(**(model.provenance["training"] | {"data": args.data}))
        frags = evaluation_table(cfg.protocol, args.data)
        split = split_for(cfg, frags)
        rows = split.test if len(split.test) else np.arange(len(frags.label))
        qnet, _ = load_alq_model(args.checkpoint)
        a = export.agreement(qnet, model, frags.x[rows])
        acc = float((a["golden_classes"] == frags.label[rows] + 1).mean())
        what = f"{cfg.protocol} fold {cfg.fold} test" if len(split.test) else "all"
        print(f"golden model against torch on the {a['n']} {what} fragments: "
              f"{a['logit_mismatches']} integer-logit and {a['class_mismatches_float32']} class "
              f"mismatches; golden accuracy {100 * acc:.2f} %")
        if a["logit_mismatches"] or a["class_mismatches_float32"]:
            raise EcgAlqError("the integer model does not reproduce the torch model (see above)")
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
    from ecg_alq.intmodel.describe import write_dump
    from ecg_alq.intmodel.golden import GoldenModel
    from ecg_alq.intmodel.shipped import default_model_path
    from ecg_alq.predict import load_npy

    golden = GoldenModel(args.model or default_model_path())
    x = load_npy(args.input)
    if x.ndim == 1:
        x = x[None, :]
    if not 0 <= args.index < len(x):
        raise EcgAlqError(f"--index {args.index} is outside the {len(x)} fragment(s) of {args.input}")
    traces = golden.trace(x[args.index: args.index + 1])
    shapes = write_dump(traces, args.out)
    print(f"wrote {args.out}: " + ", ".join(f"{k} {v}" for k, v in shapes.items()))
    logits = traces[-1].pooled[0, :, 0]
    print(f"class {int(np.argmax(logits)) + 1} ({golden.model.class_names[int(np.argmax(logits))]})")
    return 0


#: the flow's training settings over TrainConfig's defaults: today's fragments recipe until
#: ``make run`` is measured under 12 minutes with ``ecg_alq.training.GENERALIZING_RECIPE``
#: (``ecg-alq flow --windows database --aux-weight 0.3 --epochs 20`` runs it)
FLOW_RECIPE: dict = {}


def cmd_flow(args) -> int:
    """The main job (``make run``): every stage from the data check to the board's bitstream,
    cached, then the report."""
    from ecg_alq.boards.top import board
    from ecg_alq.flow import FlowConfig, run_flow
    from ecg_alq.quant.alq import AlqConfig
    from ecg_alq.training import TrainConfig

    recipe = FLOW_RECIPE | ({"epochs": 2, "samples_per_epoch": 128, "limit": 100}
                            if args.quick else {})
    recipe = {k: v for k, v in recipe.items() if getattr(args, k) is None}
    train = from_args(TrainConfig, args, **recipe)
    alq = {k: getattr(args, k) for k in ("target_bits", "grouping", "act_bits")
           if getattr(args, k) is not None}
    if args.quick:
        alq |= {"rounds": 1, "epoch_basis": 1, "epoch_coord": 1, "top_k": 1.0, "pr": 0.9,
                "samples_per_epoch": 128}
    sim_fragments = args.sim_fragments if args.sim_fragments is not None else (
        2 if args.quick else 0)
    config = FlowConfig(train=train, alq=AlqConfig(**alq, threads=train.threads),
                        board=args.board, params=_hw_params(args, board(args.board).default_params),
                        clock_mhz=args.clock_mhz, sim_fragments=sim_fragments,
                        sim_chunk=args.sim_chunk, seeds=args.seeds, out=Path(args.out),
                        command=command_line("flow"))

    def names(text):
        return [n for n in (text or "").split(",") if n] or None

    import signal

    # a terminated flow stops the build it runs in the background (run_flow's cleanup)
    previous = signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    try:
        flow = run_flow(config, stages=names(args.stages), skip=names(args.skip),
                        force=names(args.force), jobs=args.jobs,
                        log=lambda line: print(line, flush=True))
    finally:
        signal.signal(signal.SIGTERM, previous)
    if "report" in flow.records:
        r = flow.result("report")
        print(f"report: {r['markdown']} (figures beside it), {r['html']} (one file)")
    print(f"stage folders: {Path(args.out) / 'flow.json'}")
    return 0


def cmd_classify_record(args) -> int:
    from ecg_alq import atomic
    from ecg_alq.continuous import (classify_record, pooled, share, summary_markdown,
                                    write_record_outputs)
    from ecg_alq.data.mitdb import leads_of, list_records

    names = args.records
    if names == ["all"]:
        names = [n for n in list_records(args.data) if "MLII" in leads_of(n, args.data)]
        print(f"{len(names)} records with an MLII lead")
    if args.windows is not None and args.windows < 1:
        raise EcgAlqError(f"--windows must be at least 1, got {args.windows}")
    out = Path(args.out)
    rtl = None
    if args.rtl:
        from ecg_alq.sim.network import rtl_classes

        rtl = rtl_classes(_hw_params(args), out, progress=lambda line: print(f"  {line}", flush=True))
    results = []
    for name in names:
        r = classify_record(name, args.model, args.data, rtl=rtl, max_windows=args.windows)
        paths = write_record_outputs(r, out)
        a, u = r["all_clean"], r["unseen_clean"]
        print(f"record {name}: {r['windows_total']} windows, {a['windows']} clean: agreement "
              f"{share(a)}; {u['windows']} unseen clean: {share(u)} ({r['classifier']})"
              + (f"; RTL bit-exact on {r['rtl']['fragments']} windows" if r.get("rtl", {}).get(
                  "bit_exact") else ""))
        if len(names) == 1:
            for cls, c in a["per_class"].items():
                cu = u["per_class"].get(cls, {"windows": 0, "agree": 0})
                print(f"  {cls:10s} {c['agree']}/{c['windows']} clean windows agree; unseen "
                      f"{cu['agree']}/{cu['windows']}")
            print(f"wrote {', '.join(map(str, paths))}")
        results.append(r)
        if r.get("rtl") and not r["rtl"]["bit_exact"]:
            raise EcgAlqError(f"record {name}: the RTL differs from the golden model: {r['rtl']}")
    if len(names) > 1:
        command = command_line("classify-record")
        atomic.write_json(out / "summary.json", {
            "command": command, "records": [{k: v for k, v in r.items() if k != "windows"}
                                            for r in results],
            "all_clean": pooled(results, "all_clean"),
            "unseen_clean": pooled(results, "unseen_clean")})
        atomic.write_text(out / "summary.md", summary_markdown(results, command))
        a, u = pooled(results, "all_clean"), pooled(results, "unseen_clean")
        print(f"{len(results)} records: {a['agree']}/{a['windows']} clean windows agree, unseen "
              f"{u['agree']}/{u['windows']}; wrote {out / 'summary.md'} and summary.json")
    return 0


def _hw_params(args, base=None):
    """The hardware parameters given on the command line, the others from ``base`` (a board's
    defaults) or :class:`HwParams`' defaults."""
    from dataclasses import replace

    from ecg_alq.hw.params import HwParams

    given = {k: getattr(args, k) for k in ("pe", "simd", "alpha_mult", "memory")
             if getattr(args, k) is not None}
    params = replace(base or HwParams(), **given)
    params.validate()
    return params


def cmd_hw_verilog(args) -> int:
    from ecg_alq.hw.generate import describe, generate

    summary = generate(args.model, _hw_params(args), args.out, check=not args.no_lint)
    print(describe(summary))
    print(f"wrote {Path(args.out) / summary['verilog']} and {Path(args.out) / 'summary.json'}")
    return 0


def cmd_sim(args) -> int:
    from ecg_alq.data.fragments import load_fragments
    from ecg_alq.intmodel import load
    from ecg_alq.intmodel.shipped import default_model_path
    from ecg_alq.sim.network import simulate, spread_rows
    from ecg_alq.sim.runner import SimulationFailed

    if args.fragments < 1:
        raise EcgAlqError(f"--fragments must be at least 1, got {args.fragments}")
    path = args.model or default_model_path()
    model = load(path)
    frags = load_fragments(args.data)
    rows = spread_rows(frags.label, min(args.fragments, len(frags.label)))
    out = Path(args.out)
    print(f"simulating {len(rows)} fragment(s) of {len(set(frags.label[rows]))} classes on the "
          f"accelerator of {path} (Verilator)")
    try:
        result = simulate(model, _hw_params(args), frags.x[rows], out, waves=args.waves,
                          idle=args.idle, backpressure=args.backpressure)
        failed = None
    except SimulationFailed as exc:
        failed = exc
        import json

        report = out / "report.json"
        result = {"fragments": json.loads(report.read_text()) if report.exists() else [],
                  "expected_cycles": None, "seconds": float("nan")}
    reps = result["fragments"]
    bad = [r for r in reps if not (r["logits_match"] and r["class_match"])]
    cycles = sorted({r["cycles"] for r in reps})
    correct = sum(int(r["class"] == frags.label[rows[r["index"]]] + 1) for r in reps)
    print(f"{len(reps)} fragment(s): {len(bad)} mismatch(es) against the golden model; "
          f"cycles per inference {cycles} (cycle model {result['expected_cycles']}); "
          f"{correct}/{len(reps)} classified as labelled; {result['seconds']:.1f} s wall")
    if args.waves:
        waves = sorted((out / "sim").glob("*.fst")) + sorted((out / "sim").glob("*.vcd"))
        print("waveform: " + (", ".join(map(str, waves)) or f"none found in {out / 'sim'}"))
    if failed:
        raise EcgAlqError(str(failed))
    return 0


def cmd_board_classify(args) -> int:
    from ecg_alq.boards.host import BoardClient, classify_all, open_port
    from ecg_alq.boards.protocol import model_id
    from ecg_alq.classes import CLASS_NAMES
    from ecg_alq.intmodel.golden import GoldenModel
    from ecg_alq.intmodel.shipped import default_model_path
    from ecg_alq.predict import load_npy
    from ecg_alq.preprocess import check_raw

    model = args.model or default_model_path()
    x = load_npy(args.input)
    x = check_raw(x.reshape(1, -1) if x.ndim == 1 else x, what=args.input)
    golden = GoldenModel(model).logits(x) if args.check else None  # also checks the model file
    expected_id = model_id(model)
    port = open_port(args.port, args.baud, timeout=args.timeout)
    from ecg_alq.intmodel import load as load_model

    done = classify_all(BoardClient(port), x, model_id=expected_id, model=load_model(model),
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


def cmd_build(args) -> int:
    from ecg_alq.boards.build import build_closing_timing
    from ecg_alq.boards.top import BOARDS
    from ecg_alq.intmodel.shipped import default_model_path

    model = args.model or default_model_path()
    out = Path(args.out or DEFAULT_RUNS / f"build-{args.board}")
    print(f"building {args.board} with {model} (yosys, nextpnr, packer; minutes)...")
    spec = BOARDS[args.board]
    if args.seeds < 1:
        raise EcgAlqError(f"--seeds must be at least 1, got {args.seeds}")
    s = build_closing_timing(args.board, model, _hw_params(args, spec.default_params), out,
                             clock_mhz=args.clock_mhz or spec.default_clock_mhz,
                             seeds=tuple(range(1, args.seeds + 1)), relax=args.relax_clock,
                             baud=args.baud, precheck=not args.force)
    used = ", ".join(f"{k} {v['used']}/{v['available']}" for k, v in s["resources"].items()
                     if v["used"])
    print(f"{s['device']}: {used}")
    fmax = "not reported" if s["fmax_mhz"] is None else f"{s['fmax_mhz']:.1f} MHz"
    print(f"Fmax {fmax} at a {s['clock_mhz']:.3f} MHz clock; "
          f"{s['cycles_per_inference']} cycles = {s['latency_ms']:.2f} ms per fragment")
    print(f"bitstream {s['bitstream']}; report {out / 'report.json'}")
    return 0


def cmd_dse(args) -> int:
    from ecg_alq.dse import run_dse
    from ecg_alq.dse.space import load_spec

    spec = load_spec(args.sweep) if args.sweep else {}

    def ints(text):
        try:
            return [int(v) for v in text.split(",")]
        except ValueError:
            raise EcgAlqError(f"expected comma-separated integers, got {text!r}") from None

    for name in ("pe", "simd"):
        if getattr(args, name):
            spec[name] = ints(getattr(args, name))
    if args.models:
        spec["models"] = args.models.split(",")
    if args.boards:
        spec["boards"] = args.boards.split(",")
    if args.clock_mhz:
        try:
            spec["clock_mhz"] = {b: float(f) for b, f in
                                 (item.split("=") for item in args.clock_mhz.split(","))}
        except ValueError:
            raise EcgAlqError(f"--clock-mhz takes board=MHz[,board=MHz], got "
                              f"{args.clock_mhz!r}") from None
    command = command_line("dse")
    summary = run_dse(spec, args.out, workers=args.workers, cluster=args.cluster,
                      prune=args.prune, command=command)
    n = len(summary["points"])
    ok = sum(bool(p.get("meets_timing")) for p in summary["points"])
    print(f"{n} point(s), {ok} fit and meet timing; wrote {args.out}/points.csv, points.json, "
          f"summary.md and the Pareto plots")
    return 0


def build_parser() -> argparse.ArgumentParser:
    from ecg_alq.quant.alq import AlqConfig
    from ecg_alq.quant.baselines import BaselineConfig
    from ecg_alq.training import TrainConfig

    p = argparse.ArgumentParser(prog="ecg-alq", description=__doc__.splitlines()[0])
    p.add_argument("--version", action="version", version=f"ecg-alq {__version__}")
    sub = p.add_subparsers(dest="command", required=True, metavar="COMMAND")

    data = sub.add_parser("data", help="check the data folder, write split manifests")
    dsub = data.add_subparsers(dest="data_command", required=True, metavar="ACTION")
    v = dsub.add_parser("verify", help="check SHA256SUMS and the expected counts")
    v.add_argument("--data", help="data root (else $ECG_ALQ_DATA, else ../shared/data)")
    v.set_defaults(func=cmd_data_verify)
    s = dsub.add_parser("splits", help="write the fold manifests of both protocols")
    s.add_argument("--data", help="data root (else $ECG_ALQ_DATA, else ../shared/data)")
    s.add_argument("--out", default="splits", help="folder for the manifests (default splits/)")
    s.add_argument("--n-folds", type=int, default=10)
    s.add_argument("--split-seed", type=int, default=2018)
    s.set_defaults(func=cmd_data_splits)

    t = sub.add_parser("train", help="train the full-precision CNN on one fold")
    add_options(t, TrainConfig)
    t.add_argument("--out", help="run folder (default runs/train-PROTOCOL-foldK)")
    t.add_argument("--resume", action="store_true", help="continue the run in --out")
    t.set_defaults(func=cmd_train)

    c = sub.add_parser("crossval", help="train and test every fold (resumable per fold)")
    add_options(c, TrainConfig, skip=("fold",))
    c.add_argument("--folds", type=parse_folds, help="folds to run, e.g. 0-9 or 0,3 (default all)")
    c.add_argument("--out", help="output folder (default runs/crossval-PROTOCOL)")
    c.set_defaults(func=cmd_crossval)

    q = sub.add_parser("quantize", help="ALQ with integer activations on a trained float model")
    q.add_argument("--checkpoint", required=True, help="float model file (model.pt of a train run); "
                   "ALQ uses the fold and training rows it was trained on")
    add_options(q, AlqConfig)
    q.add_argument("--data", help="data root (else $ECG_ALQ_DATA, else ../shared/data)")
    q.add_argument("--out", help="run folder (default runs/quantize-GROUPING-Bbits)")
    q.set_defaults(func=cmd_quantize)

    b = sub.add_parser("baseline", help="uniform k-bit or BinaryConnect training in ALQ's harness")
    b.add_argument("--checkpoint", required=True, help="float model file (model.pt of a train run)")
    add_options(b, BaselineConfig)
    b.add_argument("--data", help="data root (else $ECG_ALQ_DATA, else ../shared/data)")
    b.add_argument("--out", help="run folder (default runs/baseline-METHOD-Kbit)")
    b.set_defaults(func=cmd_baseline)

    r = sub.add_parser("predict", help="classify raw fragments from an .npy file")
    r.add_argument("--model", help="integer model file (.npz, run bit-exactly by the golden "
                   "model) or torch model file (model.pt of a train or quantize run); default: "
                   "the shipped integer model")
    r.add_argument("--input", required=True, help="int16 (N, 3600) raw MLII ADC samples, .npy")
    r.add_argument("--output", required=True, help="CSV to write: index,class_id,class_name")
    r.set_defaults(func=cmd_predict)

    e = sub.add_parser("export", help="write the integer model file of a quantized model")
    e.add_argument("--checkpoint", required=True,
                   help="quantized model file (model.pt of a quantize or baseline run)")
    e.add_argument("--out", required=True, help="integer model file to write (.npz)")
    e.add_argument("--no-check", dest="check", action="store_false",
                   help="skip comparing golden and torch on the run's test fragments")
    e.add_argument("--data", help="data root (else $ECG_ALQ_DATA, else ../shared/data)")
    e.set_defaults(func=cmd_export)

    i = sub.add_parser("inspect", help="layer table, widths and memory of an integer model")
    i.add_argument("--model", help="integer model file (default: the shipped one)")
    i.set_defaults(func=cmd_inspect)

    d = sub.add_parser("dump", help="every layer's integers for one fragment (golden model)")
    d.add_argument("--model", help="integer model file (default: the shipped one)")
    d.add_argument("--input", required=True, help="raw fragments, int16 (N, 3600) or (3600,) .npy")
    d.add_argument("--index", type=int, default=0, help="which fragment of --input (default 0)")
    d.add_argument("--out", required=True, help=".npz to write: NAME.input/acc/pooled/output")
    d.set_defaults(func=cmd_dump)

    hw = sub.add_parser("hw", help="hardware generators")
    hsub = hw.add_subparsers(dest="hw_command", required=True, metavar="ACTION")
    hv = hsub.add_parser("verilog", help="the accelerator's Verilog and a JSON summary")

    def hw_options(q, defaults="4, 8, dsp, auto", model=True):
        pe, simd, mult, mem = defaults.split(", ")
        if model:
            q.add_argument("--model", help="integer model file (default: the shipped one)")
        q.add_argument("--pe", type=int, help=f"lanes (output channels in parallel; default {pe})")
        q.add_argument("--simd", type=int, help=f"activations per lane per cycle (default {simd})")
        q.add_argument("--alpha-mult", help=f"dsp or shiftadd (alpha scaling; default {mult})")
        q.add_argument("--memory", help=f"memory style: auto or spram (default {mem})")

    hw_options(hv)
    hv.add_argument("--out", required=True, help="output folder")
    hv.add_argument("--no-lint", action="store_true", help="skip verilator --lint-only")
    hv.set_defaults(func=cmd_hw_verilog)

    sm = sub.add_parser("sim", help="run real fragments through the RTL (Verilator) and compare "
                        "with the golden model")
    hw_options(sm)
    sm.add_argument("--fragments", type=int, default=20,
                    help="how many (every class first, then spread over the data set)")
    sm.add_argument("--idle", type=float, default=0.05, help="probability of an idle input cycle")
    sm.add_argument("--backpressure", type=float, default=0.2,
                    help="probability that the output is not ready")
    sm.add_argument("--waves", action="store_true",
                    help="write a waveform (FST with Debian's liblz4-dev installed, else VCD)")
    sm.add_argument("--out", default=str(DEFAULT_RUNS / "sim"), help="work folder")
    sm.add_argument("--data", help="data root (else $ECG_ALQ_DATA, else ../shared/data)")
    sm.set_defaults(func=cmd_sim)

    bu = sub.add_parser("build", help="bitstream for a board (yosys + nextpnr + packer) and report")
    from ecg_alq.boards.top import BOARDS

    bu.add_argument("--board", required=True, choices=sorted(BOARDS))
    hw_options(bu, defaults="the board's, " * 3 + "the board's")
    bu.add_argument("--baud", type=int, default=115_200, help="UART baud rate (default 115200)")
    bu.add_argument("--clock-mhz", type=float,
                    help="accelerator clock (a PLL makes it unless it is the oscillator's; "
                    "default: the board's, " + ", ".join(
                        f"{b.name} {b.default_clock_mhz:g}" for b in BOARDS.values()) + ")")
    bu.add_argument("--seeds", type=int, default=4, help="placement seeds to try, in turn, until "
                    "one meets the clock (default 4; a build that meets it at once runs once)")
    bu.add_argument("--relax-clock", action="store_true", help="when every seed misses the "
                    "clock, build again at 97 %% of the best Fmax reached (as the flow does)")
    bu.add_argument("--out", help="output folder (default runs/build-BOARD)")
    bu.add_argument("--force", action="store_true", help="run the tools even when the memories "
                    "cannot fit the device's block RAM (to see the tools' numbers)")
    bu.set_defaults(func=cmd_build)

    ds = sub.add_parser("dse", help="design-space exploration with real place and route "
                        "(cached, resumable, parallel)")
    ds.add_argument("--sweep", help="JSON sweep file (see docs/dse.md); options below override it")
    ds.add_argument("--models", help="comma-separated integer model files (default: the shipped)")
    ds.add_argument("--boards", help="comma-separated: icebreaker, ulx3s (default ulx3s)")
    ds.add_argument("--pe", help="comma-separated lane counts, e.g. 2,4,8")
    ds.add_argument("--simd", help="comma-separated SIMD widths, e.g. 4,8,16")
    ds.add_argument("--clock-mhz", help="board=MHz[,board=MHz] (default icebreaker=12,ulx3s=50)")
    ds.add_argument("--workers", type=int, default=2, help="local worker processes (default 2)")
    ds.add_argument("--cluster", help="Dask scheduler address (tcp://host:8786) to run on a cluster")
    ds.add_argument("--prune", action="store_true",
                    help="skip points the resource estimator (fitted on cached real points) "
                    "finds hopeless")
    ds.add_argument("--out", default=str(DEFAULT_RUNS / "dse"), help="output and cache folder")
    ds.set_defaults(func=cmd_dse)

    bd = sub.add_parser("board", help="talk to a board running the accelerator")
    bsub = bd.add_subparsers(dest="board_command", required=True, metavar="ACTION")
    bc = bsub.add_parser("classify", help="send fragments over the serial port, print the classes")
    bc.add_argument("--port", required=True, help="serial port, e.g. /dev/ttyUSB1")
    bc.add_argument("--input", required=True, help=".npy of raw fragments, (N, 3600) or (3600,)")
    bc.add_argument("--model", help="the model file the bitstream was built from (default: the "
                    "shipped one); the board must report the same model id")
    bc.add_argument("--baud", type=int, default=115_200, help="baud rate (default 115200)")
    bc.add_argument("--timeout", type=float, default=5.0, help="seconds to wait for an answer")
    bc.add_argument("--check", action="store_true",
                    help="compare every logit with the golden model (bit-exact check)")
    bc.add_argument("--out", help="write the results as JSON")
    bc.set_defaults(func=cmd_board_classify)

    cr = sub.add_parser("classify-record", help="classify whole MIT-BIH records in consecutive "
                        "10-s windows and compare with the annotations; timeline PNG")
    cr.add_argument("records", nargs="+", metavar="RECORD",
                    help="MIT-BIH record names (e.g. 201), or 'all' (every record with MLII)")
    hw_options(cr, defaults="4, 8, dsp, auto")
    cr.add_argument("--rtl", action="store_true", help="classify with the RTL in Verilator "
                    "(--pe/--simd/--memory) instead of the golden model, checked bit-exact")
    cr.add_argument("--windows", type=int, help="only the first N windows (quick checks)")
    cr.add_argument("--out", default=str(DEFAULT_RUNS / "records"),
                    help="output folder (default runs/records): RECORD.csv, .json, "
                    "_timeline.png; summary.md for several records")
    cr.add_argument("--data", help="data root (else $ECG_ALQ_DATA, else ../shared/data)")
    cr.set_defaults(func=cmd_classify_record)

    from ecg_alq.flow import STAGES

    f = sub.add_parser("flow", help="the main job: data check, training, ALQ, golden model, "
                       "Verilog, RTL simulation, bitstream, report (every stage cached)")
    add_options(f, TrainConfig)
    f.add_argument("--target-bits", type=float, help="ALQ's target average bits (default 1.2)")
    f.add_argument("--grouping", help="ALQ groups: channel or kernel (default channel)")
    f.add_argument("--act-bits", type=int, help="activation bits (default 8)")
    f.add_argument("--board", default="icebreaker", choices=sorted(BOARDS),
                   help="board to build for (default icebreaker)")
    hw_options(f, defaults="the board's, " * 3 + "the board's", model=False)
    f.add_argument("--clock-mhz", type=float, help="accelerator clock (default: the board's; "
                   "a build that misses it is rebuilt at a clock below its Fmax)")
    f.add_argument("--seeds", type=int, default=2, help="placement seeds tried at the clock "
                   "before it is relaxed (default 2)")
    f.add_argument("--sim-fragments", type=int, help="test fragments simulated in RTL "
                   "(default 0: the whole test fold; --quick: 2)")
    f.add_argument("--sim-chunk", type=int, default=20,
                   help="fragments per simulator run, the unit of resumption (default 20)")
    f.add_argument("--stages", help="run only these stages (and what they need; finished ones "
                   "are reused): " + ",".join(STAGES))
    f.add_argument("--skip", help="leave these stages out, e.g. build")
    f.add_argument("--force", help="recompute these stages even when their results exist")
    f.add_argument("--jobs", type=int, default=2,
                   help="2: the board build runs beside the RTL simulation (default 2)")
    f.add_argument("--out", default=str(DEFAULT_RUNS / "flow"), help="run folder (default runs/flow)")
    f.add_argument("--quick", action="store_true",
                   help="brief training (2 epochs of 100 fragments or 128 database windows "
                   "unless given), a one-round "
                   "ALQ and 2 simulated fragments: a smoke test of every stage")
    f.set_defaults(func=cmd_flow)
    return p


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except EcgAlqError as exc:
        print(f"ecg-alq: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("ecg-alq: interrupted; long jobs continue where they stopped when run again "
              "(train: --resume)", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
