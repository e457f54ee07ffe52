"""Continuous records: what a wearable monitor does with the classifier. A whole MIT-BIH record
is cut into consecutive 10-second windows (3600 samples from sample 0, the last partial window
dropped), every window is classified (golden model, or the RTL in Verilator), and the classes
are compared with the record's annotations where those name one class without doubt.

**Reference class of a window**: the rules of :mod:`ecg_alq.data.labels` (one rule set for
training, evaluation and this command), or not scored when the annotations do not decide.

**Seen windows.** A window can overlap windows the model was trained on (fragments with the
augmentation's +-``context_shift`` samples, or the database windows its fold allowed). Agreement
is reported for all clean windows and for the *unseen* ones, which overlap no trained window;
those are still from patients the model was trained on. A model trained on every labelled
database window leaves no labelled window unseen: its figure on unseen windows is the block
protocol's cross-validation (``bench/records_bench.py``).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import numpy as np

from ecg_alq.classes import CLASS_NAMES
from ecg_alq.data.labels import REASONS, categorize, labels_at
from ecg_alq.data.mitdb import Record
from ecg_alq.data.splits import evaluation_table
from ecg_alq.errors import EcgAlqError

WINDOW = 3600  #: samples per window (10 s at 360 Hz)

@dataclass(frozen=True)
class Window:
    """One 10-s window of a record: ``start`` (sample), the annotated rhythm at its start, the
    rhythm changes inside, its beat symbols with counts, and the reference class id (1..17, or 0
    when not clean) with the reason."""

    start: int
    rhythm: str
    changes: tuple[str, ...]
    beats: dict
    reference: int
    reason: str


def windows_of(record: Record) -> list[Window]:
    """The record's consecutive windows with their annotations and reference classes."""
    starts = np.arange(0, len(record.signal) - WINDOW + 1, WINDOW)
    cats = categorize(record.beat_sample, record.beat_symbol, record.rhythm_sample, record.rhythm)
    refs, reasons = labels_at(cats, starts)
    out = []
    for start, ref, why in zip(starts.tolist(), refs.tolist(), reasons.tolist()):
        end = start + WINDOW
        inside = (record.rhythm_sample > start) & (record.rhythm_sample < end)
        changes = tuple(str(r) for r in record.rhythm[inside])
        in_beats = (record.beat_sample >= start) & (record.beat_sample < end)
        beats = dict(Counter(str(s) for s in record.beat_symbol[in_beats]))
        out.append(Window(start, record.rhythm_at(start), changes, beats, ref,
                          "clean" if ref else REASONS[why]))
    return out


def seen_mask(record_name: str, starts: np.ndarray, model, data: str | None) -> tuple[np.ndarray, str]:
    """Which windows at ``starts`` overlap a window that trained ``model``. Its provenance names
    the training run (protocol, fold, windows): with ``windows=fragments`` the trained windows are
    its training and validation fragments widened by the context shift; with ``windows=database``
    every start the fold's pool allows (:func:`ecg_alq.data.pool.allowed_mask`) and the
    validation windows. Returns the mask and a sentence saying what was assumed."""
    from ecg_alq.config import from_record
    from ecg_alq.training import TrainConfig, split_for

    training = (model.provenance or {}).get("training")
    cfg = from_record(TrainConfig, training, "the model file", data) if training else TrainConfig(
        protocol="all", val_fraction=0.0, data=data)
    frags = evaluation_table(cfg.protocol, data)
    split = split_for(cfg, frags)
    run = f"{cfg.protocol} protocol" + ("" if cfg.protocol == "all" else f", fold {cfg.fold}")
    database = cfg.windows == "database"
    # fragments: the training and validation rows, re-cut by the context shift; database
    # windows: the validation rows as they are, and the fold's pool
    rows = split.val if database else np.concatenate([split.train, split.val])
    margin = 0 if database else cfg.context_shift
    mine = rows[frags.record[rows] == int(record_name)]
    lo, hi = frags.start_sample[mine] - margin, frags.start_sample[mine] + WINDOW + margin
    starts = np.asarray(starts)
    seen = ((starts[:, None] < hi[None, :]) & (starts[:, None] + WINDOW > lo[None, :])).any(axis=1)
    if database:
        seen |= _near_pool(record_name, starts, cfg, frags, split, data)
        how = f"trained on every window its pool allows ({run}) and its validation windows"
    elif training:
        how = f"trained on {len(rows)} fragments ({run}), +-{margin} samples"
    else:
        how = "no training provenance in the model file: every fragment counted as trained on"
    return seen, how


