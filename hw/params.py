"""Hardware parameters of the accelerator, validated up front with messages naming the parameter.

``pe``          lanes: output channels computed in parallel (each lane owns a set of channels)
``simd``        activations summed per cycle by every lane (one chunk of the reduction)
``alpha_mult``  how a lane scales a basis sum by its alpha: ``"dsp"`` (a ``*``, a DSP block where
                the FPGA has one, e.g. SB_MAC16 on the iCE40UP5K) or ``"shiftadd"`` (a sum of
                shifted copies selected by the alpha bits; no DSP)
``memory``      memory style: ``"auto"`` lets the synthesis tool choose (block RAM);
                board builds may ask for ``"spram"`` (iCE40UP5K single-port RAM) for the raw
                input samples and, when the signs are loaded at run time, the sign bits
                (:meth:`~ecg_alq.hw.layout.Layout.spram_kinds`); the activation
                buffers stay in block RAM
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

from amaranth.lib import wiring

from ecg_alq.errors import EcgAlqError

ALPHA_MULTS = ("dsp", "shiftadd")
MEMORY_STYLES = ("auto", "spram")
MAX_PE, MAX_SIMD = 64, 64


class HardwareParamError(EcgAlqError):
    """A hardware parameter, or a combination with the model, that cannot be built."""


@dataclass(frozen=True)
class HwParams:
    pe: int = 4
    simd: int = 8
    alpha_mult: str = "dsp"
    memory: str = "auto"

    def validate(self) -> None:
        for name, top in (("pe", MAX_PE), ("simd", MAX_SIMD)):
            v = getattr(self, name)
            if not (isinstance(v, int) and not isinstance(v, bool) and 1 <= v <= top):
                raise HardwareParamError(f"{name} must be an integer in 1..{top}, got {v!r}")
        if self.alpha_mult not in ALPHA_MULTS:
            raise HardwareParamError(f"alpha_mult must be one of {ALPHA_MULTS}, got "
                                     f"{self.alpha_mult!r}")
        if self.memory not in MEMORY_STYLES:
            raise HardwareParamError(f"memory must be one of {MEMORY_STYLES}, got {self.memory!r}")

    def to_dict(self) -> dict:
        return asdict(self)


def reject(message: str):
    """Raise :class:`HardwareParamError` (from a component's :meth:`Checked.check`)."""
    raise HardwareParamError(message)


def must_be_positive(**values) -> None:
    """Reject the first of ``values`` that is not a positive integer, naming it."""
    for name, v in values.items():
        if not (isinstance(v, int) and not isinstance(v, bool) and v >= 1):
            reject(f"{name} must be a positive integer, got {v!r}")


class Checked(wiring.Component):
    """A component that checks its parameters before it exists: :meth:`check` gets the
    constructor's arguments and raises :class:`HardwareParamError` for impossible ones. A
    rejected component is never made, so nothing is left for Amaranth to warn about as never
    elaborated."""

    def __new__(cls, *args, **kwargs):
        cls.check(*args, **kwargs)
        return super().__new__(cls, *args, src_loc_at=1, **kwargs)

    @classmethod
    def check(cls, *args, **kwargs) -> None:
        """Raise :class:`HardwareParamError` naming the first impossible parameter."""


def width(n: int) -> int:
    """Unsigned bits to hold ``0..n-1`` (at least 1)."""
    return max(1, (n - 1).bit_length()) if n > 1 else 1


def bits(n: int) -> int:
    """Unsigned bits to hold ``0..n`` (at least 1)."""
    return max(1, int(n).bit_length())
