"""Proof that the link's protocol parser (``boards/link_parser.py``) recovers from any byte
sequence and never leaves the accelerator running a request nobody asked for. The parser stands
alone; the accelerator and the UARTs around it are free inputs. By bounded model checking from
reset, for every trace of three phases:

1. **anything** (``free`` cycles): received bytes, their timing, the transmitter's readiness and
   the accelerator's outputs are all free, so any request, truncated, corrupted or interleaved,
   may arrive;
2. **silence**: no byte arrives, the transmitter takes every byte, the accelerator offers its
   result; the parser must be back in its idle (hunting) state within ``recovery_bound`` cycles;
3. **a well-formed INFO request** (sync, command, CRC on consecutive cycles): the response must
   be exactly the protocol's (``protocol.frame`` of OK, the INFO payload and a flags byte whose
   loaded bit may be either), after which the parser hunts again.

In every cycle of every phase: the accelerator is started only right after the bytes
``A5 01`` arrived, the ``A5`` while the parser was hunting; a started request ends (its last
result word taken, or the accelerator reset) before the parser hunts again; no sign row is
written while a request runs.
"""

from __future__ import annotations

from amaranth import Cat, Const, Signal
from amaranth.asserts import AnySeq
from amaranth.hdl import Assert, Assume, Fragment

from ecg_alq.boards import protocol as P
from ecg_alq.boards.link_parser import LinkParser
from ecg_alq.sim.formal import Harness, Proof


def expected_info_responses(info: bytes, loadable: bool) -> list[bytes]:
    """Every correct answer to INFO: the loaded flag depends on the LOADs before it."""
    flags = [P.FLAG_LOADABLE, P.FLAG_LOADABLE | P.FLAG_LOADED] if loadable else [P.FLAG_LOADED]
    return [P.frame(P.RESPONSE_SYNC, bytes([P.OK]) + info + bytes([f])) for f in flags]


def recovery_bound(parser: LinkParser) -> int:
    """Cycles of silence after which the parser must hunt again: a receiving state times out
    (``timeout_cycles + 1``) and answers (sync, status, CRC), or the longest answer
    (a classification: sync, status, class, 4 bytes per logit, 4 of cycles, CRC) completes."""
    classification = 3 + 4 * parser.logits + 4 + 1
    return parser.timeout_cycles + 1 + max(4, classification, len(parser.info) + 4) + 2


def link_proof(loadable: bool = True, free: int = 10, samples: int = 2, logits: int = 2,
               timeout_cycles: int = 3) -> Proof:
    info = bytes([P.VERSION, logits, 2, 3])
    parser = LinkParser(samples=samples, logits=logits, info=info, sign_depth=2, row_bytes=1,
                        loadable=loadable, timeout_cycles=timeout_cycles, class_width=5)
    bound = recovery_bound(parser)
    request = P.info_request()
    answers = expected_info_responses(info, loadable)
    depth = free + bound + len(request) + len(answers[0]) + 2
    h = Harness(cycle_bits=max(7, depth.bit_length() + 1))
    m, cycle = h.m, h.cycle
    m.submodules.parser = Fragment.get(parser, None)
    h.free(parser.out_class, parser.out_logit, parser.cycles, parser.sample_ready)
    anything, silent = cycle < free, cycle >= free
    got, byte, tx_ready, out_valid = AnySeq(1), AnySeq(8), AnySeq(1), AnySeq(1)
    m.d.comb += [parser.tx_ready.eq(tx_ready), parser.out_valid.eq(out_valid)]
    with m.If(silent):
        m.d.comb += Assume(tx_ready & out_valid)
    _monitor_requests(h, parser)
    # phase 2: idle within the bound
    hunted = Signal()  # the parser hunted in phase 2 or 3
    with m.If(silent & parser.hunting):
        m.d.sync += hunted.eq(1)
    with m.If(cycle == free + bound):
        m.d.comb += Assert(hunted | parser.hunting)
    # phase 3: the request, then the response
    sent = Signal(range(len(request) + 1))
    with m.If(silent & (hunted | parser.hunting) & (sent < len(request))):
        m.d.comb += [parser.got.eq(1), parser.byte.eq(Const(request[0], 8))]
        for k in range(1, len(request)):
            with m.If(sent == k):
                m.d.comb += parser.byte.eq(request[k])
        m.d.sync += sent.eq(sent + 1)
    with m.Elif(anything):
        m.d.comb += [parser.got.eq(got), parser.byte.eq(byte)]
    # the harness's reset step counts as cycle 0 too: the last step BMC checks is cycle depth - 2
    _check_response(h, parser, sent == len(request), answers, depth - 2)
    return Proof(f"link_{'loadable' if loadable else 'fixed'}", m, "bmc", depth,
                 f"link parser ({samples} samples, {logits} logits, timeout {timeout_cycles}, "
                 f"{'loadable' if loadable else 'fixed'} sign bits): after any {free} cycles of "
                 f"bytes it hunts within {bound} silent cycles and answers INFO exactly; the "
                 f"accelerator starts only on A5 01 (A5 while hunting), is never left running "
                 f"when the parser hunts, and gets no sign row while running (BMC, {depth} "
                 f"cycles)")


def _monitor_requests(h: Harness, parser: LinkParser) -> None:
    """The accelerator-side properties, in every cycle."""
    m = h.m
    last, before = Signal(8), Signal(8)  # the last two bytes the parser received
    last_hunting, before_hunting = Signal(), Signal()  # and whether it was hunting for each
    with m.If(parser.got):
        m.d.sync += [last.eq(parser.byte), before.eq(last),
                     last_hunting.eq(parser.hunting), before_hunting.eq(last_hunting)]
    with m.If(parser.start):
        m.d.comb += Assert((last == P.CLASSIFY) & (before == P.REQUEST_SYNC) & before_hunting)
    running = Signal()  # started, and neither reset nor drained of its result words
    words = Signal(range(parser.logits + 1))
    with m.If(parser.start):
        m.d.sync += [running.eq(1), words.eq(0)]
    with m.Elif(parser.abort):
        m.d.sync += running.eq(0)
    with m.Elif(parser.out_ready & parser.out_valid):
        m.d.sync += words.eq(words + 1)
        with m.If(words == parser.logits - 1):
            m.d.sync += running.eq(0)
    with m.If(parser.hunting):
        m.d.comb += Assert(~running)
    with m.If(parser.load_valid):
        m.d.comb += Assert(~running)


def _check_response(h: Harness, parser: LinkParser, requested, answers: list[bytes],
                    last_cycle: int) -> None:
    """After the request: the bytes the transmitter takes are one of ``answers``, then the
    parser hunts; the whole answer must have been taken by the end of the trace."""
    m = h.m
    n = len(answers[0])
    taken = Signal(range(n + 2))
    matches = [Signal(init=1, name=f"matches_{k}") for k in range(len(answers))]
    with m.If(requested & parser.tx_valid & parser.tx_ready):
        m.d.sync += taken.eq(taken + 1)
        m.d.comb += Assert(taken < n)
        for match, answer in zip(matches, answers):
            for k, value in enumerate(answer):
                with m.If((taken == k) & (parser.tx_data != value)):
                    m.d.sync += match.eq(0)
    done = taken == n
    with m.If(done):
        m.d.comb += Assert(parser.hunting & Cat(*matches).any())
    with m.If(h.cycle == last_cycle):
        m.d.comb += Assert(done)
