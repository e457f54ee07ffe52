"""One lane of the accelerator: the multi-bit binary dot-product unit.

Per cycle the lane takes ``simd`` activations (shared by all lanes; lanes outside the window are
already zero) and, for the basis it is working on, ``simd`` sign bits. It adds or subtracts the
activations through an adder tree, accumulates the chunks of one basis (a *pass*), scales the
basis sum by the basis' alpha mantissa (a multiplier, or shift-and-add) and adds it to the
channel's accumulator, which starts from the bias at the channel's first basis. After the
channel's last basis the accumulator is the channel's result.

Interface (all inputs sampled when ``valid`` is high; a pass is one or more consecutive chunks,
the last marked ``last_chunk``; ``alpha``, ``bias``, ``first_basis``, ``last_basis`` matter on
the last chunk only)::

    acts         In  ArrayLayout(signed(act_width + 1), simd)   activations
    signs        In  simd                                       1 = +1, 0 = -1
    valid        In  1
    last_chunk   In  1
    alpha        In  alpha_bits                                 unsigned mantissa
    first_basis  In  1      the accumulator restarts from ``bias``
    last_basis   In  1      the channel is complete: ``result`` follows
    bias         In  signed(acc_width)
    result       Out signed(acc_width)
    result_valid Out 1      one cycle, ``lane_latency(simd)`` cycles after the last chunk

:class:`LaneModel` is the behavioural reference of the same interface.
"""

from __future__ import annotations

from amaranth import Module, Mux, Signal, signed
from amaranth.lib import data
from amaranth.lib.wiring import In, Out

from ecg_alq.hw.params import ALPHA_MULTS, Checked, must_be_positive, reject

LATENCY = 4  #: cycles from the last chunk of a channel's last basis to ``result_valid``
SPLIT_SIMD = 8  #: wider chunks get a register inside their adder tree: one cycle more


def lane_latency(simd: int) -> int:
    """Cycles from the last chunk of a channel's last basis to ``result_valid``."""
    return LATENCY + (simd > SPLIT_SIMD)


def _tree_sum(values: list):
    """Balanced adder tree (Amaranth widens each sum by one bit)."""
    while len(values) > 1:
        pairs = [values[i] + values[i + 1] for i in range(0, len(values) - 1, 2)]
        values = pairs + ([values[-1]] if len(values) % 2 else [])
    return values[0]


