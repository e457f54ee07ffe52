"""cocotb testbench of :class:`ecg_alq.hw.pool.PoolUnit` against :class:`PoolModel`.

Random results (the same channel on consecutive cycles included, to exercise the read-after-write
path of the state memory), random window opens/closes and addresses; every emission and its
cycle must equal the model's. Config: act_bits, acc_width, shifts, channels, windows, simd,
row_width, cycles, seed.
"""

from __future__ import annotations

import random

import cocotb
from cocotb.triggers import FallingEdge, ReadOnly

from ecg_alq.hw.pool import PoolModel
from ecg_alq.sim.bench import Bench
from ecg_alq.sim.runner import config

INPUTS = ("valid", "acc", "layer", "local", "open", "open_slot", "close", "close_slot",
          "base_row", "base_off", "ch_row", "ch_off")


@cocotb.test()
async def pool_matches_model(dut):
    cfg = config()
    rng = random.Random(cfg["seed"])
    model = PoolModel(cfg["act_bits"], cfg["shifts"], cfg["channels"], cfg["windows"],
                      cfg["simd"])
    await Bench(dut, INPUTS).start(2)
    big = 1 << (cfg["acc_width"] - 2)
    local, layer, got, want = 0, 0, [], []
    for cycle in range(cfg["cycles"]):
        await FallingEdge(dut.clk)
        if rng.random() < 0.5:  # often the same channel again
            local = rng.randrange(cfg["channels"])
        new_layer = cycle % 7 == 0  # a new layer: no result in its first cycle (as in the
        if new_layer:               # accelerator, where a layer starts with SETUP)
            layer = rng.randrange(len(cfg["shifts"]))
        v = {"valid": int(rng.random() < 0.8 and not new_layer), "acc": rng.randint(-big, big),
             "layer": layer, "local": local,
             "open": int(rng.random() < 0.4), "open_slot": rng.randrange(cfg["windows"]),
             "close": int(rng.random() < 0.4), "close_slot": rng.randrange(cfg["windows"]),
             "base_row": rng.randrange(40), "base_off": rng.randrange(cfg["simd"]),
             "ch_row": rng.randrange(10), "ch_off": rng.randrange(cfg["simd"])}
        for name in INPUTS:
            getattr(dut, name).value = v[name]
        await ReadOnly()  # outputs of this cycle (the emission of the previous result)
        if dut.emit.value:
            got.append((cycle, int(dut.emit_bank.value), int(dut.emit_row.value),
                        int(dut.emit_value.value)))
        out = model.step(v["valid"], v["acc"], v["layer"], v["local"], v["open"], v["open_slot"],
                         v["close"], v["close_slot"], v["base_row"], v["base_off"], v["ch_row"],
                         v["ch_off"])
        if out is not None:
            want.append((cycle, *out))
    assert len(want) > 10, "the stimulus produced too few emissions"
    assert got == want, f"first difference: {next(((g, w) for g, w in zip(got, want) if g != w), None)}; {len(got)} vs {len(want)} emissions"
