"""Gate-level simulation (``sim/netlist.py``): the accelerator as yosys synthesizes it for the
iCEBreaker's iCE40 (LUTs, carries, flip-flops, block RAM, SPRAM, DSP) simulated with yosys' cell
models against the golden model and the cycle model; the ECP5 multiplier model this project adds;
a netlist with a cell that has no model is refused."""


import pytest

from ecg_alq.errors import EcgAlqError
from ecg_alq.hw.params import HwParams
from ecg_alq.intmodel.synthetic import conv, dense, random_fragments, random_model
from ecg_alq.sim.netlist import CELLS, check_modelled
from ecg_alq.sim.network import simulate


def test_ice40_netlist_of_a_small_model_is_bit_exact(tmp_path):
    """pe 3 x simd 4 with sign bits in SPRAM (loaded through the port), the other memories in
    block RAM, alpha products on the DSP: logits, class and cycles as the golden and cycle
    models (the testbench asserts them)."""
    model = random_model([conv(4, 5, stride=2, padding=2, pool_kernel=2, pool_stride=2),
                          conv(3, 3, padding=1), dense(5)], input_length=40, seed=2)
    x = random_fragments(2, 40, seed=1)
    result = simulate(model, HwParams(pe=3, simd=4, memory="spram"), x, tmp_path, netlist="ice40",
                      optimize=False)  # a short run: the unoptimized build is much quicker
    assert len(result["fragments"]) == 2
    cells = (tmp_path / "netlist" / "netlist.v").read_text()
    assert all(f"\n  {c} " in cells
               for c in ("SB_SPRAM256KA", "SB_RAM40_4K", "SB_MAC16", "SB_LUT4"))


def test_a_netlist_with_an_unmodelled_cell_is_refused(tmp_path):
    """A cell the libraries hold only as a blackbox (an iCE40 oscillator here) is named."""
    from ecg_alq.sim.netlist import cell_models

    netlist = tmp_path / "netlist.v"
    netlist.write_text("module accel(clk);\n  input clk;\n  SB_HFOSC #(\n  ) osc (\n  );\n"
                       "  SB_LUT4 #(\n  ) lut (\n  );\nendmodule\n")
    libraries = cell_models("ice40", tmp_path / "lib")["libraries"]
    with pytest.raises(EcgAlqError, match=r"uses SB_HFOSC, of which the cell models hold only"):
        check_modelled(netlist, libraries)
    netlist.write_text(netlist.read_text().replace("SB_HFOSC", "SB_LUT4"))
    check_modelled(netlist, libraries)  # modelled cells only: nothing to refuse


def test_our_cell_models_replace_yosys_blackboxes(tmp_path):
    """The ECP5 library: yosys' blackbox of DP16KD (and its attribute) is cut from its
    cells_sim.v (MULT18X18D is not in it at all), every other module stays, ours follow."""
    from ecg_alq.sim.netlist import cell_models, yosys_share

    lib = cell_models("ecp5", tmp_path)
    original = (yosys_share() / "ecp5" / "cells_sim.v").read_text()
    text = lib["libraries"][0].read_text()
    assert "module DP16KD(" in original and "module DP16KD(" not in text
    assert text.count("\nmodule ") == original.count("\nmodule ") - 1
    assert original.count("(* blackbox *)") - text.count("(* blackbox *)") == 1
    assert [p.name for p in lib["libraries"][1:]] == ["ecp5_mult18x18d.v", "ecp5_dp16kd.v"]


@pytest.mark.parametrize("signed", [(1, 1), (0, 0), (1, 0)])
def test_the_ecp5_multiplier_model_multiplies(tmp_path, signed):
    """``sim/cells/ecp5_mult18x18d.v`` against Python integers: both ends of the range, each
    operand signed or not, as SIGNEDA / SIGNEDB say."""
    from ecg_alq.sim.runner import run

    run(None, "MULT18X18D", "tb_cells", tmp_path, {"signed": list(signed), "seed": sum(signed)},
        verilog_path=CELLS / "ecp5_mult18x18d.v")
