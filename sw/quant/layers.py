"""Which weights ALQ quantizes and how each layer's weights split into groups.

Groupings (alq.md section 1):

``kernel``   the paper's: a convolution's kernel row of one (output, input) pair is a group (n =
             kernel length); a dense layer's row is split into the fewest equal chunks of at most
             128 weights (FC1: 2 x 108, FC2: 1 x 64).
``channel``  one group per output channel (n = inputs x kernel): one set of alpha per output
             channel, the cheapest layout in hardware.

Both are contiguous reshapes of the row-major weight tensor to (groups, n).
"""

from __future__ import annotations

from dataclasses import dataclass

from torch import nn

from ecg_alq.errors import EcgAlqError

GROUPINGS = ("kernel", "channel")
PAPER_MAX_BITS = (7, 7, 6, 6, 6, 6, 6, 6, 6)  #: initial bits per weight layer in the paper
MAX_CHUNK = 128


@dataclass(frozen=True)
class WeightLayer:
    """One quantized weight tensor: its parameter name, shape, group size and bit cap."""

    name: str
    shape: tuple[int, ...]
    group_size: int
    max_bits: int

    @property
    def groups(self) -> int:
        return self.numel // self.group_size

    @property
    def numel(self) -> int:
        n = 1
        for s in self.shape:
            n *= s
        return n


def _dense_chunk(inputs: int) -> int:
    chunks = next(c for c in range(1, inputs + 1) if inputs % c == 0 and inputs // c <= MAX_CHUNK)
    return inputs // chunks


def weight_layers(model: nn.Module, grouping: str = "kernel",
                  max_bits: tuple[int, ...] | int = PAPER_MAX_BITS) -> list[WeightLayer]:
    """The Conv1d and Linear weights of ``model`` in order, grouped by ``grouping``.

    ``max_bits`` is one cap for all layers or one per layer; each cap is also limited to the group
    size (more bases than weights cannot help).
    """
    if grouping not in GROUPINGS:
        raise EcgAlqError(f"grouping must be one of {', '.join(GROUPINGS)}, got {grouping!r}")
    mods = [(n, m) for n, m in model.named_modules() if isinstance(m, (nn.Conv1d, nn.Linear))]
    caps = (max_bits,) * len(mods) if isinstance(max_bits, int) else tuple(max_bits)
    if len(caps) != len(mods):
        raise EcgAlqError(f"max_bits gives {len(caps)} values for {len(mods)} weight layers")
    if any(c < 1 for c in caps):
        raise EcgAlqError(f"max_bits must be >= 1 for every layer, got {caps}")
    out = []
    for (name, m), cap in zip(mods, caps):
        shape = tuple(m.weight.shape)
        if grouping == "channel":
            n = m.weight[0].numel()
        elif isinstance(m, nn.Conv1d):
            n = shape[-1]
        else:
            n = _dense_chunk(shape[1])
        out.append(WeightLayer(f"{name}.weight" if name else "weight", shape, n, min(cap, n)))
    return out


def labels(layers: list[WeightLayer]) -> list[str]:
    """Short names for reports: conv1, conv2, ... for convolutions, fc1, fc2, ... for dense."""
    out, counts = [], {"conv": 0, "fc": 0}
    for spec in layers:
        kind = "conv" if len(spec.shape) == 3 else "fc"
        counts[kind] += 1
        out.append(f"{kind}{counts[kind]}")
    return out
