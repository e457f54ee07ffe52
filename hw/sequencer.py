"""The accelerator's sequencer: which layer runs, which chunk is issued each cycle, when pooling
windows open and close, and the writes of the channels without a basis.

States (``docs/hardware.md``; the cycles each takes are declared here and read by
:mod:`ecg_alq.hw.cycles`)::

    IDLE -start-> INPUT (the input stage takes and preprocesses the fragment)
      -> per layer: SETUP (SETUP_CYCLES) -> RUN (one chunk per cycle: positions t x passes p
         x chunks f) -> FLUSH (``timing.flush_cycles``) -> DRAIN (until the writer's FIFOs are
         empty, DRAIN_EXIT_CYCLES after) -> ZEROS/ZWRITE (:func:`zeros_cycles`) -> next SETUP
      -> the last layer: SETUP -> RUN -> FLUSH -> CLASSIFY (the classifier's argmax and words)

Everything the sequencer drives is the *issue-time* value (cycle n of a chunk): the fetch
request, the sign and pass-table rows and the sideband (:func:`side_layout`); the accelerator
delays them to where they are used.

Ports (widths from the layout)::

    start, first_layer   In   begin an inference (when idle); first_layer: see the accelerator
    busy, idle           Out
    layer                Out  the layer running; the layer count once the last is done
    last_layer           Out  1
    cycles               Out 32  compute cycles of the last inference
    overflow / error     In / Out  an emission found its FIFO full / sticky until ``start``
    input_start          Out  with input_done, input_computing In: the input stage
    issue                Out  a chunk is issued this cycle
    fetch_row, fetch_off, element, avail, left, signed_input   Out  the fetch request
    sign_row, pass_row   Out  the tables' rows of this chunk
    side                 Out  side_layout(): what travels beside the chunk to the pool units
    src, dst             Out  the layer's source and destination buffers (tables.BUF_*)
    zero                 Out  write request of a basis-less channel; zero_ready, writer_empty In
    preset_logits, classify_start   Out; classify_finishing, classify_done   In: the classifier
"""

from __future__ import annotations

from types import SimpleNamespace

from amaranth import Array, Const, Module, Mux, Signal, signed, unsigned
from amaranth.lib import data, wiring
from amaranth.lib.memory import Memory
from amaranth.lib.wiring import In, Out

from ecg_alq.hw.params import bits
from ecg_alq.hw.timing import flush_cycles
from ecg_alq.hw.writer import write_layout

SETUP_CYCLES = 1  #: a layer's SETUP state
DRAIN_EXIT_CYCLES = 1  #: DRAIN's cycle that sees the writer empty


def zeros_cycles(zero_channels: int, out_length: int) -> int:
    """ZEROS/ZWRITE: per channel without a basis one ZEROS and ``out_length`` writes, then the
    ZEROS cycle that moves on."""
    return zero_channels * (1 + out_length) + 1


def split(channel, simd: int):
    """(row, bank) of a channel's element within one position: divmod(channel, simd)."""
    if simd & (simd - 1) == 0:
        k = simd.bit_length() - 1
        return channel >> k, channel[:k] if k else 0
    return channel // simd, channel % simd


def side_layout(layout) -> data.StructLayout:
    """The sideband of an issued chunk: whether it is real and its channel's last chunk, and
    the pooling windows that open and close at its position with the closing window's base."""
    windows, S = range(layout.tables.max_windows + 1), layout.params.simd
    return data.StructLayout({
        "issue": 1, "last_chunk": 1, "open": 1, "open_slot": windows, "close": 1,
        "close_slot": windows, "ubase_row": signed(layout.row_w), "ubase_off": range(S + 1)})