def _near_pool(record_name: str, starts: np.ndarray, cfg, frags, split, data) -> np.ndarray:
    """Windows at ``starts`` that overlap a start the fold's database pool allows."""
    from ecg_alq.data.database import load_database, record_by_number
    from ecg_alq.data.pool import allowed_mask

    rec = record_by_number(load_database(data)).get(int(record_name))
    if rec is None:
        return np.zeros(len(starts), dtype=bool)
    allowed = np.concatenate([[0], np.cumsum(allowed_mask(rec, cfg.protocol, frags, split,
                                                          cfg.n_folds))])
    lo = np.clip(starts - WINDOW + 1, 0, rec.n_starts)
    hi = np.clip(starts + WINDOW, 0, rec.n_starts)
    return allowed[hi] - allowed[lo] > 0


def agreement(reference: np.ndarray, predicted: np.ndarray, mask: np.ndarray | None = None) -> dict:
    """Per reference class: clean windows and how many were classified as that class.
    ``reference``/``predicted``: class ids (0 = not clean); ``mask``: windows to count."""
    keep = reference > 0
    if mask is not None:
        keep &= mask
    per_class = {}
    for cid in sorted(set(reference[keep].tolist())):
        rows = keep & (reference == cid)
        hit = int((predicted[rows] == cid).sum())
        per_class[CLASS_NAMES[cid - 1]] = {"windows": int(rows.sum()), "agree": hit}
    n = int(keep.sum())
    hits = int((predicted[keep] == reference[keep]).sum())
    return {"windows": n, "agree": hits, "agreement": hits / n if n else None,
            "per_class": per_class}


def classify_record(name: str, model_path: str | Path | None = None, data: str | None = None,
                    classifier: Callable | None = None, max_windows: int | None = None) -> dict:
    """Classify record ``name``'s MLII lead window by window with the golden model, or with
    another classifier of the same model: ``classifier(model, x, golden_logits, record_name)`` returns
    the classes (1..17) of the windows ``x`` (int16 ``(N, 3600)``) and a summary of its run
    (the CLI passes :func:`ecg_alq.sim.network.rtl_classes`: the RTL in Verilator, its logits
    checked against ``golden_logits``). ``max_windows``: only the first ones (for quick
    checks). Returns the windows, predictions, reference classes and agreement (all clean
    windows, and the unseen ones)."""
    from ecg_alq.data.mitdb import read_record
    from ecg_alq.intmodel import load
    from ecg_alq.intmodel.golden import GoldenModel
    from ecg_alq.intmodel.shipped import default_model_path

    path = Path(model_path) if model_path else default_model_path()
    model = load(path)
    record = read_record(name, data)
    wins = windows_of(record)[:max_windows]
    starts = np.array([w.start for w in wins])
    reserved = reserved_windows(name, starts, len(record.signal), data)
    if reserved.all():
        raise EcgAlqError(f"record {name}: every window asked for is reserved for the external "
                          "check (reserved_windows.csv); ask for more windows")
    x = np.stack([record.signal[s: s + WINDOW] for s in starts[~reserved]])
    golden = GoldenModel(model).logits(x)
    predicted = np.zeros(len(wins), dtype=np.int64)  # 0: reserved, never classified
    predicted[~reserved] = golden.argmax(axis=1) + 1
    result = {"record": name, "model": str(path), "windows_total": len(wins),
              "windows_reserved": int(reserved.sum()),
              "seconds_covered": len(wins) * WINDOW / record.fs, "classifier": "golden model"}
    if classifier is not None:
        predicted[~reserved], result["rtl"] = classifier(model, x, golden, name)
        result["classifier"] = "RTL (Verilator)"
    reference = np.where(reserved, 0, [w.reference for w in wins])
    seen, how = seen_mask(name, starts, model, data)
    result |= {"training_overlap": how, "windows_seen": int(seen.sum()),
               "all_clean": agreement(reference, predicted),
               "unseen_clean": agreement(reference, predicted, ~seen),
               "windows": [_window_row(k, w, p, r, s, v, record.fs) for k, (w, p, r, s, v)
                           in enumerate(zip(wins, predicted, reference, seen, reserved))]}
    result["_record"] = record  # for the timeline; dropped before writing
    return result


