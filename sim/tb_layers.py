"""cocotb testbench of the accelerator one layer at a time, against the golden model's layer
dump and the cycle model's per-layer counts.

For every layer ``k`` and two inputs (the golden model's dump of a real fragment at that layer,
and random integers over the layer's whole input range) the layer runs alone: layer 0 from the
raw samples through the input port, every later layer from its input written by backdoor into
its source buffer and ``start`` with ``first_layer = k``. When the accelerator moves on to layer
``k + 1``, the destination buffer must equal the golden layer output and ``cycles`` the cycle
model's count for the layer (plus the input stage for layer 0); the logits layer is read from
the output stream. Config: ``model``, ``fragment`` (``.npy`` int (length,)), ``banks``, ``src``,
``dst`` (buffer of each layer), ``layer_cycles``, ``input_cycles``, ``seed``, ``report``,
``golden_model`` (compare with another model file than the hardware's; for testing the check).
"""

from __future__ import annotations

import json
import random

import cocotb
import numpy as np
from cocotb.triggers import Edge, FallingEdge, First, Timer

from ecg_alq.intmodel import load
from ecg_alq.intmodel.golden import GoldenModel
from ecg_alq.intmodel.spec import ADC_MAX
from ecg_alq.sim.runner import config
from ecg_alq.sim.bench import CLOCK_NS, Bench
from ecg_alq.sim.tb_network import (banks_of, inputs_of, load_signs, read_buffer, receive, reset,
                                     send)


def write_buffer(dut, cfg: dict, kind: int, values: np.ndarray) -> None:
    """Backdoor: store ``values`` (channels, length) position-major into buffer ``kind``."""
    banks = banks_of(dut, cfg, kind)
    for e, v in enumerate(values.T.reshape(-1)):
        banks[e % len(banks)][e // len(banks)].value = int(v)


async def start_at(dut, k: int) -> None:
    await reset(dut)
    dut.first_layer.value = k
    dut.start.value = 1
    await FallingEdge(dut.clk)
    dut.start.value = 0
    dut.first_layer.value = 0


async def run_layer(dut, cfg, golden, k: int, a: np.ndarray | None, x: np.ndarray | None,
                    rng) -> tuple[np.ndarray, int]:
    """Run layer ``k`` alone on input integers ``a`` (channels, length), or layer 0 on raw
    samples ``x``; returns (the layer's output as the hardware wrote it, cycles)."""
    model = golden.model
    last = k == len(model.layers) - 1
    limit = 4 * (sum(cfg["layer_cycles"]) + cfg["input_cycles"]) + 10_000
    if k == 0:
        await reset(dut)
        await send(dut, x, rng, idle=0.0)
    else:
        write_buffer(dut, cfg, cfg["src"][k], a)
        await start_at(dut, k)
    if last:
        logits, _ = await receive(dut, model.num_classes, rng, 0.0, limit)
        return np.array(logits)[:, None], int(dut.cycles.value)
    if int(dut.layer.value) == k:  # a timer, not ClockCycles: no Python runs meanwhile
        await First(Edge(dut.layer), Timer(limit * CLOCK_NS, unit="ns"))
    assert int(dut.layer.value) == k + 1, f"layer {k} did not finish within {limit} cycles"
    layer = model.layers[k]
    got = read_buffer(dut, cfg, cfg["dst"][k], layer.out_channels * layer.out_length)
    return got.reshape(layer.out_length, layer.out_channels).T, int(dut.cycles.value)


@cocotb.test()
async def every_layer_matches_golden(dut):
    cfg = config()
    rng = random.Random(cfg["seed"])
    nrng = np.random.default_rng(cfg["seed"])
    golden = GoldenModel(load(cfg.get("golden_model") or cfg["model"]))
    model = golden.model
    fragment = np.load(cfg["fragment"]).reshape(1, -1)
    dump = golden.trace(fragment)
    await Bench(dut, inputs_of(dut)).start()
    await load_signs(dut, cfg.get("sign_rows"))
    results = []
    for k, layer in enumerate(model.layers):
        for source in ("dump", "random"):
            if k == 0:
                x = fragment[0] if source == "dump" else nrng.integers(0, ADC_MAX + 1, fragment.shape[1])
                a = golden.input_integers(x[None])[0]
            else:
                x = None
                top = (1 << model.layers[k - 1].out_bits) - 1
                a = dump[k].input[0] if source == "dump" else \
                    nrng.integers(0, top + 1, dump[k].input.shape[1:])
            want_trace = golden.layer(k, a[None])
            want = (want_trace.output if want_trace.output is not None else want_trace.acc)[0]
            got, cycles = await run_layer(dut, cfg, golden, k, a, x, rng)
            want_cycles = cfg["layer_cycles"][k] + (cfg["input_cycles"] if k == 0 else 0)
            results.append({"layer": layer.name, "input": source,
                            "output_match": bool(np.array_equal(got, want)),
                            "differing_values": int((got != want).sum()),
                            "cycles": cycles, "expected_cycles": want_cycles})
    if cfg.get("report"):
        with open(cfg["report"], "w") as fh:
            json.dump(results, fh)
    bad = [f"{r['layer']} ({r['input']} input): {r['differing_values']} values differ"
           for r in results if not r["output_match"]]
    assert not bad, "layer outputs differ from the golden model: " + "; ".join(bad)
    wrong = [f"{r['layer']}: {r['cycles']} cycles, model {r['expected_cycles']}"
             for r in results if r["cycles"] != r["expected_cycles"]]
    assert not wrong, "cycles differ from the cycle model: " + "; ".join(wrong)
