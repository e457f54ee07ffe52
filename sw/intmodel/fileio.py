"""The model file: one ``.npz`` with a JSON header and integer arrays (``docs/model-file.md``).

Layout (``NAME`` is a layer name)::

    header        uint8 (bytes,)   UTF-8 JSON: format, version, class_names, input, layers
                                   (every scalar field of IntLayer), provenance
    NAME.bases    uint8  (G,)      active bases per group
    NAME.alpha    uint32 (B,)      alpha mantissas of the active bases (group order, then basis)
    NAME.signs    uint8  (ceil(B*n/8),)  the B x n sign bits, row-major, packed little-endian
                                   within each byte (bit 1 = +1); unused high bits of the last
                                   byte are 0
    NAME.bias     int32  (out,)    biases at the accumulator scale

Loading never executes anything from the file (``allow_pickle=False``), checks the format and
version, every field, every array's dtype and shape, every value's range and the consistency of
the whole network (:meth:`IntModel.check`), and turns any problem into one
:class:`~ecg_alq.intmodel.spec.ModelFileError` naming the file. Writing is atomic and
byte-reproducible (no timestamps).
"""

from __future__ import annotations

import json
import zipfile
import zlib
from pathlib import Path

import numpy as np

from ecg_alq.atomic import atomic_path
from ecg_alq.intmodel.spec import (FORMAT, VERSION, InputSpec, IntLayer, IntModel, ModelFileError,
                                    is_int)

ARRAYS = {"bases": np.uint8, "alpha": np.uint32, "signs": np.uint8, "bias": np.int32}
LAYER_FIELDS = ("name", "kind", "in_channels", "in_length", "out_channels", "kernel", "stride",
                "padding", "pool_kernel", "pool_stride", "group_size", "max_bases", "alpha_bits",
                "alpha_frac", "alpha_kind", "bias_bits", "in_bits", "in_signed", "in_exponent",
                "out_shift", "out_bits")
INPUT_FIELDS = ("length", "shift", "bits", "exponent")
HEADER_FIELDS = ("format", "version", "class_names", "input", "layers", "provenance")


def header_of(model: IntModel) -> dict:
    """The JSON header of ``model`` (everything but the arrays)."""
    return {
        "format": FORMAT,
        "version": VERSION,
        "class_names": list(model.class_names),
        "input": {k: getattr(model.input, k) for k in INPUT_FIELDS},
        "layers": [{k: getattr(layer, k) for k in LAYER_FIELDS} for layer in model.layers],
        "provenance": model.provenance,
    }


def arrays_of(model: IntModel) -> dict[str, np.ndarray]:
    out = {}
    for layer in model.layers:
        out[f"{layer.name}.bases"] = layer.bases.astype(np.uint8)
        out[f"{layer.name}.alpha"] = layer.alpha.astype(np.uint32)
        out[f"{layer.name}.signs"] = np.packbits(layer.signs.reshape(-1), bitorder="little")
        out[f"{layer.name}.bias"] = layer.bias.astype(np.int32)
    return out


def content_sha256(model: IntModel) -> str:
    """SHA-256 of what the model computes: the header without its provenance, and every array
    (name, dtype, shape, bytes). Two files of the same network made at different times or places
    have the same content hash (the file's own SHA-256 differs with the provenance)."""
    import hashlib

    header = {k: v for k, v in header_of(model).items() if k != "provenance"}
    h = hashlib.sha256(json.dumps(header, sort_keys=True).encode())
    for name, a in sorted(arrays_of(model).items()):
        h.update(f"\0{name}\0{a.dtype.str}\0{a.shape}\0".encode())
        h.update(np.ascontiguousarray(a).tobytes())
    return h.hexdigest()


def save(model: IntModel, path: str | Path) -> None:
    """Check ``model`` and write it to ``path`` atomically."""
    model.check()
    try:
        text = json.dumps(header_of(model), sort_keys=True, allow_nan=False)
    except (TypeError, ValueError) as exc:
        raise ModelFileError(f"the provenance must be plain JSON data: {exc}") from None
    header = np.frombuffer(text.encode("utf-8"), dtype=np.uint8)
    with atomic_path(path) as tmp, open(tmp, "wb") as fh:
        np.savez_compressed(fh, header=header, **arrays_of(model))


def looks_like_model_file(path: str | Path) -> bool:
    """An ecg-alq integer model file by its content (a zip archive holding ``header.npy``),
    whatever its name; False for anything else, torch checkpoints included."""
    try:
        with zipfile.ZipFile(path) as z:
            return "header.npy" in z.namelist()
    except (zipfile.BadZipFile, OSError, ValueError):
        return False


def looks_like_torch_checkpoint(path: str | Path) -> bool:
    """A torch checkpoint by its content: a zip archive holding ``data.pkl`` (torch's format) or
    a pickle (older torch); an integer model file, a damaged file or anything else is not."""
    try:
        with open(path, "rb") as f:
            if f.read(1) == b"\x80":
                return True
        with zipfile.ZipFile(path) as z:
            return any(n.endswith("data.pkl") for n in z.namelist())
    except (zipfile.BadZipFile, OSError, ValueError):
        return False