class Lane(Checked):
    """See the module docstring. ``act_width``: bits of an activation magnitude (8 for unsigned
    8-bit activations or signed 8-bit input); ``psum_width``/``acc_width``: signed widths of the
    basis sum and of the accumulator (from the model's proven bounds)."""

    @classmethod
    def check(cls, simd, act_width, alpha_bits, psum_width, acc_width, alpha_mult="dsp"):
        must_be_positive(simd=simd, act_width=act_width, alpha_bits=alpha_bits,
                         psum_width=psum_width, acc_width=acc_width)
        if alpha_mult not in ALPHA_MULTS:
            reject(f"alpha_mult must be one of {ALPHA_MULTS}, got {alpha_mult!r}")
        if acc_width < psum_width + alpha_bits:
            reject(f"acc_width {acc_width} cannot hold a scaled basis sum "
                   f"({psum_width} + {alpha_bits} bits)")

    def __init__(self, simd: int, act_width: int, alpha_bits: int, psum_width: int,
                 acc_width: int, alpha_mult: str = "dsp"):
        self.simd, self.act_width, self.alpha_bits = simd, act_width, alpha_bits
        self.psum_width, self.acc_width, self.alpha_mult = psum_width, acc_width, alpha_mult
        super().__init__({
            "acts": In(data.ArrayLayout(signed(act_width + 1), simd)),
            "signs": In(simd),
            "valid": In(1),
            "last_chunk": In(1),
            "alpha": In(alpha_bits),
            "first_basis": In(1),
            "last_basis": In(1),
            "bias": In(signed(acc_width)),
            "result": Out(signed(acc_width)),
            "result_valid": Out(1),
        })

    def elaborate(self, platform):
        m = Module()
        # stage A: signed adder tree of the chunk. -a = ~a + 1: the negated terms are inverted,
        # and their +1s (the count of sign bits at 0) are added in stage B
        terms = [Mux(self.signs[i], self.acts[i], ~self.acts[i]) for i in range(self.simd)]
        count = _tree_sum([~self.signs[i] for i in range(self.simd)])
        ctrl = [self.valid, self.last_chunk, self.alpha, self.first_basis, self.last_basis,
                self.bias]
        if self.simd > SPLIT_SIMD:  # stage A0: sums of groups of SPLIT_SIMD terms, registered
            groups = []
            for g in range(0, self.simd, SPLIT_SIMD):
                r = Signal(signed(self.psum_width), name=f"group{g // SPLIT_SIMD}",
                           reset_less=True)
                m.d.sync += r.eq(_tree_sum(terms[g:g + SPLIT_SIMD]))
                groups.append(r)
            terms = groups
            count_q = Signal(range(self.simd + 1), reset_less=True)
            m.d.sync += count_q.eq(count)
            count = count_q
            delayed = []
            for k, v in enumerate(ctrl):
                r = Signal.like(v, name=f"ctrl{k}", reset_less=k > 1)
                m.d.sync += r.eq(v)
                delayed.append(r)
            ctrl = delayed
        valid, last_chunk, alpha, first_basis, last_basis, bias = ctrl
        negatives = Signal(range(self.simd + 1), reset_less=True)
        m.d.sync += negatives.eq(count)
        chunk = Signal(signed(self.psum_width), reset_less=True)
        a_valid, a_last = Signal(), Signal()
        a_alpha = Signal(self.alpha_bits, reset_less=True)
        a_first, a_lastb = Signal(), Signal()
        a_bias = Signal(signed(self.acc_width), reset_less=True)
        m.d.sync += [chunk.eq(_tree_sum(terms)), a_valid.eq(valid),
                     a_last.eq(valid & last_chunk), a_alpha.eq(alpha),
                     a_first.eq(first_basis), a_lastb.eq(last_basis), a_bias.eq(bias)]
        # stage B: the basis sum over the chunks of a pass
        psum = Signal(signed(self.psum_width))
        b_sum = Signal(signed(self.psum_width), reset_less=True)
        b_valid = Signal()
        b_alpha = Signal(self.alpha_bits, reset_less=True)
        b_first, b_lastb = Signal(), Signal()
        b_bias = Signal(signed(self.acc_width), reset_less=True)
        total = psum + chunk + negatives
        m.d.sync += b_valid.eq(a_last)
        with m.If(a_valid):
            m.d.sync += psum.eq(Mux(a_last, 0, total))
        with m.If(a_last):
            m.d.sync += [b_sum.eq(total), b_alpha.eq(a_alpha), b_first.eq(a_first),
                         b_lastb.eq(a_lastb), b_bias.eq(a_bias)]
        # stage C: alpha x basis sum
        prod = Signal(signed(self.psum_width + self.alpha_bits + 1), reset_less=True)
        if self.alpha_mult == "dsp":
            scaled = b_sum * b_alpha
        else:
            scaled = _tree_sum([Mux(b_alpha[k], b_sum << k, 0) for k in range(self.alpha_bits)])
        c_valid, c_first, c_lastb = Signal(), Signal(), Signal()
        c_bias = Signal(signed(self.acc_width), reset_less=True)
        m.d.sync += [prod.eq(scaled), c_valid.eq(b_valid), c_first.eq(b_first),
                     c_lastb.eq(b_lastb), c_bias.eq(b_bias)]
        # stage D: the channel accumulator
        acc = Signal(signed(self.acc_width), reset_less=True)
        new = Mux(c_first, c_bias, acc) + prod
        m.d.sync += self.result_valid.eq(c_valid & c_lastb)
        with m.If(c_valid):
            m.d.sync += acc.eq(new)
            with m.If(c_lastb):
                m.d.sync += self.result.eq(new)
        # the registers its proofs relate to the reference (sim/prove_lane.py): the running
        # basis sum, the record of the last completed basis (stage B) and the accumulator
        self.state = {"psum": psum, "b_valid": b_valid, "b_sum": b_sum, "b_alpha": b_alpha,
                      "b_first": b_first, "b_last": b_lastb, "b_bias": b_bias, "acc": acc}
        return m


class LaneModel:
    """Behavioural reference of :class:`Lane`: feed it the same cycles, it returns the results
    (with the cycle each appears on)."""

    def __init__(self, simd: int):
        self.latency = lane_latency(simd)
        self.psum, self.acc, self.cycle, self.results = 0, 0, 0, []

    def step(self, acts, signs, valid, last_chunk, alpha, first_basis, last_basis, bias):
        if valid:
            self.psum += sum(a if s else -a for a, s in zip(acts, signs))
            if last_chunk:
                prod = alpha * self.psum
                self.psum = 0
                self.acc = (bias if first_basis else self.acc) + prod
                if last_basis:
                    self.results.append((self.cycle + self.latency, self.acc))
        self.cycle += 1

