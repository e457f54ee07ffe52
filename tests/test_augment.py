"""Record-context augmentation: real record slices, never overlapping a held-out window."""

from __future__ import annotations

import numpy as np
import torch

from ecg_alq.augment import context_windows, scale_and_shift
from ecg_alq.data.mitdb import read_record
from ecg_alq.data.splits import fold_split, make_folds


def test_context_windows_stay_out_of_held_out_windows(frags, data_root):
    folds = make_folds(frags, "window")
    s = fold_split(frags, folds, 0, 0.1, seed=0)
    held = np.concatenate([s.val, s.test])
    ctx = context_windows(frags, s.train, held, 1800, data_root)
    assert (ctx.lo <= 0).all() and (ctx.hi >= 0).all()
    assert (ctx.lo < 0).sum() > 500 and (ctx.hi > 0).sum() > 500  # most fragments can move
    for i, r in enumerate(s.train):
        lo = frags.start_sample[r] + ctx.lo[i]
        hi = frags.start_sample[r] + ctx.hi[i] + 3600  # exclusive end of the reachable span
        same = held[frags.record[held] == frags.record[r]]
        for h in same:
            b = frags.start_sample[h]
            assert hi <= b or b + 3600 <= lo, (frags.file[r], frags.file[h])


def test_sampled_windows_are_exact_record_slices(frags, data_root):
    rows = np.flatnonzero(frags.record == 114)  # MLII is channel 1 in record 114
    ctx = context_windows(frags, rows, np.array([], dtype=np.int64), 900, data_root)
    signal = read_record("114", data_root).signal
    gen = torch.Generator().manual_seed(3)
    for _ in range(3):
        crops = ctx.sample(torch.arange(len(rows)), gen)
        for crop, r in zip(crops, rows):
            start = np.flatnonzero([np.array_equal(signal[a : a + 3600], crop)
                                    for a in range(frags.start_sample[r] - 900,
                                                   frags.start_sample[r] + 901)])
            assert len(start) >= 1
    zero = ctx.sample(torch.arange(len(rows)), gen)
    assert zero.shape == (len(rows), 3600) and zero.dtype == np.int16


def test_zero_fill_shift_and_scale():
    x = torch.arange(1, 11, dtype=torch.float32).view(1, 1, 10).repeat(64, 1, 1)
    out = scale_and_shift(x, (1.0, 1.0), 3, torch.Generator().manual_seed(0))
    for row in out[:, 0]:
        nz = row[row != 0]
        assert len(nz) >= 7 and torch.all(nz[1:] - nz[:-1] == 1)  # a shifted copy, zero-filled
    scaled = scale_and_shift(x, (0.5, 2.0), 0, torch.Generator().manual_seed(0))
    ratio = scaled[:, 0, 0] / x[:, 0, 0]
    assert ratio.min() >= 0.5 and ratio.max() <= 2.0 and ratio.std() > 0.1
