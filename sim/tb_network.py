"""cocotb testbench of the whole accelerator on raw fragments, against the golden model.

Config (:func:`ecg_alq.sim.runner.config`): ``model`` (integer model file), ``fragments``
(``.npy`` int16 (N, length)), ``expected_cycles`` (from :mod:`ecg_alq.hw.cycles`, or null),
``idle`` (probability of an idle input cycle), ``backpressure`` (probability that the output is
not ready), ``seed``, ``reset_after`` (samples after which the first inference is cut by a reset,
or null), ``report`` (JSON file to write the per-fragment results to).

For every fragment: pulse ``start``, stream the samples (valid/ready, random idle cycles), take
the 17 output words (random backpressure) and compare the integer logits and the class with the
golden model's, and the ``cycles`` counter with the cycle model.
"""

from __future__ import annotations

import json
import random

import cocotb
import numpy as np
from cocotb.triggers import ClockCycles, Edge, FallingEdge, First, ReadOnly, RisingEdge, Timer

from ecg_alq.intmodel import load
from ecg_alq.intmodel.golden import GoldenModel
from ecg_alq.sim.bench import CLOCK_NS, Bench
from ecg_alq.sim.runner import config


#: zeroed before the reset (a 4-state simulator such as Icarus leaves an undriven input X)
INPUTS = ("start", "in_valid", "in_data", "out_ready", "first_layer")
LOAD_INPUTS = ("load_valid", "load_addr", "load_data")  #: the "spram" style's load port


def inputs_of(dut) -> tuple[str, ...]:
    """The inputs a testbench zeroes before the reset: the load port only where there is one."""
    return INPUTS + (LOAD_INPUTS if hasattr(dut, "load_valid") else ())


async def reset(dut, cycles: int = 3) -> None:
    await Bench(dut).reset(cycles)


async def load_signs(dut, rows: list[int] | None) -> None:
    """Write the sign rows into a ``"spram"`` accelerator's sign memory through its load port,
    one row per cycle (what the board's host does over the serial link); nothing to do for the
    other memory styles (``rows`` empty)."""
    for addr, row in enumerate(rows or []):
        dut.load_valid.value = 1
        dut.load_addr.value = addr
        dut.load_data.value = row
        await RisingEdge(dut.clk)
    if rows:
        dut.load_valid.value = 0


async def send(dut, samples: np.ndarray, rng: random.Random, idle: float,
               stop_after: int | None = None) -> None:
    """Stream ``samples`` (valid/ready), with random idle cycles; stop early after
    ``stop_after`` accepted samples (for the mid-inference reset)."""
    await FallingEdge(dut.clk)
    dut.in_valid.value = 0
    dut.start.value = 1
    await FallingEdge(dut.clk)
    dut.start.value = 0
    sent, waited = 0, 0
    while sent < len(samples):
        if stop_after is not None and sent >= stop_after:
            dut.in_valid.value = 0
            return
        if rng.random() < idle:
            dut.in_valid.value = 0
        else:
            dut.in_valid.value = 1
            dut.in_data.value = int(samples[sent])
        await ReadOnly()  # the handshake as the coming rising edge samples it
        if dut.in_valid.value and dut.in_ready.value:
            sent += 1
        waited += 1
        assert waited < 100 * len(samples), f"input stalled after {sent} samples"
        await FallingEdge(dut.clk)
    dut.in_valid.value = 0


async def receive(dut, n: int, rng: random.Random, backpressure: float,
                  limit: int) -> tuple[list, int]:
    """Take ``n`` output words (the first within ``limit`` cycles); returns (logits by index,
    class id)."""
    logits, classes = [None] * n, set()
    taken = 0
    if not dut.out_valid.value:
        # a timer, not ClockCycles: no Python runs while the hardware computes
        await First(RisingEdge(dut.out_valid), Timer(limit * CLOCK_NS, unit="ns"))
        assert dut.out_valid.value, f"no result within {limit} cycles"
    while taken < n:
        await FallingEdge(dut.clk)
        dut.out_ready.value = int(rng.random() >= backpressure)
        await ReadOnly()  # the handshake as the coming rising edge samples it
        if dut.out_valid.value and dut.out_ready.value:
            i = int(dut.out_index.value)
            assert i == taken, f"output word {taken} has index {i}"
            assert bool(dut.out_last.value) == (i == n - 1), f"out_last wrong at index {i}"
            logits[i] = dut.out_logit.value.to_signed()
            classes.add(int(dut.out_class.value))
            taken += 1
    await FallingEdge(dut.clk)
    dut.out_ready.value = 0
    assert len(classes) == 1, f"out_class changed within one result: {classes}"
    return logits, classes.pop()