def _window_row(index: int, w: Window, predicted: int, reference: int, seen: bool,
                reserved: bool, fs: int) -> dict:
    """One CSV row; a reserved window keeps only its position and why it was left out."""
    row = {"index": index, "start_sample": w.start, "start_s": w.start / fs,
           "predicted": CLASS_NAMES[predicted - 1] if predicted else "",
           "reference": CLASS_NAMES[reference - 1] if reference else "",
           "why_not_scored": RESERVED if reserved else "" if reference else w.reason,
           "rhythm": w.rhythm, "rhythm_changes": ";".join(w.changes),
           "beats": " ".join(f"{s}:{c}" for s, c in sorted(w.beats.items())),
           "overlaps_training": bool(seen)}
    if reserved:
        row |= {"rhythm": "", "rhythm_changes": "", "beats": "", "overlaps_training": ""}
    return row


RESERVED = "reserved for the external check: not classified"


def reserved_windows(name: str, starts: np.ndarray, n_samples: int, data: str | None) -> np.ndarray:
    """bool: which windows at ``starts`` overlap a reserved window (``reserved_windows.csv``)."""
    from ecg_alq.data.database import starts_near
    from ecg_alq.data.reserved import load_reserved

    mine = load_reserved(data).get(name, np.empty(0, dtype=np.int64))
    return starts_near(mine, n_samples - WINDOW + 1)[np.asarray(starts, dtype=np.int64)]


def rhythm_episodes(record: Record, hidden: list[int] = ()) -> list[tuple[float, float, str]]:
    """(start s, end s, label) of every annotated rhythm episode, cut where a window starting at
    a sample of ``hidden`` lies (those windows appear in no figure)."""
    ends = list(record.rhythm_sample[1:]) + [len(record.signal)]
    out = []
    for a, b, r in zip(record.rhythm_sample.tolist(), ends, record.rhythm):
        for h in sorted(hidden):
            if a < h + WINDOW and h < b:
                if a < h:
                    out.append((a, h, str(r)))
                a = h + WINDOW
        if a < b:
            out.append((a, b, str(r)))
    return [(int(a) / record.fs, int(b) / record.fs, r) for a, b, r in out]


def write_record_outputs(result: dict, out: Path) -> list[Path]:
    """``out/NNN.csv`` (one row per window), ``out/NNN.json`` (summary and windows) and
    ``out/NNN_timeline.png``; returns the paths."""
    import csv
    import io

    from ecg_alq import atomic, plots
    from ecg_alq.data.fragments import ADC_GAIN_PER_MV, ADC_ZERO

    record = result.pop("_record")
    name = result["record"]
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=list(result["windows"][0]))
    writer.writeheader()
    writer.writerows(result["windows"])
    paths = [out / f"{name}.csv", out / f"{name}.json", out / f"{name}_timeline.png"]
    atomic.write_text(paths[0], buf.getvalue())
    atomic.write_json(paths[1], result)
    ids = {n: k + 1 for k, n in enumerate(CLASS_NAMES)}
    signal_mv = (record.signal.astype(float) - ADC_ZERO) / ADC_GAIN_PER_MV
    for w in result["windows"]:
        if w["why_not_scored"] == RESERVED:  # no reserved sample in a figure
            signal_mv[w["start_sample"]: w["start_sample"] + WINDOW] = np.nan
    a, u = result["all_clean"], result["unseen_clean"]
    plots.record_timeline(
        signal_mv, record.fs, WINDOW, [ids.get(w["predicted"], 0) for w in result["windows"]],
        [ids.get(w["reference"], 0) for w in result["windows"]],
        rhythm_episodes(record, [w["start_sample"] for w in result["windows"]
                                 if w["why_not_scored"] == RESERVED]),
        paths[2], f"record {name} ({record.lead}), {result['classifier']}: agreement "
        f"{share(a)} of {a['windows']} clean windows, {share(u)} of {u['windows']} unseen")
    return paths


