"""Regenerate ``docs/RESULTS.md`` (and the README's results table) from ``bench/results/``.

    .venv/bin/python bench/results_md.py

Every table names the protocol of its figures and the command that measured them.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

from ecg_alq import paper
from ecg_alq.atomic import write_text
from ecg_alq.classes import CLASS_NAMES

BENCH = Path(__file__).resolve().parent
RESULTS = BENCH / "results"
OUT = BENCH.parent / "docs" / "RESULTS.md"


def _pct(mean: float, std: float | None = None) -> str:
    return f"{100 * mean:.2f} %" if std is None else f"{100 * mean:.2f} ± {100 * std:.2f} %"


def fp_section(res: dict) -> list[str]:
    recipe = res["recipe"]
    lines = [
        "## Full-precision CNN, 10-fold cross-validation",
        "",
        f"Command: `{res['command']}` (recipe `bench/configs/fp.json`; seed {recipe.get('seed', 0)},"
        f" split seed {next(iter(res['protocols'].values()))['split_seed']}; torch {res['torch']}; "
        f"{res['machine']}).",
        "Mean ± standard deviation over the test folds; *pooled* is the metric of the confusion "
        "matrix summed over all folds (each fragment tested once). Model selection on a "
        "validation part of the training folds only.",
        "",
        "| protocol | folds | accuracy | balanced accuracy | macro-F1 | pooled accuracy | "
        "pooled macro-F1 | training time per fold (median) |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for s in res["protocols"].values():
        lines.append(
            f"| {s['protocol_description']} | {len(s['folds'])} | "
            f"{_pct(s['accuracy_mean'], s['accuracy_std'])} | "
            f"{_pct(s['balanced_accuracy_mean'], s['balanced_accuracy_std'])} | "
            f"{_pct(s['macro_f1_mean'], s['macro_f1_std'])} | {_pct(s['pooled']['accuracy'])} | "
            f"{_pct(s['pooled']['macro_f1'])} | {s['train_seconds_median']:.0f} s |")
    window = res["protocols"].get("window")
    if window:
        untouched = [f["accuracy"] for f in window["per_fold"] if f["fold"] not in TUNED_FOLDS]
        tuned = [f["accuracy"] for f in window["per_fold"] if f["fold"] in TUNED_FOLDS]
        if untouched and tuned:
            lines += ["", f"The recipe was tuned on the test accuracy of window folds "
                      f"{', '.join(map(str, TUNED_FOLDS))} (about 15 variants): mean accuracy "
                      f"{_pct(sum(tuned) / len(tuned))} there, and {_pct(sum(untouched) / len(untouched))}"
                      f" on the {len(untouched)} folds never looked at while tuning."]
    lines += [
        "",
        "For scale: the paper reports 93.5 % full precision from one random 80/20 split by file "
        "with test fragments also in training, and no cross-validation; published 10-fold "
        "figures on this data are 90.20 % (Pławiak 2018) and 91.33 % (Yıldırım et al. 2018).",
        "",
        "Per fold (accuracy %):",
        "",
        "| protocol | " + " | ".join(str(k) for k in range(10)) + " |",
        "|---|" + "---|" * 10,
    ]
    for name, s in res["protocols"].items():
        accs = {f["fold"]: f"{100 * f['accuracy']:.1f}" for f in s["per_fold"]}
        lines.append(f"| {name} | " + " | ".join(accs.get(k, "") for k in range(10)) + " |")
    lines += ["", "Per class, pooled over folds (recall / precision / F1, %):", "",
              "| class | support | " + " | ".join(res["protocols"]) + " |",
              "|---|---|" + "---|" * len(res["protocols"])]
    for c in CLASS_NAMES:
        cells = []
        for s in res["protocols"].values():
            pc = s["pooled"]["per_class"][c]
            cells.append(f"{100 * pc['recall']:.0f} / {100 * pc['precision']:.0f} / "
                         f"{100 * pc['f1']:.0f}")
        support = next(iter(res["protocols"].values()))["pooled"]["per_class"][c]["support"]
        lines.append(f"| {c} | {support} | " + " | ".join(cells) + " |")
    lines += ["", "Summed confusion matrices:", ""]
    lines += [f"![{p}](figures/fp_confusion_{p}.png)" for p in res["protocols"]]
    return lines


def _point_label(name: str, s: dict) -> str:
    st = s["settings"]
    if s["kind"] == "alq":
        return f"ALQ, {st.get('grouping', 'channel')} groups, target {st['target_bits']} bits"
    if name == "binaryconnect":
        return "BinaryConnect (sign x per-channel mean abs)"
    return f"uniform {st['weight_bits']}-bit (LSQ-style)"


def _equal_memory(points: dict) -> list[str]:
    """Plain statements, both ways: every point against the most accurate point of the other kind
    (ALQ or baseline) that needs no more honest memory."""
    out = []
    for name, s in sorted(points.items(), key=lambda kv: kv[1]["memory_kib_mean"]):
        rivals = [(r["accuracy_mean"], r["memory_kib_mean"], n) for n, r in points.items()
                  if (r["kind"] == "alq") != (s["kind"] == "alq")
                  and r["memory_kib_mean"] <= s["memory_kib_mean"]]
        head = f"- {_point_label(name, s)} ({_pct(s['accuracy_mean'])} at {s['memory_kib_mean']:.2f} KiB)"
        if not rivals:
            out.append(f"{head}: no {'baseline' if s['kind'] == 'alq' else 'ALQ'} point measured "
                       "at this memory or less.")
            continue
        acc, mem, rival = max(rivals)
        alq_ahead = (s["accuracy_mean"] > acc) if s["kind"] == "alq" else (acc > s["accuracy_mean"])
        out.append(f"{head}: best {'baseline' if s['kind'] == 'alq' else 'ALQ point'} within that "
                   f"memory {_pct(acc)} at {mem:.2f} KiB ({rival}): "
                   f"**{'ALQ ahead' if alq_ahead else 'ALQ NOT ahead'}**.")
    if out:
        out = ["", "At equal honest memory (each point against the most accurate point of the other "
               "kind that needs no more memory; differences below about 1 point are within the "
               "fold-to-fold noise of 100-fragment test folds):", ""] + out
    return out


def _closest(points: dict, res: dict) -> str:
    """The most accurate ALQ point whose honest memory fits the paper's claimed size on every fold."""
    fits = [(s["accuracy_mean"], n, s) for n, s in points.items()
            if s["kind"] == "alq" and s["memory_kib_max"] <= res["paper_budget_kib"]]
    if not fits:
        return "No ALQ point fits that memory."
    acc, name, s = max(fits, key=lambda f: f[0])
    return (f"Closest measured point to the target within the memory: {name}, {_pct(acc)} at "
            f"{s['memory_kib_mean']:.2f} KiB ({100 * (acc - 0.9584):+.2f} points).")


