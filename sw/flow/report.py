"""The flow's report: ``report.md`` (figures beside it in ``figures/``) and ``report.html`` (the
same content with the figures embedded, one file to send). Every figure is made from the stage
records of the run (:mod:`ecg_alq.flow.stages`); a stage left out of the run is named as such."""

from __future__ import annotations

import base64
import html
import platform
import re
import shutil
import subprocess
import time
from pathlib import Path

import numpy as np

from ecg_alq import __version__, atomic, paper, plots


class Document:
    """A report as a list of blocks, written as markdown and as self-contained HTML.

    Inline text may use `code` and **bold**; nothing else is interpreted."""

    def __init__(self, folder: Path):
        self.folder = folder
        self.blocks: list[tuple] = []

    def heading(self, text: str, level: int = 2) -> None:
        self.blocks.append(("h", level, text))

    def para(self, text: str) -> None:
        self.blocks.append(("p", text))

    def table(self, header: list[str], rows: list[list]) -> None:
        self.blocks.append(("t", header, [[str(c) for c in r] for r in rows]))

    def figure(self, name: str, caption: str) -> None:
        """``name``: a PNG in ``folder/figures``."""
        self.blocks.append(("f", name, caption))

    def markdown(self) -> str:
        out = []
        for b in self.blocks:
            if b[0] == "h":
                out.append("#" * b[1] + " " + b[2])
            elif b[0] == "p":
                out.append(b[1])
            elif b[0] == "t":
                out.append("\n".join(["| " + " | ".join(b[1]) + " |",
                                      "|" + "---|" * len(b[1])]
                                     + ["| " + " | ".join(r) + " |" for r in b[2]]))
            else:
                out.append(f"![{b[2]}](figures/{b[1]})\n\n*{b[2]}*")
        return "\n\n".join(out) + "\n"

    def html(self) -> str:
        def inline(text: str) -> str:
            text = html.escape(text)
            text = re.sub(r"`([^`]+)`", r"<code>\1</code>", text)
            return re.sub(r"\*\*([^*]+)\*\*", r"<b>\1</b>", text)

        body = []
        for b in self.blocks:
            if b[0] == "h":
                body.append(f"<h{b[1]}>{inline(b[2])}</h{b[1]}>")
            elif b[0] == "p":
                body.append(f"<p>{inline(b[1])}</p>")
            elif b[0] == "t":
                head = "".join(f"<th>{inline(c)}</th>" for c in b[1])
                rows = "".join("<tr>" + "".join(f"<td>{inline(c)}</td>" for c in r) + "</tr>"
                               for r in b[2])
                body.append(f"<table><tr>{head}</tr>{rows}</table>")
            else:
                data = base64.b64encode((self.folder / "figures" / b[1]).read_bytes()).decode()
                body.append(f'<figure><img src="data:image/png;base64,{data}" alt="'
                            f'{html.escape(b[2])}"><figcaption>{inline(b[2])}</figcaption>'
                            "</figure>")
        style = ("body{font-family:sans-serif;max-width:1100px;margin:2em auto;line-height:1.4}"
                 "table{border-collapse:collapse;margin:1em 0}td,th{border:1px solid #ccc;"
                 "padding:3px 8px;text-align:left}img{max-width:100%}figcaption{color:#555}"
                 "code{background:#f3f3f3}")
        return (f"<!DOCTYPE html><html><head><meta charset='utf-8'><title>ecg-alq flow report"
                f"</title><style>{style}</style></head><body>\n" + "\n".join(body)
                + "\n</body></html>\n")


def _pct(v: float) -> str:
    return f"{100 * v:.2f} %"


def _git_commit() -> str:
    try:
        repo = Path(__file__).resolve().parents[2]
        out = subprocess.run(["git", "-C", str(repo), "rev-parse", "--short", "HEAD"],
                             capture_output=True, text=True, timeout=10)
        return out.stdout.strip() or "unknown"
    except (OSError, subprocess.SubprocessError):
        return "unknown"


def _cross_validated_curve() -> tuple[dict, float | None]:
    """The window-protocol accuracy-memory points of ``bench/results/quant_crossval.json`` when
    this is a checkout of the repository (series for :func:`plots.accuracy_vs_memory`) and the
    cross-validated float accuracy (%)."""
    import json

    results = Path(__file__).resolve().parents[2] / "bench" / "results"
    if not (results / "quant_crossval.json").exists():
        return {}, None
    window = json.loads((results / "quant_crossval.json").read_text())["protocols"]["window"]
    series: dict[str, list] = {}
    for name, s in window["points"].items():
        label = ("ALQ, 10-fold CV" if name.startswith("alq-channel") else
                 "uniform k-bit, 10-fold CV" if name.startswith("uniform") else None)
        if label:
            series.setdefault(label, []).append(
                (s["memory_kib_mean"], 100 * s["accuracy_mean"], 100 * s["accuracy_std"], name))
    fp = results / "fp_crossval.json"
    fp_acc = (100 * json.loads(fp.read_text())["protocols"]["window"]["accuracy_mean"]
              if fp.exists() else None)
    return {k: sorted(v) for k, v in series.items()}, fp_acc