def share(c: dict) -> str:
    """``agree`` of ``windows`` as a percentage, ``n/a`` for none."""
    return f"{100 * c['agree'] / c['windows']:.1f} %" if c["windows"] else "n/a"


def per_class_table(all_clean: dict, unseen: dict) -> list[str]:
    """Markdown rows per reference class: records, clean windows and agreement, all and unseen
    (``all_clean``/``unseen``: :func:`pooled` results)."""
    lines = ["| class | records | clean windows | agreement | unseen windows | agreement (unseen) |",
             "|---|---|---|---|---|---|"]
    for name, c in all_clean["per_class"].items():
        cu = unseen["per_class"].get(name, {"windows": 0, "agree": 0})
        lines.append(f"| {name} | {c['records']} | {c['windows']} | {share(c)} | "
                     f"{cu['windows']} | {share(cu)} |")
    return lines


def pooled(results: list[dict], key: str) -> dict:
    """Agreement summed over records (``key``: ``all_clean`` or ``unseen_clean``)."""
    per_class: dict[str, dict] = {}
    for r in results:
        for name, c in r[key]["per_class"].items():
            acc = per_class.setdefault(name, {"windows": 0, "agree": 0, "records": 0})
            acc["windows"] += c["windows"]
            acc["agree"] += c["agree"]
            acc["records"] += 1
    n = sum(c["windows"] for c in per_class.values())
    hits = sum(c["agree"] for c in per_class.values())
    order = {name: k for k, name in enumerate(CLASS_NAMES)}
    return {"windows": n, "agree": hits, "agreement": hits / n if n else None,
            "per_class": dict(sorted(per_class.items(), key=lambda kv: order[kv[0]]))}


def summary_markdown(results: list[dict], command: str) -> str:
    """A table per record and per class over all the records of one run."""
    lines = ["# Continuous-record classification", "",
             f"Command: `{command}`. Consecutive 10-s windows of each record's MLII lead; "
             f"classifier: {results[0]['classifier']} ({results[0]['model']}); reference classes "
             "from the rhythm and beat annotations where they name one class (clean windows; "
             "rules of docs/data.md); reserved windows are neither classified nor counted. "
             "*Unseen*: windows that overlap no window the model was trained on "
             f"({results[0]['training_overlap']}); same patients.", "",
             "| record | windows | clean | agreement (clean) | unseen clean | agreement (unseen) |",
             "|---|---|---|---|---|---|"]
    for r in results:
        a, u = r["all_clean"], r["unseen_clean"]
        lines.append(f"| {r['record']} | {r['windows_total']} | {a['windows']} | {share(a)} | "
                     f"{u['windows']} | {share(u)} |")
    a, u = pooled(results, "all_clean"), pooled(results, "unseen_clean")
    lines.append(f"| **all** | {sum(r['windows_total'] for r in results)} | {a['windows']} | "
                 f"**{share(a)}** | {u['windows']} | **{share(u)}** |")
    lines += ["", "Per class (windows whose annotations give that class):", ""]
    lines += per_class_table(a, u)
    return "\n".join(lines) + "\n"


def write_summary(results: list[dict], out: Path, command: str) -> dict:
    """``out/summary.json`` (every record's result without its windows, and the pooled
    agreement) and ``out/summary.md`` for several records classified by ``command``; returns
    the pooled agreement, ``{"all_clean": ..., "unseen_clean": ...}``."""
    from ecg_alq import atomic

    both = {key: pooled(results, key) for key in ("all_clean", "unseen_clean")}
    atomic.write_json(out / "summary.json", {
        "command": command, "records": [{k: v for k, v in r.items() if k != "windows"}
                                        for r in results]} | both)
    atomic.write_text(out / "summary.md", summary_markdown(results, command))
    return both
