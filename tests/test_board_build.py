"""PLL settings and real builds (yosys, nextpnr and the packer from the YoWASP wheels) of the
board top-level, on a small model with the protocol's geometry so that a build takes about a
minute; the shipped model's builds are in docs/RESULTS.md (``ecg-alq build``)."""

from __future__ import annotations

import json
import re

import pytest

from ecg_alq.boards.build import (BuildFailed, _check_fit_and_timing, build,
                                  build_closing_timing)
from ecg_alq.boards.clocks import ecp5_pll, ice40_pll
from ecg_alq.boards.top import board
from ecg_alq.errors import EcgAlqError
from ecg_alq.hw.params import HwParams


def _tool(name: str, *args: str) -> str:
    import subprocess
    import sys
    from pathlib import Path

    exe = Path(sys.executable).parent / name
    return subprocess.run([str(exe), *args], capture_output=True, text=True, timeout=300,
                          cwd=Path(sys.executable).parent.parent).stdout


@pytest.mark.parametrize("fin,fout", [(12e6, 24e6), (12e6, 30e6), (12e6, 48e6), (12e6, 100e6)])
def test_ice40_pll_is_as_close_as_icepll_and_in_range(fin, fout):
    s = ice40_pll(fin, fout)
    p = s.params
    fpfd = fin / (p["DIVR"] + 1)
    assert 10e6 <= fpfd <= 133e6 and 533e6 <= fpfd * (p["DIVF"] + 1) <= 1066e6
    assert s.output_hz == fpfd * (p["DIVF"] + 1) / 2 ** p["DIVQ"]
    text = _tool("yowasp-icepll", "-i", f"{fin / 1e6:g}", "-o", f"{fout / 1e6:g}")
    theirs = float(re.search(r"F_PLLOUT:\s+([\d.]+) MHz \(achieved\)", text).group(1)) * 1e6
    assert abs(s.output_hz - fout) <= abs(theirs - fout) + 1e3
    filt = int(re.search(r"FILTER_RANGE:\s+(\d+)", text).group(1))
    if abs(theirs - s.output_hz) < 1e3 and int(re.search(r"DIVR:\s+(\d+)", text).group(1)) \
            == p["DIVR"]:
        assert p["FILTER_RANGE"] == filt  # same phase detector frequency, same filter


@pytest.mark.parametrize("fin,fout", [(25e6, 50e6), (25e6, 62.5e6), (25e6, 100e6)])
def test_ecp5_pll_is_as_close_as_ecppll_and_in_range(fin, fout, tmp_path):
    import re

    s = ecp5_pll(fin, fout)
    p = s.params
    assert s.output_hz == fin * p["CLKFB_DIV"] / p["CLKI_DIV"]
    assert 400e6 <= s.output_hz * p["CLKOP_DIV"] <= 800e6
    text = _tool("yowasp-ecppll", "-i", f"{fin / 1e6:g}", "-o", f"{fout / 1e6:g}")
    theirs = float(re.search(r"clkout0 frequency: ([\d.]+) MHz", text).group(1)) * 1e6
    assert abs(s.output_hz - fout) <= abs(theirs - fout) + 1e3


def test_impossible_clocks_are_refused():
    with pytest.raises(EcgAlqError, match="iCE40 PLL makes 16..275 MHz, not 1000.000 MHz"):
        ice40_pll(12e6, 1000e6)
    with pytest.raises(EcgAlqError, match="iCE40 PLL makes 16..275 MHz, not 10.000 MHz"):
        ice40_pll(12e6, 10e6)
    with pytest.raises(EcgAlqError, match="ECP5 PLL makes 3.125..400 MHz, not 700.000 MHz"):
        ecp5_pll(25e6, 700e6)


@pytest.mark.slow
def test_icebreaker_build_with_pll_fits_and_reports(small_model, tmp_path):
    """Booting from the flash too: the flash image holds the bitstream, erased bytes up to
    the boot offset, then the boot record (model id, sign rows, CRC)."""
    from ecg_alq.boards.flash_loader import boot_header, boot_record
    from ecg_alq.boards.protocol import model_id
    from ecg_alq.hw.layout import Layout
    from ecg_alq.intmodel import load

    params = HwParams(pe=2, simd=4, memory="spram")
    s = build("icebreaker", small_model, params, tmp_path, clock_mhz=18, boot_offset=0x100000)
    image = (tmp_path / "ecg_alq_flash.bin").read_bytes()
    bitstream = (tmp_path / "ecg_alq.bin").read_bytes()
    layout = Layout.of(load(small_model), params)
    rows = boot_record(layout.sign_rows(), 1,
                       boot_header(model_id(small_model), 2, 4, layout.sign_depth))
    assert s["flash_image"] == str(tmp_path / "ecg_alq_flash.bin")
    assert image == bitstream + b"\xff" * (0x100000 - len(bitstream)) + rows
    assert s["clock_mhz"] == 18.0 and s["pll"]["DIVQ"] >= 1
    assert s["resources"]["ICESTORM_SPRAM"]["used"] == 2  # raw samples and sign bits
    assert (tmp_path / "ecg_alq.bin").stat().st_size > 100_000
    used = s["resources"]
    assert 0 < used["ICESTORM_LC"]["used"] <= used["ICESTORM_LC"]["available"]
    assert used["ICESTORM_PLL"]["used"] == 1 and s["fmax_mhz"] >= 18.0
    assert s["latency_ms"] == pytest.approx(s["cycles_per_inference"] / 18e3)
    mm = s["model_memory"]  # the chip's bits of the model beside the honest count
    assert mm["deployed_bits"] == sum(mm["deployed_by_kind"].values()) > 0
    assert mm["ratio"] == pytest.approx(mm["deployed_bits"] / mm["honest_bits"])