def _stage_rows(flow) -> list[list]:
    from ecg_alq.flow.stages import STAGES

    rows = []
    for name in STAGES:
        rec = flow.records.get(name)
        if name == "report":
            continue
        if rec is None:
            rows.append([name, "not run", "", "", f"`ecg-alq flow --stages {name}`"])
        else:
            rows.append([name, "reused" if rec["reused"] else "ran",
                         f"{rec['seconds']:.0f} s", f"`{rec['folder']}`",
                         f"`ecg-alq flow --stages {name}`"])
    return rows


def write_report(flow, folder: Path) -> dict:
    """Write ``folder/report.md``, ``folder/report.html`` and ``folder/figures/*.png`` from the
    records of ``flow``; returns the paths and the headline figures."""
    figures = folder / "figures"
    if figures.exists():
        shutil.rmtree(figures)  # figures of stages this run did not visit must not linger
    figures.mkdir(parents=True)
    doc = Document(folder)
    rec = flow.records
    cfg = flow.config
    doc.heading("ecg-alq flow report", 1)
    doc.para(f"Made {time.strftime('%Y-%m-%d %H:%M')} by `{cfg.command}` (ecg-alq {__version__}, "
             f"commit {_git_commit()}, {platform.machine()}, Python {platform.python_version()})"
             ". Regenerate with the same command: finished stages are reused, so it only "
             "redoes what changed.")
    rows = [(_SUMMARY_ROWS[name](rec[name]["result"], cfg)) for name in _SUMMARY_ROWS
            if name in rec]
    headline = {k: v for _, h in rows for k, v in h.items()}
    doc.heading("Summary")
    doc.table(["what", "result", "protocol and details"], [row for row, _ in rows])
    doc.para(f"Paper, for comparison: {paper.ALQ_ACCURACY} % at a claimed {paper.ALQ_CLAIMED_KIB} "
             f"KiB (about {paper.ALQ_COUNTED_KIB} KiB with its float32 scaling factors) and "
             f"{paper.FLOAT_ACCURACY} % in full precision, from one random 80/20 split by file in "
             "which most test fragments were also trained on. One fold is one sample: the "
             "cross-validated figures are in docs/RESULTS.md.")

    if "train" in rec:
        doc.heading("Training")
        shutil.copy(flow.folder("train") / "learning_curves.png", figures / "learning_curves.png")
        doc.figure("learning_curves.png", "Learning curves of the float CNN (train and "
                   "validation parts; the selected epoch marked)")
    if "quantize" in rec:
        _quantization_section(doc, flow, figures)
    if "golden" in rec or "quantize" in rec:
        _accuracy_memory_section(doc, flow, figures)
    if "golden" in rec:
        _golden_section(doc, flow, figures)
    if "verilog" in rec:
        _hardware_section(doc, flow, figures)
    if "sim" in rec:
        _sim_section(doc, flow)
    if "build" in rec:
        _build_section(doc, flow, figures)
    doc.heading("Stages")
    doc.table(["stage", "this run", "time", "folder", "run it alone"], _stage_rows(flow))
    atomic.write_text(folder / "report.md", doc.markdown())
    atomic.write_text(folder / "report.html", doc.html())
    return {"markdown": str(folder / "report.md"), "html": str(folder / "report.html"),
            "figures": sorted(p.name for p in figures.glob("*.png"))} | headline


def _train_row(r: dict, cfg) -> tuple[list, dict]:
    return ([f"float CNN ({paper.FLOAT_KIB} KiB)", _pct(r["accuracy"]),
             f"{r['protocol_description']}; test fold {r['fold']} of {cfg.train.n_folds} "
             f"({r['n_test']} windows, tested once); trained on "
             f"{r.get('training_windows', str(r['n_train']) + ' fragments')}, selected on "
             f"{r['n_val']} validation windows of the training folds"],
            {"float_accuracy": r["accuracy"]})


def _quantize_row(q: dict, cfg) -> tuple[list, dict]:
    return ([f"ALQ target {cfg.alq.target_bits} bits, {q['act_bits']}-bit activations (torch)",
             _pct(q["accuracy"]), f"same fold; {q['average_bits']:.3f} average bits, honest "
             f"memory **{q['memory_kib']:.2f} KiB** (paper's count {q['paper_kib']:.2f} KiB)"], {})