class _LayerTable:
    """Per-layer constants selected by the running layer."""

    def __init__(self, m: Module, layer: Signal, consts):
        self.m, self.layer, self.consts = m, layer, consts

    def now(self, values, shape=None):
        """This layer's entry (combinational: SETUP uses it)."""
        if shape is None:
            lo, hi = min(values), max(values)
            shape = signed(max(bits(abs(lo)), bits(hi)) + 1) if lo < 0 else unsigned(bits(hi))
        return Array(Const(v, shape) for v in values)[self.layer]

    def held(self, values, shape=None):
        """The same, registered: valid from the cycle after ``layer`` changed (every state but
        SETUP), and off the sequencer's critical paths."""
        value = self.now(values, shape)
        reg = Signal.like(value)
        self.m.d.sync += reg.eq(value)
        return reg

    def field(self, name: str, minus: int = 0, shape=None):
        return self.held([getattr(c, name) - minus for c in self.consts], shape)

    def now_field(self, name: str, minus: int = 0, shape=None):
        return self.now([getattr(c, name) - minus for c in self.consts], shape)


def advance(row, off, q, r, simd: int) -> list:
    """(row, off) += q * simd + r, with 0 <= off < simd."""
    carry = off + r >= simd
    return [row.eq(row + q + carry), off.eq(Mux(carry, off + r - simd, off + r))]


