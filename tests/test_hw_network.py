"""The whole accelerator in Verilator (cocotb) against the golden model and the cycle model:
awkward sizes on small random models, a second real quantized model, and the shipped model on
real ECG fragments of all 17 classes with idle input cycles, output backpressure and a reset in
the middle of an inference."""

from __future__ import annotations

import pytest

from ecg_alq.hw.cycles import network_cycles
from ecg_alq.hw.params import HardwareParamError, HwParams
from ecg_alq.hw.plan import plan_network
from ecg_alq.intmodel import load
from ecg_alq.intmodel.shipped import default_model_path
from ecg_alq.intmodel.synthetic import conv, dense, random_fragments, random_model
from ecg_alq.sim.network import simulate, simulate_layers, spread_rows
from ecg_alq.sim.runner import icarus_installed


@pytest.fixture(scope="module")
def shipped_build(tmp_path_factory):
    """One Verilator build of the shipped model's default accelerator, shared by its tests."""
    return tmp_path_factory.mktemp("shipped-build")


def _empty_layer(model, k: int):
    """Prune every basis of layer ``k`` (all its channels give the constant requant(bias))."""
    layer = model.layers[k]
    layer.bases[:] = 0
    layer.alpha = layer.alpha[:0]
    layer.signs = layer.signs[:0]
    model.check()
    return model


SMALL = {
    # name: (geometry, input length, pe, simd, act bits, empty share[, memory style])
    "simd1-pe1": ([conv(3, 4, stride=2, padding=1, pool_kernel=2, pool_stride=2), dense(3)],
                  30, 1, 1, 8, 0.2),
    "odd-sizes": ([conv(5, 7, stride=2, padding=3, pool_kernel=3, pool_stride=2),
                   conv(6, 3, padding=1, pool_kernel=2, pool_stride=2), dense(7), dense(4)],
                  70, 3, 5, 6, 0.3),
    "kernel-longer-than-stride": ([conv(4, 9, stride=3, padding=4, pool_kernel=5, pool_stride=2),
                                   conv(3, 5, stride=2, padding=2), dense(5)], 90, 2, 3, 8, 0.1),
    # more classes than 5 bits can index: class ids and indices widen with the model
    "40-classes": ([conv(3, 4, stride=2, padding=1, pool_kernel=2, pool_stride=2), dense(40)],
                   30, 2, 4, 8, 0.0),
    # sign bits in SPRAM, written through the load port before the first fragment
    "loaded-signs": ([conv(4, 5, stride=2, padding=2, pool_kernel=2, pool_stride=2),
                      conv(3, 3, padding=1), dense(5)], 40, 3, 5, 8, 0.1, "spram"),
}


@pytest.mark.parametrize("simulator", ["verilator", pytest.param("icarus", marks=pytest.mark.skipif(
    not icarus_installed(), reason="Icarus Verilog is not installed (make icarus)"))])
@pytest.mark.parametrize("name", list(SMALL))
def test_small_models_in_both_simulators(tmp_path, name, simulator):
    """Logits, class, cycles and the layer-by-layer check; Icarus in SystemVerilog mode."""
    geometry, length, pe, simd, act_bits, empty, *memory = SMALL[name]
    model = random_model(geometry, input_length=length, seed=len(name), act_bits=act_bits,
                         alpha_bits=act_bits, empty_groups=empty)
    x = random_fragments(3, length, seed=1)
    result = simulate(model, HwParams(pe=pe, simd=simd, memory=(memory or ["auto"])[0],
                                      alpha_mult="shiftadd" if pe % 2 else "dsp"), x, tmp_path,
                      simulator=simulator)
    assert len(result["fragments"]) == 3


def test_a_layer_without_any_basis(tmp_path):
    geometry = [conv(4, 5, stride=2, padding=2, pool_kernel=2, pool_stride=2),
                conv(3, 3, padding=1), dense(4)]
    model = _empty_layer(random_model(geometry, input_length=40, seed=2), 1)
    plan = plan_network(model, HwParams(2, 4))
    assert plan.layers[1].passes == 0 and len(plan.layers[1].zero_channels) == 3
    simulate(model, HwParams(pe=2, simd=4), random_fragments(2, 40, seed=3), tmp_path)


