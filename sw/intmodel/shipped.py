"""The default integer model that ships inside the package (``ecg_alq/models/default.npz``).

It is made by ``bench/ship_default.py``: the project's flow (float training, ALQ, export) with
the headline configuration, trained on all 1000 fragments; its provenance holds that
configuration and the cross-validated figures of the same configuration. ``ecg-alq predict``
and the hardware commands use it when no ``--model`` is given.
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path

from ecg_alq.errors import EcgAlqError

DEFAULT_MODEL = "default.npz"


def default_model_path() -> Path:
    """Path of the shipped model file; a clear error if the installation lacks it."""
    path = Path(str(resources.files("ecg_alq") / "models" / DEFAULT_MODEL))
    if not path.is_file():
        raise EcgAlqError(f"the shipped default model is missing from this installation ({path}); "
                          "reinstall ecg-alq or pass --model FILE")
    return path
