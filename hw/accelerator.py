"""The network accelerator: one time-multiplexed layer engine of ``pe`` lanes x ``simd`` inputs.

Architecture, schedule and cycle model: ``docs/hardware.md``; the schedule itself is compiled
by :mod:`ecg_alq.hw.plan` and :mod:`ecg_alq.hw.tables`. Dataflow of one layer:

    issue (t, p, f) -> activation banks, sign memory, pass tables (1 cycle read)
      -> fetch unit: bank words registered, then rotated and masked into feed registers
         (FEED cycles after the issue)
      -> lanes (``lane_latency(simd)`` cycles) -> requantize, pool (per-lane state), emit (per-lane FIFO)
      -> writer (one activation per cycle into the destination buffer)

The blocks, each in its own module: the sequencer (:mod:`~ecg_alq.hw.sequencer`: states,
loop counters, pooling windows, basis-less channels), the fetch unit, ``pe`` lanes, ``pe`` pool
units, the writer and the classifier (:mod:`~ecg_alq.hw.classify`: logits, argmax, output
words); :meth:`Accelerator.elaborate` only wires them. Before the first layer, the input stage (:mod:`ecg_alq.hw.input_stage`) keeps the raw samples,
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
    layer         Out      debug: the layer running (the layer count once the last is done)
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

from amaranth import Module, Mux, Signal, signed
from amaranth.lib import wiring
from amaranth.lib.memory import Memory
from amaranth.lib.wiring import In, Out

from ecg_alq.hw.classify import Classifier
from ecg_alq.hw.delay import delayed
from ecg_alq.hw.fetch import WindowFetch
from ecg_alq.hw.input_stage import RAW_BITS, InputStage
from ecg_alq.hw.lane import Lane, lane_latency
from ecg_alq.hw.layout import Layout
from ecg_alq.hw.params import HwParams
from ecg_alq.hw.pool import PoolUnit
from ecg_alq.hw.sequencer import Sequencer, split
from ecg_alq.hw.tables import BUF_A, BUF_B
from ecg_alq.hw.timing import FEED, TABLE_STAGES
from ecg_alq.hw.writer import Writer
from ecg_alq.intmodel.spec import IntModel


class Accelerator(wiring.Component):
    """The accelerator of ``model`` at ``params`` (``layout``: its :class:`Layout`, if the caller
    already has it)."""

    def __init__(self, model: IntModel, params: HwParams = HwParams(),
                 layout: Layout | None = None):
        if layout is not None and (layout.params != params or layout.plan.model is not model):
            raise ValueError("the layout given was made for another model or other parameters")
        self.layout = lay = layout or Layout.of(model, params)
        ports = {
            "start": In(1), "first_layer": In(range(len(lay.tables.layers))), "busy": Out(1),
            "done": Out(1), "cycles": Out(32), "error": Out(1),
            "layer": Out(range(len(lay.tables.layers) + 1)),
            "in_data": In(RAW_BITS), "in_valid": In(1), "in_ready": Out(1),
            "out_logit": Out(signed(lay.tables.acc_width)), "out_index": Out(lay.index_width),
            "out_class": Out(lay.class_width), "out_last": Out(1), "out_valid": Out(1),
            "out_ready": In(1),
        }
        if lay.loadable_signs:
            ports |= {"load_valid": In(1), "load_addr": In(range(max(2, lay.sign_depth))),
                      "load_data": In(params.pe * params.simd)}
        super().__init__(ports)

    def elaborate(self, platform):
        m = Module()
        lay, T, P = self.layout, self.layout.tables, self.layout.params
        spram = {"ram_style": "huge"} if lay.loadable_signs else None
        m.submodules.sequencer = seq = Sequencer(lay)
        m.submodules.input = inp = InputStage(T.input_length, P.simd, T.act_bits,
                                              T.input_shift, lay.row_w, memory_attrs=spram)
        m.submodules.fetch = fetch = WindowFetch(P.simd, T.act_bits, lay.row_w, lay.element_w)
        m.submodules.writer = writer = Writer(P.pe, lay.fifo_depth, P.simd, lay.row_w,
                                              T.act_bits)
        last = lay.plan.layers[-1]
        m.submodules.classifier = cls = Classifier(
            lay.num_classes, T.acc_width, [lane.channels for lane in last.lanes],
            [(c, int(last.layer.bias[c])) for c in last.zero_channels])
        self._control(m, seq, inp, writer, cls)
        self._activation_banks(m, seq, inp, fetch, writer)
        signs, entries = self._tables(m, seq, spram)
        at_lanes = delayed(m, seq.side, FEED, "side", reset_less=False)  # with the feed
        for i in range(P.pe):
            self._lane(m, i, seq, fetch, at_lanes, signs, entries[i], writer, cls)
        return m

    def _control(self, m, seq, inp, writer, cls) -> None:
        """The sequencer's and the classifier's ports, the input stream and the output words."""
        words = cls.words
        m.d.comb += [
            seq.start.eq(self.start), seq.first_layer.eq(self.first_layer),
            self.busy.eq(seq.busy), self.cycles.eq(seq.cycles), self.error.eq(seq.error),
            self.layer.eq(seq.layer), seq.overflow.eq(writer.overflow),
            inp.in_data.eq(self.in_data), inp.in_valid.eq(self.in_valid),
            self.in_ready.eq(inp.in_ready), inp.start.eq(seq.input_start),
            seq.input_done.eq(inp.done), seq.input_computing.eq(inp.computing),
            seq.writer_empty.eq(writer.empty), seq.zero_ready.eq(writer.zero_ready),
            cls.preset.eq(seq.preset_logits), cls.start.eq(seq.classify_start),
            seq.classify_finishing.eq(cls.finishing), seq.classify_done.eq(cls.done),
            self.done.eq(cls.done), self.out_valid.eq(words.valid),
            words.ready.eq(self.out_ready), self.out_logit.eq(words.payload.logit),
            self.out_index.eq(words.payload.index), self.out_class.eq(words.payload.cls),
            self.out_last.eq(words.payload.last)]
        # the writer's low-priority port: the input stage's writes, or the constant channels'
        with m.If(inp.write.valid):
            m.d.comb += writer.zero.eq(inp.write)
        with m.Else():
            m.d.comb += writer.zero.eq(seq.zero)

    def _activation_banks(self, m, seq, inp, fetch, writer) -> None:
        """Buffers A and B, ``simd`` banks each (:meth:`Layout.bank_names`): read by the fetch
        unit from the layer's source, written by the writer into its destination (into A while
        the input stage runs)."""
        lay, S = self.layout, self.layout.params.simd
        m.d.comb += [fetch.row.eq(seq.fetch_row), fetch.off.eq(seq.fetch_off),
                     fetch.element.eq(seq.element), fetch.avail.eq(seq.avail),
                     fetch.left.eq(seq.left), fetch.signed_input.eq(seq.signed_input)]
        reads = {}
        target = Mux(inp.busy, BUF_A, seq.dst)
        w = writer.write
        for kind in (BUF_A, BUF_B):
            reads[kind] = []
            for b, name in enumerate(lay.bank_names(kind)):
                m.submodules[name] = mem = Memory(shape=lay.tables.act_bits,
                                                  depth=lay.buf_rows[kind], init=[])
                rp, wp = mem.read_port(), mem.write_port()
                reads[kind].append(rp)
                m.d.comb += [rp.addr.eq(fetch.addr[b][: len(rp.addr)]),
                             wp.addr.eq(w.row[: len(wp.addr)]), wp.data.eq(w.value),
                             wp.en.eq(w.valid & (target == kind) & (w.bank == b))]
        for b in range(S):
            m.d.comb += fetch.data[b].eq(Mux(seq.src == BUF_A, reads[BUF_A][b].data,
                                             reads[BUF_B][b].data))

    def _tables(self, m, seq, spram):
        """The sign memory (all lanes' signs of a chunk in one row) and the lanes' pass tables,
        read ``TABLE_STAGES`` = FEED cycles after the issue: (sign word, pass entries) then."""
        if TABLE_STAGES != FEED:
            raise AssertionError(f"the tables' {TABLE_STAGES} stages must match the feed's {FEED}")
        lay, PE, S = self.layout, self.layout.params.pe, self.layout.params.simd
        sign_row = delayed(m, seq.sign_row, 1, "sign_row", reset_less=False)
        pass_row = delayed(m, seq.pass_row, 1, "pass_row", reset_less=False)
        m.submodules.sign_bits = smem = Memory(
            shape=PE * S, depth=lay.sign_depth, attrs=spram,
            init=[] if lay.loadable_signs else lay.sign_rows())
        sign_read = smem.read_port()
        if lay.loadable_signs:  # single-port: loads (when idle) and reads share the address
            sign_write = smem.write_port()
            loading = seq.idle & self.load_valid
            m.d.comb += [sign_write.addr.eq(Mux(loading, self.load_addr, sign_row)),
                         sign_read.addr.eq(sign_write.addr), sign_write.data.eq(self.load_data),
                         sign_write.en.eq(loading), sign_read.en.eq(~loading)]
        else:
            m.d.comb += sign_read.addr.eq(sign_row)
        entries = []
        for i, rows in enumerate(lay.pass_words()):
            m.submodules[f"passes{i}"] = pm = Memory(shape=lay.pass_layout.size,
                                                     depth=max(1, len(rows)), init=rows or [0])
            rp = pm.read_port()
            m.d.comb += rp.addr.eq(pass_row)
            entry = Signal(lay.pass_layout, name=f"entry{i}", reset_less=True)
            m.d.sync += entry.as_value().eq(rp.data)
            entries.append(entry)
        return delayed(m, sign_read.data, 1, "signs"), entries

    def _lane(self, m, i, seq, fetch, at_lanes, signs, entry, writer, cls) -> None:
        """Lane ``i`` and its pool unit: the chunk's activations, signs and pass entry in; its
        channel's result to the classifier (last layer) or requantized, pooled and pushed into
        the writer. The sideband and the channel travel beside the pipelines in delay lines."""
        lay, T, P = self.layout, self.layout.tables, self.layout.params
        S, latency = P.simd, lane_latency(P.simd)
        m.submodules[f"lane{i}"] = lane = Lane(S, T.act_bits, T.alpha_bits, T.psum_width,
                                               T.acc_width, P.alpha_mult)
        m.d.comb += [lane.acts.eq(fetch.feed), lane.signs.eq(signs[i * S:(i + 1) * S]),
                     lane.valid.eq(at_lanes.issue & entry.valid),
                     lane.last_chunk.eq(at_lanes.last_chunk), lane.alpha.eq(entry.alpha),
                     lane.first_basis.eq(entry.first), lane.last_basis.eq(entry.last),
                     lane.bias.eq(entry.bias)]
        side = delayed(m, at_lanes, latency, f"side_out{i}")  # (merged across lanes by yosys)
        channel = delayed(m, entry.channel, latency, f"channel{i}")
        local = delayed(m, entry.local, latency, f"local{i}")
        ch_row, ch_off = split(channel, S)
        m.d.comb += [cls.results[i].valid.eq(lane.result_valid & seq.last_layer),
                     cls.results[i].channel.eq(channel), cls.results[i].value.eq(lane.result)]
        m.submodules[f"pool{i}"] = pool = PoolUnit(
            T.acc_width, T.act_bits, [c.shift for c in T.layers], max(1, T.max_local),
            T.max_windows, S, lay.row_w)
        push = writer.push[i]
        m.d.comb += [
            pool.valid.eq(lane.result_valid & ~seq.last_layer), pool.acc.eq(lane.result),
            pool.layer.eq(seq.layer), pool.local.eq(local), pool.open.eq(side.open),
            pool.open_slot.eq(side.open_slot), pool.close.eq(side.close),
            pool.close_slot.eq(side.close_slot), pool.base_row.eq(side.ubase_row),
            pool.base_off.eq(side.ubase_off), pool.ch_row.eq(ch_row), pool.ch_off.eq(ch_off),
            push.valid.eq(pool.emit), push.bank.eq(pool.emit_bank), push.row.eq(pool.emit_row),
            push.value.eq(pool.emit_value)]