def _golden_row(g: dict, cfg) -> tuple[list, dict]:
    a = g["agreement_all"]
    return (["integer golden model (the deployed behaviour)", _pct(g["accuracy"]),
             f"same fold, {g['n_test']} fragments; equal to torch's integer logits on "
             f"{a['n'] - a['logit_mismatches']}/{a['n']} fragments, {g['memory_kib']:.2f} KiB"],
            {"golden_accuracy": g["accuracy"], "memory_kib": g["memory_kib"]})


def _sim_row(s: dict, cfg) -> tuple[list, dict]:
    return (["RTL (Verilator) against the golden model",
             "bit-exact" if s["bit_exact"] else "DIFFERS",
             f"{s['fragments']} test fragments: {s['logit_mismatches']} logit and "
             f"{s['class_mismatches']} class mismatches, cycles {s['cycles']} (cycle model "
             f"{s['expected_cycles']})"], {"bit_exact": s["bit_exact"]})


def _build_row(b: dict, cfg) -> tuple[list, dict]:
    relaxed = (f"; {b['requested_clock_mhz']} MHz asked, missed, clock relaxed"
               if b.get("clock_relaxed") else "")
    return ([f"{b['board']} ({b['device']})", f"{b['latency_ms']:.2f} ms",
             f"per fragment at {b['clock_mhz']:.2f} MHz (Fmax {b['fmax_mhz']:.1f} MHz{relaxed})"],
            {"latency_ms": b["latency_ms"], "fmax_mhz": b["fmax_mhz"]})


#: one row of the summary table (and headline figures) per stage result
_SUMMARY_ROWS = {"train": _train_row, "quantize": _quantize_row, "golden": _golden_row,
                 "sim": _sim_row, "build": _build_row}


def _quantization_section(doc: Document, flow, figures: Path) -> None:
    from ecg_alq.intmodel import load, memory

    q = flow.result("quantize")
    doc.heading("Quantization (ALQ)")
    path = flow.model_path() if "golden" in flow.records else flow.folder("quantize") / "model.npz"
    mem = memory.count(load(path))
    names = [m.name for m in mem.layers]
    plots.layer_bits(names, [m.average_bits for m in mem.layers],
                     [m.total / 8192 for m in mem.layers], figures / "layer_bits.png",
                     f"ALQ: {mem.average_bits:.3f} average bits, {mem.kib:.2f} KiB")
    doc.figure("layer_bits.png", "Bits per weight and stored memory per layer")
    shutil.copy(flow.folder("quantize") / "bits_trajectory.png", figures / "bits_trajectory.png")
    doc.figure("bits_trajectory.png", "ALQ rounds: bits per layer and validation accuracy")
    doc.table(["layer", "groups x n", "avg bits", "signs", "alpha", "bases", "bias", "requant",
               "bits stored"],
              [[m.name, f"{m.groups} x {m.group_size}", f"{m.average_bits:.3f}", m.signs,
                m.alpha, m.bases, m.bias, m.requant, m.total] for m in mem.layers])
    doc.para(f"Honest memory {mem.total_bits} bits = **{mem.kib:.2f} KiB** "
             f"({mem.float_kib / mem.kib:.1f}x smaller than float32); every stored bit counted. "
             f"Test accuracy {_pct(q['accuracy'])} with {q['act_bits']}-bit activations, "
             f"{_pct(q['accuracy_float_activations'])} with float activations.")


def _accuracy_memory_section(doc: Document, flow, figures: Path) -> None:
    series, cv_float = _cross_validated_curve()
    marks = []
    if "golden" in flow.records:
        g = flow.result("golden")
        marks.append((f"this run: golden model, fold {g['fold']}", g["memory_kib"],
                      100 * g["accuracy"]))
    else:
        q = flow.result("quantize")
        marks.append(("this run: ALQ (torch)", q["memory_kib"], 100 * q["accuracy"]))
    if "train" in flow.records:
        marks.append(("this run: float CNN", paper.FLOAT_KIB, 100 * flow.result("train")["accuracy"]))
    reference = (f"float CNN, 10-fold CV ({cv_float:.2f} %)", cv_float) if cv_float else None
    plots.accuracy_vs_memory(series, figures / "accuracy_vs_memory.png",
                             paper=(paper.ALQ_CLAIMED_KIB, paper.ALQ_COUNTED_KIB,
                                    paper.ALQ_ACCURACY),
                             reference=reference, marks=marks,
                             title="accuracy against honest memory (every stored bit)")
    doc.heading("Accuracy against memory")
    doc.figure("accuracy_vs_memory.png", "This run's models (one test fold) against the "
               "10-fold cross-validated curve of docs/RESULTS.md" + (
                   "" if series else " (not found: not a repository checkout)")
               + " and the paper's point (as claimed, and with its scaling factors counted)")


