"""cocotb testbench of :class:`ecg_alq.hw.input_stage.InputStage` against its reference.

Each round takes a fragment of random raw samples (the first rounds all 0 and all 2047, the
extremes of the mean and the clamp) with random gaps in ``in_valid``, then checks every
activation write (element ``n`` at bank ``n % simd``, row ``n // simd``, in order, the value
``preprocess(x[n], mean)`` as a two's complement word) and that the stage computed for exactly
``input_cycles(length)`` cycles, ``done`` on the last of them.
Config: length, simd, act_bits, input_shift, row_width, rounds, seed.
"""

from __future__ import annotations

import random

import cocotb
import numpy as np
from cocotb.triggers import FallingEdge, ReadOnly

from ecg_alq.hw.input_stage import RAW_BITS, input_cycles, preprocess
from ecg_alq.hw.writer import write_layout
from ecg_alq.intmodel.spec import rounded_mean
from ecg_alq.sim.bench import Bench
from ecg_alq.sim.runner import config


@cocotb.test()
async def input_stage_matches_reference(dut):
    cfg = config()
    rng = random.Random(cfg["seed"])
    L, S, A, sh = cfg["length"], cfg["simd"], cfg["act_bits"], cfg["input_shift"]
    await Bench(dut, ("start", "in_valid", "in_data")).start(2)
    top = (1 << RAW_BITS) - 1
    layout = write_layout(S, cfg["row_width"], A)

    def field(word: int, name: str) -> int:
        f = layout[name]
        return (word >> f.offset) & ((1 << f.width) - 1)

    for r in range(cfg["rounds"]):
        x = [0] * L if r == 0 else [top] * L if r == 1 else [rng.randint(0, top) for _ in range(L)]
        mean = int(rounded_mean(np.array([x]))[0, 0])
        want = [(n % S, n // S, preprocess(v, mean, sh, A) % (1 << A)) for n, v in enumerate(x)]
        await FallingEdge(dut.clk)
        dut.start.value = 1
        await FallingEdge(dut.clk)
        dut.start.value = 0
        sent, writes, computing, done = 0, [], 0, False
        while not done:
            valid = sent < L and rng.random() < 0.8
            dut.in_valid.value = int(valid)
            dut.in_data.value = x[sent] if valid else 0
            await ReadOnly()
            if valid and int(dut.in_ready.value):
                sent += 1
            word = int(dut.write.value)
            if field(word, "valid"):
                writes.append((field(word, "bank"), field(word, "row"), field(word, "value")))
            computing += int(dut.computing.value)
            done = bool(int(dut.done.value))
            assert computing <= input_cycles(L), f"round {r}: still computing"
            await FallingEdge(dut.clk)
        dut.in_valid.value = 0
        assert sent == L, f"round {r}: done after {sent} of {L} samples"
        assert writes == want, f"round {r}: writes differ from the reference (mean {mean})"
        assert computing == input_cycles(L), \
            f"round {r}: {computing} cycles, model {input_cycles(L)}"
        assert not int(dut.busy.value)
