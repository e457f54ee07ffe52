"""cocotb testbench of the time-zero check (``tests/test_second_simulator.py``): a constant
table read through a register that keeps its reset value (the shape of the accelerator's
per-layer tables). Its output must hold the first entry from the first nanosecond on, with no
input having changed, then follow the register. Config: ``values`` (the table).
"""

from __future__ import annotations

import cocotb
from cocotb.triggers import FallingEdge, Timer

from ecg_alq.sim.bench import Bench
from ecg_alq.sim.runner import config


@cocotb.test()
async def table_is_defined_without_any_event(dut):
    values = config()["values"]
    await Timer(1, unit="ns")
    assert dut.out.value.is_resolvable, f"out is {dut.out.value} at 1 ns: it waits for an event"
    assert int(dut.out.value) == values[0]
    await Bench(dut, inputs=("step",)).start()
    for want in values[1:]:
        dut.step.value = 1
        await FallingEdge(dut.clk)
        dut.step.value = 0
        assert int(dut.out.value) == want
