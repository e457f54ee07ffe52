"""Proof of :class:`~ecg_alq.hw.fetch.WindowFetch` against its reference (``FetchModel``, here
in HDL) over a whole activation memory of free contents, by bounded model checking from reset:
for every sequence of chunk positions (one may be issued every cycle), ``feed`` three cycles
after a chunk is issued holds, for lane input ``i``,

    memory[element + i]   (sign-extended for the first layer's signed input)
    0                     when element + i is left padding (< 0), right padding
                          (>= in_elements) or past the window's fan-in (i >= left)

where the memory answers each bank's address one cycle after it is driven, as block RAM does,
and an address outside it (a padding row) answers anything.
Contract: ``element = row * simd + off``, ``avail = in_elements - element`` for the layer's
``in_elements`` (at most the memory's size), and ``signed_input`` holds still.
"""

from __future__ import annotations

from amaranth import Array, Mux, Signal, signed
from amaranth.asserts import AnyConst, AnySeq
from amaranth.hdl import Assert, Assume, Fragment

from ecg_alq.hw.fetch import LATENCY, WindowFetch
from ecg_alq.sim.formal import Harness, Proof


def fetch_proof(simd: int, act_bits: int, rows: int, depth: int = 7) -> Proof:
    """A memory of ``rows`` rows of ``simd`` banks; positions reach one row of padding on
    either side."""
    row_width = (rows + 1).bit_length() + 1
    element_width = row_width + simd.bit_length() + 1
    h = Harness()
    m = h.m
    dut = WindowFetch(simd, act_bits, row_width, element_width)
    m.submodules.dut = Fragment.get(dut, None)
    h.free(dut.row, dut.off, dut.element, dut.avail, dut.left)
    memory = [AnyConst(act_bits) for _ in range(rows * simd)]
    in_elements = AnyConst(element_width)
    signed_input = AnyConst(1)
    m.d.comb += [dut.signed_input.eq(signed_input), Assume(in_elements <= rows * simd),
                 Assume(dut.off < simd), Assume(dut.row >= -1), Assume(dut.row <= rows),
                 Assume(dut.element == dut.row * simd + dut.off),
                 Assume(dut.avail == in_elements - dut.element)]
    for b in range(simd):  # bank b: rows of elements b, b + simd, ...; a block RAM's timing
        bank = Array([memory[r * simd + b] for r in range(rows)])
        addr = Signal.like(dut.addr[b], name=f"addr{b}_q")
        m.d.sync += addr.eq(dut.addr[b])
        # outside the memory (padding rows): anything, so only the masks can make it 0
        m.d.comb += dut.data[b].eq(Mux(addr < rows, bank[addr], AnySeq(act_bits)))
    padded = Array(memory + [0])
    for i in range(simd):
        e = dut.element + i
        word = padded[Mux((e >= 0) & (e < rows * simd), e, rows * simd)]
        value = Signal(signed(act_bits + 1), name=f"value{i}")
        m.d.comb += value.eq(Mux(signed_input, word.as_signed(), word))
        inside = (e >= 0) & (e < in_elements) & (i < dut.left)
        want = h.delayed(Mux(inside, value, 0), LATENCY, f"want{i}")
        issued = h.cycle >= LATENCY + 1  # a chunk issued after reset
        with m.If(issued):
            m.d.comb += Assert(dut.feed[i] == want)
    return Proof(f"fetch_s{simd}_a{act_bits}_r{rows}", m, "bmc", depth,
                 f"WindowFetch(simd={simd}, act_bits={act_bits}) over {rows} rows of free "
                 f"memory: every chunk's activations, padding and fan-in masks equal the "
                 f"reference (BMC, {depth} cycles from reset)")
