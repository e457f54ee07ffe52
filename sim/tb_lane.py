"""cocotb testbench of :class:`ecg_alq.hw.lane.Lane` against :class:`LaneModel`.

Random channels (1..max bases, each pass 1..max chunks), random activations and signs, random
idle cycles between chunks; every result and the cycle it appears on must equal the model's.
Config (from :func:`ecg_alq.sim.runner.config`): simd, act_width, alpha_bits, seed, channels,
max_bases, max_chunks, idle.
"""

from __future__ import annotations

import random

import cocotb
from cocotb.triggers import FallingEdge, ReadOnly, RisingEdge

from ecg_alq.hw.lane import LaneModel
from ecg_alq.sim.bench import Bench
from ecg_alq.sim.runner import config


def pack(values: list[int], width: int) -> int:
    """Elements (LSB first) of a signed array as one integer."""
    mask = (1 << width) - 1
    return sum((v & mask) << (i * width) for i, v in enumerate(values))


def stimulus(cfg: dict) -> list[dict]:
    rng = random.Random(cfg["seed"])
    simd, aw = cfg["simd"], cfg["act_width"]
    lo, hi = -(1 << (aw - 1)), (1 << aw) - 1  # signed input and unsigned activations both occur
    idle = {"valid": 0, "acts": [0] * simd, "signs": 0, "last_chunk": 0, "alpha": 0,
            "first_basis": 0, "last_basis": 0, "bias": 0}
    cycles = []
    for _ in range(cfg["channels"]):
        bias = rng.randint(-(1 << 12), 1 << 12)
        n = rng.randint(1, cfg["max_bases"])
        for b in range(n):
            chunks = rng.randint(1, cfg["max_chunks"])
            alpha = rng.randint(1, (1 << cfg["alpha_bits"]) - 1)
            for f in range(chunks):
                while rng.random() < cfg["idle"]:
                    cycles.append(dict(idle))
                last = f == chunks - 1
                cycles.append({"valid": 1, "acts": [rng.randint(lo, hi) for _ in range(simd)],
                               "signs": rng.getrandbits(simd), "last_chunk": int(last),
                               "alpha": alpha if last else 0, "first_basis": int(b == 0),
                               "last_basis": int(b == n - 1), "bias": bias})
    return cycles + [dict(idle)] * 8


@cocotb.test()
async def lane_matches_model(dut):
    cfg = config()
    simd, aw = cfg["simd"], cfg["act_width"]
    await Bench(dut, ("valid", "acts", "signs", "last_chunk", "alpha", "first_basis",
                      "last_basis", "bias")).start(2)
    model, got = LaneModel(cfg["simd"]), []
    for k, cyc in enumerate(stimulus(cfg)):
        await FallingEdge(dut.clk)
        dut.valid.value = cyc["valid"]
        dut.acts.value = pack(cyc["acts"], aw + 1)
        dut.signs.value = cyc["signs"]
        dut.last_chunk.value = cyc["last_chunk"]
        dut.alpha.value = cyc["alpha"]
        dut.first_basis.value = cyc["first_basis"]
        dut.last_basis.value = cyc["last_basis"]
        dut.bias.value = cyc["bias"]
        signs = [(cyc["signs"] >> i) & 1 for i in range(simd)]
        model.step(cyc["acts"], signs, cyc["valid"], cyc["last_chunk"], cyc["alpha"],
                   cyc["first_basis"], cyc["last_basis"], cyc["bias"])
        await RisingEdge(dut.clk)
        await ReadOnly()
        if dut.result_valid.value:
            got.append((k + 1, dut.result.value.to_signed()))
    assert model.results, "the stimulus produced no results"
    assert got == model.results, f"first difference: {next(((g, w) for g, w in zip(got, model.results) if g != w), None)}; {len(got)} vs {len(model.results)} results"
