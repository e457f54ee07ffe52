"""Requantization and max-pooling of one lane's channel results, and the emission of finished
pooling windows (one per lane in the accelerator).

A result ``acc`` of channel ``local`` (the channel's index among the lane's channels) at one
conv position is requantized to ``q = clamp(rshift(acc, shift[layer]), 0, 2^act_bits - 1)``
(the clamp at 0 is the ReLU; requantizing before pooling is exact, both are monotone). Each
channel keeps ``windows`` running maxima, one per pooling window that can be open at once. The
sequencer says, per position, which slot a window opens in (``open``/``open_slot``: the slot
restarts from ``q``) and which slot's window closes (``close``/``close_slot``); every other slot
takes ``max(slot, q)`` (a slot whose window has closed is restarted before it is read again).
A closing window is emitted one cycle after its result: its value and its destination element,
``row * simd + bank`` with ``(row, bank) = (base_row + ch_row, base_off + ch_off)`` carried.

Ports::

    valid        In  1                 a result this cycle
    acc          In  signed(acc_width)
    layer        In  range(layers)     selects the requantization shift (registered: it must
                                       hold for a cycle before a result of that layer)
    local        In  range(channels)
    open, close  In  1                 with open_slot, close_slot: range(windows)
    base_row     In  signed(row_width) the closing window's first element: u * out_channels
    base_off     In  range(simd)
    ch_row       In  signed(row_width) the channel's element offset: channel
    ch_off       In  range(simd)
    emit         Out 1                 one cycle after a closing result
    emit_bank    Out range(simd)
    emit_row     Out row_width
    emit_value   Out act_bits

:class:`PoolModel` is the behavioural reference of the same interface.
"""

from __future__ import annotations

from amaranth import Array, Module, Mux, Signal, signed
from amaranth.lib.memory import Memory
from amaranth.lib.wiring import In, Out

from ecg_alq.hw.params import Checked, must_be_positive, reject
from ecg_alq.intmodel.spec import rshift

EMIT_LATENCY = 1  #: cycles from a closing result (``valid``) to its ``emit``


class PoolUnit(Checked):
    @classmethod
    def check(cls, acc_width, act_bits, shifts, channels, windows, simd, row_width):
        must_be_positive(acc_width=acc_width, act_bits=act_bits, channels=channels,
                         windows=windows, simd=simd, row_width=row_width)
        if not shifts:
            reject("shifts needs one requantization shift per layer")

    def __init__(self, acc_width: int, act_bits: int, shifts: list[int], channels: int,
                 windows: int, simd: int, row_width: int):
        self.acc_width, self.act_bits, self.shifts = acc_width, act_bits, list(shifts)
        self.channels, self.windows, self.simd, self.row_width = channels, windows, simd, row_width
        super().__init__({
            "valid": In(1), "acc": In(signed(acc_width)), "layer": In(range(len(shifts))),
            "local": In(range(channels)), "open": In(1), "open_slot": In(range(windows)),
            "close": In(1), "close_slot": In(range(windows)),
            "base_row": In(signed(row_width)), "base_off": In(range(simd)),
            "ch_row": In(signed(row_width)), "ch_off": In(range(simd)),
            "emit": Out(1), "emit_bank": Out(range(simd)), "emit_row": Out(row_width),
            "emit_value": Out(act_bits),
        })

    def elaborate(self, platform):
        m = Module()
        A, W, S = self.act_bits, self.windows, self.simd
        q = self._requantize(m)
        m.submodules.state = state = Memory(shape=A * W, depth=self.channels, init=[])
        wp = state.write_port()
        rp = state.read_port(transparent_for=(wp,))
        # stage F (one cycle later): the old slots are read, updated, written back, emitted
        f_valid, f_q = Signal(), Signal(A, reset_less=True)  # f_valid, f_close keep a reset
        f_open, f_open_slot = Signal(reset_less=True), Signal(range(W), reset_less=True)
        f_close, f_close_slot = Signal(), Signal(range(W), reset_less=True)
        f_local = Signal(range(self.channels), reset_less=True)
        f_row = Signal(signed(self.row_width + 1), reset_less=True)
        f_off = Signal(range(2 * S), reset_less=True)
        m.d.comb += rp.addr.eq(self.local)
        m.d.sync += [f_valid.eq(self.valid), f_q.eq(q), f_open.eq(self.open),
                     f_open_slot.eq(self.open_slot), f_close.eq(self.close),
                     f_close_slot.eq(self.close_slot), f_local.eq(self.local),
                     f_row.eq(self.base_row + self.ch_row), f_off.eq(self.base_off + self.ch_off)]
        new = Signal(A * W)
        for j in range(W):
            old = rp.data[j * A: (j + 1) * A]
            m.d.comb += new[j * A: (j + 1) * A].eq(
                Mux(f_open & (f_open_slot == j), f_q, Mux(old > f_q, old, f_q)))
        m.d.comb += [wp.addr.eq(f_local), wp.data.eq(new), wp.en.eq(f_valid)]
        carry = f_off >= S
        m.d.comb += [self.emit.eq(f_valid & f_close),
                     self.emit_bank.eq(Mux(carry, f_off - S, f_off)),
                     self.emit_row.eq(f_row + carry),
                     self.emit_value.eq(Array(new[j * A: (j + 1) * A] for j in range(W))
                                        [f_close_slot])]
        return m


    def _requantize(self, m: Module):
        """``clamp(rshift(acc, shift[layer]), 0, 2^A - 1)`` with one rounding adder and one
        comparison against the per-layer limit (instead of a rounding adder per layer)."""
        A, acc, shifts = self.act_bits, self.acc, self.shifts
        # the layer's constants, registered (``layer`` holds still while a layer runs)
        rnd_v = Array([1 << (s - 1) if s > 0 else 0 for s in shifts])[self.layer]
        rnd = Signal.like(rnd_v)
        rounded = Signal(signed(self.acc_width + 1))
        m.d.comb += rounded.eq(acc + rnd)
        # rshift(acc, s) > 2^A - 1  <=>  acc + rnd >= 2^A << s   (for s < 0: acc << -s)
        limit_v = Array([(1 << A) << s if s >= 0 else -(-(1 << A) // (1 << -s))
                         for s in shifts])[self.layer]
        limit = Signal.like(limit_v)
        m.d.sync += [rnd.eq(rnd_v), limit.eq(limit_v)]
        high = rounded >= limit
        low = Array([rounded[s:s + A] if s >= 0 else (acc << -s)[:A] for s in shifts])[self.layer]
        return Mux(rounded < 0, 0, Mux(high, (1 << A) - 1, low))


class PoolModel:
    """Behavioural reference of :class:`PoolUnit`: ``step()`` once per cycle with the inputs;
    returns the emission of this cycle (bank, row, value) or None."""

    def __init__(self, act_bits: int, shifts: list[int], channels: int, windows: int, simd: int):
        self.act_bits, self.shifts, self.simd = act_bits, shifts, simd
        self.state = [[0] * windows for _ in range(channels)]
        self.pending = None

    def step(self, valid, acc, layer, local, open_, open_slot, close, close_slot, base_row,
             base_off, ch_row, ch_off):
        out, self.pending = self.pending, None
        if valid:
            q = min((1 << self.act_bits) - 1, max(0, int(rshift(acc, self.shifts[layer]))))
            slots = self.state[local]
            for j in range(len(slots)):
                slots[j] = q if open_ and open_slot == j else max(slots[j], q)
            if close:
                element = (base_row + ch_row) * self.simd + base_off + ch_off
                self.pending = (element % self.simd, element // self.simd, slots[close_slot])
        return out
