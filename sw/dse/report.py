"""The outputs of a sweep: CSV and JSON of every point, Pareto plots and a markdown summary.

Pareto-optimal means no other point is at least as good in both objectives and better in one:
accuracy (higher) against memory (lower), and latency (lower) against logic (lower, per board,
only points that fit and meet timing).
"""

from __future__ import annotations

import csv
import io
from pathlib import Path

from ecg_alq import atomic

COLUMNS = ["label", "board", "pe", "simd", "clock_mhz", "alpha_mult", "memory_style", "accuracy_window",
           "accuracy_record", "memory_kib", "average_bits", "cycles", "cycles_ideal", "logic",
           "ff", "bram", "spram", "dsp", "fmax_mhz", "fits", "meets_timing", "latency_ms",
           "fragments_per_s", "realtime_margin", "failure", "model", "key"]


def pareto(points: list[dict], x: str, y: str, maximize_y: bool = False) -> list[dict]:
    """The points not dominated in (lower ``x``, lower ``y`` or higher with ``maximize_y``)."""
    ok = [p for p in points if p.get(x) is not None and p.get(y) is not None]
    sign = -1 if maximize_y else 1

    def dominated(p):
        return any(q[x] <= p[x] and sign * q[y] <= sign * p[y]
                   and (q[x] < p[x] or sign * q[y] < sign * p[y]) for q in ok)
    return sorted((p for p in ok if not dominated(p)), key=lambda p: p[x])


def write_outputs(results: list[dict], out: str | Path, estimator=None,
                  command: str = "") -> dict:
    out = Path(out)
    buf = io.StringIO()
    w = csv.DictWriter(buf, COLUMNS, extrasaction="ignore")
    w.writeheader()
    for r in results:
        w.writerow(r)
    atomic.write_text(out / "points.csv", buf.getvalue())
    summary = {"command": command, "points": results,
               "estimator": estimator.to_dict() if estimator else None}
    atomic.write_json(out / "points.json", summary)
    figures = _plots(results, out)
    atomic.write_text(out / "summary.md", _markdown(results, estimator, figures, command))
    return summary


def _plots(results: list[dict], out: Path) -> list[str]:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    names = []
    fig, ax = plt.subplots(figsize=(6, 4))
    models = {}
    for r in results:
        if r.get("accuracy_window") is not None:
            models[r["model"]] = r
    pts = list(models.values())
    if pts:
        ax.scatter([p["memory_kib"] for p in pts], [100 * p["accuracy_window"] for p in pts])
        front = pareto(pts, "memory_kib", "accuracy_window", maximize_y=True)
        ax.plot([p["memory_kib"] for p in front], [100 * p["accuracy_window"] for p in front],
                "r--", label="Pareto front")
        for p in pts:
            ax.annotate(Path(p["model"]).stem, (p["memory_kib"], 100 * p["accuracy_window"]),
                        fontsize=7)
    ax.set_xlabel("honest memory (KiB)")
    ax.set_ylabel("accuracy, 10-fold window protocol (%)")
    ax.set_title("accuracy against memory (integer models)")
    ax.legend(loc="lower right") if pts else None
    fig.tight_layout()
    fig.savefig(out / "accuracy_vs_memory.png", dpi=120)
    plt.close(fig)
    names.append("accuracy_vs_memory.png")
    for board in sorted({r["board"] for r in results}):
        ok = [r for r in results if r["board"] == board and r.get("meets_timing")]
        fig, ax = plt.subplots(figsize=(6, 4))
        if ok:
            ax.scatter([r["logic"] for r in ok], [r["latency_ms"] for r in ok])
            for r in ok:
                ax.annotate(f"{r['pe']}x{r['simd']}", (r["logic"], r["latency_ms"]), fontsize=7)
            front = pareto(ok, "logic", "latency_ms")
            ax.plot([r["logic"] for r in front], [r["latency_ms"] for r in front], "r--",
                    label="Pareto front")
            ax.legend(loc="upper right")
        ax.set_xlabel("logic (LUT4 / logic cells)")
        ax.set_ylabel("latency per fragment (ms)")
        ax.set_yscale("log")
        ax.set_title(f"{board}: latency against logic (real place and route)")
        fig.tight_layout()
        name = f"latency_vs_logic_{board}.png"
        fig.savefig(out / name, dpi=120)
        plt.close(fig)
        names.append(name)
    return names


def _fmt(v, pattern="{:.2f}"):
    return "-" if v is None else pattern.format(v)


def _markdown(results: list[dict], estimator, figures: list[str], command: str) -> str:
    lines = ["# Design-space exploration", "",
             f"Command: `{command or 'ecg-alq dse'}`. Accuracy: the integer golden model, 10-fold cross-validated "
             "(window protocol) when the model file was made; memory counts every stored bit; "
             "cycles from the cycle model (equal to the RTL's in every simulation); logic, block "
             "RAM, DSP and Fmax from real place and route; latency = cycles / clock.", "",
             "| point | accuracy | memory | cycles | logic | BRAM | DSP | Fmax | latency | "
             "fragments/s | x real time | result |", "|---|---|---|---|---|---|---|---|---|---|---|---|"]
    for r in results:
        result = "ok" if r.get("meets_timing") else (r.get("failure") or "failed")
        lines.append(
            f"| {r['label']} | "
            f"{'not measured' if r.get('accuracy_window') is None else format(r['accuracy_window'], '.2%')} | "
            f"{_fmt(r.get('memory_kib'))} KiB | {r.get('cycles', '-')} | {r.get('logic', '-')} | "
            f"{r.get('bram', '-')} | {r.get('dsp', '-')} | {_fmt(r.get('fmax_mhz'), '{:.1f}')} | "
            f"{_fmt(r.get('latency_ms'), '{:.3f} ms')} | {_fmt(r.get('fragments_per_s'), '{:.0f}')} | "
            f"{_fmt(r.get('realtime_margin'), '{:.0f}')} | {result} |")
    lines += ["", "## Pareto-optimal points", ""]
    for board in sorted({r["board"] for r in results}):
        ok = [r for r in results if r["board"] == board and r.get("meets_timing")]
        front = pareto(ok, "logic", "latency_ms")
        lines.append(f"- {board}, latency against logic: "
                     + (", ".join(f"{r['pe']}x{r['simd']} ({r['logic']} logic, "
                                  f"{r['latency_ms']:.3f} ms)" for r in front) or "none"))
    models = {r["model"]: r for r in results if r.get("accuracy_window") is not None}
    front = pareto(list(models.values()), "memory_kib", "accuracy_window", maximize_y=True)
    lines.append("- accuracy against memory: " + (", ".join(
        f"{Path(r['model']).stem} ({r['accuracy_window']:.2%}, {r['memory_kib']:.2f} KiB)"
        for r in front) or "no model with a measured accuracy"))
    if estimator is not None and estimator.errors:
        lines += ["", "## Resource estimator", "",
                  "Logic fitted per board and alpha multiplier as `a + b pe + c pe x simd + d simd` "
                  "on the real points; "
                  "error by leave-one-out (each point predicted by a fit without it):", "",
                  "| board / alpha | points | mean abs. error | mean abs. % error | max abs. error |",
                  "|---|---|---|---|---|"]
        for board, e in estimator.errors.items():
            lines.append(f"| {board} | {e['points']} | {e['mae']:.0f} | {e['mape']:.1f} % | "
                         f"{e['max_abs']:.0f} |")
    lines += ["", *[f"![{f}]({f})" for f in figures], ""]
    return "\n".join(lines)
