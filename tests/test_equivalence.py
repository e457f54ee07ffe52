"""Equivalence of synthesis (``sim/equivalence.py``): yosys proves each unit's iCE40 and ECP5
synthesis equal to its RTL; the units it cannot prove stay listed with the reason; a wrong cell
model makes the check fail."""

from __future__ import annotations

import pytest

from ecg_alq.sim.equivalence import UNITS, UNPROVEN, NotEquivalent, check, mutated_lut_models

POINTS = [(u, f) for f in ("ice40", "ecp5") for u in UNITS]
SLOW = {("lane-dsp", "ice40")}  # the DSP's model in the SAT problem: about a minute


def _marks(point):
    return [pytest.mark.slow] if point in SLOW else []


@pytest.mark.parametrize("unit,family", [pytest.param(*p, marks=_marks(p), id=f"{p[0]}-{p[1]}")
                                         for p in POINTS if p not in UNPROVEN])
def test_synthesis_is_equivalent_to_the_rtl(unit, family, tmp_path):
    result = check(unit, family, tmp_path)
    assert result["points"] > 10, result  # registers and outputs matched and proven


@pytest.mark.parametrize("unit,family", list(UNPROVEN), ids=lambda v: v)
def test_the_units_listed_unproven_are_still_unproven(unit, family, tmp_path):
    """If a yosys update proves one of these, the list (and docs/hardware.md) must change."""
    with pytest.raises(NotEquivalent, match="unproven"):
        check(unit, family, tmp_path)


def test_a_wrong_lut_model_is_caught(tmp_path):
    """The netlist read back with an iCE40 LUT model that picks the wrong half of its table."""
    cells = mutated_lut_models(tmp_path / "cells_sim.v")
    with pytest.raises(NotEquivalent, match="unproven"):
        check("fetch", "ice40", tmp_path, cells=cells)


def test_unknown_units_and_families_are_named(tmp_path):
    from ecg_alq.errors import EcgAlqError

    with pytest.raises(EcgAlqError, match="unknown unit 'adder'; known: lane-dsp"):
        check("adder", "ice40", tmp_path)
    with pytest.raises(EcgAlqError, match="unknown FPGA family 'gowin'"):
        check("fetch", "gowin", tmp_path)
