"""A fast resource estimator fitted on real place-and-route points.

Per board and alpha multiplier style, logic (LUTs or logic cells) is fitted by least squares as a linear function of
features the generator's structure suggests: a constant (sequencer, link), ``pe`` (pooling,
FIFOs, per-lane control), ``pe x simd`` (sign-controlled adder trees) and ``simd`` (fetch
rotation and masks). Its error is measured by leave-one-out over the fitted points (each point
predicted by a fit without it), so the reported error is that of a point it has not seen.
:meth:`ResourceEstimator.hopeless` skips a point only when even its estimate minus twice that
error exceeds the board.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ecg_alq.dse.space import Point

def group(board: str, alpha_mult: str) -> str:
    """One fit per board and alpha multiplier style (DSPs change the logic a lane needs)."""
    return f"{board}/{alpha_mult}"


def features(pe: int, simd: int) -> list[float]:
    return [1.0, pe, pe * simd, simd]


@dataclass
class ResourceEstimator:
    coefficients: dict = field(default_factory=dict)  #: group -> least-squares weights
    errors: dict = field(default_factory=dict)  #: group -> {"mae", "mape", "max_abs", "points"}

    @classmethod
    def fit(cls, results: list[dict]) -> "ResourceEstimator":
        est = cls()
        for key in sorted({group(r["board"], r.get("alpha_mult", "dsp")) for r in results}):
            rows = [r for r in results if r.get("logic")
                    and group(r["board"], r.get("alpha_mult", "dsp")) == key]
            if len(rows) < len(features(1, 1)) + 1:
                continue  # too few real points for a fit and its error
            x = np.array([features(r["pe"], r["simd"]) for r in rows])
            y = np.array([r["logic"] for r in rows], dtype=float)
            est.coefficients[key] = np.linalg.lstsq(x, y, rcond=None)[0].tolist()
            errs = []
            for i in range(len(rows)):
                keep = np.arange(len(rows)) != i
                w = np.linalg.lstsq(x[keep], y[keep], rcond=None)[0]
                errs.append(float(x[i] @ w - y[i]))
            errs = np.array(errs)
            est.errors[key] = {"mae": float(np.abs(errs).mean()),
                                 "mape": float((np.abs(errs) / y).mean() * 100),
                                 "max_abs": float(np.abs(errs).max()), "points": len(rows)}
        return est

    def predict(self, board: str, pe: int, simd: int, alpha_mult: str = "dsp") -> float | None:
        w = self.coefficients.get(group(board, alpha_mult))
        return None if w is None else float(np.dot(features(pe, simd), w))

    def hopeless(self, point: Point) -> bool:
        from ecg_alq.boards.top import BOARDS

        guess = self.predict(point.board, point.pe, point.simd, point.alpha_mult)
        if guess is None:
            return False
        margin = 2 * self.errors[group(point.board, point.alpha_mult)]["max_abs"]
        return guess - margin > BOARDS[point.board].logic_cells

    def skipped(self, point: Point) -> dict:
        from ecg_alq.boards.top import BOARDS
        from ecg_alq.dse.evaluate import point_record

        guess = self.predict(point.board, point.pe, point.simd, point.alpha_mult)
        return point_record(point) | {
            "fits": False, "meets_timing": False, "skipped": True, "logic_estimate": guess,
            "failure": f"skipped: estimated logic {guess:.0f} > "
                       f"{BOARDS[point.board].logic_cells}"}

    def to_dict(self) -> dict:
        return {"coefficients": self.coefficients, "errors": self.errors,
                "features": ["1", "pe", "pe*simd", "simd"]}
