"""What every cocotb testbench of the project shares: the clock, the reset, quiet inputs, and
the traffic shapes that valid/ready handshakes are driven with.

    tb = Bench(dut, inputs=("start", "in_valid"))
    await tb.start()                        # clock on ``clk``, inputs 0, ``rst`` for 3 cycles
    ready = traffic("random", rng, 0.3)     # a bool per cycle: does the sink take a word?

Traffic shapes (:data:`SHAPES`): ``none`` (always ready / always valid), ``periodic`` (a pause
every ``round(1 / rate)`` cycles), ``random`` (a pause with probability ``rate`` each cycle).
"""

from __future__ import annotations

import random
from collections.abc import Iterator

from cocotb import start_soon
from cocotb.clock import Clock
from cocotb.triggers import ClockCycles, FallingEdge

CLOCK_NS = 10
SHAPES = ("none", "periodic", "random")


def traffic(shape: str, rng: random.Random, rate: float) -> Iterator[bool]:
    """An endless sequence of per-cycle flags, False in the pauses of ``shape`` at ``rate``
    (the share of paused cycles, 0..1)."""
    if shape not in SHAPES:
        raise ValueError(f"traffic shape must be one of {SHAPES}, got {shape!r}")
    if not 0.0 <= rate < 1.0:
        raise ValueError(f"a pause rate must be in [0, 1), got {rate}")
    period = max(2, round(1 / rate)) if rate else 0
    cycle = 0
    while True:
        if shape == "none" or not rate:
            yield True
        elif shape == "periodic":
            yield cycle % period != period - 1
        else:
            yield rng.random() >= rate
        cycle += 1


class Bench:
    """A design under test with a clock ``clk`` and a synchronous reset ``rst``; ``inputs``
    are driven to 0 before the reset."""

    def __init__(self, dut, inputs: tuple[str, ...] = (), period_ns: int = CLOCK_NS):
        self.dut, self.inputs, self.period_ns = dut, tuple(inputs), period_ns

    async def start(self, reset_cycles: int = 3) -> None:
        """Start the clock, zero the inputs and reset; returns at a falling edge."""
        start_soon(Clock(self.dut.clk, self.period_ns, unit="ns").start())
        for name in self.inputs:
            getattr(self.dut, name).value = 0
        await self.reset(reset_cycles)

    async def reset(self, cycles: int = 3) -> None:
        """Hold ``rst`` for ``cycles`` rising edges; returns at the next falling edge."""
        self.dut.rst.value = 1
        await ClockCycles(self.dut.clk, cycles)
        await FallingEdge(self.dut.clk)
        self.dut.rst.value = 0
