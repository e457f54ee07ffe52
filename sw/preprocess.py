"""Input checking and the deployable preprocessing of one raw fragment.

Choice: **per-fragment integer mean removal**. For a fragment of raw ADC samples ``x`` (3600
values in 0..2047) the device computes ``c = x - (sum(x) + 1800) // 3600`` (the mean rounded half
up; ``sum(x)`` fits in 23 bits), which removes the DC offset of the electrode and the ADC zero.
``c`` is a 12-bit signed integer. The network sees ``c * 2**-INPUT_SHIFT``: a power-of-two scale,
so the integer model can take ``c`` as its input with a known fixed-point exponent. No statistic
of other fragments (and so none of the test set) enters the preprocessing, unlike the paper's
per-time-index z-score over the whole data set.
"""

from __future__ import annotations

import numpy as np
import torch

from ecg_alq.data.fragments import FRAGMENT_LENGTH
from ecg_alq.errors import EcgAlqError
from ecg_alq.intmodel.spec import ADC_MAX
from ecg_alq.intmodel.spec import center as contract_center

INPUT_SHIFT = 8  #: model input = centred ADC value * 2**-8  (about 0.78 mV per unit)
PREPROCESSING = {
    "kind": "mean-removal",
    "formula": "c = x - (sum(x) + 1800) // 3600; input = c * 2**-8",
    "input_shift": INPUT_SHIFT,
}


def raw_fragments(x: object, what: str = "input") -> np.ndarray:
    """The one input rule of every command and of the Python API: raw fragments as an int16
    (N, 3600) array. A single fragment (3600,) becomes (1, 3600); any integer dtype (signed or
    not, of any width or byte order) is accepted when its values are raw ADC samples 0..2047
    and converted; anything else is refused by :func:`check_raw` with its reason."""
    if isinstance(x, np.ndarray):
        if x.ndim == 1 and len(x) == FRAGMENT_LENGTH:
            x = x.reshape(1, -1)
        # (a big-endian int16 is not np.int16 either: it is converted here)
        if np.issubdtype(x.dtype, np.integer) and x.dtype != np.int16 and x.size:
            _check_range(x, what)
            x = x.astype(np.int16)
    return check_raw(x, what)


def check_raw(x: object, what: str = "input") -> np.ndarray:
    """Validate raw fragments: an int16 array of shape (N, 3600) with values in 0..2047.

    Returns the array unchanged. Raises :class:`EcgAlqError` saying what is wrong otherwise
    (float data, including NaN, is rejected by its dtype: the raw ADC stream is integer).
    """
    if not isinstance(x, np.ndarray):
        raise EcgAlqError(f"{what}: expected a numpy array, got {type(x).__name__}")
    if x.dtype != np.int16:
        extra = ""
        if np.issubdtype(x.dtype, np.floating) and np.isnan(x).any():
            extra = f" (it also contains {int(np.isnan(x).sum())} NaN values)"
        raise EcgAlqError(
            f"{what}: dtype is {x.dtype}, expected int16 raw ADC samples{extra}; "
            "convert with np.round(...).astype(np.int16) only if the values are raw ADC units"
        )
    if x.ndim != 2 or x.shape[1] != FRAGMENT_LENGTH:
        raise EcgAlqError(
            f"{what}: shape is {x.shape}, expected (N, {FRAGMENT_LENGTH}): N fragments of 10 s "
            "at 360 Hz"
        )
    if x.shape[0] == 0:
        raise EcgAlqError(f"{what}: holds no fragments (shape {x.shape})")
    _check_range(x, what)
    return x


def _check_range(x: np.ndarray, what: str) -> None:
    lo, hi = int(x.min()), int(x.max())
    if lo < 0 or hi > ADC_MAX:
        raise EcgAlqError(
            f"{what}: values span {lo}..{hi}, outside the 11-bit ADC range 0..{ADC_MAX} "
            "(MIT-BIH raw units: zero at 1024, 200 adu/mV)"
        )


def center(x: np.ndarray) -> np.ndarray:
    """int32 (N, 3600): each fragment minus its mean rounded half up (integer arithmetic only)."""
    return contract_center(x).astype(np.int32)


def model_input(x: np.ndarray) -> torch.Tensor:
    """float32 (N, 1, 3600) network input from raw int16 (N, 3600) fragments."""
    c = center(x).astype(np.float32) * np.float32(2.0**-INPUT_SHIFT)
    return torch.from_numpy(c).unsqueeze(1)
