"""cocotb testbench of the cell models this project adds for gate-level simulation
(``sim/cells``): the ECP5 ``MULT18X18D`` in its combinational configuration against Python's
integers. Config: ``signed`` ([SIGNEDA, SIGNEDB]), ``seed``."""

from __future__ import annotations

import random

import cocotb
from cocotb.triggers import Timer

from ecg_alq.sim.runner import config


def _set_bus(dut, name: str, width: int, value: int) -> None:
    for i in range(width):
        getattr(dut, f"{name}{i}").value = (value >> i) & 1


def _get_bus(dut, name: str, width: int) -> int:
    return sum(int(getattr(dut, f"{name}{i}").value) << i for i in range(width))


def _as(value: int, signed: int, width: int) -> int:
    return value - (1 << width) if signed and value >> (width - 1) else value


@cocotb.test()
async def mult18x18d_multiplies(dut):
    cfg = config()
    sa, sb = cfg["signed"]
    rng = random.Random(cfg["seed"])
    dut.SIGNEDA.value, dut.SIGNEDB.value = sa, sb
    dut.SOURCEA.value = dut.SOURCEB.value = 0
    _set_bus(dut, "C", 18, 0)
    ends = [0, 1, (1 << 17) - 1, 1 << 17, (1 << 18) - 1]
    cases = [(a, b) for a in ends for b in ends] + [
        (rng.randrange(1 << 18), rng.randrange(1 << 18)) for _ in range(200)]
    for a, b in cases:
        _set_bus(dut, "A", 18, a)
        _set_bus(dut, "B", 18, b)
        await Timer(1, unit="ns")
        want = (_as(a, sa, 18) * _as(b, sb, 18)) & ((1 << 36) - 1)
        got = _get_bus(dut, "P", 36)
        assert got == want, f"A={a:#x} B={b:#x} signed {sa}{sb}: P={got:#x}, want {want:#x}"