@pytest.mark.slow
def test_a_relaxed_clock_is_one_the_pll_can_make():
    """The ULX3S PLL cannot make 73 to 74 MHz from 25 MHz within 1 %: relaxing to 74.3 MHz
    gives the next makeable step below; the iCEBreaker's oscillator frequency is its own."""
    from ecg_alq.boards.build import makeable_clock_mhz
    from ecg_alq.boards.top import board, clock_setting

    assert makeable_clock_mhz("ulx3s", 74.3) == 72.5
    for mhz in (73.0, 73.5, 74.0):
        with pytest.raises(EcgAlqError, match="cannot make"):
            clock_setting(board("ulx3s"), mhz * 1e6)
    assert makeable_clock_mhz("icebreaker", 12.2) == 12.0


def test_a_build_that_misses_timing_says_so_and_can_be_relaxed_below_its_fmax(small_model,
                                                                            tmp_path):
    """Two placements miss 200 MHz, each says so with its Fmax, and the build is made again
    at a clock below the best Fmax. The error a miss raises (what ``relax=False`` passes on)
    names the Fmax and the clock."""
    lines = []
    s = build_closing_timing("ulx3s", small_model, HwParams(pe=1, simd=2), tmp_path,
                             clock_mhz=200, seeds=(1, 2), log=lines.append)
    assert [a["seed"] for a in s["attempts"]] == [1, 2]  # no placement reaches 200 MHz
    best = max(s["attempts"], key=lambda a: a["fmax_mhz"])
    assert s["clock_relaxed"] and s["requested_clock_mhz"] == 200 and s["seed"] == best["seed"]
    assert s["clock_mhz"] <= 0.98 * best["fmax_mhz"] and s["fmax_mhz"] >= s["clock_mhz"]
    assert lines[0] == "  seed 1: synthesis, placement and routing at 200 MHz ..."
    assert re.fullmatch(r"  seed 1: Fmax [\d.]+ MHz < 200.0 MHz", lines[1])
    assert "building again at" in lines[-1]
    assert json.loads((tmp_path / "report.json").read_text())["clock_relaxed"]
    missed = dict(s, clock_mhz=200.0, fmax_mhz=s["attempts"][0]["fmax_mhz"])
    with pytest.raises(BuildFailed, match=r"misses timing: Fmax [\d.]+ MHz < 200.0 MHz") as exc:
        _check_fit_and_timing("ulx3s", board("ulx3s"), missed, tmp_path)
    assert exc.value.fits


def test_without_relax_the_last_missed_clock_is_raised(small_model, tmp_path, monkeypatch):
    """``relax=False``: every seed is tried, then the last miss is raised as it was (the
    placements are stood in for: a real miss is built above)."""
    from ecg_alq.boards import build as B

    tried = []

    def missing(board_name, model_path, params, out, clock_mhz=None, seed=1, **_):
        tried.append(seed)
        raise BuildFailed(f"miss {seed}", fits=True,
                          report={"clock_mhz": clock_mhz, "fmax_mhz": 50.0 + seed, "seconds": 1})
    monkeypatch.setattr(B, "build", missing)
    with pytest.raises(BuildFailed, match="miss 3"):
        build_closing_timing("ulx3s", small_model, HwParams(), tmp_path, clock_mhz=200,
                             seeds=(1, 2, 3), relax=False, log=lambda *_: None)
    assert tried == [1, 2, 3]


def test_spram_style_needs_an_ice40(small_model, tmp_path):
    with pytest.raises(BuildFailed, match="memory style 'spram' needs an iCE40UP5K"):
        build("ulx3s", small_model, HwParams(pe=2, simd=4, memory="spram"), tmp_path)


def test_a_model_too_big_for_the_block_ram_is_refused_before_synthesis(tmp_path):
    """The shipped model at pe 4 x simd 8 needs more block RAM than the iCE40UP5K has: the build
    says so at once, with the numbers, instead of running yosys first."""
    from ecg_alq.intmodel.shipped import default_model_path

    with pytest.raises(BuildFailed, match=r"does not fit iCE40UP5K-SG48: its memories need at "
                                          r"least \d+ block RAMs, the device has 30 \(") as exc:
        build("icebreaker", default_model_path(), HwParams(), tmp_path)
    assert not exc.value.fits and "sign_bits" in str(exc.value)
    assert not (tmp_path / "ecg_alq.il").exists()
