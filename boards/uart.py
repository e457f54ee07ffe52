"""8N1 UART receiver and transmitter (one start bit, 8 data bits LSB first, one stop bit).

``divisor`` is clock cycles per bit (``clock_hz // baud``; at least 4). The receiver
synchronises the line through two flip-flops, finds the falling edge of a start bit, checks the
start bit again half a bit later and then samples every bit in its middle; a missing stop bit is
a framing error (the byte is dropped, ``error`` pulses). Ports::

    UartRx:  rx In 1 (the line, idle high) -> data Out 8, valid Out 1 (one cycle per byte),
             error Out 1 (one cycle per framing error)
    UartTx:  data In 8, valid In 1, ready Out 1 (a byte is taken when valid & ready)
             -> tx Out 1 (idle high)
"""

from __future__ import annotations

from amaranth import Cat, Module, Signal
from amaranth.lib.wiring import In, Out

from ecg_alq.hw.params import Checked, must_be_positive, reject

MIN_DIVISOR = 4


class _Uart(Checked):
    @classmethod
    def check(cls, divisor):
        must_be_positive(divisor=divisor)
        if divisor < MIN_DIVISOR:
            reject(f"divisor (clock cycles per UART bit) must be at least {MIN_DIVISOR}, "
                   f"got {divisor}: lower the baud rate or raise the clock")


class UartRx(_Uart):

    def __init__(self, divisor: int):
        self.divisor = divisor
        super().__init__({"rx": In(1, init=1), "data": Out(8), "valid": Out(1),
                          "error": Out(1)})

    def elaborate(self, platform):
        m = Module()
        line = Signal(init=1)
        sync1 = Signal(init=1)
        m.d.sync += [sync1.eq(self.rx), line.eq(sync1)]
        timer = Signal(range(self.divisor))
        bit = Signal(range(9))
        shift = Signal(8)
        with m.FSM():
            with m.State("IDLE"):
                with m.If(~line):
                    m.d.sync += timer.eq(self.divisor // 2 - 1)
                    m.next = "START"
            with m.State("START"):
                with m.If(timer != 0):
                    m.d.sync += timer.eq(timer - 1)
                with m.Elif(~line):  # still low in the middle of the start bit
                    m.d.sync += [timer.eq(self.divisor - 1), bit.eq(0)]
                    m.next = "DATA"
                with m.Else():  # a glitch
                    m.next = "IDLE"
            with m.State("DATA"):
                with m.If(timer != 0):
                    m.d.sync += timer.eq(timer - 1)
                with m.Else():
                    m.d.sync += [shift.eq(Cat(shift[1:], line)), timer.eq(self.divisor - 1)]
                    with m.If(bit == 7):
                        m.next = "STOP"
                    with m.Else():
                        m.d.sync += bit.eq(bit + 1)
            with m.State("STOP"):
                with m.If(timer != 0):
                    m.d.sync += timer.eq(timer - 1)
                with m.Else():
                    with m.If(line):
                        m.d.comb += self.valid.eq(1)
                    with m.Else():
                        m.d.comb += self.error.eq(1)
                    m.next = "WAIT_HIGH"
            with m.State("WAIT_HIGH"):  # after a framing error the line may still be low
                with m.If(line):
                    m.next = "IDLE"
        m.d.comb += self.data.eq(shift)
        return m


class UartTx(_Uart):

    def __init__(self, divisor: int):
        self.divisor = divisor
        super().__init__({"data": In(8), "valid": In(1), "ready": Out(1),
                          "tx": Out(1, init=1)})

    def elaborate(self, platform):
        m = Module()
        timer = Signal(range(self.divisor))
        bits = Signal(range(11))
        frame = Signal(10, init=0x3FF)  # start, 8 data, stop; shifted out LSB first
        m.d.comb += [self.tx.eq(frame[0]), self.ready.eq(bits == 0)]
        with m.If(bits == 0):
            with m.If(self.valid):
                m.d.sync += [frame.eq(Cat(0, self.data, 1)), bits.eq(10),
                             timer.eq(self.divisor - 1)]
        with m.Elif(timer != 0):
            m.d.sync += timer.eq(timer - 1)
        with m.Else():
            m.d.sync += [frame.eq(Cat(frame[1:], 1)), bits.eq(bits - 1),
                         timer.eq(self.divisor - 1)]
        return m