class Sequencer(wiring.Component):
    def __init__(self, layout):
        self.layout = layout
        T, S = layout.tables, layout.params.simd
        L = T.layers
        row_w, el_w = layout.row_w, layout.element_w
        super().__init__({
            "start": In(1), "first_layer": In(range(len(L))), "busy": Out(1), "idle": Out(1),
            "layer": Out(range(len(L) + 1)), "last_layer": Out(1), "cycles": Out(32),
            "overflow": In(1), "error": Out(1),
            "input_start": Out(1), "input_done": In(1), "input_computing": In(1),
            "issue": Out(1), "fetch_row": Out(signed(row_w + 1)), "fetch_off": Out(range(S + 1)),
            "element": Out(signed(el_w)), "avail": Out(signed(el_w)),
            "left": Out(range(max(c.fan_in for c in L) + 1)), "signed_input": Out(1),
            "sign_row": Out(range(layout.sign_depth + 1)),
            "pass_row": Out(range(max(1, max(len(x) for x in T.passes)) + 1)),
            "side": Out(side_layout(layout)), "src": Out(2), "dst": Out(2),
            "zero": Out(write_layout(S, row_w, T.act_bits)), "zero_ready": In(1),
            "writer_empty": In(1), "preset_logits": Out(1), "classify_start": Out(1),
            "classify_finishing": In(1), "classify_done": In(1)})

    def elaborate(self, platform):
        m = Module()
        L = self.layout.tables.layers
        tab = _LayerTable(m, self.layer, L)
        loop = self._issue_loop(m, tab)
        pool = self._pool_counters(m, tab)
        zeros = self._zero_writer(m, tab)
        counting = self._cycle_counter(m)
        m.d.comb += [self.last_layer.eq(self.layer == len(L) - 1),
                     self.signed_input.eq(self.layer == 0),  # the preprocessed samples
                     self.src.eq(tab.field("src", shape=unsigned(2))),
                     self.dst.eq(tab.field("dst", shape=unsigned(2)))]
        m.d.comb += [self.side.issue.eq(self.issue), self.side.last_chunk.eq(loop.last_f)]
        self._fsm(m, tab, loop, pool, zeros, counting)
        return m

    # ------------------------------------------------------------------ the loop nest
    def _issue_loop(self, m: Module, tab: _LayerTable) -> SimpleNamespace:
        """Counters of the chunk issued: position t, pass p, chunk f, with the window's element
        and row addresses and the sign/pass rows; ``step`` advances them by one chunk."""
        lay, S = self.layout, self.layout.params.simd
        L = lay.tables.layers
        s = SimpleNamespace(
            t=Signal(range(max(c.conv_length for c in L) + 1)),
            p=Signal(range(max(c.passes for c in L) + 1)),
            f=Signal(range(max(c.chunks for c in L) + 1)),
            e_t=Signal(signed(lay.element_w)),  # element of the position's window's first input
            avail_t=Signal(signed(lay.element_w)),  # input elements from there to the end
            row_t=Signal(signed(lay.row_w)), off_t=Signal(range(S + 1)),
            last_f=Signal(), last_p=Signal(), last_t=Signal())
        m.d.comb += [self.fetch_row.eq(s.row_t + s.f), self.fetch_off.eq(s.off_t)]

        def setup():
            start = tab.now_field("start")
            return [s.t.eq(0), s.p.eq(0), s.f.eq(0), self.left.eq(tab.now_field("fan_in")),
                    s.e_t.eq(start), self.element.eq(start),
                    s.avail_t.eq(tab.now([c.in_elements - c.start for c in L])),
                    self.avail.eq(tab.now([c.in_elements - c.start for c in L])),
                    s.row_t.eq(tab.now([c.start // S for c in L], signed(lay.row_w))),
                    s.off_t.eq(tab.now([c.start % S for c in L], range(S + 1))),
                    self.sign_row.eq(tab.now_field("sign_base")),
                    self.pass_row.eq(tab.now_field("pass_base")),
                    s.last_f.eq(tab.now([c.chunks == 1 for c in L])),
                    s.last_p.eq(tab.now([c.passes == 1 for c in L])),
                    s.last_t.eq(tab.now([c.conv_length == 1 for c in L]))]
        s.setup = setup
        s.k = SimpleNamespace(  # the layer's constants the loop steps with (registered)
            chunks_m2=tab.field("chunks", 2), passes_m2=tab.field("passes", 2),
            conv_m2=tab.field("conv_length", 2),
            one_chunk=tab.held([int(c.chunks == 1) for c in L]),
            one_pass=tab.held([int(c.passes == 1) for c in L]),
            step=tab.field("step"), fan_in=tab.field("fan_in"),
            step_q=tab.held([c.step // S for c in L], signed(lay.row_w)),
            step_r=tab.held([c.step % S for c in L], range(S + 1)),
            sign_base=tab.field("sign_base"), pass_base=tab.field("pass_base"))
        s.step = lambda end_of_position: self._step(m, s, end_of_position)
        return s

    def _step(self, m: Module, s: SimpleNamespace, end_of_position) -> None:
        """RUN: the next chunk; the last flags are registered, set one step ahead (``- 2``)."""
        S, k = self.layout.params.simd, s.k
        m.d.sync += self.sign_row.eq(self.sign_row + 1)
        with m.If(~s.last_f):
            m.d.sync += [s.f.eq(s.f + 1), self.left.eq(self.left - S),
                         self.element.eq(self.element + S), self.avail.eq(self.avail - S),
                         s.last_f.eq(s.f == k.chunks_m2)]
        with m.Else():
            m.d.sync += [s.f.eq(0), self.left.eq(k.fan_in), s.last_f.eq(k.one_chunk)]
            with m.If(~s.last_p):
                m.d.sync += [s.p.eq(s.p + 1), self.pass_row.eq(self.pass_row + 1),
                             self.element.eq(s.e_t), self.avail.eq(s.avail_t),
                             s.last_p.eq(s.p == k.passes_m2)]
            with m.Else():
                m.d.sync += [s.p.eq(0), self.pass_row.eq(k.pass_base),
                             self.sign_row.eq(k.sign_base), s.t.eq(s.t + 1),
                             s.last_p.eq(k.one_pass), s.last_t.eq(s.t == k.conv_m2),
                             s.e_t.eq(s.e_t + k.step), self.element.eq(s.e_t + k.step),
                             s.avail_t.eq(s.avail_t - k.step), self.avail.eq(s.avail_t - k.step)]
                m.d.sync += advance(s.row_t, s.off_t, k.step_q, k.step_r, S)
                end_of_position()

    # ------------------------------------------------------------------ pooling windows
    def _pool_counters(self, m: Module, tab: _LayerTable) -> SimpleNamespace:
        """Which pooling window opens (phase ph_o of output u_o, slot slot_o) and which closes
        (after the kernel's first wait_c positions) at the current position (docs/hardware.md)."""
        lay, S = self.layout, self.layout.params.simd
        L = lay.tables.layers
        ph_o = Signal(range(max(c.pool_stride for c in L) + 1))
        u_o, slot_o = Signal(range(max(c.out_length for c in L) + 2)), \
            Signal(range(lay.tables.max_windows + 1))
        wait_c = Signal(range(max(c.pool_kernel for c in L) + 1))
        ph_c, u_c, slot_c = Signal.like(ph_o), Signal.like(u_o), Signal.like(slot_o)
        base_row, base_off = Signal(signed(lay.row_w)), Signal(range(S + 1))
        out_len = tab.field("out_length")
        side = self.side
        m.d.comb += [side.open.eq((ph_o == 0) & (u_o < out_len)), side.open_slot.eq(slot_o),
                     side.close.eq((wait_c == 0) & (ph_c == 0) & (u_c < out_len)),
                     side.close_slot.eq(slot_c), side.ubase_row.eq(base_row),
                     side.ubase_off.eq(base_off)]
        setup = [ph_o.eq(0), u_o.eq(0), slot_o.eq(0), wait_c.eq(tab.now_field("pool_kernel", 1)),
                 ph_c.eq(0), u_c.eq(0), slot_c.eq(0), base_row.eq(0), base_off.eq(0)]
        stride_m1, windows_m1 = tab.field("pool_stride", 1), tab.field("windows", 1)
        outc_q = tab.held([c.out_channels // S for c in L], signed(lay.row_w))
        outc_r = tab.held([c.out_channels % S for c in L], range(S + 1))

        def next_position():
            with m.If(ph_o == stride_m1):
                m.d.sync += [ph_o.eq(0), u_o.eq(u_o + 1),
                             slot_o.eq(Mux(slot_o == windows_m1, 0, slot_o + 1))]
            with m.Else():
                m.d.sync += ph_o.eq(ph_o + 1)
            with m.If(wait_c > 0):
                m.d.sync += wait_c.eq(wait_c - 1)
            with m.Elif(ph_c == stride_m1):
                m.d.sync += [ph_c.eq(0), u_c.eq(u_c + 1),
                             slot_c.eq(Mux(slot_c == windows_m1, 0, slot_c + 1))]
                m.d.sync += advance(base_row, base_off, outc_q, outc_r, S)
            with m.Else():
                m.d.sync += ph_c.eq(ph_c + 1)
        return SimpleNamespace(setup=setup, next_position=next_position, outc_q=outc_q,
                               outc_r=outc_r, out_len=out_len)

    # ------------------------------------------------------------------ basis-less channels
    def _zero_writer(self, m: Module, tab: _LayerTable) -> SimpleNamespace:
        """ZEROS/ZWRITE: each channel without a basis gets its constant at every output position,
        one write per cycle through the writer's low-priority port (its FIFOs are empty)."""
        lay, T, S = self.layout, self.layout.tables, self.layout.params.simd
        zl = lay.zero_layout
        init = [zl.const({"channel": c, "level": v}).as_value().value for c, v in T.zeros]
        m.submodules.zeros = zmem = Memory(shape=zl.size, depth=max(1, len(init)),
                                           init=init or [0])
        zread = zmem.read_port()
        z = SimpleNamespace(index=Signal(range(len(T.zeros) + 2)),
                            left=Signal(range(len(T.zeros) + 2)),
                            u=Signal(range(max(c.out_length for c in T.layers) + 1)),
                            row=Signal(signed(lay.row_w)), off=Signal(range(S + 1)))
        rec = Signal(zl)
        m.d.comb += [zread.addr.eq(z.index), rec.as_value().eq(zread.data)]
        z.start = [z.index.eq(tab.field("zero_base")), z.left.eq(tab.field("zero_count")),
                   z.u.eq(0)]
        z.rec = rec
        return z

    def _zwrite(self, m: Module, z: SimpleNamespace, pool: SimpleNamespace, out_len_m1) -> None:
        """One ZWRITE cycle: write the channel's constant at output position ``z.u``."""
        S = self.layout.params.simd
        first = z.u == 0
        ch_row, ch_off = split(z.rec.channel, S)
        row, off = Signal(signed(self.layout.row_w)), Signal(range(S + 1))  # this cycle's
        m.d.comb += [row.eq(Mux(first, ch_row, z.row)), off.eq(Mux(first, ch_off, z.off)),
                     self.zero.valid.eq(1), self.zero.bank.eq(off), self.zero.row.eq(row),
                     self.zero.value.eq(z.rec.level)]
        carry = off + pool.outc_r >= S
        with m.If(self.zero_ready):  # always: the FIFOs drained before ZEROS
            m.d.sync += [z.row.eq(row + pool.outc_q + carry),
                         z.off.eq(Mux(carry, off + pool.outc_r - S, off + pool.outc_r))]
            with m.If(z.u == out_len_m1):
                m.d.sync += [z.u.eq(0), z.index.eq(z.index + 1), z.left.eq(z.left - 1)]
                m.next = "ZEROS"
            with m.Else():
                m.d.sync += z.u.eq(z.u + 1)

    # ------------------------------------------------------------------ cycles and errors
    def _cycle_counter(self, m: Module) -> Signal:
        """``cycles`` counts while ``counting`` (from a layer's first SETUP to the argmax's
        end) or while the input stage computes; ``error`` is sticky. Both restart with
        ``start`` (the FSM's assignments come later and win)."""
        counting = Signal()
        with m.If(counting | self.input_computing):
            m.d.sync += self.cycles.eq(self.cycles + 1)
        with m.If(self.overflow):
            m.d.sync += self.error.eq(1)
        with m.If(self.classify_finishing):
            m.d.sync += counting.eq(0)
        return counting

    # ------------------------------------------------------------------ the state machine
    def _fsm(self, m: Module, tab, loop, pool, zeros, counting) -> None:
        flush_len = flush_cycles(self.layout.params.simd)
        flush = Signal(range(flush_len + 1))
        out_len_m1 = tab.field("out_length", 1)
        with m.FSM():
            with m.State("IDLE"):
                m.d.comb += self.idle.eq(1)
                with m.If(self.start):
                    m.d.sync += [self.cycles.eq(0), self.error.eq(0)]
                    with m.If(self.first_layer == 0):
                        m.d.comb += self.input_start.eq(1)
                        m.next = "INPUT"
                    with m.Else():  # debug: the layer's input is already in its buffer
                        m.d.sync += [counting.eq(1), self.layer.eq(self.first_layer)]
                        m.next = "SETUP"
            with m.State("INPUT"):  # the input stage takes, averages and preprocesses
                m.d.comb += self.busy.eq(1)
                with m.If(self.input_done):
                    m.d.sync += [counting.eq(1), self.layer.eq(0)]
                    m.next = "SETUP"
            with m.State("SETUP"):
                m.d.comb += [self.busy.eq(1), self.preset_logits.eq(self.last_layer)]
                m.d.sync += loop.setup() + pool.setup + [flush.eq(0)]
                with m.If(tab.now_field("passes") == 0):
                    m.next = "FLUSH"
                with m.Else():
                    m.next = "RUN"
            with m.State("RUN"):
                m.d.comb += [self.busy.eq(1), self.issue.eq(1)]

                def end_of_position():
                    pool.next_position()
                    with m.If(loop.last_t):
                        m.next = "FLUSH"
                loop.step(end_of_position)
            with m.State("FLUSH"):
                m.d.comb += self.busy.eq(1)
                m.d.sync += flush.eq(flush + 1)
                with m.If(flush == flush_len - 1):
                    with m.If(self.last_layer):
                        m.d.comb += self.classify_start.eq(1)
                        m.next = "CLASSIFY"
                    with m.Else():
                        m.next = "DRAIN"
            with m.State("DRAIN"):
                m.d.comb += self.busy.eq(1)
                with m.If(self.writer_empty):
                    m.d.sync += zeros.start
                    m.next = "ZEROS"
            with m.State("ZEROS"):
                m.d.comb += self.busy.eq(1)
                with m.If(zeros.left == 0):
                    m.d.sync += self.layer.eq(self.layer + 1)
                    m.next = "SETUP"
                with m.Else():
                    m.next = "ZWRITE"
            with m.State("ZWRITE"):
                m.d.comb += self.busy.eq(1)
                self._zwrite(m, zeros, pool, out_len_m1)
            with m.State("CLASSIFY"):  # the classifier's argmax, then its words
                m.d.comb += self.busy.eq(1)
                with m.If(self.classify_done):
                    m.next = "IDLE"
