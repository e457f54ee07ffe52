"""Where the data lives: ``--data`` option, else ``$ECG_ALQ_DATA``, else ``../shared/data``.

The expected layout (see the data folder's own README)::

    <root>/mitdb/NNN.hea, NNN.dat, NNN.atr   MIT-BIH Arrhythmia Database, 48 records
    <root>/plawiak17/fragments.csv           index of Pławiak's 1000 fragments
    <root>/plawiak17/NN_NAME/*.mat           the fragments (MATLAB v4, int16 1 x 3600)
    <root>/SHA256SUMS                        checksums of all of the above
"""

from __future__ import annotations

import os
from pathlib import Path

from ecg_alq.errors import EcgAlqError

ENV_VAR = "ECG_ALQ_DATA"

LAYOUT = (
    "expected layout: <root>/mitdb/ (MIT-BIH records NNN.hea/.dat/.atr), "
    "<root>/plawiak17/fragments.csv with the class folders beside it, and <root>/SHA256SUMS"
)


def default_root() -> Path:
    """``../shared/data`` relative to the repository (the folder holding ``pyproject.toml``)."""
    repo = Path(__file__).resolve().parents[2]
    return repo.parent / "shared" / "data"


def _looks_like_data(root: Path) -> bool:
    return (root / "mitdb").is_dir() or (root / "plawiak17").is_dir()


def resolve_data_root(option: str | os.PathLike | None = None) -> Path:
    """Return the data root chosen by option, then environment, then the default location.

    The first setting that is given wins; it is not silently skipped when it is wrong, because a
    user who names a folder means that folder. Raises :class:`EcgAlqError` naming every place
    looked at and the expected layout when no usable folder is found.
    """
    if option is not None:
        candidates = [("--data option", Path(option))]
    elif os.environ.get(ENV_VAR):
        candidates = [(f"${ENV_VAR}", Path(os.environ[ENV_VAR]))]
    else:
        candidates = [("default location", default_root())]
    for source, path in candidates:
        if path.is_dir() and _looks_like_data(path):
            return path.resolve()
    where = "; ".join(f"{source}: {path}" for source, path in candidates)
    raise EcgAlqError(
        f"ECG data not found ({where}). Give the folder with --data or ${ENV_VAR}; {LAYOUT}."
    )


def require(root: Path, relative: str, what: str) -> Path:
    """Return ``root/relative`` or raise a clear error saying which part of the data is missing."""
    path = root / relative
    if not path.exists():
        raise EcgAlqError(f"{what} is missing: {path} does not exist ({LAYOUT}).")
    return path
