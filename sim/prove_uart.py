"""Proof that the UART transmitter and receiver round-trip every byte (``boards/uart.py``): the
transmitter's line drives the receiver's; the bytes offered to the transmitter are free, and so
is when they are offered. Asserted for every such sequence, by bounded model checking from
reset over ``bytes_`` back-to-back bytes:

* the receiver delivers exactly the bytes the transmitter took, in order, never a framing error;
* each byte arrives within ``10 * divisor + 3`` cycles of being taken (ten bit times, the
  receiver's two synchronising flip-flops and its output cycle) and before the next is taken.
"""

from __future__ import annotations

from amaranth import Signal
from amaranth.hdl import Assert, Fragment

from ecg_alq.boards.uart import UartRx, UartTx
from ecg_alq.sim.formal import Harness, Proof


def uart_proof(divisor: int, bytes_: int = 2) -> Proof:
    h = Harness(cycle_bits=10)
    m = h.m
    tx, rx = UartTx(divisor), UartRx(divisor)
    m.submodules.tx, m.submodules.rx = Fragment.get(tx, None), Fragment.get(rx, None)
    h.free(tx.data, tx.valid)
    m.d.comb += rx.rx.eq(tx.tx)
    pending, byte = Signal(), Signal(8)  # a byte taken and not yet delivered, and its value
    age = Signal(range(16 * divisor))  # cycles since it was taken
    bound = 10 * divisor + 3
    taken = tx.valid & tx.ready
    m.d.comb += Assert(~rx.error)
    with m.If(rx.valid):
        m.d.comb += [Assert(pending), Assert(rx.data == byte)]
        m.d.sync += pending.eq(0)
    with m.If(taken):
        m.d.comb += Assert(~pending | rx.valid)  # the last one arrived before the next leaves
        m.d.sync += [pending.eq(1), byte.eq(tx.data), age.eq(0)]
    with m.Elif(pending):
        m.d.sync += age.eq(age + 1)
        m.d.comb += Assert(age < bound)
    depth = bytes_ * (bound + 2)
    return Proof(f"uart_d{divisor}", m, "bmc", depth,
                 f"UART at {divisor} cycles per bit: every byte taken by the transmitter is "
                 f"delivered by the receiver, unchanged, in order, within {bound} cycles, "
                 f"without framing errors (BMC, {depth} cycles from reset: {bytes_} bytes)")
