"""PLL settings and real builds (yosys, nextpnr and the packer from the YoWASP wheels) of the
board top-level, on a small model with the protocol's geometry so that a build takes about a
minute; the shipped model's builds are in docs/RESULTS.md (``ecg-alq build``)."""

from __future__ import annotations

import pytest

from ecg_alq.boards.build import BuildFailed, build
from ecg_alq.boards.clocks import ecp5_pll, ice40_pll
from ecg_alq.errors import EcgAlqError
from ecg_alq.hw.params import HwParams
from ecg_alq.intmodel import save
from ecg_alq.intmodel.synthetic import conv, dense, random_model


@pytest.mark.parametrize("fin,fout", [(12e6, 24e6), (12e6, 30e6), (12e6, 48e6)])
def test_ice40_pll_settings_are_in_range(fin, fout):
    s = ice40_pll(fin, fout)
    p = s.params
    fpfd = fin / (p["DIVR"] + 1)
    assert 10e6 <= fpfd <= 133e6 and 533e6 <= fpfd * (p["DIVF"] + 1) <= 1066e6
    assert s.output_hz == fpfd * (p["DIVF"] + 1) / 2 ** p["DIVQ"]
    assert abs(s.output_hz - fout) <= 0.01 * fout


@pytest.mark.parametrize("fin,fout", [(25e6, 50e6), (25e6, 62.5e6), (25e6, 100e6)])
def test_ecp5_pll_settings_are_in_range(fin, fout):
    s = ecp5_pll(fin, fout)
    p = s.params
    assert s.output_hz == fin * p["CLKFB_DIV"] / p["CLKI_DIV"]
    assert 400e6 <= s.output_hz * p["CLKOP_DIV"] <= 800e6
    assert abs(s.output_hz - fout) <= 0.01 * fout


def test_impossible_clocks_are_refused():
    with pytest.raises(EcgAlqError, match="iCE40 PLL cannot make 1000.000 MHz"):
        ice40_pll(12e6, 1000e6)
    with pytest.raises(EcgAlqError, match="ECP5 PLL cannot make 0.500 MHz"):
        ecp5_pll(25e6, 0.5e6)


@pytest.fixture(scope="module")
def small_model(tmp_path_factory):
    """A 17-class model of 3600-sample fragments, small enough to build in a minute."""
    model = random_model([conv(4, 16, stride=8, padding=4, pool_kernel=8, pool_stride=8),
                          conv(4, 5, stride=2, padding=2, pool_kernel=4, pool_stride=4),
                          dense(17)], input_length=3600, seed=3)
    path = tmp_path_factory.mktemp("small") / "small.npz"
    save(model, path)
    return path


@pytest.mark.slow
def test_icebreaker_build_with_pll_fits_and_reports(small_model, tmp_path):
    s = build("icebreaker", small_model, HwParams(pe=2, simd=4), tmp_path, clock_mhz=18)
    assert s["clock_mhz"] == 18.0 and s["pll"]["DIVQ"] >= 1
    assert (tmp_path / "ecg_alq.bin").stat().st_size > 100_000
    used = s["resources"]
    assert 0 < used["ICESTORM_LC"]["used"] <= used["ICESTORM_LC"]["available"]
    assert used["ICESTORM_PLL"]["used"] == 1 and s["fmax_mhz"] >= 18.0
    assert s["latency_ms"] == pytest.approx(s["cycles_per_inference"] / 18e3)


@pytest.mark.slow
def test_a_build_that_misses_timing_says_so(small_model, tmp_path):
    with pytest.raises(BuildFailed, match=r"misses timing: Fmax [\d.]+ MHz < 200.0 MHz"):
        build("ulx3s", small_model, HwParams(pe=2, simd=4), tmp_path, clock_mhz=200)
    assert (tmp_path / "report.json").exists()


def test_a_model_too_big_for_the_block_ram_is_refused_before_synthesis(tmp_path):
    """The shipped model at pe 4 x simd 8 needs more block RAM than the iCE40UP5K has: the build
    says so at once, with the numbers, instead of running yosys first."""
    from ecg_alq.intmodel.shipped import default_model_path

    with pytest.raises(BuildFailed, match=r"does not fit iCE40UP5K-SG48: its memories need at "
                                          r"least \d+ block RAMs, the device has 30 \(") as exc:
        build("icebreaker", default_model_path(), HwParams(), tmp_path)
    assert not exc.value.fits and "sign_bits" in str(exc.value)
    assert not (tmp_path / "ecg_alq.il").exists()
