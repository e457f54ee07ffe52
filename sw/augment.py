"""Training-time augmentation: shifted windows from the source record, amplitude, zero-fill shift.

*Record-context shift.* Every fragment is an exact slice of an MIT-BIH record, so a training
fragment can be re-cut a little earlier or later from its record: a real 10-s signal with the same
rhythm, not a zero-padded copy. The shift range of each training fragment is clipped so that the
re-cut window never overlaps a held-out (validation or test) window of the same record, nor a
reserved window (``reserved_windows.csv``), nor runs off the record: no held-out or reserved
sample is ever trained on.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Iterator, NamedTuple

import numpy as np
import torch

from ecg_alq.data.fragments import FRAGMENT_LENGTH, Fragments
from ecg_alq.data.mitdb import read_record
from ecg_alq.errors import EcgAlqError
from ecg_alq.preprocess import model_input

if TYPE_CHECKING:
    from ecg_alq.data.pool import WindowPool


@dataclass(frozen=True)
class ContextWindows:
    """Extended windows around fragments and the shifts allowed for each.

    Attributes:
        raw: int16 (N, 3600 + 2*max_shift) record samples from ``start - max_shift`` on
            (zeros where a shift is not allowed).
        lo, hi: int64 (N,) smallest (<= 0) and largest (>= 0) allowed shift in samples.
        max_shift: the requested maximum shift.
    """

    raw: np.ndarray
    lo: np.ndarray
    hi: np.ndarray
    max_shift: int

    def sample(self, index: torch.Tensor, gen: torch.Generator) -> np.ndarray:
        """int16 (B, 3600): one randomly shifted window per row in ``index``."""
        idx = index.numpy()
        u = torch.rand(len(idx), generator=gen, dtype=torch.float64).numpy()
        span = self.hi[idx] - self.lo[idx] + 1
        shift = self.lo[idx] + np.minimum((u * span).astype(np.int64), span - 1)
        cols = (self.max_shift + shift)[:, None] + np.arange(FRAGMENT_LENGTH)
        return np.take_along_axis(self.raw[idx], cols, axis=1)


def context_windows(
    frags: Fragments, rows: np.ndarray, held_out: np.ndarray, max_shift: int,
    root: str | None = None,
) -> ContextWindows:
    """Build :class:`ContextWindows` for ``rows``; neither ``held_out`` rows nor reserved windows
    are ever overlapped."""
    from ecg_alq.data.reserved import load_reserved

    n = len(rows)
    width = FRAGMENT_LENGTH + 2 * max_shift
    raw = np.zeros((n, width), dtype=np.int16)
    lo = np.zeros(n, dtype=np.int64)
    hi = np.zeros(n, dtype=np.int64)
    blocked: dict[int, list[int]] = {}  # record -> start samples of held-out windows
    for r in held_out:
        blocked.setdefault(int(frags.record[r]), []).append(int(frags.start_sample[r]))
    for record, starts in load_reserved(root).items():
        blocked.setdefault(int(record), []).extend(int(s) for s in starts)
    signals: dict[tuple[int, str], np.ndarray] = {}
    for i, r in enumerate(rows):
        record, lead, start = int(frags.record[r]), str(frags.lead[r]), int(frags.start_sample[r])
        key = (record, lead)
        if key not in signals:
            signals[key] = read_record(str(record), root, lead=lead).signal
        sig = signals[key]
        left, right = -max_shift, max_shift
        left = max(left, -start)
        right = min(right, len(sig) - FRAGMENT_LENGTH - start)
        for b in blocked.get(record, ()):
            if b + FRAGMENT_LENGTH <= start:  # held-out window before this one
                left = max(left, b + FRAGMENT_LENGTH - start)
            elif b >= start + FRAGMENT_LENGTH:  # after
                right = min(right, b - FRAGMENT_LENGTH - start)
            else:
                raise EcgAlqError(f"training fragment {frags.file[r]} overlaps a held-out or "
                                  f"reserved window of record {record} at sample {b}")
        left, right = min(left, 0), max(right, 0)
        lo[i], hi[i] = left, right
        a = start + left
        raw[i, max_shift + left : max_shift + right + FRAGMENT_LENGTH] = sig[a : start + right + FRAGMENT_LENGTH]
    return ContextWindows(raw, lo, hi, max_shift)


def scale_and_shift(x: torch.Tensor, scale: tuple[float, float], shift_max: int,
                    gen: torch.Generator) -> torch.Tensor:
    """Random amplitude factor in ``scale`` and zero-filled time shift up to ``shift_max`` samples
    of a (B, 1, L) batch of network inputs."""
    if scale == (1.0, 1.0) and shift_max == 0:
        return x
    b, _, length = x.shape
    if scale != (1.0, 1.0):
        x = x * torch.empty(b, 1, 1).uniform_(scale[0], scale[1], generator=gen)
    if shift_max > 0:
        shift = torch.randint(-shift_max, shift_max + 1, (b, 1, 1), generator=gen)
        src = torch.arange(length).view(1, 1, -1) - shift
        valid = (src >= 0) & (src < length)
        x = torch.gather(x, 2, src.clamp(0, length - 1)) * valid
    return x


@dataclass(frozen=True)
class TrainingSet:
    """The training rows of one fold with their augmentation, served as shuffled mini-batches.

    Attributes:
        x: float (N, 1, 3600) preprocessed fragments (used when there is no ``context``).
        y: int64 (N,) targets 0..16.
        context: record-context windows of the same rows, re-cut and preprocessed per batch.
        scale, shift_max: see :func:`scale_and_shift`.
    """

    x: torch.Tensor
    y: torch.Tensor
    context: ContextWindows | None = None
    scale: tuple[float, float] = (1.0, 1.0)
    shift_max: int = 0

    def __len__(self) -> int:
        return len(self.y)

    def describe(self) -> str:
        return f"{len(self.y)} fragments" + (
            f", re-cut by up to +-{self.context.max_shift} samples" if self.context else "")

    def batches(self, batch_size: int, gen: torch.Generator) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
        """One epoch in random order: (inputs (B, 1, 3600), targets (B,)) per step."""
        order = torch.randperm(len(self.y), generator=gen)
        for i in range(0, len(order), batch_size):
            idx = order[i : i + batch_size]
            xb = model_input(self.context.sample(idx, gen)) if self.context else self.x[idx]
            yield scale_and_shift(xb, self.scale, self.shift_max, gen), self.y[idx]


class BeatBatch(NamedTuple):
    """A mini-batch with beat annotations: inputs (B, 1, 3600), rhythm targets (B,), beat-type
    targets (B, positions)."""

    x: torch.Tensor
    y: torch.Tensor
    beats: torch.Tensor


@dataclass(frozen=True)
class PoolTrainingSet:
    """Training windows drawn from the whole database (:class:`ecg_alq.data.pool.WindowPool`):
    every epoch ``samples`` windows, each class drawn with probability count ** ``balance``.

    Attributes:
        pool: the fold's allowed windows.
        samples: windows per epoch.
        balance: class-balance exponent (1: as in the data, 0: every class alike).
        scale, shift_max: see :func:`scale_and_shift`.
    """

    pool: "WindowPool"
    samples: int
    balance: float
    scale: tuple[float, float] = (1.0, 1.0)
    shift_max: int = 0

    def __len__(self) -> int:
        return self.samples

    def describe(self) -> str:
        return (f"{self.samples} per epoch drawn from {len(self.pool)} database windows, class "
                f"balance {self.balance}")

    def batches(self, batch_size: int, gen: torch.Generator, beat_positions: int = 0):
        """One epoch: (inputs (B, 1, 3600), targets (B,)) per step; with ``beat_positions`` a
        :class:`BeatBatch` that adds the beat-type targets (B, ``beat_positions``) of
        :func:`ecg_alq.data.pool.beat_targets`."""
        from ecg_alq.data.pool import beat_targets

        for i in range(0, self.samples, batch_size):
            idx = self.pool.draw(min(batch_size, self.samples - i), self.balance, gen)
            xb = scale_and_shift(model_input(self.pool.windows(idx)), self.scale, self.shift_max, gen)
            yb = torch.from_numpy(self.pool.label[idx] - 1)
            if beat_positions:
                yield BeatBatch(xb, yb, torch.from_numpy(beat_targets(self.pool, idx, beat_positions)))
            else:
                yield xb, yb