def load(path: str | Path) -> IntModel:
    """Read and fully check a model file; any problem raises one ModelFileError naming it."""
    path = Path(path)
    if path.is_dir():
        raise ModelFileError(f"{path} is a folder, not a model file")
    if not path.is_file():
        raise ModelFileError(f"model file not found: {path}")
    try:
        z = np.load(path, allow_pickle=False)
        if not isinstance(z, np.lib.npyio.NpzFile):
            raise ModelFileError(f"{path} holds a single array, not an ecg-alq model file")
        with z:
            arrays = {k: z[k] for k in z.files}
    except ModelFileError:
        raise
    except (zipfile.BadZipFile, zlib.error, ValueError, OSError, EOFError, KeyError) as exc:
        raise ModelFileError(f"{path} is not a readable ecg-alq model file (damaged or "
                             f"truncated: {str(exc) or type(exc).__name__})") from None
    try:
        return from_arrays(arrays)
    except ModelFileError as exc:
        raise ModelFileError(f"{path}: {exc}") from None


def from_arrays(arrays: dict[str, np.ndarray]) -> IntModel:
    """Build and check an IntModel from the arrays of a model file."""
    if "header" not in arrays:
        hint = (" (it looks like a torch checkpoint: convert a quantized one with `ecg-alq "
                "export`)") if any(k.endswith("data.pkl") or "/" in k for k in arrays) else ""
        raise ModelFileError(f"no header: not an ecg-alq model file{hint}")
    header = _parse_header(arrays.pop("header"))
    _fields(header, HEADER_FIELDS, "header")
    if header["format"] != FORMAT:
        raise ModelFileError(f"format is {header['format']!r}, expected {FORMAT!r}")
    if header["version"] != VERSION:
        raise ModelFileError(f"format version {header['version']!r} is not supported (this "
                             f"ecg-alq reads version {VERSION}); export the model again")
    inp = header["input"]
    _fields(inp, INPUT_FIELDS, "input")
    if not isinstance(header["layers"], list) or not header["layers"]:
        raise ModelFileError("header: layers must be a non-empty list")
    if not isinstance(header["provenance"], dict):
        raise ModelFileError("header: provenance must be an object")
    layers = []
    for k, fields in enumerate(header["layers"]):
        if not isinstance(fields, dict):
            raise ModelFileError(f"header: layer {k} is not an object")
        _fields(fields, LAYER_FIELDS, f"layer {fields.get('name', k)}")
        layers.append(_layer(fields, arrays))
    if arrays:
        raise ModelFileError(f"unexpected arrays {sorted(arrays)}")
    model = IntModel(InputSpec(**inp), layers, header["class_names"], header["provenance"])
    model.check()
    return model


def _parse_header(raw: np.ndarray) -> dict:
    if raw.dtype != np.uint8 or raw.ndim != 1:
        raise ModelFileError("the header must be a uint8 byte array")
    try:
        header = json.loads(raw.tobytes().decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ModelFileError(f"the header is not valid JSON ({exc})") from None
    if not isinstance(header, dict):
        raise ModelFileError("the header must be a JSON object")
    return header


def _fields(obj: dict, names: tuple[str, ...], where: str) -> None:
    missing = [k for k in names if k not in obj]
    extra = [k for k in obj if k not in names]
    if missing or extra:
        raise ModelFileError(f"{where}: " + "; ".join(
            ([f"missing fields {missing}"] if missing else []) +
            ([f"unknown fields {extra}"] if extra else [])))


def _layer(fields: dict, arrays: dict[str, np.ndarray]) -> IntLayer:
    name = fields["name"]
    if not (isinstance(name, str) and name.isidentifier()):
        raise ModelFileError(f"layer name must be an identifier, got {name!r}")
    got = {}
    for key, dtype in ARRAYS.items():
        full = f"{name}.{key}"
        if full not in arrays:
            raise ModelFileError(f"layer {name}: array {full} is missing")
        a = arrays.pop(full)
        if a.dtype != dtype or a.ndim != 1:
            raise ModelFileError(f"layer {name}: array {full} must be one-dimensional "
                                 f"{np.dtype(dtype).name}, got {a.dtype} with shape {a.shape}")
        got[key] = a
    layer = IntLayer(**fields, bases=got["bases"].astype(np.int64),
                     alpha=got["alpha"].astype(np.int64), signs=np.zeros((0, 0), dtype=bool),
                     bias=got["bias"].astype(np.int64))
    # shapes of bases/alpha/bias and all scalar fields are checked before the signs are unpacked
    n = fields["group_size"] if is_int(fields["group_size"]) else 0
    b = int(layer.bases.sum())
    layer.signs = np.zeros((b, n), dtype=bool)
    layer.check()
    packed = got["signs"]
    if len(packed) != -(-b * n // 8):
        raise ModelFileError(f"layer {name}: {name}.signs holds {len(packed)} bytes, expected "
                             f"{-(-b * n // 8)} for {b} bases x {n} signs (truncated?)")
    bits = np.unpackbits(packed, bitorder="little")
    if bits[b * n:].any():
        raise ModelFileError(f"layer {name}: padding bits after the last sign must be 0")
    layer.signs = bits[: b * n].astype(bool).reshape(b, n)
    return layer
