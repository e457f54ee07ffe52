"""cocotb testbench of :class:`ecg_alq.hw.fetch.WindowFetch` against :class:`FetchModel`.

Random chunk positions (windows hanging over both ends of the layer, so both padding masks and
the end-of-reduction mask occur), random bank offsets, random bank data, signed (first layer) and unsigned
words alternating in runs; every cycle's addresses and ``feed`` must equal the model's.
Config: simd, act_bits, row_width, element_width, cycles, seed.
"""

from __future__ import annotations

import random

import cocotb
from cocotb.triggers import FallingEdge, ReadOnly

from ecg_alq.hw.fetch import FetchModel
from ecg_alq.sim.bench import Bench
from ecg_alq.sim.runner import config


def pack(values: list[int], width: int) -> int:
    mask = (1 << width) - 1
    return sum((v & mask) << (i * width) for i, v in enumerate(values))


def unpack(word: int, width: int, n: int, signed: bool) -> list[int]:
    out = []
    for i in range(n):
        v = (word >> (i * width)) & ((1 << width) - 1)
        out.append(v - (1 << width) if signed and v >> (width - 1) else v)
    return out


@cocotb.test()
async def fetch_matches_model(dut):
    cfg = config()
    rng = random.Random(cfg["seed"])
    S, A, rw = cfg["simd"], cfg["act_bits"], cfg["row_width"]
    model = FetchModel(S, A)
    await Bench(dut, ("row", "off", "element", "avail", "left", "data", "signed_input")).start(2)
    signed_input, in_elements = 1, 0
    masked = unmasked = 0
    for cycle in range(cfg["cycles"]):
        await FallingEdge(dut.clk)
        if cycle % 37 == 0:  # a new "layer": its signedness and length hold for a while
            signed_input = rng.randrange(2)
            in_elements = rng.randint(1, 6 * S)
        element = rng.randint(-2 * S, in_elements + S)
        row, off = element // S, element % S
        left = rng.randint(0, 2 * S)
        words = [rng.randrange(1 << A) for _ in range(S)]
        v = {"row": row, "off": off, "element": element, "avail": in_elements - element,
             "left": left, "data": pack(words, A), "signed_input": signed_input}
        for name, value in v.items():
            getattr(dut, name).value = value
        await ReadOnly()
        got_addr = unpack(int(dut.addr.value), rw, S, signed=True)
        want_addr = model.addresses(row, off)
        assert got_addr == want_addr, f"cycle {cycle}: addresses {got_addr}, want {want_addr}"
        got = unpack(int(dut.feed.value), A + 1, S, signed=True)
        want = model.step(off, element, in_elements, left, words, signed_input)
        assert got == want, f"cycle {cycle}: feed {got}, want {want}"
        lo, hi = model.masks(element, in_elements, left)
        masked += lo > 0 or hi < S
        unmasked += lo == 0 and hi == S
    assert masked > 20 and unmasked > 20, f"stimulus too one-sided: {masked} masked, {unmasked} not"
