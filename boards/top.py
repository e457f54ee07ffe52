"""Board top-levels: the link (:class:`ecg_alq.boards.link.LinkTop`) on a real board's pins.

:data:`BOARDS` names the supported boards and what a top-level needs of each: the
``amaranth-boards`` platform, the oscillator, the LEDs. Every top-level runs the link on the
board oscillator's clock domain, takes the USB serial port's ``rx``/``tx`` pins and shows the
accelerator's state on LEDs: ``busy`` on the first, then the class id of the last fragment in
binary (5 LEDs, 1..17), and on the ULX3S an error LED for the last request's status.
"""

from __future__ import annotations

from dataclasses import dataclass

from amaranth import Elaboratable, Module

from ecg_alq.boards.link import LinkTop
from ecg_alq.boards.protocol import OK
from ecg_alq.errors import EcgAlqError
from ecg_alq.hw.params import HwParams
from ecg_alq.intmodel.spec import IntModel


@dataclass(frozen=True)
class Board:
    name: str
    device: str
    oscillator_hz: int
    busy_led: int  #: index of the ``led`` resource that shows busy
    class_leds: tuple[int, ...]  #: ``led`` resources of the class id, least significant first
    error_led: int | None

    def platform(self):
        if self.name == "icebreaker":
            from amaranth_boards.icebreaker import ICEBreakerPlatform

            return ICEBreakerPlatform()
        from amaranth_boards.ulx3s import ULX3S_85F_Platform

        return ULX3S_85F_Platform()


BOARDS = {
    # iCEBreaker: LEDs 0, 1 on the board (red, green), 2..6 on the PMOD2 snap-off
    "icebreaker": Board("icebreaker", "iCE40UP5K-SG48", 12_000_000, 0, (2, 3, 4, 5, 6), None),
    "ulx3s": Board("ulx3s", "LFE5U-85F", 25_000_000, 0, (1, 2, 3, 4, 5), 7),
}


def board(name: str) -> Board:
    if name not in BOARDS:
        raise EcgAlqError(f"unknown board {name!r}; known: {', '.join(BOARDS)}")
    return BOARDS[name]


class BoardTop(Elaboratable):
    """The link on ``spec``'s pins, clocked by its oscillator."""

    def __init__(self, spec: Board, model: IntModel, params: HwParams, baud: int,
                 timeout_s: float = 0.1, model_id: int = 0):
        self.spec = spec
        self.link = LinkTop(model, params, spec.oscillator_hz, baud,
                            max(1, int(timeout_s * spec.oscillator_hz)), model_id)

    def elaborate(self, platform):
        m = Module()
        m.submodules.link = link = self.link
        uart = platform.request("uart", 0)
        m.d.comb += [link.rx.eq(uart.rx.i), uart.tx.o.eq(link.tx)]
        m.d.comb += platform.request("led", self.spec.busy_led).o.eq(link.busy)
        for bit, index in enumerate(self.spec.class_leds):
            m.d.comb += platform.request("led", index).o.eq(link.last_class[bit])
        if self.spec.error_led is not None:
            m.d.comb += platform.request("led", self.spec.error_led).o.eq(link.status != OK)
        return m
