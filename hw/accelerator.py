"""The network accelerator: one time-multiplexed layer engine of ``pe`` lanes x ``simd`` inputs.

Architecture, schedule and cycle model: ``docs/hardware.md``; the schedule itself is compiled
by :mod:`ecg_alq.hw.plan` and :mod:`ecg_alq.hw.tables`. Dataflow of one layer:

    issue (t, p, f) -> activation banks, sign memory, pass tables (1 cycle read)
      -> fetch unit: bank words registered, then rotated and masked into feed registers
         (FEED cycles after the issue)
      -> lanes (``lane_latency(simd)`` cycles) -> requantize, pool (per-lane state), emit (per-lane FIFO)
      -> writer (one activation per cycle into the destination buffer)

Before the first layer, the input stage (:mod:`ecg_alq.hw.input_stage`) keeps the raw samples,
computes their mean and writes the preprocessed fragment into buffer A, the first layer's source.

Memory styles (``HwParams.memory``): ``"auto"`` holds the sign bits in a ROM initialised by the
bitstream. ``"spram"`` (iCE40UP5K) asks for single-port SPRAM (``ram_style = "huge"``) for the
raw samples and the sign bits; SPRAM has no initial contents, so the sign memory is then
written through the ``load_*`` ports, row by row (:meth:`~ecg_alq.hw.layout.Layout.sign_rows`),
while idle. Memory geometry and widths come from :class:`~ecg_alq.hw.layout.Layout`.

Ports::

    start         In  1    begin an inference (when idle)
    first_layer   In       debug, tie to 0: with ``start``, run from this layer on, its input
                           already in its source buffer (loaded by a testbench's backdoor);
                           ``cycles`` then counts from that layer's SETUP
    busy          Out 1    from start until the last output word is taken
    done          Out 1    one cycle, with the last output word
    cycles        Out 32   compute cycles of the last inference: from the cycle after the last
                           input sample was accepted to the first output word (see hw/cycles.py)
    error         Out 1    sticky: an emission found its FIFO full (never, if the model is right)
    in_data       In  11   raw ADC sample 0..2047; in_valid/in_ready handshake, 3600 per inference
    load_valid    In  1    ("spram" style only) write ``load_data`` to sign row ``load_addr``
    load_addr     In       (ignored unless idle)
    load_data     In  pe*simd   lane i's signs in bits i*simd .. i*simd+simd-1
    out_logit     Out signed(acc_width)  integer logit of class index out_index
    out_index     Out      0..classes-1, in order; out_last with the last (``index_width`` bits)
    out_class     Out      argmax class id 1..classes (lowest index on a tie), the same on every
                           word (``class_width`` bits; 5 and 5 for 17 classes)
    out_valid/out_ready    handshake
"""

from __future__ import annotations


from amaranth import Array, Const, Module, Mux, Signal, signed, unsigned
from amaranth.lib import data, wiring
from amaranth.lib.memory import Memory
from amaranth.lib.wiring import In, Out

from ecg_alq.hw.fetch import WindowFetch
from ecg_alq.hw.input_stage import RAW_BITS, InputStage
from ecg_alq.hw.layout import Layout, bits
from ecg_alq.hw.lane import Lane, lane_latency
from ecg_alq.hw.params import HwParams
from ecg_alq.hw.pool import PoolUnit
from ecg_alq.hw.writer import Writer
from ecg_alq.hw.tables import BUF_A, BUF_B
from ecg_alq.hw.timing import flush_cycles
from ecg_alq.intmodel.spec import IntModel