def _machine(point: dict) -> str:
    return f"(A) {point['cpu']}" if "cpu" in point else "(B) earlier machine"


def quant_section(res: dict) -> list[str]:
    window = res["protocols"].get("window", {}).get("points", {})
    record = res["protocols"].get("record", {}).get("points", {})
    alq = res["alq_defaults"]
    lines = [
        "", "## Quantized networks: ALQ against uniform baselines, 10-fold cross-validation", "",
        f"Command: `{res['command']}` (torch {res['torch']}; {res['machine']}). Every point starts "
        "from the fold's float model above and trains on that fold's training rows only; the "
        "test fold is used once. All points have 8-bit integer activations (input and every "
        f"layer, power-of-two scales), alpha/scales stored as {alq['alpha_bits']}-bit fixed point, "
        "integer biases. ALQ: "
        f"{alq['rounds']} rounds x ({alq['epoch_basis']} basis + {alq['epoch_coord']} alpha + 1 "
        f"pruning epochs), lr {alq['lr']}, initial bits {alq['max_bits']}; baselines: the same "
        "95-epoch budget, Adam at the same lr (cosine).",
        "",
        "**Honest memory** counts every stored bit: sign bits of active bases, every alpha, the "
        "number of bases per group, biases at their integer width, requantization shifts. The "
        "*paper's count* (average sign bits x parameters, alpha ignored) is shown beside it.",
        "",
        "Window-stratified 10-fold (the paper's task, leak-free):",
        "",
        "| configuration | accuracy (8-bit act.) | float act. | macro-F1 | avg bits | honest memory "
        "| paper's count | compression | time per fold | measured on |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for name, s in sorted(window.items(), key=lambda kv: kv[1]["memory_kib_mean"]):
        star = " **(headline)**" if name == res["headline"] else ""
        lines.append(
            f"| {_point_label(name, s)}{star} | {_pct(s['accuracy_mean'], s['accuracy_std'])} | "
            f"{_pct(s['accuracy_float_activations_mean'])} | {_pct(s['macro_f1_mean'])} | "
            f"{s['average_bits_mean']:.3f} | {s['memory_kib_mean']:.2f} KiB | "
            f"{s['paper_kib_mean']:.2f} KiB | {paper.FLOAT_KIB / s['memory_kib_mean']:.1f}x | "
            f"{s['seconds_median']:.0f} s | {_machine(s)} |")
    if any("cpu" not in s for s in window.values()):
        lines += ["", "*Machine* (A) is this benchmark's current machine; (B) an earlier machine of "
                  "the same kind whose float models differed: float training is bit-reproducible "
                  "on one CPU type, not across types (different vector kernels round "
                  "differently), so per-fold figures move by a few points and 10-fold means by a "
                  "few tenths. Points marked (B) are being re-measured; `bench/quant_crossval.py` "
                  "resumes them."]
    lines += _equal_memory(window)
    head = window.get(res["headline"])
    if head:
        ok_acc = head["accuracy_mean"] >= 0.9584
        ok_mem = head["memory_kib_max"] <= res["paper_budget_kib"]
        lines += ["", f"Target of issue 3: at least 95.84 % at no more than "
                  f"{res['paper_budget_kib']} KiB honest memory. Headline point: "
                  f"{_pct(head['accuracy_mean'], head['accuracy_std'])} "
                  f"({'met' if ok_acc else 'NOT met'}), at most {head['memory_kib_max']:.2f} KiB "
                  f"over the folds ({'met' if ok_mem else 'NOT met'}). {_closest(window, res)} "
                  "Per-layer average bits of the "
                  "headline (mean over folds): "
                  + ", ".join(f"{b:.2f}" for b in head["layer_bits_mean"]) + ". Memory by kind "
                  "(bits, mean): " + ", ".join(f"{k} {v:.0f}" for k, v in
                                                head["bits_by_kind_mean"].items()) + "."]
        tuned = [f["accuracy"] for f in head["per_fold"] if f["fold"] in TUNED_FOLDS]
        untouched = [f["accuracy"] for f in head["per_fold"] if f["fold"] not in TUNED_FOLDS]
        lines += ["", "The ALQ recipe (shadow basis mode, label smoothing 0.1) was chosen among 7 "
                  "variants (projected vs. shadow basis steps, label smoothing, post-training, "
                  "distillation, gentler pruning) by their test accuracy on window folds "
                  f"{', '.join(map(str, TUNED_FOLDS))}, like the float recipe: the headline gives "
                  f"{_pct(sum(tuned) / len(tuned))} there and "
                  f"{_pct(sum(untouched) / len(untouched))} on the other {len(untouched)} folds. "
                  "The baselines were not tuned."]
    if record:
        lines += ["", "Record-grouped 10-fold (inter-patient; classes seen in one subject only "
                  "cannot be learned):", "", "| configuration | accuracy | macro-F1 | honest memory |",
                  "|---|---|---|---|"]
        for name, s in sorted(record.items(), key=lambda kv: kv[1]["memory_kib_mean"]):
            lines.append(f"| {_point_label(name, s)} | {_pct(s['accuracy_mean'], s['accuracy_std'])}"
                         f" | {_pct(s['macro_f1_mean'])} | {s['memory_kib_mean']:.2f} KiB |")
    lines += ["", "![accuracy against honest memory](figures/accuracy_vs_memory.png)", "",
              "Bits per layer and validation accuracy over the ALQ rounds (headline, window fold 0):",
              "", "![ALQ trajectory](figures/alq_bits_trajectory.png)"]
    return lines


README = BENCH.parent / "README.md"
# The recipe in bench/configs/fp.json was chosen among about 15 variants (learning rate, epochs,
# augmentation, weight averaging, label smoothing) by their test accuracy on window-protocol folds
# 0-3. Those folds are therefore slightly optimistic; folds 4-9 were never looked at while tuning.
TUNED_FOLDS = (0, 1, 2, 3)
BEGIN, END = "<!-- results:begin -->", "<!-- results:end -->"


def readme_block(res: dict, quant: dict | None = None, golden: dict | None = None) -> list[str]:
    """The headline table of the README (between the results markers)."""
    gen_file = RESULTS / "generalization.json"
    lines = generalization_headline(json.loads(gen_file.read_text())) if gen_file.exists() else []
    if golden:
        lines += [f"The fragments-only recipe shipped before (split seed 2018, whose folds 0-3 "
                  f"tuned it), integer model ALQ `{golden['point']}`, 8-bit activations "
                  f"(`{golden['command']}`):",
                  "", "| protocol | accuracy | honest memory (every stored bit) |", "|---|---|---|"]
        for s in golden["protocols"].values():
            lines.append(f"| {s['protocol_description']} | "
                         f"{_pct(s['accuracy_mean'], s['accuracy_std'])} | "
                         f"{s['memory_kib_mean']:.2f} KiB |")
        lines += [""]
    lines += [f"Full-precision CNN of that recipe, 10-fold cross-validation (`{res['command']}`):", "",
             "| protocol | accuracy | balanced accuracy | macro-F1 |", "|---|---|---|---|"]
    for s in res["protocols"].values():
        lines.append(f"| {s['protocol_description']} | "
                     f"{_pct(s['accuracy_mean'], s['accuracy_std'])} | "
                     f"{_pct(s['balanced_accuracy_mean'], s['balanced_accuracy_std'])} | "
                     f"{_pct(s['macro_f1_mean'], s['macro_f1_std'])} |")
    lines += ["", "Mean ± standard deviation over the 10 test folds. The paper's 93.5 % full-precision "
              "figure came from one random 80/20 split by file in which most test fragments were "
              "also trained on."]
    if quant:
        window = quant["protocols"].get("window", {}).get("points", {})
        lines += ["", f"Quantizers on that recipe, 8-bit integer activations, window-stratified "
                  f"10-fold (`{quant['command']}`); memory counts every stored bit:", "",
                  "| configuration | accuracy | honest memory | paper's way of counting |",
                  "|---|---|---|---|"]
        for name, s in sorted(window.items(), key=lambda kv: kv[1]["memory_kib_mean"]):
            label = _point_label(name, s) + (" **(headline)**" if name == quant["headline"] else "")
            lines.append(f"| {label} | {_pct(s['accuracy_mean'], s['accuracy_std'])} | "
                         f"{s['memory_kib_mean']:.2f} KiB | {s['paper_kib_mean']:.2f} KiB |")
        lines += ["", "The paper's ALQ row (95.84 % at \"13.54 KiB\") came from the leaky split "
                  "and did not count its ~17,800 float32 scaling factors (about 84.7 KiB with them)."]
    return lines + hardware_and_records_lines()


def generalization_headline(res: dict) -> list[str]:
    """The README's headline: the shipped configuration under the three protocols and its
    paired comparisons (``bench/generalization.py``)."""
    from generalization import HEADLINE  # bench/ is the script's folder

    rows = [(pr, body, body["configs"][HEADLINE]) for pr, body in res["protocols"].items()
            if HEADLINE in body["configs"]]
    if not rows:
        return []
    first = rows[0][2]
    kind, settings = first["quantizer"]
    lines = [f"**Headline**: the shipped configuration (float recipe `{first['recipe']}`, "
             f"{kind.upper()} {settings.get('target_bits')} bits, 8-bit activations) as deployed: "
             f"the integer golden model, bit-exact with the hardware, on test windows of split "
             f"seed {res['split_seed']} (`{res['command']}`):", "",
             "| protocol | runs (folds; seeds) | accuracy (mean ± sd, ddof 1) | honest memory |",
             "|---|---|---|---|"]
    for pr, body, sm in rows:
        extra = ""
        if pr == "record":
            extra = (f"; classes recorded in >= 5 subjects "
                     f"{_pct(sm['accuracy_classes_in_5_subjects'])}")
        lines.append(f"| `{pr}`: {body['description']} | {sm['runs']}{_mark(sm)} "
                     f"({len(sm['folds'])}; {', '.join(map(str, sm['seeds']))}) "
                     f"| {_pct(sm['accuracy_mean'], sm['accuracy_std'])}{extra} | "
                     f"{sm['memory_kib_mean']:.2f} KiB |")
    for pr, body, _ in rows:
        for t in body["comparisons"]:
            if t["a"] == HEADLINE and t["b"] in body["configs"]:
                m = t["windows_test"]
                lines += ["", f"`{pr}`, {t['a']} vs {t['b']}{_mark(t)} ({len(t['folds'])} "
                          f"folds x {len(t['seeds'])} seed(s), same windows): "
                          f"{100 * t['difference']:+.2f} "
                          f"points, {m['test']} p = {m['p']:.3g} (Holm {m['p_holm']:.3g}): "
                          f"**{t['verdict']}**."]
    shown = [t for _, body, _ in rows for t in body["comparisons"]
             if t["a"] == HEADLINE and t["b"] in body["configs"]]
    return lines + _earlier([sm for _, _, sm in rows] + shown) + [""]


def hardware_and_records_lines() -> list[str]:
    """The README's lines on the hardware and on whole records, from their benchmark results."""
    lines = []
    rtl_file, boards_file = RESULTS / "rtl_bench.json", RESULTS / "board_builds.json"
    if rtl_file.exists() and boards_file.exists():
        rtl = json.loads(rtl_file.read_text())
        d = rtl["default"]
        builds = json.loads(boards_file.read_text())
        lines += ["", f"Hardware, the shipped model (`{builds['command']}`, `{rtl['command']}`):", "",
                  "| board | pe x simd | clock (Fmax) | logic | latency per 10-s fragment |",
                  "|---|---|---|---|---|"]
        for point in builds["points"]:
            b = point.get("report")
            if not (b and point.get("meets_timing")):
                continue
            logic = next(v for k, v in b["resources"].items() if k in ("ICESTORM_LC", "TRELLIS_COMB"))
            lines.append(f"| {b['board']} ({b['device']}) | {b['parameters']['pe']} x "
                         f"{b['parameters']['simd']} | {b['clock_mhz']:.4g} MHz "
                         f"({b['fmax_mhz']:.1f} MHz) | {logic['used']}/{logic['available']} | "
                         f"**{b['latency_ms']:.2f} ms** |")
        lines += ["", f"The RTL (Verilator) reproduced the golden model's integer logits on "
                  f"{d['fragments'] - d['logit_mismatches']}/{d['fragments']} fragments, each in "
                  f"exactly the {d['expected_cycles']} cycles the cycle model predicts (pe 4 x simd 8)."]
    records_file = RESULTS / "records.json"
    if records_file.exists():
        res = json.loads(records_file.read_text())
        a, u = res["all_clean"], res["unseen_clean"]
        cv = res.get("cross_validated")
        if cv:
            p = cv["pooled"]
            lines += ["", f"Whole records, consecutive 10-s windows no model saw (`{res['command']}`:"
                      f" every labelled grid window, reserved ones excluded, classified by the "
                      f"`block`-protocol model of its fold): **{100 * p['agreement']:.1f} %** of "
                      f"{p['windows']} windows of {len(cv['per_record'])} records."]
        if not u["windows"]:
            return lines
        lines += ["", f"Whole records, consecutive 10-s windows (`{res['command']}`): the shipped "
                  f"model agrees with the annotations on **{100 * u['agree'] / u['windows']:.1f} %** "
                  f"of the {u['windows']} clean windows of {len(res['records'])} records that "
                  "overlap no training fragment (same patients, other minutes); "
                  f"{100 * a['agree'] / a['windows']:.1f} % of all {a['windows']} clean windows, "
                  f"{a['windows'] - u['windows']} of which overlap training fragments."]
    return lines


def update_readme(res: dict, quant: dict | None = None, golden: dict | None = None) -> None:
    text = README.read_text(encoding="utf-8")
    if BEGIN not in text or END not in text:
        raise SystemExit(f"README.md lacks the {BEGIN} ... {END} markers")
    head, rest = text.split(BEGIN, 1)
    _, tail = rest.split(END, 1)
    write_text(README, head + BEGIN + "\n" + "\n".join(readme_block(res, quant, golden)) + "\n"
               + END + tail)


def golden_section(res: dict) -> list[str]:
    """The integer golden model's cross-validated accuracy: the project's headline."""
    lines = ["## Integer golden model: the headline accuracy", "",
             f"Command: `{res['command']}` (point `{res['point']}`; torch {res['torch']}). For every "
             "fold the quantized run above is exported to the integer model file "
             "([docs/model-file.md](model-file.md)), read back, and the fold's test fragments are "
             "classified by the golden model alone (numpy integers, no float). Memory is counted "
             "from the file. The torch model of the same run is compared with it on all 1000 "
             "fragments: integer logits (torch in float64) and classes (torch in float32).", "",
             "| protocol | golden-model accuracy | macro-F1 | torch model, same runs | honest "
             "memory (from the file) | widest accumulator | golden vs torch |",
             "|---|---|---|---|---|---|---|"]
    for s in res["protocols"].values():
        lines.append(
            f"| {s['protocol_description']} | **{_pct(s['accuracy_mean'], s['accuracy_std'])}** | "
            f"{_pct(s['macro_f1_mean'])} | {_pct(s['torch_accuracy_mean'])} | "
            f"{s['memory_kib_mean']:.2f} KiB (max {s['memory_kib_max']:.2f}) | "
            f"{s['max_acc_bits']} bits | {s['logit_mismatches']} logit and "
            f"{s['class_mismatches_float32']} class mismatches in {s['fragments_compared']} |")
    window = res["protocols"].get("window")
    if window:
        lines += ["", "Per fold (window protocol, golden accuracy %): " + ", ".join(
            f"{f['fold']}: {100 * f['accuracy']:.1f}" for f in window["per_fold"]) +
            f". The golden model takes {window['golden_ms_per_fragment']:.1f} ms per fragment "
            "(numpy, one core)."]
    return lines + [""]


def rtl_section(res: dict) -> list[str]:
    """The RTL benchmark: bit-exactness over the data set and cycles against the ideal."""
    d = res["default"]
    lines = ["## Accelerator RTL (Verilator): bit-exactness and cycles", "",
             f"Command: `{res['command']}` (model `{res['model']}`, default parameters pe "
             f"{d['parameters']['pe']}, simd {d['parameters']['simd']}; {res['machine']}). Every "
             "fragment streams through the RTL simulation; its 17 integer logits and its class are "
             "compared with the golden model, its `cycles` counter with the cycle model "
             "([hardware.md](hardware.md)).", "",
             "| fragments | logit mismatches | class mismatches | cycles per inference | cycle "
             "model | simulation wall time |", "|---|---|---|---|---|---|",
             f"| {d['fragments']} | {d['logit_mismatches']} | {d['class_mismatches']} | "
             f"{', '.join(map(str, d['cycles']))} | {d['expected_cycles']} | "
             f"{d['seconds_total'] / 60:.1f} min ({d['seconds_per_fragment_median']:.2f} s per "
             "fragment, median over chunks) |", "",
             "Cycles against the ideal `basis additions / (pe x simd)`, each point confirmed by "
             "simulating real fragments:", "",
             "| pe x simd | cycles (model) | measured | ideal | ratio | bit-exact |",
             "|---|---|---|---|---|---|"]
    for pt in res["points"]:
        lines.append(f"| {pt['pe']} x {pt['simd']} | {pt['expected_cycles']} | "
                     f"{', '.join(map(str, pt['measured_cycles']))} | {pt['ideal']:.0f} | "
                     f"{pt['ratio']:.3f} | {pt['fragments'] - pt['mismatches']}/{pt['fragments']} |")
    return lines + [""]


def verification_section(res: dict) -> list[str]:
    """The second simulator (and, as they come, gate-level netlists) on the shipped model."""
    ic = res.get("icarus")
    if not ic:
        return netlist_lines(res.get("netlists", [])) + link_lines(res.get("links", []))
    p = ic["parameters"]
    return ["## Accelerator RTL in a second simulator (Icarus Verilog)", "",
            f"Command: `{res['command']}` (model `{res['model']}`, pe {p['pe']}, simd {p['simd']}; "
            f"Icarus in SystemVerilog mode, `{ic['mode']}`; {res['machine']}). The same cocotb "
            "testbench as in Verilator compares every fragment's integer logits and class with "
            "the golden model and its cycles with the cycle model; one fragment of every class "
            "first, the rest spread over the data set.", "",
            "| fragments | logit mismatches | class mismatches | cycles | cycle model | wall time |",
            "|---|---|---|---|---|---|",
            f"| {ic['fragments']} of {ic['fragments_requested']} | {ic['logit_mismatches']} | "
            f"{ic['class_mismatches']} | {', '.join(map(str, ic['cycles']))} | "
            f"{ic['expected_cycles']} | {ic['seconds_total'] / 60:.1f} min "
            f"({ic['seconds_per_fragment_median']:.1f} s per fragment, median over chunks) |", ""
            ] + ([f"Note: {ic['note']}.", ""] if ic.get("note") else []) + netlist_lines(
                res.get("netlists", [])) + link_lines(res.get("links", []))


def netlist_lines(netlists: list[dict]) -> list[str]:
    """The gate-level netlists of the boards (``ecg-alq sim --netlist``)."""
    if not netlists:
        return []
    lines = ["### Gate-level netlists of the boards (Verilator, yosys' cell models)", "",
             "The accelerator synthesized by yosys for the board's FPGA family (the board build's "
             "synthesis), simulated with the cell models; logits and class against the golden "
             "model, cycles against the cycle model.", "",
             "| board | pe x simd, memory | fragments | bit-exact | cycles | cycle model | "
             "wall time |", "|---|---|---|---|---|---|---|"]
    for nl in netlists:
        p = nl["parameters"]
        what = f"{p['pe']} x {p['simd']}, {p['memory']}"
        if nl.get("not_simulated"):
            lines.append(f"| {nl['board']} | {what} | not simulated: {nl['not_simulated']} | | | "
                         f"{nl['expected_cycles']} | |")
            continue
        lines.append(f"| {nl['board']} | {what} | {nl['fragments']} | "
                     f"{'yes' if nl['bit_exact'] else 'NO: ' + str(nl.get('failure'))} | "
                     f"{', '.join(map(str, nl['cycles']))} | {nl['expected_cycles']} | "
                     f"{nl['seconds'] / 60:.1f} min"
                     f"{' (' + nl['note'] + ')' if nl.get('note') else ''} |")
    return lines + [""]


def link_lines(links: list[dict]) -> list[str]:
    """The boards' link tops as netlists, serving the host client (``--link``)."""
    if not links:
        return []
    lines = ["### The boards' link tops as netlists, serving the host client", "",
             "The link top every board instantiates (UART receiver and transmitter, protocol "
             "parser, the accelerator; without the board's PLL and pins) synthesized for the "
             "board's family and simulated with the cell models while the host client does what "
             "`ecg-alq board classify` does after power-up: INFO, LOAD where the sign bits live "
             f"in SPRAM, CLASSIFY; the UART at {links[0]['divisor']} clock cycles per bit. "
             "Logits, class and cycles against the golden and cycle models.", "",
             "| board | pe x simd, memory | fragments | bit-exact | cycle model | wall time |",
             "|---|---|---|---|---|---|"]
    for ln in links:
        p = ln["parameters"]
        verdict = ("not simulated: " + ln["not_simulated"] if ln.get("not_simulated")
                   else "yes" if ln["bit_exact"] else "NO: " + str(ln.get("failure")))
        lines.append(f"| {ln['board']} | {p['pe']} x {p['simd']}, {p['memory']} | "
                     f"{ln['fragments']} | {verdict} | "
                     f"{ln['expected_cycles']} | {ln['seconds'] / 60:.1f} min |")
    return lines + [""]


def boards_section(res: dict) -> list[str]:
    """Real builds: resources, Fmax and latency per fragment, or the tools' numbers on failure."""
    lines = ["## FPGA builds (yosys + nextpnr + packer, YoWASP wheels)", "",
             f"Command: `{res['command']}` (the shipped model; each point `ecg-alq build --board B "
             "--pe P --simd S --memory M --clock-mhz F`; `ecg-alq build --board icebreaker` "
             "alone builds the first row). Latency = cycles per inference (cycle model, equal "
             "to the RTL's) / clock. Memory style `spram`: raw samples and sign bits in the "
             "iCE40UP5K's single-port RAMs, the sign bits loaded over the serial link "
             "(docs/boards.md). Placement seeds are tried in turn until one meets the clock "
             "(`--seeds`); the seeds that missed are named.", "",
             "| board | pe x simd, memory | clock | Fmax | logic | block RAM | SPRAM | DSP | cycles "
             "| latency | result |", "|---|---|---|---|---|---|---|---|---|---|---|"]
    for pt in res["points"]:
        rep = pt.get("report") or {}
        r = rep.get("resources", {})

        def use(*kinds):
            for k in kinds:
                if k in r:
                    return f"{r[k]['used']}/{r[k]['available']} {k}"
            return "-"

        fmax = f"{rep['fmax_mhz']:.1f} MHz" if rep.get("fmax_mhz") else "-"
        lat = f"{rep['latency_ms']:.2f} ms" if rep.get("latency_ms") else "-"
        retry = rep.get("synthesis_retry")
        missed = ", ".join(f"seed {a['seed']} {a['fmax_mhz']:.1f} MHz"
                           for a in rep.get("attempts", []))
        result = ("fits, meets timing" + (f" (seed {rep['seed']}; missed: {missed})" if missed
                                          else "")
                  + (f"; synthesis retried with {retry}" if retry else "")
                  ) if pt.get("meets_timing") else \
            re.sub(r" \(log: [^)]*\)", "", pt.get("failure", "failed"))
        lines.append(f"| {pt['board']} | {pt['pe']} x {pt['simd']}, {pt.get('memory', 'auto')} "
                     f"| {pt['clock_mhz']:g} MHz | "
                     f"{fmax} | {use('TRELLIS_COMB', 'ICESTORM_LC')} | "
                     f"{use('DP16KD', 'ICESTORM_RAM')} | {use('ICESTORM_SPRAM')} | "
                     f"{use('MULT18X18D', 'ICESTORM_DSP')} | "
                     f"{rep.get('cycles_per_inference', '-')} | {lat} | {result} |")
    lines.append("")
    for board, target in TARGET_MS.items():
        ok = [pt["report"]["latency_ms"] for pt in res["points"]
              if pt["board"] == board and pt.get("meets_timing")]
        if ok:
            verdict = "met" if min(ok) <= target else "not met"
            lines.append(f"Target on the {board} (issue 6): at most {target:g} ms per fragment: "
                         f"{verdict} ({min(ok):.2f} ms, {10_000 / min(ok):.0f} x faster than "
                         "real time).")
    return lines + [""]


#: latency targets per 10-second fragment (issue 6)
TARGET_MS = {"icebreaker": 10.0, "ulx3s": 0.5}


def dse_section(res: dict, folder: str) -> list[str]:
    """The committed design-space sweep: its Pareto fronts and the estimator's error."""
    from ecg_alq.dse.report import pareto

    pts = res["points"]
    ok = [p for p in pts if p.get("meets_timing")]
    lines = ["## Design-space exploration (real place and route)", "",
             f"Command: `{res['command']}`; every point, plots and summary: "
             f"[{folder}/summary.md]({folder}/summary.md). {len(pts)} points, {len(ok)} fit and "
             "meet timing.", "",
             "| pe x simd | logic | block RAM | DSP | Fmax | cycles | latency | x real time |",
             "|---|---|---|---|---|---|---|---|"]
    for p in sorted(ok, key=lambda p: p["latency_ms"]):
        lines.append(f"| {p['pe']} x {p['simd']} | {p['logic']} | {p['bram']} | {p['dsp']} | "
                     f"{p['fmax_mhz']:.1f} MHz | {p['cycles']} | {p['latency_ms']:.3f} ms | "
                     f"{p['realtime_margin']:.0f} |")
    for board in sorted({p["board"] for p in ok}):
        front = pareto([p for p in ok if p["board"] == board], "logic", "latency_ms")
        lines += ["", f"Pareto-optimal ({board}, latency against logic): " + ", ".join(
            f"{p['pe']} x {p['simd']}" for p in front) + "."]
    for p in pts:
        if not p.get("meets_timing"):
            why = re.sub(r" \(log: [^)]*\)", "", p.get("failure") or "failed")
            lines += ["", f"Not built: {p['pe']} x {p['simd']} on {p['board']}: {why}"]
    est = (res.get("estimator") or {}).get("errors", {})
    for key, e in est.items():
        lines.append(f"Resource estimator ({key}, `a + b pe + c pe x simd + d simd` fitted on "
                     f"the {e['points']} real points): leave-one-out mean absolute error "
                     f"{e['mae']:.0f} LUTs ({e['mape']:.1f} %), largest {e['max_abs']:.0f}.")
    return lines + [""]


def records_section(res: dict) -> list[str]:
    """Continuous records: consecutive windows of whole records against their annotations."""
    from ecg_alq.continuous import per_class_table, share

    first = res["records"][0]
    a, u = res["all_clean"], res["unseen_clean"]
    lines = ["## Continuous records: a monitor's view", ""]
    cv = res.get("cross_validated")
    if cv:
        p = cv["pooled"]
        lines += [f"**Windows no model saw** (`{res['command']}`): every labelled grid window of "
                  f"every record (reserved windows excluded), classified by the `block`-protocol "
                  f"golden model of the fold that kept it and everything within 10 s of it out "
                  f"of training (configuration `{cv['configuration']}`, split seed "
                  f"{cv['split_seed']}, seed {cv['seed']}): agreement **{share(p)}** of "
                  f"{p['windows']} windows.{_mark(cv)}", *_earlier([cv]), "",
                  "| class | records | windows | agreement |", "|---|---|---|---|"]
        for name, c in p["per_class"].items():
            lines.append(f"| {name} | {c['records']} | {c['windows']} | {share(c)} |")
        lines += ["", "The shipped model itself, on the same records:", ""]
    lines += [
             f"Command: `{res['command']}` (`ecg-alq classify-record all`). Every record with an "
             f"MLII lead ({len(res['records'])}) cut into consecutive 10-s windows from its "
             f"start, classified by the golden model of `{first['model'].split('/')[-1]}`; "
             "reference classes from the rhythm and beat annotations where they name one class "
             "(the rule set of docs/data.md; windows the annotations leave in doubt are not "
             "scored; reserved windows are neither classified nor reported). The fragments are "
             f"slices of these records; the model was {first['training_overlap']}. *Unseen* "
             "windows overlap none of those (with that margin): only they are a test, and they "
             "come from the same patients.", "",
             "| windows | clean | agreement (clean, incl. windows seen in training) | "
             "unseen clean | agreement (unseen) |",
             "|---|---|---|---|---|",
             f"| {sum(r['windows_total'] for r in res['records'])} | {a['windows']} | "
             f"{share(a)} | {u['windows']} | **{share(u)}** |", ""]
    if not u["windows"]:
        lines += ["No clean window is unseen by the shipped model: its agreement here is its fit "
                  "to windows it trained on, not a test. Its figure on unseen windows is the "
                  "cross-validated one above.", ""]
    lines += per_class_table(a, u)
    r = res.get("rtl_record")
    if r:
        lines += ["", f"Record {r['record']} through the RTL (Verilator, pe {r['parameters']['pe']} x "
                  f"simd {r['parameters']['simd']}, `ecg-alq classify-record {r['record']} --rtl`): "
                  f"{r['fragments']} windows, {r['logit_mismatches']} integer-logit mismatches "
                  f"against the golden model, every window {', '.join(map(str, r['cycles']))} cycles (cycle model "
                  f"{r['expected_cycles']}), {r['windows_equal_to_golden']}/{r['windows']} classes "
                  f"equal to the golden model's; {r['seconds_total'] / 60:.1f} min of simulation."]
    worst = sorted((r for r in res["records"] if r["all_clean"]["windows"] >= 20),
                   key=lambda r: r["all_clean"]["agree"] / r["all_clean"]["windows"])[:4]
    lines += ["", "Lowest records "
              "of the shipped model with at least 20 clean windows: " + ", ".join(
                  f"{r['record']} ({share(r['all_clean'])} of {r['all_clean']['windows']})"
                  for r in worst) + "; per-window CSVs and timelines are in the command's output "
              "folder.", "",
              "![record 201: signal, predicted and annotated class per window, rhythm episodes]"
              "(figures/record_201_timeline.png)", ""]
    return lines


def _mark(entry: dict) -> str:
    """A mark on a generalization row kept from an earlier collection (see :func:`_earlier`)."""
    if "earlier" not in entry:
        return ""
    so_far = entry.get("rerun_so_far")
    return f" (earlier; {so_far} re-run so far)" if so_far else " (earlier)"


def _earlier(entries: list[dict]) -> list[str]:
    """The note under a table with rows marked by :func:`_mark`."""
    notes = sorted({e["earlier"] for e in entries if "earlier" in e})
    return ["", *(f"(earlier): {n}." for n in notes)] if notes else []


def _verdict_rows(tests: list[dict]) -> list[str]:
    rows = ["| comparison | folds x seeds | accuracy A | accuracy B | A - B | per-window test | "
            "windows A / B better | p | p (Holm) | sign-flip over folds p | verdict |",
            "|---|---|---|---|---|---|---|---|---|---|---|"]
    for t in tests:
        m = t["windows_test"]
        rows.append(f"| {t['a']} vs {t['b']}{_mark(t)} | {len(t['folds'])} x {len(t['seeds'])} | "
                    f"{_pct(t['accuracy_a'])} | {_pct(t['accuracy_b'])} | "
                    f"{100 * t['difference']:+.2f} points | {m['test']} | "
                    f"{m['a_only']} / {m['b_only']} | {m['p']:.3g} | {m['p_holm']:.3g} | "
                    f"{t['sign_flip_folds_p']:.3g} | **{t['verdict']}** |")
    return rows


def generalization_section(res: dict) -> list[str]:
    """Issue 15: configurations under the three protocols, the integer golden model tested."""
    lines = ["## Generalization: three protocols, several seeds, paired tests", "",
             f"Command: `{res['command']}`; split seed {res['split_seed']} (fresh: recipes were "
             "tuned on validation data of split seed 2018, `bench/recipes.py`). Every figure is "
             "the integer golden model (8-bit activations) on test windows; mean ± sample "
             "standard deviation (ddof = 1) over the finished fold x seed runs. Memory: the "
             "model file's honest count (every stored bit). Comparisons are paired on the same "
             "folds, seeds and windows: per window (exact McNemar with one seed; with several, "
             "a sign-flip test of each window's correctness averaged over the seeds), "
             "Holm-corrected over the table, and a sign-flip test over folds (seeds averaged per "
             "fold); \"ahead\" only where the corrected per-window p < 0.05.", ""]
    for pr, body in res["protocols"].items():
        if not body["configs"]:
            continue
        lines += [f"### `{pr}`: {body['description']}", "",
                  "| configuration | float recipe | quantizer | runs | accuracy | balanced "
                  "accuracy | macro-F1 | honest memory |", "|---|---|---|---|---|---|---|---|"]
        for c, sm in body["configs"].items():
            kind, settings = sm["quantizer"]
            q = (f"ALQ {settings.get('target_bits')} bits" if kind == "alq"
                 else f"{settings.get('method')} {settings.get('weight_bits', 1)}-bit")
            lines.append(f"| {c}{_mark(sm)} | {sm['recipe']} | {q} | {sm['runs']} | "
                         f"{_pct(sm['accuracy_mean'], sm['accuracy_std']) if sm['runs'] > 1 else _pct(sm['accuracy_mean']) + ' (1 run)'} | "
                         f"{_pct(sm['balanced_accuracy_mean'])} | {_pct(sm['macro_f1_mean'])} | "
                         f"{sm['memory_kib_mean']:.2f} KiB |")
        lines += _earlier(list(body["configs"].values()))
        if pr == "record":
            for c, sm in body["configs"].items():
                lines.append("")
                lines.append(f"{c}: classes recorded in >= 2 subjects "
                             f"{_pct(sm['accuracy_classes_in_2_subjects'])}, in >= 5 subjects "
                             f"{_pct(sm['accuracy_classes_in_5_subjects'])} "
                             f"({', '.join(sm['classes_in_5_subjects'])}).")
        if body["comparisons"]:
            lines += ["", *_verdict_rows(body["comparisons"]), *_earlier(body["comparisons"])]
        head = body["configs"].get("alq") or next(iter(body["configs"].values()))
        lines += ["", f"Per class ({head['config']}; test windows summed over runs; subjects: "
                  "how many people the class was recorded in):", "",
                  "| class | subjects | windows | recall |", "|---|---|---|---|"]
        for name, c in head["per_class"].items():
            if c["windows"]:
                lines.append(f"| {name} | {c['subjects']} | {c['windows']} | {_pct(c['recall'])} |")
        lines.append("")
    return lines


def recipes_section(res: dict) -> list[str]:
    """What each training recipe did on validation data (the tuning split)."""
    lines = ["## Training recipes tried (validation data of the tuning split)", "",
             f"Command: `{res['command']}`. Float models; recipes are compared by the "
             "validation accuracy of the selected epoch (validation carved from training data as "
             "each protocol says). The test accuracy of the same runs is shown for the record "
             "only; no choice was made on it.", ""]
    for key, body in res.items():
        if not key.startswith("split-"):
            continue
        lines += [f"Split seed {key[6:]}:", "", "| protocol / recipe | runs | validation | "
                  "test (not used to choose) | test balanced |", "|---|---|---|---|---|"]
        for name, sm in body["summary"].items():
            lines.append(f"| {name} | {sm['runs']} | {_pct(sm['val_accuracy_mean'])} | "
                         f"{_pct(sm['test_accuracy_mean'])} | "
                         f"{_pct(sm['test_balanced_accuracy_mean'])} |")
        lines.append("")
    lines += ["Recipes: " + "; ".join(f"`{k}`: {json.dumps(v) if v else 'bench/configs/fp.json'}"
                                       for k, v in res["recipes"].items()), ""]
    return lines


def write_results_md() -> Path:
    lines = ["# Measured results", "",
             "Generated by `python bench/results_md.py` from `bench/results/*.json`; every figure "
             "was measured by the command printed with it.", ""]
    fp = RESULTS / "fp_crossval.json"
    quant_file = RESULTS / "quant_crossval.json"
    golden_file = RESULTS / "golden_crossval.json"
    quant = json.loads(quant_file.read_text()) if quant_file.exists() else None
    golden = json.loads(golden_file.read_text()) if golden_file.exists() else None
    rtl_file = RESULTS / "rtl_bench.json"
    for name, section in (("generalization.json", generalization_section),
                          ("recipes.json", recipes_section)):
        if (RESULTS / name).exists():
            lines += section(json.loads((RESULTS / name).read_text()))
    if golden:
        lines += golden_section(golden)
    if rtl_file.exists():
        lines += rtl_section(json.loads(rtl_file.read_text()))
    verification_file = RESULTS / "verification.json"
    if verification_file.exists():
        lines += verification_section(json.loads(verification_file.read_text()))
    boards_file = RESULTS / "board_builds.json"
    if boards_file.exists():
        lines += boards_section(json.loads(boards_file.read_text()))
    records_file = RESULTS / "records.json"
    if records_file.exists():
        lines += records_section(json.loads(records_file.read_text()))
    dse_file = BENCH.parent / "docs" / "dse" / "ulx3s" / "points.json"
    if dse_file.exists():
        lines += dse_section(json.loads(dse_file.read_text()), "dse/ulx3s")
    if fp.exists():
        res = json.loads(fp.read_text())
        lines += fp_section(res)
        update_readme(res, quant, golden)
    if quant:
        lines += quant_section(quant)
    write_text(OUT, "\n".join(lines) + "\n")
    return OUT


if __name__ == "__main__":
    print(write_results_md())