def test_a_second_real_model_needs_no_code_change(quantized_run, frags, tmp_path):
    """Another quantized model (other bitwidths, from a short run) builds and runs bit-exactly."""
    model = load(quantized_run / "model.npz")
    shipped = load(default_model_path())
    assert [layer.active_bases for layer in model.layers] != \
        [layer.active_bases for layer in shipped.layers]
    simulate(model, HwParams(pe=3, simd=6), frags.x[[5, 500]], tmp_path, idle=0.0,
             backpressure=0.0)


def test_shipped_model_on_real_fragments_of_every_class(frags, tmp_path, shipped_build):
    rows = spread_rows(frags.label, 20)
    assert len(rows) == 20 and len(set(frags.label[rows])) == 17
    result = simulate(load(default_model_path()), HwParams(), frags.x[rows], tmp_path,
                      build_dir=shipped_build, idle=0.05, backpressure=0.2, reset_after=1000)
    report = result["fragments"]
    assert len(report) == 20 and all(r["logits_match"] and r["class_match"] for r in report)
    assert {r["cycles"] for r in report} == {result["expected_cycles"]}
    # the first fragment was also compared layer by layer with the golden model's layer dump
    assert report[0]["layers_checked"] == ["conv1", "conv2", "conv3", "conv4", "conv5", "conv6",
                                           "conv7", "fc1"]
    assert report[0]["first_differing_layer"] is None


def test_every_layer_of_the_shipped_model_alone(frags, tmp_path, shipped_build):
    """Each layer run in isolation (input by backdoor, ``first_layer``) on the golden layer dump
    of a real fragment and on random integers: outputs and per-layer cycles exact."""
    model = load(default_model_path())
    report = simulate_layers(model, HwParams(), frags.x[123], tmp_path, build_dir=shipped_build)
    names = [layer.name for layer in model.layers]
    assert [(r["layer"], r["input"]) for r in report] == \
        [(n, source) for n in names for source in ("dump", "random")]
    assert all(r["output_match"] and r["cycles"] == r["expected_cycles"] for r in report)


def test_a_layer_mismatch_is_reported_with_its_layer(tmp_path):
    from ecg_alq.intmodel import save
    from ecg_alq.sim.runner import SimulationFailed

    geometry = [conv(4, 5, stride=2, padding=2, pool_kernel=2, pool_stride=2),
                conv(3, 3, padding=1), dense(4)]
    model = random_model(geometry, input_length=40, seed=2, empty_groups=0.3)
    other = random_model(geometry, input_length=40, seed=2, empty_groups=0.3)
    other.layers[1].bias = other.layers[1].bias + 3000
    other.layers[1].bias_bits = 14
    save(other, tmp_path / "other.npz")
    with pytest.raises(SimulationFailed, match=r"l2 \(dump input\): \d+ values differ"):
        simulate_layers(model, HwParams(2, 3), random_fragments(1, 40, seed=3)[0], tmp_path,
                        golden_model=str(tmp_path / "other.npz"))


def test_default_configuration_is_within_115_percent_of_ideal():
    from ecg_alq.hw.layout import fifo_depth
    from ecg_alq.hw.tables import build_tables

    model = load(default_model_path())
    cycles = network_cycles(plan_network(model, HwParams()))
    assert cycles.ratio <= 1.15
    # the writer keeps up: no lane's FIFO ever holds more than the RTL gives it
    for params in (HwParams(), HwParams(8, 16), HwParams(16, 4), HwParams(1, 1)):
        plan = plan_network(model, params)
        # the replayed writer keeps up: FIFOs of at most 3 entries (area on small FPGAs), far
        # below one entry per channel a lane owns (what a schedule-blind design would need)
        deepest = max(lc.fifo_depth for lc in network_cycles(plan).layers)
        assert 1 <= deepest <= 2 and fifo_depth(plan) <= 3 < build_tables(plan).max_local


def test_impossible_hardware_parameters_are_rejected():
    model = load(default_model_path())
    for params, message in ((HwParams(pe=0), "pe must be an integer in 1..64"),
                            (HwParams(simd=65), "simd must be an integer in 1..64"),
                            (HwParams(alpha_mult="lut"), "alpha_mult must be one of"),
                            (HwParams(memory="sram"), "memory must be one of")):
        with pytest.raises(HardwareParamError, match=message):
            plan_network(model, params)
    kernel = random_model([conv(3, 4, group_size=2), dense(2)], input_length=20, seed=1)
    with pytest.raises(HardwareParamError, match="one group per output channel"):
        plan_network(kernel, HwParams())