def _golden_section(doc: Document, flow, figures: Path) -> None:
    g, t = flow.result("golden"), flow.config.train
    plots.confusion_matrix(np.array(g["confusion"]), figures / "confusion_matrix.png",
                           f"golden model, {t.protocol} fold {t.fold}: {_pct(g['accuracy'])} "
                           f"(n={g['n_test']})")
    doc.heading("Golden model")
    doc.para(f"Accuracy {_pct(g['accuracy'])}, balanced accuracy {_pct(g['balanced_accuracy'])}, "
             f"macro-F1 {g['macro_f1']:.3f} on the {g['n_test']} test fragments; proven "
             f"accumulator widths {g['acc_bits']} bits; "
             f"{1000 * g['golden_seconds_per_fragment']:.1f} ms per fragment in numpy.")
    doc.figure("confusion_matrix.png", "Confusion matrix of the integer golden model on the test "
               "fold (rows: true class)")


def _sim_section(doc: Document, flow) -> None:
    s = flow.result("sim")
    doc.heading("RTL simulation (bit-exact check)")
    doc.table(["fragments", "integer-logit mismatches", "class mismatches", "cycles",
               "cycle model", "RTL classes = labels", "wall time"],
              [[s["fragments"], s["logit_mismatches"], s["class_mismatches"],
                ", ".join(map(str, s["cycles"])), s["expected_cycles"],
                _pct(s["accuracy_vs_labels"]), f"{s['seconds_total']:.0f} s"]])
    doc.para("Each fragment's 17 integer logits, its class and its cycle count were compared with "
             "the golden and cycle models by the cocotb testbench; the first fragment of each "
             "simulator run was also compared layer by layer.")


def _hardware_section(doc: Document, flow, figures: Path) -> None:
    v = flow.result("verilog")
    c = v["cycles"]
    p = v["parameters"]
    doc.heading("Accelerator")
    plots.layer_cycles(c["layers"], figures / "cycles_per_layer.png",
                       f"pe {p['pe']} x simd {p['simd']}: {c['total']} cycles per fragment "
                       f"(ideal {c['ideal']:.0f}, ratio {c['ratio']:.3f})")
    w = v["widths"]
    doc.para(f"pe {p['pe']} x simd {p['simd']}, alpha multipliers {p['alpha_mult']}, memory "
             f"style {p['memory']}; widths: activations {w['activation']}, alpha {w['alpha']}, "
             f"accumulator {w['accumulator']}, logits {w['logit']} bits; on-chip memory "
             f"{sum(v['memory_bits'].values())} bits{_model_bits(v)}; `verilator --lint-only`: "
             f"{v['lint']['errors']} errors. Input stage {c['input']} cycles, then per layer:")
    doc.figure("cycles_per_layer.png", "Cycles per layer (cycle model, equal to the RTL in "
               "every simulation) and the ideal basis additions / (pe x simd)")


def _model_bits(v: dict) -> str:
    """The chip's bits of the model beside the model file's honest count (hw verilog summary)."""
    mm = v.get("model_memory")
    return (f", of which {mm['deployed_bits']} depend on the model (the model file's honest "
            f"count: {mm['honest_bits']} bits, {mm['ratio']:.3f}x)") if mm else ""


def _build_section(doc: Document, flow, figures: Path) -> None:
    b = flow.result("build")
    plots.resource_use(b["resources"], b["fmax_mhz"], b["clock_mhz"],
                       figures / "resources.png", f"{b['board']} ({b['device']})")
    doc.heading("Board build")
    source = "from the PLL" if b.get("pll") else "the oscillator's"
    doc.para(f"{b['board']} ({b['device']}), clock {b['clock_mhz']:.2f} MHz {source}, Fmax "
             f"{b['fmax_mhz']:.1f} MHz (nextpnr), {b['cycles_per_inference']} cycles = "
             f"**{b['latency_ms']:.2f} ms per 10-s fragment**; bitstream `{b['bitstream']}`; "
             f"tools {b['seconds']:.0f} s." + (
                 " Placements that missed the clock: " + ", ".join(
                     f"seed {a['seed']} {a['fmax_mhz']:.1f} MHz at {a['clock_mhz']:.1f} MHz"
                     for a in b["attempts"]) + (f"; then built at {b['clock_mhz']:.2f} MHz (seed "
                                                f"{b['seed']})." if b["clock_relaxed"] else
                                                f"; seed {b['seed']} met it.")
                 if b.get("attempts") else ""))
    doc.figure("resources.png", "Resources used (nextpnr) and Fmax against the clock")
    doc.table(["resource", "used", "available"],
              [[k, r["used"], r["available"]] for k, r in b["resources"].items() if r["used"]])

