"""Classify raw fragments: a Python function and the ``predict`` command.

Input: int16 (N, 3600) raw MLII ADC samples (360 Hz, zero 1024, 200 adu/mV), as an array or an
``.npy`` file. Output: class ids 1..17, or a CSV with header ``index,class_id,class_name``.

The model is an integer model file (``.npz``, run by the bit-exact golden model, as the hardware
would), a torch model file (``model.pt`` of a ``train`` or ``quantize`` run), or, by default,
the integer model shipped with the package.
"""

from __future__ import annotations

import csv
import io
from pathlib import Path

import numpy as np
import torch

from ecg_alq.atomic import write_text
from ecg_alq.classes import CLASS_NAMES
from ecg_alq.errors import EcgAlqError
from ecg_alq.preprocess import model_input, raw_fragments

def predict(model, x: np.ndarray) -> np.ndarray:
    """int64 (N,) class ids 1..17 of raw int16 (N, 3600) fragments.

    ``model``: None (the shipped integer model), a path to an integer model file or a torch
    model file (told apart by content, :func:`resolve_model`), a loaded
    :class:`~ecg_alq.intmodel.IntModel`, or a torch network. Integer models classify by the
    argmax of their integer logits (lowest index on a tie); torch models by the argmax of their
    float logits.
    """
    from ecg_alq.intmodel import IntModel
    from ecg_alq.intmodel.golden import GoldenModel

    x = raw_fragments(x)
    model = resolve_model(model)
    if isinstance(model, IntModel):
        golden = GoldenModel(model)
        if golden.model.class_names != list(CLASS_NAMES):
            raise EcgAlqError(f"{model}: its classes {golden.model.class_names} are not the 17 "
                              "rhythm classes of this ecg-alq")
        return golden.classify(x)
    net = model.eval()
    with torch.no_grad():
        inputs = model_input(x)
        logits = torch.cat([net(inputs[i : i + 256]) for i in range(0, len(inputs), 256)])
    return logits.argmax(1).numpy().astype(np.int64) + 1


def resolve_model(model):
    """``model`` loaded: None is the shipped integer model; a path is a torch model file when
    its content is a torch checkpoint, else an integer model file (whose loader names what is
    wrong with a damaged one); loaded models are returned as they are."""
    from ecg_alq.intmodel import load
    from ecg_alq.intmodel.fileio import looks_like_torch_checkpoint
    from ecg_alq.intmodel.shipped import default_model_path

    if model is None:
        model = default_model_path()
    if not isinstance(model, (str, Path)):
        return model
    if looks_like_torch_checkpoint(model):
        from ecg_alq.quant.modelfile import load_model

        return load_model(model)
    return load(model)


def load_npy(path: str | Path) -> np.ndarray:
    """Read an ``.npy`` file without pickles; clear errors for missing or unreadable files."""
    path = Path(path)
    if path.is_dir():
        raise EcgAlqError(f"input {path} is a folder, not an .npy file")
    if not path.is_file():
        raise EcgAlqError(f"input file not found: {path}")
    _check_npy_header(path)
    try:
        return np.load(path, allow_pickle=False)
    except (ValueError, OSError, EOFError) as exc:
        raise EcgAlqError(f"{path} is not a readable .npy array: {exc}") from None


def _check_npy_header(path: Path) -> None:
    """Refuse, before allocating anything, a file without a NumPy header, an array of Python
    objects, and a header that claims more data than the file holds."""
    fmt = np.lib.format
    with open(path, "rb") as f:
        try:
            version = fmt.read_magic(f)
            read = fmt.read_array_header_1_0 if version == (1, 0) else fmt.read_array_header_2_0
            shape, _, dtype = read(f)
        except (ValueError, EOFError, OSError) as exc:
            raise EcgAlqError(f"{path} is not an .npy array (no valid NumPy header: {exc})") \
                from None
        if dtype.hasobject:
            raise EcgAlqError(f"{path} holds Python objects (pickled data), not numbers: refused")
        need = dtype.itemsize * int(np.prod(shape, dtype=object))
        have = path.stat().st_size - f.tell()
    if have < need:
        raise EcgAlqError(f"{path}: its header claims a {dtype} array of shape {tuple(shape)} "
                          f"({need:,} bytes) but the file holds {have:,} bytes after it "
                          f"(truncated or damaged)")


def to_csv(class_ids: np.ndarray) -> str:
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(["index", "class_id", "class_name"])
    for i, c in enumerate(class_ids):
        w.writerow([i, int(c), CLASS_NAMES[int(c) - 1]])
    return buf.getvalue()


PROGRESS_CHUNK = 1000  #: fragments classified between two progress reports


def predict_file(model: str | Path | None, input_path: str | Path,
                 output_path: str | Path, progress=None) -> np.ndarray:
    """Classify ``input_path`` (.npy) and write ``output_path`` (.csv) atomically;
    ``progress(done, total)`` is called after every :data:`PROGRESS_CHUNK` fragments.

    Every check happens before anything is written; on an error no output file appears.
    """
    x = raw_fragments(load_npy(input_path), what=str(input_path))
    model = resolve_model(model)  # read once for all chunks
    parts = []
    for start in range(0, len(x), PROGRESS_CHUNK):
        parts.append(predict(model, x[start: start + PROGRESS_CHUNK]))
        if progress:
            progress(min(start + PROGRESS_CHUNK, len(x)), len(x))
    ids = np.concatenate(parts)
    write_text(output_path, to_csv(ids))
    return ids
