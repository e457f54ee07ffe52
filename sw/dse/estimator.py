"""A fast resource estimator fitted on real place-and-route points.

Per board, logic (LUTs or logic cells) is fitted by least squares as a linear function of
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

CAPACITY = {"icebreaker": 5280, "ulx3s": 83640}  #: logic cells / LUT4s of each board's FPGA


def features(pe: int, simd: int) -> list[float]:
    return [1.0, pe, pe * simd, simd]


@dataclass
class ResourceEstimator:
    coefficients: dict = field(default_factory=dict)  #: board -> least-squares weights
    errors: dict = field(default_factory=dict)  #: board -> {"mae", "mape", "points"}

    @classmethod
    def fit(cls, results: list[dict]) -> "ResourceEstimator":
        est = cls()
        for board in sorted({r["board"] for r in results}):
            rows = [r for r in results if r["board"] == board and r.get("logic")]
            if len(rows) < len(features(1, 1)) + 1:
                continue  # too few real points for a fit and its error
            x = np.array([features(r["pe"], r["simd"]) for r in rows])
            y = np.array([r["logic"] for r in rows], dtype=float)
            est.coefficients[board] = np.linalg.lstsq(x, y, rcond=None)[0].tolist()
            errs = []
            for i in range(len(rows)):
                keep = np.arange(len(rows)) != i
                w = np.linalg.lstsq(x[keep], y[keep], rcond=None)[0]
                errs.append(float(x[i] @ w - y[i]))
            errs = np.array(errs)
            est.errors[board] = {"mae": float(np.abs(errs).mean()),
                                 "mape": float((np.abs(errs) / y).mean() * 100),
                                 "max_abs": float(np.abs(errs).max()), "points": len(rows)}
        return est

    def predict(self, board: str, pe: int, simd: int) -> float | None:
        w = self.coefficients.get(board)
        return None if w is None else float(np.dot(features(pe, simd), w))

    def hopeless(self, point: Point) -> bool:
        guess = self.predict(point.board, point.pe, point.simd)
        if guess is None:
            return False
        return guess - 2 * self.errors[point.board]["max_abs"] > CAPACITY[point.board]

    def skipped(self, point: Point) -> dict:
        from ecg_alq.dse.evaluate import model_figures

        guess = self.predict(point.board, point.pe, point.simd)
        return {"key": point.key, "label": point.label, "model": point.model,
                "board": point.board, "pe": point.pe, "simd": point.simd,
                "clock_mhz": point.clock_mhz, "alpha_mult": point.alpha_mult,
                **model_figures(point.model), "fits": False, "meets_timing": False,
                "skipped": True, "logic_estimate": guess,
                "failure": f"skipped: estimated logic {guess:.0f} > {CAPACITY[point.board]}"}

    def to_dict(self) -> dict:
        return {"coefficients": self.coefficients, "errors": self.errors,
                "features": ["1", "pe", "pe*simd", "simd"]}
