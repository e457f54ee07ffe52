"""MIT-BIH Arrhythmia Database records (``<root>/mitdb``) read with ``wfdb``.

A record gives one lead's raw ADC signal, the beat annotations (sample, symbol) and the rhythm
notes (sample, label such as ``(AFIB``). The lead is chosen by its name in the header: MLII is
channel 0 in most records, channel 1 in record 114, and absent from records 102 and 104.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import wfdb

from ecg_alq.data.fragments import ADC_GAIN_PER_MV, ADC_ZERO, SAMPLE_RATE_HZ
from ecg_alq.data.integrity import check_files
from ecg_alq.data.root import require, resolve_data_root
from ecg_alq.errors import EcgAlqError
from ecg_alq.intmodel.spec import ADC_MAX

BEAT_SYMBOLS = frozenset("NLRBAaJSVrFejnE/fQ?!")  #: annotation symbols that mark a beat (! : a
#: ventricular flutter wave, the beat of VFL episodes)


@dataclass(frozen=True, eq=False)
class Record:
    """One lead of one record.

    Attributes:
        name: record name, e.g. ``"201"``.
        lead: signal name from the header, e.g. ``"MLII"``.
        signal: int16 (n_samples,) raw ADC units (zero 1024, 200 adu/mV) at 360 Hz.
        beat_sample, beat_symbol: (n_beats,) positions (samples) and symbols of beat annotations.
        rhythm_sample, rhythm: (n_changes,) positions and labels of rhythm changes (``"(N"``...).
    """

    name: str
    lead: str
    signal: np.ndarray
    beat_sample: np.ndarray
    beat_symbol: np.ndarray
    rhythm_sample: np.ndarray
    rhythm: np.ndarray

    fs: int = SAMPLE_RATE_HZ

    def rhythm_at(self, sample: int) -> str:
        """The rhythm label in force at ``sample`` (``"none"`` before the first label)."""
        i = np.searchsorted(self.rhythm_sample, sample, side="right") - 1
        return str(self.rhythm[i]) if i >= 0 else "none"


def list_records(root: str | Path | None = None) -> list[str]:
    """Record names from ``mitdb/RECORDS``."""
    path = require(resolve_data_root(root), "mitdb/RECORDS", "MIT-BIH record list")
    return [line.strip() for line in path.read_text().splitlines() if line.strip()]


def leads_of(name: str, root: str | Path | None = None) -> list[str]:
    """Signal names in the header of record ``name``."""
    base = require(resolve_data_root(root), "mitdb", "MIT-BIH folder")
    require(base, f"{name}.hea", f"header of MIT-BIH record {name}")
    try:
        return list(wfdb.rdheader(str(base / name)).sig_name)
    except Exception as exc:  # wfdb raises assorted types for a damaged header
        raise EcgAlqError(f"header of MIT-BIH record {name} cannot be read: {exc}") from None


def read_record(name: str, root: str | Path | None = None, lead: str = "MLII") -> Record:
    """Read one lead of record ``name`` with its annotations; clear errors for missing parts."""
    base = require(resolve_data_root(root), "mitdb", "MIT-BIH folder")
    hea = base / f"{name}.hea"
    if hea.is_file():
        check_files(base.parent, [hea])  # before its header is parsed
    leads = leads_of(name, root)
    if lead not in leads:
        raise EcgAlqError(f"MIT-BIH record {name} has no {lead} lead (its leads: {', '.join(leads)})")
    files = [require(base, f"{name}.{ext}", f"{ext} file of MIT-BIH record {name}")
             for ext in ("dat", "atr")]
    check_files(base.parent, files)
    try:
        with warnings.catch_warnings():  # wfdb 4.3 trips pandas deprecation warnings
            warnings.simplefilter("ignore", category=FutureWarning)
            warnings.simplefilter("ignore", category=DeprecationWarning)
            rec = wfdb.rdrecord(str(base / name), physical=False, channel_names=[lead])
            ann = wfdb.rdann(str(base / name), "atr")
    except Exception as exc:
        raise EcgAlqError(f"MIT-BIH record {name} cannot be read: {exc}") from None
    if rec.fs != SAMPLE_RATE_HZ:
        raise EcgAlqError(f"record {name}: sample rate {rec.fs} Hz, expected {SAMPLE_RATE_HZ} Hz")
    if rec.adc_zero[0] != ADC_ZERO or rec.adc_gain[0] != ADC_GAIN_PER_MV:
        raise EcgAlqError(f"record {name}: ADC zero {rec.adc_zero[0]} / gain {rec.adc_gain[0]}, "
                          f"expected {ADC_ZERO} / {ADC_GAIN_PER_MV} adu/mV")
    signal = rec.d_signal[:, 0]
    if signal.min() < 0 or signal.max() > ADC_MAX:
        raise EcgAlqError(f"record {name}: samples outside the 11-bit range 0..{ADC_MAX} (corrupt .dat?)")
    symbols = np.array(ann.symbol)
    notes = np.array([a.rstrip("\x00") for a in ann.aux_note])
    is_beat = np.isin(symbols, list(BEAT_SYMBOLS))
    is_rhythm = (symbols == "+") & (np.char.str_len(notes) > 0)
    return Record(
        name=name,
        lead=lead,
        signal=signal.astype(np.int16),
        beat_sample=ann.sample[is_beat].astype(np.int64),
        beat_symbol=symbols[is_beat],
        rhythm_sample=ann.sample[is_rhythm].astype(np.int64),
        rhythm=notes[is_rhythm],
    )