def banks_of(dut, cfg: dict, kind: int) -> list:
    """The banks of activation buffer ``kind`` (``tables.BUF_A``/``BUF_B``), by the netlist
    names the layout gives them (``cfg["banks"]``); element ``e`` is in bank ``e % simd``."""
    return [getattr(dut, name) for name in cfg["banks"][str(kind)]]


def read_buffer(dut, cfg: dict, kind: int, elements: int) -> np.ndarray:
    """Backdoor: the first ``elements`` of activation buffer ``kind``, position-major."""
    banks = banks_of(dut, cfg, kind)
    return np.array([int(banks[e % len(banks)][e // len(banks)].value) for e in range(elements)])


async def check_layers(dut, cfg: dict, traces, found: list) -> None:
    """Each time the accelerator moves to the next layer, compare the finished layer's output
    buffer with the golden model's (``traces``); append (layer name, equal) to ``found``."""
    current = int(dut.layer.value)
    while current < len(traces) - 1:
        await Edge(dut.layer)
        new = int(dut.layer.value)
        if new == current + 1:
            t = traces[current]
            want = t.output[0]  # (channels, length)
            got = read_buffer(dut, cfg, cfg["dst"][current], want.size)
            got = got.reshape(want.shape[1], want.shape[0]).T
            found.append((t.name, bool(np.array_equal(got, want))))
        current = new


@cocotb.test()
async def network_matches_golden(dut):
    cfg = config()
    rng = random.Random(cfg["seed"])
    model = load(cfg.get("golden_model") or cfg["model"])
    x = np.load(cfg["fragments"])
    golden = GoldenModel(model)
    want = golden.logits(x)
    await Bench(dut, inputs_of(dut)).start()
    await load_signs(dut, cfg.get("sign_rows"))
    if cfg.get("reset_after") is not None:
        await send(dut, x[0], rng, cfg["idle"], stop_after=cfg["reset_after"])
        await ClockCycles(dut.clk, 5)
        await reset(dut)
    results = []
    limit = 2 * cfg["expected_cycles"] if cfg.get("expected_cycles") else 10_000_000
    for k in range(len(x)):
        layers: list = []
        if k < cfg.get("layer_check", 0):  # compare every layer's output buffer as it finishes
            cocotb.start_soon(check_layers(dut, cfg, golden.trace(x[k: k + 1]), layers))
        await send(dut, x[k], rng, cfg["idle"])
        logits, cls = await receive(dut, model.num_classes, rng, cfg["backpressure"], limit)
        cycles = int(dut.cycles.value)
        assert not int(dut.error.value), "an emission found its FIFO full"
        first_bad = next((name for name, ok in layers if not ok), None)
        if first_bad is None and layers and logits != want[k].tolist():
            first_bad = model.layers[-1].name  # every buffered layer agreed: the logits layer
        results.append({"index": k, "logits": logits, "class": cls, "cycles": cycles,
                        "logits_match": logits == want[k].tolist(),
                        "class_match": cls == int(np.argmax(want[k])) + 1,
                        "layers_checked": [name for name, _ in layers],
                        "first_differing_layer": first_bad})
    if cfg.get("report"):
        with open(cfg["report"], "w") as fh:
            json.dump(results, fh)
    bad = [r for r in results if not (r["logits_match"] and r["class_match"])]
    where = [f"fragment {r['index']}: first differing layer {r['first_differing_layer']}"
             for r in bad if r["first_differing_layer"]]
    assert not bad, (f"{len(bad)} fragment(s) differ from the golden model, first "
                     f"{[r['index'] for r in bad[:5]]}" + (f"; {where[0]}" if where else ""))
    if cfg.get("expected_cycles") is not None:
        wrong = [r["cycles"] for r in results if r["cycles"] != cfg["expected_cycles"]]
        assert not wrong, f"cycles {wrong[:3]} differ from the cycle model's {cfg['expected_cycles']}"
