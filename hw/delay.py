"""A delay line: a value registered ``cycles`` times, to keep side information in step with a
pipeline it travels beside (the accelerator's sideband beside the fetch unit and the lanes)."""

from __future__ import annotations

from amaranth import Signal, Value


def delayed(m, value, cycles: int, name: str, reset_less: bool = True) -> Value:
    """``value`` as it was ``cycles`` clock cycles ago (``cycles`` >= 0), through registers named
    ``{name}_1 .. {name}_{cycles}`` in ``m``'s sync domain. ``reset_less=False`` gives the
    registers their reset value (for flags that must not fire after a reset); datapath words
    do not need it."""
    if cycles < 0:
        raise ValueError(f"a delay line needs cycles >= 0, got {cycles}")
    for d in range(1, cycles + 1):
        reg = Signal.like(value, name=f"{name}_{d}", reset_less=reset_less)
        m.d.sync += reg.eq(value)
        value = reg
    return value
