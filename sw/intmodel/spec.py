"""The integer model in memory: every number the hardware needs, nothing float, and its checks.

Semantics (the full specification is ``docs/model-file.md``; the golden model,
:mod:`ecg_alq.intmodel.golden`, is its executable form):

Input. Raw ADC fragment ``x`` (``length`` samples, 0..2047). ``c = x - (sum(x) + length // 2)
// length`` (mean removal), then ``a0 = clamp(rshift(c, input.shift), -2^(bits-1), 2^(bits-1)-1)``
with ``rshift(v, s) = floor((v + 2^(s-1)) / 2^s)`` for ``s > 0`` (rounding half up) and ``v`` for
``s = 0``.

Layer. Every layer is a 1-D convolution over an input of ``in_channels x in_length`` integers
(a dense layer is the degenerate case ``kernel = in_length``, no padding, output length 1; its
input is the previous output flattened channel-major, ``index = channel * length + t``). Its
weights, shape ``(out_channels, in_channels, kernel)`` in row-major order, are cut into
contiguous groups of ``group_size`` weights (a group never spans two output channels). Group
``g`` has ``bases[g]`` active bases; basis ``b`` has a mantissa ``alpha[b]`` (unsigned,
``alpha_bits`` wide) and ``group_size`` sign bits (``True`` = +1). The integer weight is
``w = sum over the group's bases of alpha[b] * (+1 or -1)``, and

    acc[o, t] = bias[o] + sum_{c, j} w[o, c, j] * in_padded[c, t * stride + j - padding]

with zeros outside the input. Then max-pooling (``pool_kernel``, ``pool_stride``, no padding,
floor) over ``acc``, then requantization to the next layer's input:
``out = clamp(rshift(acc, out_shift), 0, 2^out_bits - 1)`` (the clamp at 0 is the ReLU; a
negative ``out_shift`` is a left shift). The last layer has no requantization: its ``acc`` are
the integer logits, and the class is the argmax (the lowest index wins a tie).

Scales (not needed to compute, recorded to interpret the integers): an input integer of layer
``k`` stands for ``value * 2^in_exponent``, an alpha for ``mantissa * 2^-alpha_frac``, so the
accumulator's scale is ``2^(in_exponent - alpha_frac)`` and ``out_shift = alpha_frac +
next.in_exponent - in_exponent``.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ecg_alq.errors import EcgAlqError

FORMAT = "ecg-alq/int-model"
VERSION = 1
KINDS = ("conv", "dense")
ALPHA_KINDS = ("free", "powers")  #: free mantissas, or a group's alpha are a, 2a, 4a, ...
ADC_BITS = 11  #: raw input samples: unsigned ADC values (MIT-BIH: zero at 1024, 200 adu/mV)
ADC_MAX = (1 << ADC_BITS) - 1  #: 2047
MIN_ACT_BITS, MAX_ACT_BITS = 2, 16
MIN_ALPHA_BITS, MAX_ALPHA_BITS = 2, 24
MAX_BIAS_BITS = 32
MAX_BASES = 16
MAX_SHIFT = 48  #: |requantization shift| and input shift limit


class ModelFileError(EcgAlqError):
    """A model file or an in-memory integer model that breaks the specification."""


def conv_length(length: int, kernel: int, stride: int, padding: int = 0) -> int:
    """Output length of a convolution or pooling (floor mode)."""
    return (length + 2 * padding - kernel) // stride + 1


def rounded_mean(x: np.ndarray) -> np.ndarray:
    """int64 (N, 1): the mean of each row of the integer (N, length) ``x``, rounded half up:
    ``(sum(x) + length // 2) // length`` (the hardware's divider computes exactly this)."""
    x = np.asarray(x, dtype=np.int64)
    return (x.sum(axis=1, keepdims=True) + x.shape[1] // 2) // x.shape[1]


def center(x: np.ndarray) -> np.ndarray:
    """int64 (N, length): every row of ``x`` minus its :func:`rounded_mean` (the input's mean
    removal; the golden model, the torch side and the input stage's reference all use this)."""
    return np.asarray(x, dtype=np.int64) - rounded_mean(x)


def rshift(v: np.ndarray, s: int) -> np.ndarray:
    """Rounded arithmetic shift of int64 ``v`` by ``s`` bits: ``floor(v / 2^s + 1/2)`` for
    ``s > 0``, ``v * 2^-s`` for ``s <= 0``."""
    if s > 0:
        return (v + (1 << (s - 1))) >> s
    return v << (-s)


@dataclass(frozen=True)
class InputSpec:
    """The integer preprocessing of one raw fragment (see the module docstring)."""

    length: int  #: samples per fragment (3600: 10 s at 360 Hz)
    shift: int  #: right shift of the mean-removed ADC samples
    bits: int  #: signed width of the input integers
    exponent: int  #: an input integer stands for value * 2^exponent (model input units)

    @property
    def limits(self) -> tuple[int, int]:
        return -(1 << (self.bits - 1)), (1 << (self.bits - 1)) - 1


@dataclass(eq=False)
class IntLayer:
    """One layer in integers. Shapes: G groups of n = ``group_size`` weights, B active bases."""

    name: str
    kind: str  #: "conv" or "dense"
    in_channels: int
    in_length: int
    out_channels: int
    kernel: int
    stride: int
    padding: int
    pool_kernel: int  #: 1 with pool_stride 1: no pooling
    pool_stride: int
    group_size: int
    max_bases: int  #: basis slots per group the model was trained with (sets the count field)
    alpha_bits: int
    alpha_frac: int  #: alpha = mantissa * 2^-alpha_frac
    alpha_kind: str  #: "free" or "powers"
    bias_bits: int  #: signed width of every bias
    in_bits: int
    in_signed: bool
    in_exponent: int
    out_shift: int | None  #: requantization shift; None for the logits layer
    out_bits: int | None  #: unsigned width of the output activations; None for the logits layer
    bases: np.ndarray = field(repr=False)  #: int64 (G,) active bases per group
    alpha: np.ndarray = field(repr=False)  #: int64 (B,) mantissas, by group, then basis order
    signs: np.ndarray = field(repr=False)  #: bool (B, n), True = +1
    bias: np.ndarray = field(repr=False)  #: int64 (out_channels,) at the accumulator scale

    # ------------------------------------------------------------------ derived shapes
    @property
    def fan_in(self) -> int:
        """Weights per output channel: in_channels x kernel."""
        return self.in_channels * self.kernel

    @property
    def numel(self) -> int:
        return self.out_channels * self.fan_in

    @property
    def groups(self) -> int:
        return self.numel // self.group_size

    @property
    def groups_per_channel(self) -> int:
        return self.fan_in // self.group_size

    @property
    def conv_length(self) -> int:
        """Length of the accumulator map before pooling."""
        return conv_length(self.in_length, self.kernel, self.stride, self.padding)

    @property
    def out_length(self) -> int:
        """Length of the output after pooling."""
        return conv_length(self.conv_length, self.pool_kernel, self.pool_stride)

    @property
    def active_bases(self) -> int:
        return int(self.bases.sum())

    @property
    def average_bits(self) -> float:
        """Active bases per weight (the layer's bitwidth in ALQ's sense)."""
        return self.active_bases * self.group_size / self.numel

    def basis_offsets(self) -> np.ndarray:
        """int64 (G + 1,): the bases of group g are rows offsets[g]:offsets[g+1] of alpha/signs."""
        return np.concatenate([[0], np.cumsum(self.bases)]).astype(np.int64)

    def integer_weights(self) -> np.ndarray:
        """int64 (out_channels, in_channels, kernel): per weight, sum of alpha x sign over its
        group's active bases."""
        signed = np.where(self.signs, 1, -1).astype(np.int64) * self.alpha[:, None]
        group_of_basis = np.repeat(np.arange(self.groups), self.bases)
        w = np.zeros((self.groups, self.group_size), dtype=np.int64)
        np.add.at(w, group_of_basis, signed)
        return w.reshape(self.out_channels, self.in_channels, self.kernel)

    @property
    def in_limits(self) -> tuple[int, int]:
        if self.in_signed:
            return -(1 << (self.in_bits - 1)), (1 << (self.in_bits - 1)) - 1
        return 0, (1 << self.in_bits) - 1

    # ------------------------------------------------------------------ checks
    def check(self) -> None:
        """Raise :class:`ModelFileError` naming this layer if a field breaks the specification."""

        def bad(msg: str) -> ModelFileError:
            return ModelFileError(f"layer {self.name}: {msg}")

        if self.kind not in KINDS:
            raise bad(f"kind must be one of {KINDS}, got {self.kind!r}")
        for key in ("in_channels", "in_length", "out_channels", "kernel", "stride", "pool_kernel",
                    "pool_stride", "group_size", "max_bases"):
            v = getattr(self, key)
            if not (is_int(v) and v >= 1):
                raise bad(f"{key} must be a positive integer, got {v!r}")
        if not (is_int(self.padding) and 0 <= self.padding < self.kernel):
            raise bad(f"padding must be an integer in 0..kernel-1, got {self.padding!r}")
        if self.conv_length < 1 or self.out_length < 1:
            raise bad(f"kernel {self.kernel}, stride {self.stride}, padding {self.padding} and "
                      f"pooling {self.pool_kernel}/{self.pool_stride} leave no output from "
                      f"{self.in_length} samples")
        if self.kind == "dense" and (self.kernel != self.in_length or self.padding or
                                     self.stride != 1 or self.pool_kernel != 1):
            raise bad("a dense layer must have kernel = in_length, stride 1, no padding and "
                      "no pooling")
        if self.fan_in % self.group_size:
            raise bad(f"group_size {self.group_size} does not divide the {self.fan_in} weights "
                      "of an output channel")
        if self.max_bases > MAX_BASES:
            raise bad(f"max_bases {self.max_bases} exceeds {MAX_BASES}")
        _int_in(bad, "alpha_bits", self.alpha_bits, MIN_ALPHA_BITS, MAX_ALPHA_BITS)
        _int_in(bad, "bias_bits", self.bias_bits, 1, MAX_BIAS_BITS)
        _int_in(bad, "in_bits", self.in_bits, MIN_ACT_BITS, MAX_ACT_BITS)
        for key in ("alpha_frac", "in_exponent"):
            if not is_int(getattr(self, key)):
                raise bad(f"{key} must be an integer, got {getattr(self, key)!r}")
        if self.alpha_kind not in ALPHA_KINDS:
            raise bad(f"alpha_kind must be one of {ALPHA_KINDS}, got {self.alpha_kind!r}")
        if (self.out_shift is None) != (self.out_bits is None):
            raise bad("out_shift and out_bits must both be set (requantized layer) or both be "
                      "null (logits layer)")
        if self.out_shift is not None:
            _int_in(bad, "out_shift", self.out_shift, -MAX_SHIFT, MAX_SHIFT)
            _int_in(bad, "out_bits", self.out_bits, MIN_ACT_BITS, MAX_ACT_BITS)
        self._check_arrays(bad)

    def _check_arrays(self, bad) -> None:
        g, n = self.groups, self.group_size
        _array(bad, "bases", self.bases, (g,))
        if g and (self.bases.min() < 0 or self.bases.max() > self.max_bases):
            raise bad(f"bases must lie in 0..max_bases={self.max_bases}, found "
                      f"{int(self.bases.min())}..{int(self.bases.max())}")
        b = int(self.bases.sum())
        _array(bad, "alpha", self.alpha, (b,), what=f"the {b} active bases")
        _array(bad, "signs", self.signs, (b, n), dtype=np.bool_, what=f"the {b} active bases")
        _array(bad, "bias", self.bias, (self.out_channels,))
        off = self.basis_offsets()
        # the stored mantissas: every alpha ("free"), or each group's first one ("powers")
        stored = self.alpha if self.alpha_kind == "free" else self.alpha[off[:-1][self.bases > 0]]
        if b and (stored.min() < 1 or stored.max() > (1 << self.alpha_bits) - 1):
            raise bad(f"alpha mantissas must lie in 1..{(1 << self.alpha_bits) - 1} "
                      f"({self.alpha_bits} bits), found {int(stored.min())}.."
                      f"{int(stored.max())}")
        if b and self.alpha.max() >= 1 << 32:
            raise bad("alpha values must fit 32 bits")
        lo, hi = -(1 << (self.bias_bits - 1)), (1 << (self.bias_bits - 1)) - 1
        if self.bias.min() < lo or self.bias.max() > hi:
            raise bad(f"biases must fit {self.bias_bits} signed bits ({lo}..{hi}), found "
                      f"{int(self.bias.min())}..{int(self.bias.max())}")
        if self.alpha_kind == "powers":
            for k in range(g):
                a = self.alpha[off[k]: off[k + 1]]
                if len(a) and not np.array_equal(a, a[0] << np.arange(len(a))):
                    raise bad(f"alpha_kind 'powers' needs alpha a, 2a, 4a, ... in every group; "
                              f"group {k} has {a.tolist()}")


def is_int(v: object) -> bool:
    """An integer, and not a boolean (``True`` is an ``int`` to Python, never to a model)."""
    return isinstance(v, int) and not isinstance(v, bool)


def _int_in(bad, key: str, v: object, lo: int, hi: int) -> None:
    if not (is_int(v) and lo <= v <= hi):
        raise bad(f"{key} must be an integer in {lo}..{hi}, got {v!r}")


def _array(bad, key: str, a: object, shape: tuple, dtype=np.int64, what: str = "") -> None:
    if not isinstance(a, np.ndarray) or a.dtype != dtype:
        raise bad(f"{key} must be a {np.dtype(dtype).name} array, got "
                  f"{getattr(a, 'dtype', type(a).__name__)}")
    if a.shape != shape:
        raise bad(f"{key} has shape {a.shape}, expected {shape}" + (f" ({what})" if what else ""))


@dataclass(eq=False)
class IntModel:
    """A whole network in integers: input preprocessing, layers in order, class names and the
    provenance (config, data, folds, metrics, seed) of the model."""

    input: InputSpec
    layers: list[IntLayer]
    class_names: list[str]
    provenance: dict = field(default_factory=dict)

    def layer(self, name: str) -> IntLayer:
        for layer in self.layers:
            if layer.name == name:
                return layer
        raise KeyError(name)

    @property
    def num_classes(self) -> int:
        return self.layers[-1].out_channels

    def check(self) -> None:
        """Raise :class:`ModelFileError` with one clear message if anything is inconsistent:
        field ranges, array shapes and values, the chain of shapes and widths from the input to
        the logits, and that every accumulator fits the golden model's 64-bit integers."""
        inp = self.input
        for key in ("length", "shift", "bits", "exponent"):
            if not is_int(getattr(inp, key)):
                raise ModelFileError(f"input: {key} must be an integer, got {getattr(inp, key)!r}")
        if inp.length < 1 or not 0 <= inp.shift <= MAX_SHIFT or \
                not MIN_ACT_BITS <= inp.bits <= MAX_ACT_BITS:
            raise ModelFileError(f"input: length {inp.length}, shift {inp.shift} (0..{MAX_SHIFT}) "
                                 f"or bits {inp.bits} ({MIN_ACT_BITS}..{MAX_ACT_BITS}) out of range")
        if not self.layers:
            raise ModelFileError("the model has no layers")
        names = [layer.name for layer in self.layers]
        if len(set(names)) != len(names):
            raise ModelFileError(f"layer names must be unique, got {names}")
        channels, length, bits, signed = 1, inp.length, inp.bits, True
        exponent = inp.exponent
        for k, layer in enumerate(self.layers):
            layer.check()
            last = k == len(self.layers) - 1
            want = {"in_channels": channels, "in_length": length, "in_bits": bits,
                    "in_signed": signed, "in_exponent": exponent}
            for key, v in want.items():
                if getattr(layer, key) != v:
                    raise ModelFileError(f"layer {layer.name}: {key} is {getattr(layer, key)!r} "
                                         f"but the previous stage gives {v!r}")
            if last != (layer.out_shift is None):
                raise ModelFileError(f"layer {layer.name}: " + (
                    "the last layer gives the logits and has no requantization" if last else
                    "only the last layer may omit the requantization"))
            if not last:
                channels, length = layer.out_channels, layer.out_length
                bits, signed = layer.out_bits, False
                exponent = layer.in_exponent - layer.alpha_frac + layer.out_shift
        if not (isinstance(self.class_names, list) and
                len(self.class_names) == self.layers[-1].out_channels and
                all(isinstance(c, str) and c for c in self.class_names)):
            raise ModelFileError(f"class_names must be {self.layers[-1].out_channels} names, one "
                                 f"per output of the last layer")
        if self.layers[-1].out_length != 1:
            raise ModelFileError("the last layer must give one value per class (output length 1)")
        from ecg_alq.intmodel.bounds import check_fits

        check_fits(self)
