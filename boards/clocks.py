"""Clocks for board top-levels: the board oscillator as it is, or a PLL to another frequency.

:func:`ice40_pll` and :func:`ecp5_pll` search the PLL dividers for the frequency closest to
the request within the datasheet ranges (iCE40: phase detector 10..133 MHz, VCO 533..1066 MHz,
DIVR 0..15, DIVF 0..127, DIVQ 1..6, output 16..275 MHz; ECP5 EHXPLLL: phase detector
3.125..400 MHz, VCO 400..800 MHz, CLKI_DIV and CLKOP_DIV 1..128, CLKFB_DIV 1..80, output
3.125..400 MHz), like icepll and ecppll (``tests/test_board_build.py`` compares with them). :class:`PllClockDomain` makes the ``sync`` domain of a top-level from the
oscillator pin through the PLL, held in reset until the PLL locks.
"""

from __future__ import annotations

from dataclasses import dataclass

from amaranth import ClockDomain, Elaboratable, Instance, Module, Signal
from amaranth.lib import io
from amaranth.lib.cdc import ResetSynchronizer

from ecg_alq.errors import EcgAlqError

TOLERANCE = 0.01  #: a PLL output may differ from the request by at most this fraction


@dataclass(frozen=True)
class PllSetting:
    family: str  #: "ice40" or "ecp5"
    input_hz: float
    output_hz: float  #: what the dividers give
    params: dict  #: the primitive's parameters


OUTPUT_MHZ = {"iCE40": (16.0, 275.0), "ECP5": (3.125, 400.0)}


def _checked(best, family, fin, fout):
    lo, hi = OUTPUT_MHZ[family]
    if not lo * 1e6 <= fout <= hi * 1e6:
        raise EcgAlqError(f"the {family} PLL makes {lo:g}..{hi:g} MHz, not {fout / 1e6:.3f} MHz")
    if best is None or abs(best.output_hz - fout) > TOLERANCE * fout:
        got = "" if best is None else f" (closest {best.output_hz / 1e6:.3f} MHz)"
        raise EcgAlqError(f"the {family} PLL cannot make {fout / 1e6:.3f} MHz from "
                          f"{fin / 1e6:.3f} MHz within {TOLERANCE:.0%}{got}")
    return best


def ice40_pll(fin: float, fout: float) -> PllSetting:
    best = None
    for divr in range(16):
        fpfd = fin / (divr + 1)
        if not 10e6 <= fpfd <= 133e6:
            continue
        for divf in range(128):
            fvco = fpfd * (divf + 1)
            if not 533e6 <= fvco <= 1066e6:
                continue
            for divq in range(1, 7):
                f = fvco / (1 << divq)
                if best is None or abs(f - fout) < abs(best.output_hz - fout):
                    filt = next(i for i, top in enumerate((17e6, 26e6, 44e6, 66e6, 101e6, 1e12),
                                                          start=1) if fpfd < top)
                    best = PllSetting("ice40", fin, f, {"DIVR": divr, "DIVF": divf,
                                                        "DIVQ": divq, "FILTER_RANGE": filt})
    return _checked(best, "iCE40", fin, fout)


def ecp5_pll(fin: float, fout: float) -> PllSetting:
    best = None
    for clki in range(1, 129):
        fpfd = fin / clki
        if not 3.125e6 <= fpfd <= 400e6:
            continue
        for clkfb in range(1, 81):
            f = fpfd * clkfb
            fitting = [c for c in range(1, 129) if 400e6 <= f * c <= 800e6]
            if not fitting:
                continue
            clkop = min(fitting, key=lambda c: abs(f * c - 600e6))  # VCO mid-range, as ecppll
            if best is None or abs(f - fout) < abs(best.output_hz - fout):
                best = PllSetting("ecp5", fin, f, {"CLKI_DIV": clki, "CLKFB_DIV": clkfb,
                                                   "CLKOP_DIV": clkop})
    return _checked(best, "ECP5", fin, fout)


class PllClockDomain(Elaboratable):
    """Drives ``domain`` (defined by the top-level) at ``setting.output_hz`` from the board
    oscillator resource ``pin`` through the PLL, held in reset until the PLL locks. (Without a
    PLL a top-level simply uses the platform's default clock.)"""

    def __init__(self, pin: str, setting: PllSetting, domain: ClockDomain):
        self.pin, self.setting, self.domain = pin, setting, domain

    def elaborate(self, platform):
        m = Module()
        cd_sync = self.domain
        s, locked = self.setting, Signal()
        if s.family == "ice40":  # the oscillator pin feeds the PLL directly (no SB_IO)
            pad = platform.request(self.pin, 0, dir="-")
            m.submodules.pll = Instance(
                "SB_PLL40_PAD", p_FEEDBACK_PATH="SIMPLE", p_PLLOUT_SELECT="GENCLK",
                p_DIVR=s.params["DIVR"], p_DIVF=s.params["DIVF"], p_DIVQ=s.params["DIVQ"],
                p_FILTER_RANGE=s.params["FILTER_RANGE"], i_PACKAGEPIN=pad.io,
                i_RESETB=1, i_BYPASS=0, o_PLLOUTGLOBAL=cd_sync.clk, o_LOCK=locked)
        else:
            m.submodules.clk_in = clk_in = io.Buffer("i", platform.request(self.pin, 0, dir="-"))
            m.submodules.pll = Instance(
                "EHXPLLL", p_PLLRST_ENA="DISABLED", p_INTFB_WAKE="DISABLED",
                p_STDBY_ENABLE="DISABLED", p_DPHASE_SOURCE="DISABLED", p_OUTDIVIDER_MUXA="DIVA",
                p_CLKOP_ENABLE="ENABLED", p_CLKI_DIV=s.params["CLKI_DIV"],
                p_CLKOP_DIV=s.params["CLKOP_DIV"], p_CLKOP_CPHASE=s.params["CLKOP_DIV"] - 1,
                p_CLKOP_FPHASE=0, p_FEEDBK_PATH="CLKOP", p_CLKFB_DIV=s.params["CLKFB_DIV"],
                i_RST=0, i_STDBY=0, i_CLKI=clk_in.i, o_CLKOP=cd_sync.clk,
                i_CLKFB=cd_sync.clk, i_PHASESEL0=0, i_PHASESEL1=0, i_PHASEDIR=1,
                i_PHASESTEP=1, i_PHASELOADREG=1, i_PLLWAKESYNC=0, i_ENCLKOP=0, o_LOCK=locked,
                a_FREQUENCY_PIN_CLKI=f"{s.input_hz / 1e6:.6f}",
                a_FREQUENCY_PIN_CLKOP=f"{s.output_hz / 1e6:.6f}")
        m.submodules.reset = ResetSynchronizer(~locked, domain=cd_sync.name)
        # no platform.add_clock_constraint: synthesis renames the PLL's output net, so nextpnr
        # would ignore it; the build gives nextpnr the frequency as --freq instead
        return m