class Accelerator(wiring.Component):
    def __init__(self, model: IntModel, params: HwParams = HwParams()):
        self.layout = Layout.of(model, params)
        self.plan, self.tables, self.params = self.layout.plan, self.layout.tables, params
        self.logit_width = self.tables.acc_width
        self.num_classes = model.num_classes
        lay = self.layout
        ports = {
            "start": In(1), "first_layer": In(range(len(self.tables.layers))), "busy": Out(1),
            "done": Out(1), "cycles": Out(32), "error": Out(1),
            "in_data": In(RAW_BITS), "in_valid": In(1), "in_ready": Out(1),
            "out_logit": Out(signed(self.logit_width)), "out_index": Out(lay.index_width),
            "out_class": Out(lay.class_width), "out_last": Out(1), "out_valid": Out(1),
            "out_ready": In(1),
        }
        if lay.loadable_signs:
            ports |= {"load_valid": In(1), "load_addr": In(range(max(2, lay.sign_depth))),
                      "load_data": In(params.pe * params.simd)}
        super().__init__(ports)

    def elaborate(self, platform):
        m = Module()
        T, P = self.tables, self.params
        S, PE, A = P.simd, P.pe, T.act_bits
        L = T.layers
        nl = len(L)

        layer = Signal(range(nl + 1))

        def now(values, shape=None):
            """This layer's entry of a per-layer constant table (combinational: SETUP uses it)."""
            if shape is None:
                lo, hi = min(values), max(values)
                shape = signed(max(bits(abs(lo)), bits(hi)) + 1) if lo < 0 else unsigned(bits(hi))
            return Array(Const(v, shape) for v in values)[layer]

        def held(values, shape=None):
            """The same, registered: valid from the cycle after ``layer`` changed (every state
            but SETUP), and off the sequencer's critical paths."""
            value = now(values, shape)
            reg = Signal.like(value)
            m.d.sync += reg.eq(value)
            return reg

        def sel(field, shape=None):
            return held([getattr(c, field) for c in L], shape)

        def minus_one(field):
            return held([getattr(c, field) - 1 for c in L])

        # ---------------------------------------------------------- memories
        buf_rows, row_w = self.layout.buf_rows, self.layout.row_w
        banks = {BUF_A: [Memory(shape=A, depth=buf_rows[BUF_A], init=[]) for _ in range(S)],
                 BUF_B: [Memory(shape=A, depth=buf_rows[BUF_B], init=[]) for _ in range(S)]}
        reads, writes = {}, {}
        for kind, mems in banks.items():
            reads[kind], writes[kind] = [], []
            for b, mem in enumerate(mems):
                m.submodules[f"mem{kind}_{b}"] = mem
                reads[kind].append(mem.read_port())
                writes[kind].append(mem.write_port())

        # the sign bits of all lanes: one row per issued chunk, shared address
        spram = {"ram_style": "huge"} if self.layout.loadable_signs else None
        # the tables are read one cycle after the issue (their rows registered), so that their
        # words, registered once, reach the lanes with the fetch unit's feed (FEED = 3)
        sign_row = Signal(range(self.layout.sign_depth + 1))
        sign_row_q = Signal.like(sign_row)
        m.d.sync += sign_row_q.eq(sign_row)
        m.submodules.sign_bits = smem = Memory(
            shape=PE * S, depth=self.layout.sign_depth, attrs=spram,
            init=[] if self.layout.loadable_signs else self.layout.sign_rows())
        sign_read = smem.read_port()
        if self.layout.loadable_signs:  # single-port: loads (when idle) and reads share the address
            sign_write = smem.write_port()
            loading = Signal()
            m.d.comb += [sign_write.addr.eq(Mux(loading, self.load_addr, sign_row_q)),
                         sign_read.addr.eq(sign_write.addr), sign_write.data.eq(self.load_data),
                         sign_write.en.eq(loading), sign_read.en.eq(~loading)]
        else:
            m.d.comb += sign_read.addr.eq(sign_row_q)

        pass_mems = []
        pass_layout = self.layout.pass_layout
        for i in range(PE):
            entries = [pass_layout.const({
                "valid": e.valid, "channel": e.channel, "local": e.local, "alpha": e.alpha,
                "first": e.first, "last": e.last, "bias": e.bias}).as_value().value
                for e in T.passes[i]]
            pm = Memory(shape=pass_layout.size, depth=max(1, len(entries)), init=entries or [0])
            m.submodules[f"passes{i}"] = pm
            pass_mems.append(pm.read_port())

        zero_layout = self.layout.zero_layout
        zero_init = [zero_layout.const({"channel": c, "level": v}).as_value().value
                     for c, v in T.zeros]
        zmem = Memory(shape=len(Signal(zero_layout).as_value()), depth=max(1, len(zero_init)),
                      init=zero_init or [0])
        m.submodules.zeros = zmem
        zread = zmem.read_port()

        # ---------------------------------------------------------- lanes
        lanes = []
        for i in range(PE):
            lane = Lane(S, A, T.alpha_bits, T.psum_width, T.acc_width, P.alpha_mult)
            m.submodules[f"lane{i}"] = lane
            lanes.append(lane)
        m.submodules.writer = writer = Writer(PE, self.layout.fifo_depth, S, row_w, A)
        m.submodules.fetch = fetch = WindowFetch(S, A, row_w, self.layout.element_w)
        m.submodules.input = inp = InputStage(T.input_length, S, A, T.input_shift, row_w,
                                              memory_attrs=spram)
        m.d.comb += [inp.in_data.eq(self.in_data), inp.in_valid.eq(self.in_valid),
                     self.in_ready.eq(inp.in_ready)]

        def split(channel):
            """(row, bank) of a channel's element within one position: divmod(channel, simd)."""
            if S & (S - 1) == 0:
                k = S.bit_length() - 1
                return channel >> k, channel[:k] if k else 0
            return channel // S, channel % S

        # ---------------------------------------------------------- control state
        t = Signal(range(max(c.conv_length for c in L) + 1))
        p = Signal(range(max(c.passes for c in L) + 1))
        f = Signal(range(max(c.chunks for c in L) + 1))
        e_chunk = Signal(signed(self.layout.element_w))  # element index of the chunk's first activation
        e_t = Signal(signed(self.layout.element_w))
        # input elements from the chunk's (window's) first one to the end: in_elements - e
        avail, avail_t = Signal(signed(self.layout.element_w)), Signal(signed(self.layout.element_w))
        row_t, off_t = Signal(signed(row_w)), Signal(range(S + 1))
        # fan-in elements from this chunk to the end of the window (counts down by simd)
        left = Signal(range(max(c.fan_in for c in L) + 1))
        pass_row = Signal(range(max(1, max(len(x) for x in T.passes)) + 1))
        pass_row_q = Signal.like(pass_row)
        m.d.sync += pass_row_q.eq(pass_row)
        # pooling counters (see docs/hardware.md)
        ph_o, u_o, slot_o = Signal(range(max(c.pool_stride for c in L) + 1)), \
            Signal(range(max(c.out_length for c in L) + 2)), Signal(range(T.max_windows + 1))
        wait_c = Signal(range(max(c.pool_kernel for c in L) + 1))
        ph_c, u_c, slot_c = Signal.like(ph_o), Signal.like(u_o), Signal.like(slot_o)
        ubase_row, ubase_off = Signal(signed(row_w)), Signal(range(S + 1))
        logits = [Signal(signed(T.acc_width), name=f"logit{j}") for j in range(self.num_classes)]
        counting = Signal()
        cycles = Signal(32)
        m.d.comb += self.cycles.eq(cycles)
        with m.If(counting | inp.computing):
            m.d.sync += cycles.eq(cycles + 1)

        issue = Signal()  # a chunk is issued this cycle
        c_step_q, c_step_r = [c.step // S for c in L], [c.step % S for c in L]
        c_start_q, c_start_r = [c.start // S for c in L], [c.start % S for c in L]
        c_start = [c.start for c in L]
        c_avail = [c.in_elements - c.start for c in L]
        c_sign_base, c_pass_base = [c.sign_base for c in L], [c.pass_base for c in L]
        sign_base, pass_base = held(c_sign_base), held(c_pass_base)
        cout_q, cout_r = [c.out_channels // S for c in L], [c.out_channels % S for c in L]
        step_q, step_r = held(c_step_q, signed(row_w)), held(c_step_r, range(S + 1))
        start_q, start_r = now(c_start_q, signed(row_w)), now(c_start_r, range(S + 1))
        outc_q, outc_r = held(cout_q, signed(row_w)), held(cout_r, range(S + 1))

        # the last chunk / pass / position flags are registered: set from the counter's value
        # one step ahead (the ``- 2`` forms), so the issue loop starts from flip-flops
        last_f, last_p, last_t = Signal(), Signal(), Signal()
        chunks_m2, passes_m2, conv_m2 = (held([c.chunks - 2 for c in L]),
                                         held([c.passes - 2 for c in L]),
                                         held([c.conv_length - 2 for c in L]))
        one_chunk, one_pass = (held([int(c.chunks == 1) for c in L]),
                               held([int(c.passes == 1) for c in L]))
        pool_s_m1, windows_m1, out_len_m1 = (minus_one("pool_stride"), minus_one("windows"),
                                             minus_one("out_length"))
        out_len, step, fan_in = sel("out_length"), sel("step"), sel("fan_in")
        zero_base, zero_count = sel("zero_base"), sel("zero_count")
        src, dst = sel("src", unsigned(2)), sel("dst", unsigned(2))

        def advance(row, off, q, r):
            """(row, off) += q * S + r, with 0 <= off < S."""
            carry = off + r >= S
            return [row.eq(row + q + carry), off.eq(Mux(carry, off + r - S, off + r))]

        # ---------------------------------------------------------- issue stage (cycle n)
        m.d.comb += [fetch.row.eq(row_t + f), fetch.off.eq(off_t), fetch.element.eq(e_chunk), fetch.avail.eq(avail),
                     fetch.left.eq(left),
                     fetch.signed_input.eq(layer == 0)]  # the preprocessed samples are signed
        for kind in reads:
            for b, rp in enumerate(reads[kind]):
                m.d.comb += rp.addr.eq(fetch.addr[b][: len(rp.addr)])
        for b in range(S):
            m.d.comb += fetch.data[b].eq(Mux(src == BUF_A, reads[BUF_A][b].data,
                                             reads[BUF_B][b].data))
        for i in range(PE):
            m.d.comb += pass_mems[i].addr.eq(pass_row_q)

        open_v = (ph_o == 0) & (u_o < out_len)
        close_v = (wait_c == 0) & (ph_c == 0) & (u_c < out_len)
        side = data.StructLayout({"issue": 1, "last_chunk": 1, "open": 1, "open_slot": range(T.max_windows + 1),
                                  "close": 1, "close_slot": range(T.max_windows + 1),
                                  "ubase_row": signed(row_w), "ubase_off": range(S + 1)})
        s1 = Signal(side)
        m.d.sync += [s1.issue.eq(issue), s1.last_chunk.eq(last_f), s1.open.eq(open_v),
                     s1.open_slot.eq(slot_o), s1.close.eq(close_v), s1.close_slot.eq(slot_c),
                     s1.ubase_row.eq(ubase_row), s1.ubase_off.eq(ubase_off)]

        # ---------------------------------------------------------- stages 1..FEED-1
        # The fetch unit registers the banks' words, then rotates and masks them into ``feed``;
        # the tables' words and the sideband are delayed alongside, to reach the lanes with it.
        s2 = Signal(side)
        # (datapath registers: no reset; only ``issue`` decides whether a chunk is real)
        entries = [Signal(pass_layout, name=f"entry{i}", reset_less=True) for i in range(PE)]
        s1q = Signal(side)
        signs2 = Signal(PE * S, reset_less=True)
        m.d.sync += [s1q.eq(s1), s2.eq(s1q), signs2.eq(sign_read.data)]
        for i in range(PE):
            m.d.sync += entries[i].as_value().eq(pass_mems[i].data)

        # ---------------------------------------------------------- stage 2: lanes
        last_layer = layer == nl - 1
        # the sideband is the same for every lane: delayed once, alongside the lanes' pipeline
        out_side = s2
        for d in range(lane_latency(S)):
            r = Signal(side, name=f"side_{d + 3}", reset_less=True)
            m.d.sync += r.eq(out_side)
            out_side = r
        for i, lane in enumerate(lanes):
            e = entries[i]
            m.d.comb += [lane.acts.eq(fetch.feed), lane.signs.eq(signs2[i * S:(i + 1) * S]),
                         lane.valid.eq(s2.issue & e.valid), lane.last_chunk.eq(s2.last_chunk),
                         lane.alpha.eq(e.alpha), lane.first_basis.eq(e.first),
                         lane.last_basis.eq(e.last), lane.bias.eq(e.bias)]
            # the lane's channel and pooling row, delayed alongside its pipeline
            channel, local = e.channel, e.local
            for d in range(lane_latency(S)):
                c_d = Signal.like(channel, name=f"channel{i}_{d + 1}", reset_less=True)
                l_d = Signal.like(local, name=f"local{i}_{d + 1}", reset_less=True)
                m.d.sync += [c_d.eq(channel), l_d.eq(local)]
                channel, local = c_d, l_d
            ch_row, ch_off = split(channel)

            # finalize: logits, or requantize + pool + emit
            res = lane.result
            with m.If(lane.result_valid & last_layer):
                for j in self.plan.layers[-1].lanes[i].channels:
                    with m.If(channel == j):
                        m.d.sync += logits[j].eq(res)
            pool = PoolUnit(T.acc_width, A, [c.shift for c in L], max(1, T.max_local),
                            T.max_windows, S, row_w)
            m.submodules[f"pool{i}"] = pool
            m.d.comb += [
                pool.valid.eq(lane.result_valid & ~last_layer), pool.acc.eq(res),
                pool.layer.eq(layer), pool.local.eq(local), pool.open.eq(out_side.open),
                pool.open_slot.eq(out_side.open_slot), pool.close.eq(out_side.close),
                pool.close_slot.eq(out_side.close_slot), pool.base_row.eq(out_side.ubase_row),
                pool.base_off.eq(out_side.ubase_off), pool.ch_row.eq(ch_row),
                pool.ch_off.eq(ch_off),
                writer.push[i].valid.eq(pool.emit), writer.push[i].bank.eq(pool.emit_bank),
                writer.push[i].row.eq(pool.emit_row), writer.push[i].value.eq(pool.emit_value)]
        with m.If(writer.overflow):
            m.d.sync += self.error.eq(1)

        # ---------------------------------------------------------- writer
        zero_writing = Signal()
        z_row, z_off = Signal(signed(row_w)), Signal(range(S + 1))  # next zero write address
        zero_row, zero_off = Signal(signed(row_w)), Signal(range(S + 1))  # this cycle's
        zrec = Signal(zero_layout)
        m.d.comb += zrec.as_value().eq(zread.data)
        # the writer's low-priority port: the input stage's writes, or the constant channels'
        with m.If(inp.write.valid):
            m.d.comb += writer.zero.eq(inp.write)
        with m.Else():
            m.d.comb += [writer.zero.valid.eq(zero_writing), writer.zero.bank.eq(zero_off),
                         writer.zero.row.eq(zero_row), writer.zero.value.eq(zrec.level)]
        target = Mux(inp.busy, BUF_A, dst)  # the input stage fills the first layer's source
        w = writer.write
        for kind in (BUF_A, BUF_B):
            for b, wp in enumerate(writes[kind]):
                m.d.comb += [wp.addr.eq(w.row[: len(wp.addr)]), wp.data.eq(w.value),
                             wp.en.eq(w.valid & (target == kind) & (w.bank == b))]

        # ---------------------------------------------------------- sequencer
        FLUSH = flush_cycles(S)
        flush = Signal(range(FLUSH + 1))
        z_index = Signal(range(len(T.zeros) + 2))
        z_left = Signal(range(len(T.zeros) + 2))
        z_u = Signal(range(max(c.out_length for c in L) + 1))
        li = Signal(range(self.num_classes + 1))  # logit index: ARGMAX, then OUTPUT
        best = Signal(signed(T.acc_width))
        best_i = Signal(range(self.num_classes))
        m.d.comb += zread.addr.eq(z_index)
        last_zero_logits = [(c, int(self.plan.layers[-1].layer.bias[c]))
                            for c in self.plan.layers[-1].zero_channels]
        logit_arr = Array(logits)
        cand = Signal(signed(T.acc_width), reset_less=True)  # ARGMAX's pipeline register
        cand_i = Signal.like(li)
        m.d.sync += [cand.eq(logit_arr[li]), cand_i.eq(li)]
        greater = Signal()  # cand > best, registered (ARGMAX)
        half, compared = Signal(), Signal()
        li_moved = Signal()  # ``li`` changed in the last cycle: ``cand`` is not logit ``li`` yet
        m.d.sync += li_moved.eq(0)
        m.d.sync += greater.eq(cand > best)

        with m.FSM():
            with m.State("IDLE"):
                if self.layout.loadable_signs:
                    m.d.comb += loading.eq(self.load_valid)
                with m.If(self.start):
                    m.d.sync += [cycles.eq(0), self.error.eq(0)]
                    with m.If(self.first_layer == 0):
                        m.d.comb += inp.start.eq(1)
                        m.next = "INPUT"
                    with m.Else():  # debug: the layer's input is already in its buffer
                        m.d.sync += [counting.eq(1), layer.eq(self.first_layer)]
                        m.next = "SETUP"
            with m.State("INPUT"):  # the input stage takes, averages and preprocesses
                m.d.comb += self.busy.eq(1)
                with m.If(inp.done):
                    m.d.sync += [counting.eq(1), layer.eq(0)]
                    m.next = "SETUP"
            with m.State("SETUP"):
                m.d.comb += self.busy.eq(1)
                m.d.sync += [t.eq(0), p.eq(0), f.eq(0), left.eq(now([c.fan_in for c in L])),
                             e_t.eq(now(c_start)), e_chunk.eq(now(c_start)),
                             avail_t.eq(now(c_avail)), avail.eq(now(c_avail)),
                             row_t.eq(start_q), off_t.eq(start_r),
                             sign_row.eq(now(c_sign_base)), pass_row.eq(now(c_pass_base)),
                             ph_o.eq(0), u_o.eq(0), slot_o.eq(0),
                             wait_c.eq(now([c.pool_kernel - 1 for c in L])),
                             ph_c.eq(0), u_c.eq(0), slot_c.eq(0), ubase_row.eq(0),
                             ubase_off.eq(0), flush.eq(0),
                             last_f.eq(now([c.chunks == 1 for c in L])),
                             last_p.eq(now([c.passes == 1 for c in L])),
                             last_t.eq(now([c.conv_length == 1 for c in L]))]
                with m.If(last_layer):
                    for c, v in last_zero_logits:
                        m.d.sync += logits[c].eq(v)
                with m.If(now([c.passes for c in L]) == 0):
                    m.next = "FLUSH"
                with m.Else():
                    m.next = "RUN"
            with m.State("RUN"):
                m.d.comb += [self.busy.eq(1), issue.eq(1)]
                m.d.sync += sign_row.eq(sign_row + 1)
                with m.If(~last_f):
                    m.d.sync += [f.eq(f + 1), left.eq(left - S), e_chunk.eq(e_chunk + S),
                                 avail.eq(avail - S), last_f.eq(f == chunks_m2)]
                with m.Else():
                    m.d.sync += [f.eq(0), left.eq(fan_in), last_f.eq(one_chunk)]
                    with m.If(~last_p):
                        m.d.sync += [p.eq(p + 1), pass_row.eq(pass_row + 1), e_chunk.eq(e_t),
                                     avail.eq(avail_t), last_p.eq(p == passes_m2)]
                    with m.Else():
                        m.d.sync += [p.eq(0), pass_row.eq(pass_base), sign_row.eq(sign_base),
                                     t.eq(t + 1), last_p.eq(one_pass), last_t.eq(t == conv_m2),
                                     e_t.eq(e_t + step), e_chunk.eq(e_t + step),
                                     avail_t.eq(avail_t - step), avail.eq(avail_t - step)]
                        m.d.sync += advance(row_t, off_t, step_q, step_r)
                        # pooling window counters
                        with m.If(ph_o == pool_s_m1):
                            m.d.sync += [ph_o.eq(0), u_o.eq(u_o + 1),
                                         slot_o.eq(Mux(slot_o == windows_m1, 0, slot_o + 1))]
                        with m.Else():
                            m.d.sync += ph_o.eq(ph_o + 1)
                        with m.If(wait_c > 0):
                            m.d.sync += wait_c.eq(wait_c - 1)
                        with m.Elif(ph_c == pool_s_m1):
                            m.d.sync += [ph_c.eq(0), u_c.eq(u_c + 1),
                                         slot_c.eq(Mux(slot_c == windows_m1, 0, slot_c + 1))]
                            m.d.sync += advance(ubase_row, ubase_off, outc_q, outc_r)
                        with m.Else():
                            m.d.sync += ph_c.eq(ph_c + 1)
                        with m.If(last_t):
                            m.next = "FLUSH"
            with m.State("FLUSH"):
                m.d.comb += self.busy.eq(1)
                m.d.sync += flush.eq(flush + 1)
                with m.If(flush == FLUSH - 1):
                    with m.If(last_layer):
                        m.d.sync += [li.eq(1), best.eq(logits[0]), best_i.eq(0), half.eq(0),
                                     compared.eq(0)]
                        m.next = "ARGMAX"
                    with m.Else():
                        m.next = "DRAIN"
            with m.State("DRAIN"):
                m.d.comb += self.busy.eq(1)
                with m.If(writer.empty):
                    m.d.sync += [z_index.eq(zero_base), z_left.eq(zero_count),
                                 z_u.eq(0)]
                    m.next = "ZEROS"
            with m.State("ZEROS"):
                # one write per cycle: for each empty channel, every output position
                m.d.comb += self.busy.eq(1)
                with m.If(z_left == 0):
                    m.d.sync += layer.eq(layer + 1)
                    m.next = "SETUP"
                with m.Else():
                    m.next = "ZWRITE"
            with m.State("ZWRITE"):
                m.d.comb += self.busy.eq(1)
                first = z_u == 0
                z_ch_row, z_ch_off = split(zrec.channel)
                m.d.comb += [zero_writing.eq(1), zero_row.eq(Mux(first, z_ch_row, z_row)),
                             zero_off.eq(Mux(first, z_ch_off, z_off))]
                carry = zero_off + outc_r >= S
                with m.If(writer.zero_ready):  # always: the FIFOs drained before ZEROS
                    m.d.sync += [z_row.eq(zero_row + outc_q + carry),
                                 z_off.eq(Mux(carry, zero_off + outc_r - S, zero_off + outc_r))]
                    with m.If(z_u == out_len_m1):
                        m.d.sync += [z_u.eq(0), z_index.eq(z_index + 1), z_left.eq(z_left - 1)]
                        m.next = "ZEROS"
                    with m.Else():
                        m.d.sync += z_u.eq(z_u + 1)
            with m.State("ARGMAX"):
                # two cycles per logit 1..16: (a) ``cand`` loads logit ``li`` (and the previous
                # logit's registered comparison takes effect), (b) ``cand`` is compared with
                # ``best`` into ``greater``; a last (a) applies logit 16's: 2 x 16 + 1 cycles
                m.d.comb += self.busy.eq(1)
                with m.If(~half):
                    with m.If(compared & greater):
                        m.d.sync += [best.eq(cand), best_i.eq(cand_i)]
                    with m.If(li == self.num_classes):
                        m.d.sync += [counting.eq(0), li.eq(0), li_moved.eq(1)]
                        m.next = "OUTPUT"
                    with m.Else():
                        m.d.sync += half.eq(1)
                with m.Else():
                    m.d.sync += [li.eq(li + 1), half.eq(0), compared.eq(1)]
            with m.State("OUTPUT"):
                # the word is the registered ``cand``: valid once it holds logit ``li`` (the
                # cycle after each step of ``li``; the cycle count has stopped)
                m.d.comb += [self.busy.eq(1), self.out_valid.eq(~li_moved),
                             self.out_logit.eq(cand), self.out_index.eq(li),
                             self.out_class.eq(best_i + 1),
                             self.out_last.eq(li == self.num_classes - 1)]
                with m.If(self.out_ready & self.out_valid):
                    with m.If(li == self.num_classes - 1):
                        m.d.comb += self.done.eq(1)
                        m.next = "IDLE"
                    with m.Else():
                        m.d.sync += [li.eq(li + 1), li_moved.eq(1)]
        return m
