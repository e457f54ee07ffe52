"""The window fetch: from one chunk's position in an activation memory to the ``simd``
activations the lanes see (one per accelerator).

Activations are stored position-major (``element = position * channels + channel``) across
``simd`` banks: element ``e`` lives in bank ``e % simd``, row ``e // simd``. A chunk is ``simd``
consecutive elements of a convolution window starting at element ``element`` = ``(row, off)``
in that layout, so it spans row ``row`` of banks ``off..simd-1`` and row ``row + 1`` of banks
``0..off-1``; the unit drives every bank's read address (combinationally, in the issue cycle),
then rotates the banks' read data so that lane input ``i`` gets element ``element + i``.

Zero padding and the end of the reduction are masks, not memory: input ``i`` is forced to 0
unless ``lo <= i < hi`` with ``lo = clamp(-element, 0, simd)`` (elements before the first
position are left padding) and ``hi = min(left, clamp(avail, 0, simd))``, ``avail =
in_elements - element``
(elements past the last position are right padding; ``left`` is how much of the window's
fan-in this chunk still covers). The first layer's input (the preprocessed samples,
:mod:`ecg_alq.hw.input_stage`) is signed; ``signed_input`` says so and the words are sign-extended;
other layers' activations are unsigned.

Timing: addresses in the issue cycle (n); the memories answer in n + 1 (``data``), which is
registered as it is (block RAM outputs are slow), while the masks are computed from the
chunk's registered position; rotation and masks work on the registered words in n + 2, and
``feed`` is registered and valid in n + 3 (:data:`LATENCY`, the accelerator's ``FEED``).
``signed_input`` must hold still while a layer runs.

Ports::

    row          In  signed(row_width)    the chunk's first row (issue cycle)
    off          In  range(simd)          the chunk's first bank (issue cycle)
    element      In  signed(element_width)  the chunk's first element index (issue cycle)
    avail        In  signed(element_width)  in_elements - element (in_elements: the layer's
                                          input elements, in_length * in_channels)
    left         In  element_width        fan-in elements from this chunk to the window's end
    addr         Out array of simd x row_width   each bank's read address (issue cycle)
    data         In  array of simd x act_bits   each bank's read data (cycle n + 1)
    signed_input In  1                    the words are signed (the first layer's input)
    feed         Out array of simd x signed(act_bits + 1)   the chunk's activations (n + 3)

:class:`FetchModel` is the behavioural reference of the same interface.
"""

from __future__ import annotations

from amaranth import Module, Mux, Signal, signed, unsigned
from amaranth.lib import data
from amaranth.lib.wiring import In, Out

from ecg_alq.hw.params import Checked, must_be_positive

LATENCY = 3  #: cycles from the issue cycle to ``feed``


class WindowFetch(Checked):
    @classmethod
    def check(cls, simd, act_bits, row_width, element_width):
        must_be_positive(simd=simd, act_bits=act_bits, row_width=row_width,
                         element_width=element_width)

    def __init__(self, simd: int, act_bits: int, row_width: int, element_width: int):
        self.simd, self.act_bits = simd, act_bits
        self.row_width, self.element_width = row_width, element_width
        super().__init__({
            "row": In(signed(row_width)), "off": In(range(simd)),
            "element": In(signed(element_width)), "avail": In(signed(element_width)),
            "left": In(unsigned(element_width)),
            "addr": Out(data.ArrayLayout(unsigned(row_width), simd)),
            "data": In(data.ArrayLayout(unsigned(act_bits), simd)),
            "signed_input": In(1),
            "feed": Out(data.ArrayLayout(signed(act_bits + 1), simd)),
        })

    def elaborate(self, platform):
        m = Module()
        S = self.simd
        for b in range(S):
            # off < 2 ** len(off): for the largest b the comparison would be constant
            carry = (b < self.off) if b < (1 << len(self.off)) - 1 else 0
            m.d.comb += self.addr[b].eq(self.row + carry)
        # masks: the chunk's position registered in the issue cycle, the masks computed from it
        # in cycle n + 1 (two carry chains: kept away from the sequencer's logic)
        d_off = Signal(range(S))
        d_element = Signal.like(self.element)
        d_avail, d_left = Signal.like(self.avail), Signal.like(self.left)
        m.d.sync += [d_off.eq(self.off), d_element.eq(self.element),
                     d_avail.eq(self.avail), d_left.eq(self.left)]
        e = d_element
        lo, hi = Signal(range(S + 1)), Signal(range(S + 1))
        hi_v = Mux(d_avail < S, Mux(d_avail < 0, 0, d_avail), S)
        left_v = Mux(d_left < S, d_left, S)
        m.d.comb += [lo.eq(Mux(e < 0, Mux(-e > S, S, -e), 0)),
                     hi.eq(Mux(left_v < hi_v, left_v, hi_v))]
        # cycle n + 1: the memories' words are registered
        words = Signal.like(self.data, reset_less=True)
        e_off, e_lo, e_hi = Signal.like(d_off), Signal.like(lo), Signal.like(hi)
        m.d.sync += [words.eq(self.data), e_off.eq(d_off), e_lo.eq(lo), e_hi.eq(hi)]
        # cycle n + 2: rotate, sign-extend, mask, register
        for i in range(S):
            bank = Signal(range(2 * S), name=f"bank{i}")
            m.d.comb += bank.eq(Mux(e_off + i >= S, e_off + i - S, e_off + i))
            x = words[bank]
            value = Mux(self.signed_input, x.as_signed(), x)
            m.d.sync += self.feed[i].eq(Mux((i >= e_lo) & (i < e_hi), value, 0))
        return m


class FetchModel:
    """Behavioural reference of :class:`WindowFetch`.

    ``addresses(row, off)`` gives the issue cycle's bank addresses; ``step(...)`` is called once
    per cycle with that cycle's inputs and returns ``feed`` as it reads in that cycle (the
    result of the issue :data:`LATENCY` cycles earlier, with the data of the cycle after it).
    """

    def __init__(self, simd: int, act_bits: int):
        self.simd, self.act_bits = simd, act_bits
        self.issued = None  # (off, lo, hi) of the previous cycle
        self.fetched = None  # (off, lo, hi, data) registered in the previous cycle
        self.feed = [0] * simd

    def addresses(self, row: int, off: int) -> list[int]:
        return [row + (b < off) for b in range(self.simd)]

    def masks(self, element: int, in_elements: int, left: int) -> tuple[int, int]:
        S = self.simd
        lo = min(S, max(0, -element))
        hi = min(left, min(S, max(0, in_elements - element)))
        return lo, hi

    def step(self, off, element, in_elements, left, data_, signed_input) -> list[int]:
        out = self.feed
        if self.fetched is not None:
            d_off, lo, hi, data_q = self.fetched
            S, A = self.simd, self.act_bits
            words = [data_q[(d_off + i) % S] for i in range(S)]
            words = [w % (1 << A) for w in words]
            values = [w - (1 << A) if signed_input and w >> (A - 1) else w for w in words]
            self.feed = [v if lo <= i < hi else 0 for i, v in enumerate(values)]
        self.fetched = None if self.issued is None else (*self.issued, list(data_))
        self.issued = (off, *self.masks(element, in_elements, left))
        return out
