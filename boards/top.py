"""Board top-levels: the link (:class:`ecg_alq.boards.link.LinkTop`) on a real board's pins.

:data:`BOARDS` names the supported boards and what a top-level needs of each: the
``amaranth-boards`` platform, the oscillator, the LEDs. Every top-level runs the link on the
board oscillator's clock domain, takes the USB serial port's ``rx``/``tx`` pins and shows the
accelerator's state on LEDs (a PLL makes another clock when asked, :mod:`ecg_alq.boards.clocks`): ``busy`` on the first, then the class id of the last fragment in
binary (5 LEDs, 1..17), and on the ULX3S an error LED for the last request's status.
"""

from __future__ import annotations

from dataclasses import dataclass

from amaranth import ClockDomain, Elaboratable, Module
from amaranth.lib import io

from ecg_alq.boards.clocks import PllClockDomain, PllSetting, ecp5_pll, ice40_pll
from ecg_alq.boards.link import LinkTop
from ecg_alq.boards.protocol import OK
from ecg_alq.errors import EcgAlqError
from ecg_alq.hw.params import HwParams
from ecg_alq.intmodel.spec import IntModel


@dataclass(frozen=True)
class Board:
    name: str
    device: str
    family: str  #: "ice40" or "ecp5" (which PLL)
    oscillator: str  #: the oscillator's resource name
    oscillator_hz: int
    busy_led: int  #: index of the ``led`` resource that shows busy
    class_leds: tuple[int, ...]  #: ``led`` resources of the class id, least significant first
    error_led: int | None
    logic_cells: int  #: LUT4s / logic cells of the FPGA
    ram_blocks: int  #: block RAMs (iCE40 4 Kbit EBR, ECP5 18 Kbit DP16KD)
    default_clock_mhz: float  #: what ``ecg-alq build`` and ``ecg-alq dse`` use unless told
    default_params: HwParams  #: what ``ecg-alq build`` uses unless told

    def platform(self):
        if self.name == "icebreaker":
            from amaranth_boards.icebreaker import ICEBreakerPlatform

            platform = ICEBreakerPlatform()
            platform.add_resources(platform.break_off_pmod)  # the snap-off's 5 LEDs
            return platform
        from amaranth_boards.ulx3s import ULX3S_85F_Platform

        return ULX3S_85F_Platform()


BOARDS = {
    # iCEBreaker: LEDs 0, 1 on the board (red, green), 2..6 on the PMOD2 snap-off
    "icebreaker": Board("icebreaker", "iCE40UP5K-SG48", "ice40", "clk12", 12_000_000, 0,
                        (2, 3, 4, 5, 6), None, logic_cells=5280, ram_blocks=30,
                        default_clock_mhz=30.0,
                        default_params=HwParams(pe=2, simd=8, memory="spram")),
    "ulx3s": Board("ulx3s", "LFE5U-85F", "ecp5", "clk25", 25_000_000, 0, (1, 2, 3, 4, 5), 7,
                   logic_cells=83640, ram_blocks=208, default_clock_mhz=50.0,
                   default_params=HwParams(pe=4, simd=8)),
}


def board(name: str) -> Board:
    if name not in BOARDS:
        raise EcgAlqError(f"unknown board {name!r}; known: {', '.join(BOARDS)}")
    return BOARDS[name]


def clock_setting(spec: Board, clock_hz: float | None) -> PllSetting | None:
    """None for the oscillator's own frequency, else the PLL setting for ``clock_hz``."""
    if clock_hz is not None and clock_hz <= 0:
        raise EcgAlqError(f"the clock must be positive, got {clock_hz / 1e6:g} MHz")
    if clock_hz is None or clock_hz == spec.oscillator_hz:
        return None
    search = ice40_pll if spec.family == "ice40" else ecp5_pll
    return search(spec.oscillator_hz, clock_hz)


class BoardTop(Elaboratable):
    """The link on ``spec``'s pins, clocked by its oscillator or, for ``clock_hz``, a PLL."""

    def __init__(self, spec: Board, model: IntModel, params: HwParams, baud: int,
                 clock_hz: float | None = None, timeout_s: float = 0.1, model_id: int = 0,
                 boot_offset: int | None = None):
        """``boot_offset``: read the sign rows from the configuration flash at this byte offset
        after power-up (memory style "spram"; :mod:`ecg_alq.boards.flash_loader`)."""
        self.spec = spec
        self.pll = clock_setting(spec, clock_hz)
        self.clock_hz = self.pll.output_hz if self.pll else spec.oscillator_hz
        hz = int(round(self.clock_hz))
        # the flash's wake-up time (3 us) in cycles of this clock
        wake = max(1, int(3e-6 * hz) + 1)
        self.link = LinkTop(model, params, hz, baud, max(1, int(timeout_s * hz)), model_id,
                            boot_offset=boot_offset, boot_wake_cycles=wake)

    def elaborate(self, platform):
        m = Module()
        if self.pll is not None:
            m.domains.sync = cd_sync = ClockDomain("sync")
            m.submodules.clocks = PllClockDomain(self.spec.oscillator, self.pll, cd_sync)
        m.submodules.link = link = self.link
        uart = platform.request("uart", 0, dir="-")
        m.submodules.rx = rx = io.Buffer("i", uart.rx)
        m.submodules.tx = tx = io.Buffer("o", uart.tx)
        m.d.comb += [link.rx.eq(rx.i), tx.o.eq(link.tx)]
        if link.loader:
            self._flash_pins(m, platform, link)
        leds = [(self.spec.busy_led, link.busy | (link.booting if link.loader else 0))]
        leds += [(index, link.last_class[bit]) for bit, index in enumerate(self.spec.class_leds)]
        if self.spec.error_led is not None:
            leds.append((self.spec.error_led, link.status != OK))
        for index, value in leds:
            buf = io.Buffer("o", platform.request("led", index, dir="-"))
            m.submodules[f"led{index}"] = buf
            m.d.comb += buf.o.eq(value)
        return m

    @staticmethod
    def _flash_pins(m: Module, platform, link: LinkTop) -> None:
        """The configuration flash's SPI pins (``spi_flash_1x``; its chip select, write-protect
        and hold are active low on the pins, active high here) to the link's flash loader."""
        flash = platform.request("spi_flash_1x", 0, dir="-")
        pins = {"cs": ~link.flash_cs_n, "clk": link.flash_sck, "copi": link.flash_copi}
        if hasattr(flash, "wp"):
            pins |= {"wp": 0, "hold": 0}
        for name, value in pins.items():
            buf = m.submodules[f"flash_{name}"] = io.Buffer("o", getattr(flash, name))
            m.d.comb += buf.o.eq(value)
        cipo = m.submodules.flash_cipo = io.Buffer("i", flash.cipo)
        m.d.comb += link.flash_cipo.eq(cipo.i)