def test_lint_waivers_leave_real_problems_reported(tmp_path):
    """The waivers cover how the Verilog is written, not logic: an undriven signal and a constant
    comparison are still reported with -Wall. (An unused signal is not: Amaranth's aliases
    make that family too large to tell apart; see hw/lint_waivers.vlt.)"""
    from ecg_alq.hw.generate import TOP, lint

    bad = tmp_path / "bad.v"
    bad.write_text(f"module {TOP}(input [2:0] a, input b, output y, output z);\n"
                   "  wire u;\n  assign y = a[0] & u;\n  assign z = a > 3'h7;\nendmodule\n")
    found = " ".join(lint(bad)["unwaived"])
    assert "UNDRIVEN" in found and "CMPCONST" in found, found


def test_hw_verilog_and_sim_commands(tmp_path, capsys):
    import json

    from ecg_alq.intmodel import memory

    from ecg_alq.cli import main

    assert main(["hw", "verilog", "--pe", "2", "--simd", "5", "--out", str(tmp_path / "v")]) == 0
    summary = json.loads((tmp_path / "v" / "summary.json").read_text())
    assert summary["lint"]["errors"] == 0 and summary["lint"]["returncode"] == 0
    assert summary["lint"]["unwaived"] == [] and summary["lint"]["warnings"] > 0
    out = capsys.readouterr().out
    assert "0 warnings not waived" in out
    # the chip's model-dependent bits beside the honest count: whole sign rows of pe x simd
    # bits, at least every stored sign
    mm = summary["model_memory"]
    signs = sum(m.signs for m in memory.count(load(default_model_path())).layers)
    chip_signs = mm["deployed_by_kind"]["sign_bits"]
    assert chip_signs % (2 * 5) == 0 and chip_signs >= signs
    assert mm["deployed_bits"] == sum(mm["deployed_by_kind"].values())
    assert mm["ratio"] == mm["deployed_bits"] / mm["honest_bits"]
    assert f"the model file's honest count is {mm['honest_bits']} bits" in out
    assert (tmp_path / "v" / "ecg_alq_accel.v").read_text().startswith("/* Generated by Amaranth")
    assert summary["cycles"]["total"] == network_cycles(
        plan_network(load(default_model_path()), HwParams(2, 5))).total
    assert summary["memory_bits"]["sign_bits"] > 0 and summary["parameters"]["simd"] == 5
    assert main(["hw", "verilog", "--simd", "0", "--out", str(tmp_path / "bad")]) == 2
    assert "simd must be an integer in 1..64" in capsys.readouterr().err
    assert main(["sim", "--fragments", "2", "--out", str(tmp_path / "s")]) == 0
    text = capsys.readouterr().out
    assert "2 fragment(s): 0 mismatch(es) against the golden model" in text


def test_a_mismatch_names_the_first_differing_layer(tmp_path):
    """Hardware built from one model, compared with a golden model whose second layer differs:
    the testbench's layer-by-layer check must name that layer."""
    import json

    from ecg_alq.intmodel import save
    from ecg_alq.sim.runner import SimulationFailed

    geometry = [conv(4, 5, stride=2, padding=2, pool_kernel=2, pool_stride=2),
                conv(3, 3, padding=1, pool_kernel=2, pool_stride=2), conv(3, 3, padding=1),
                dense(4)]
    model = random_model(geometry, input_length=60, seed=4, empty_groups=0.0)
    other = random_model(geometry, input_length=60, seed=4, empty_groups=0.0)
    other.layers[1].bias = other.layers[1].bias + 3000
    other.layers[1].bias_bits = 14
    save(other, tmp_path / "other.npz")
    with pytest.raises(SimulationFailed, match="first differing layer l2"):
        simulate(model, HwParams(pe=2, simd=4), random_fragments(1, 60, seed=5), tmp_path,
                 golden_model=str(tmp_path / "other.npz"), idle=0.0, backpressure=0.0)
    report = json.loads((tmp_path / "report.json").read_text())
    assert report[0]["layers_checked"] == ["l1", "l2", "l3"]
    assert report[0]["first_differing_layer"] == "l2"
