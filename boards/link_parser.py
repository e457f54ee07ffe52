"""The board's protocol parser (:mod:`ecg_alq.boards.protocol`): received bytes in, response
bytes out, and the accelerator driven through plain ports, so that it can be simulated and
proven without an accelerator or a UART behind it (``sim/prove_link.py``).
:class:`ecg_alq.boards.link.LinkTop` puts it between the UARTs and the accelerator.

Half duplex: it receives one request, answers it, and waits for the next.

* Hunting (``hunting`` high), it ignores every byte but the sync byte 0xA5.
* CLASSIFY: it starts the accelerator at once and streams each sample into it as its second
  byte arrives (no fragment buffer besides the accelerator's own input memory), keeping the
  CRC and noting any sample above 2047. After the CRC byte it answers a good request with the
  accelerator's output, sent as it is produced (class id, the logits, cycles). A bad checksum
  or sample resets the accelerator (``abort``) and answers with the error status.
* INFO: answers with ``info`` (version, classes, pe, simd, model id, clock, sign rows) and the
  flags byte (sign bits loadable, loaded).
* LOAD (only with ``loadable``): each sign-memory row goes to the idle accelerator as its last
  byte arrives; the sign bits count as loaded once the CRC checks. A CLASSIFY before that is
  answered with NOT_LOADED (after its whole frame has arrived).
* A request whose next byte does not arrive within ``timeout_cycles`` cycles resets the
  accelerator and is answered with TIMEOUT; an unknown command with BAD_COMMAND.

Ports::

    got, byte           In  1, 8   a received byte, valid for the one cycle ``got`` is high
    tx_data, tx_valid   Out 8, 1   the next response byte, offered until ``tx_ready``
    tx_ready            In  1
    hunting             Out 1      waiting for a request's sync byte (the idle state)
    start               Out 1      start the accelerator (one cycle)
    abort               Out 1      reset the accelerator (a bad or timed-out request)
    sample, sample_valid  Out 11, 1   a fragment sample, offered until ``sample_ready``
    sample_ready        In  1
    out_valid, out_class  In  1, class_width   the accelerator's output word and class
    out_logit           In  signed(32)         (the word's logit)
    out_ready           Out 1      take the output word
    cycles              In  32     the accelerator's cycle count of the last inference
    load_valid, load_addr, load_data  Out   a sign-memory row to write (``loadable`` only)
    status              Out 3      the status of the last answered request
    preloaded           In  1      (one cycle) the sign rows were written by someone else: loaded
    last_class          Out class_width   the class of the last fragment answered OK
"""

from __future__ import annotations

from types import SimpleNamespace

from amaranth import Array, Cat, Const, Module, Signal, signed
from amaranth.lib import crc
from amaranth.lib.wiring import In, Out

from ecg_alq.boards import protocol as P
from ecg_alq.hw.params import Checked, must_be_positive, reject
from ecg_alq.intmodel.spec import ADC_MAX

#: the protocol's CRC-8 (polynomial 0x07, initial 0, no reflection; ``protocol.crc8`` is its
#: software reference) for bytes, as Amaranth's CRC generator
CRC8 = crc.Algorithm(crc_width=8, polynomial=0x07, initial_crc=0, reflect_input=False,
                     reflect_output=False, xor_output=0)(data_width=8)
SAMPLE_BITS = ADC_MAX.bit_length()  #: a sample's bits (its high byte holds the top 3)


class LinkParser(Checked):
    """``samples`` per CLASSIFY request, ``logits`` per answer, ``info``: INFO's payload but
    its flags byte; ``sign_depth`` rows of ``row_bytes`` bytes per LOAD (``loadable``);
    ``class_width``: bits of a class id."""

    @classmethod
    def check(cls, *, samples, logits, info, sign_depth, row_bytes, loadable, timeout_cycles,
              class_width):
        must_be_positive(samples=samples, logits=logits, sign_depth=sign_depth,
                         row_bytes=row_bytes, timeout_cycles=timeout_cycles,
                         class_width=class_width)
        if not isinstance(info, bytes):
            reject(f"info must be bytes, got {type(info).__name__}")
        if class_width > 8:
            reject(f"a class id is one byte of the protocol; {class_width} bits do not fit")

    def __init__(self, *, samples, logits, info, sign_depth, row_bytes, loadable,
                 timeout_cycles, class_width):
        self.samples, self.logits, self.info = samples, logits, info
        self.sign_depth, self.row_bytes, self.loadable = sign_depth, row_bytes, loadable
        self.timeout_cycles = timeout_cycles
        super().__init__({
            "got": In(1), "byte": In(8), "tx_data": Out(8), "tx_valid": Out(1),
            "tx_ready": In(1), "hunting": Out(1), "start": Out(1), "abort": Out(1),
            "sample": Out(SAMPLE_BITS), "sample_valid": Out(1), "sample_ready": In(1),
            "out_valid": In(1), "out_class": In(class_width), "out_logit": In(signed(32)),
            "out_ready": Out(1), "cycles": In(32), "load_valid": Out(1),
            "load_addr": Out(range(sign_depth + 1)), "load_data": Out(8 * row_bytes),
            "status": Out(3), "last_class": Out(class_width), "preloaded": In(1)})

    def elaborate(self, platform):
        m = Module()
        s = self._registers(m)
        with m.FSM():
            with m.State("HUNT"):
                m.d.comb += self.hunting.eq(1)
                with m.If(self.got & (self.byte == P.REQUEST_SYNC)):
                    m.d.comb += s.crc.start.eq(1)
                    m.d.sync += s.idle.eq(0)
                    m.next = "COMMAND"
            for state in ("COMMAND", "LOW", "HIGH", "ROWS", "CHECK"):
                with m.State(state):
                    self._receive(m, s, state)
            with m.State("DECIDE"):
                self._decide(m, s)
            self._answer(m, s)
        return m

    def _registers(self, m: Module) -> SimpleNamespace:
        """The CRC and the request's registers, in a namespace the states share."""
        s = SimpleNamespace(command=Signal(8), low=Signal(8), bad_sample=Signal(),
                            count=Signal(range(self.samples + 1)),
                            idle=Signal(range(self.timeout_cycles + 1)),
                            index=Signal(range(max(len(self.info) + 1, 4) + 1)),
                            word=Signal(range(self.logits + 1)))
        m.submodules.crc = s.crc = CRC8.create()
        with m.If(self.sample_valid & self.sample_ready):
            m.d.sync += self.sample_valid.eq(0)
        m.d.sync += self.start.eq(0)
        s.loaded = Signal(init=int(not self.loadable))
        with m.If(self.preloaded):  # the sign rows came from elsewhere (the boot flash)
            m.d.sync += s.loaded.eq(1)
        s.info = Array([Const(b, 8) for b in self.info]
                       + [Cat(Const(int(self.loadable), 1), s.loaded, Const(0, 6))])
        s.row = Signal(range(self.sign_depth + 1))
        s.row_byte = Signal(range(self.row_bytes + 1))
        s.row_word = Signal(8 * self.row_bytes)  # the row's bytes so far, first in the low bits
        s.next_word = Cat(s.row_word[8:], self.byte) if self.row_bytes > 1 else self.byte
        m.d.comb += [self.load_addr.eq(s.row), self.load_data.eq(s.next_word)]
        return s

    # ---------------------------------------------------------------- receiving
    def _receive(self, m: Module, s: SimpleNamespace, state: str) -> None:
        """A receiving state: every byte goes into the CRC; a silent line times out."""
        with m.If(self.got):
            m.d.comb += [s.crc.valid.eq(1), s.crc.data.eq(self.byte)]
            m.d.sync += s.idle.eq(0)
        with m.Elif(s.idle == self.timeout_cycles):
            m.d.comb += self.abort.eq(1)
            m.d.sync += [self.status.eq(P.TIMEOUT), self.sample_valid.eq(0)]
            m.next = "REPLY"
        with m.Else():
            m.d.sync += s.idle.eq(s.idle + 1)
        with m.If(self.got):
            {"COMMAND": self._command, "LOW": self._low, "HIGH": self._high,
             "ROWS": self._row_byte, "CHECK": self._check}[state](m, s)

    def _command(self, m: Module, s: SimpleNamespace) -> None:
        m.d.sync += s.command.eq(self.byte)
        with m.If(self.byte == P.CLASSIFY):
            m.d.sync += [self.start.eq(1), s.count.eq(0), s.bad_sample.eq(0)]
            m.next = "LOW"
        with m.Elif(self.byte == P.INFO):
            m.next = "CHECK"
        if self.loadable:
            with m.Elif(self.byte == P.LOAD):
                m.d.sync += [s.loaded.eq(0), s.row.eq(0), s.row_byte.eq(0)]
                m.next = "ROWS"
        with m.Else():
            m.d.sync += self.status.eq(P.BAD_COMMAND)
            m.next = "REPLY"

    def _low(self, m: Module, s: SimpleNamespace) -> None:
        m.d.sync += s.low.eq(self.byte)
        m.next = "HIGH"

    def _high(self, m: Module, s: SimpleNamespace) -> None:
        """A sample's second byte: the sample goes to the accelerator as it arrives."""
        high = SAMPLE_BITS - 8
        with m.If(self.byte[high:] != 0):
            m.d.sync += s.bad_sample.eq(1)
        m.d.sync += [self.sample.eq(Cat(s.low, self.byte[:high])), self.sample_valid.eq(1),
                     s.count.eq(s.count + 1)]
        with m.If(s.count == self.samples - 1):
            m.next = "CHECK"
        with m.Else():
            m.next = "LOW"

    def _row_byte(self, m: Module, s: SimpleNamespace) -> None:
        """LOAD's payload, row by row: a row is written as its last byte arrives."""
        m.d.sync += s.row_word.eq(s.next_word)
        with m.If(s.row_byte == self.row_bytes - 1):
            m.d.comb += self.load_valid.eq(1)
            m.d.sync += [s.row_byte.eq(0), s.row.eq(s.row + 1)]
            with m.If(s.row == self.sign_depth - 1):
                m.next = "CHECK"
        with m.Else():
            m.d.sync += s.row_byte.eq(s.row_byte + 1)

    def _check(self, m: Module, s: SimpleNamespace) -> None:
        """The CRC byte: it must equal the CRC of the bytes before it."""
        with m.If(self.byte != s.crc.crc):
            m.d.sync += self.status.eq(P.BAD_CHECKSUM)
        with m.Elif(s.bad_sample & (s.command == P.CLASSIFY)):
            m.d.sync += self.status.eq(P.BAD_SAMPLE)
        with m.Elif(~s.loaded & (s.command == P.CLASSIFY)):
            m.d.sync += self.status.eq(P.NOT_LOADED)
        with m.Else():
            m.d.sync += self.status.eq(P.OK)
            with m.If(s.command == P.LOAD):
                m.d.sync += s.loaded.eq(1)
        m.next = "DECIDE"

    def _decide(self, m: Module, s: SimpleNamespace) -> None:
        """After the CRC byte: a CLASSIFY that failed resets the accelerator it started."""
        with m.If((self.status != P.OK) & (s.command == P.CLASSIFY)):
            m.d.comb += self.abort.eq(1)
        m.next = "REPLY"

    # ---------------------------------------------------------------- answering
    def _send(self, m: Module, s: SimpleNamespace, value, nxt, counted=True):
        """Offer ``value`` to the transmitter; on acceptance add it to the CRC (``counted``)
        and go to ``nxt``. Returns the acceptance."""
        m.d.comb += [self.tx_data.eq(value), self.tx_valid.eq(1)]
        with m.If(self.tx_ready):
            if counted:
                m.d.comb += [s.crc.valid.eq(1), s.crc.data.eq(value)]
            if nxt is not None:
                m.next = nxt
        return self.tx_ready

    def _answer(self, m: Module, s: SimpleNamespace) -> None:
        """The response: sync, status, then the command's payload, then the CRC."""
        send = lambda *a, **k: self._send(m, s, *a, **k)  # noqa: E731
        with m.State("REPLY"):
            send(P.RESPONSE_SYNC, "STATUS", counted=False)
            with m.If(self.tx_ready):
                m.d.comb += s.crc.start.eq(1)
                m.d.sync += [s.index.eq(0), s.word.eq(0)]
        with m.State("STATUS"):
            with m.If(self.status != P.OK):
                send(self.status, "CRC")
            with m.Elif(s.command == P.INFO):
                send(self.status, "INFO")
            with m.Elif(s.command == P.LOAD):
                send(self.status, "CRC")
            with m.Else():
                send(self.status, "CLASS")
        with m.State("INFO"):
            with m.If(send(s.info[s.index], None)):
                m.d.sync += s.index.eq(s.index + 1)
                with m.If(s.index == len(s.info) - 1):
                    m.next = "CRC"
        self._classification(m, s, send)
        with m.State("CRC"):
            send(s.crc.crc, "HUNT", counted=False)

    def _classification(self, m: Module, s: SimpleNamespace, send) -> None:
        """CLASSIFY's payload: the class id, 4 bytes per output word, 4 bytes of cycles."""
        with m.State("CLASS"):  # wait for the result, then its class id
            with m.If(self.out_valid):
                with m.If(send(self.out_class, "LOGIT")):
                    m.d.sync += [self.last_class.eq(self.out_class), s.index.eq(0)]
        with m.State("LOGIT"):  # 4 bytes of each output word, then take the word
            with m.If(self.out_valid):
                with m.If(send(_byte_of(self.out_logit, s.index), None)):
                    m.d.sync += s.index.eq(s.index + 1)
                    with m.If(s.index == 3):
                        m.d.comb += self.out_ready.eq(1)
                        m.d.sync += [s.index.eq(0), s.word.eq(s.word + 1)]
                        with m.If(s.word == self.logits - 1):
                            m.next = "CYCLES"
        with m.State("CYCLES"):  # the counter holds until the next start
            with m.If(send(_byte_of(self.cycles, s.index), None)):
                m.d.sync += s.index.eq(s.index + 1)
                with m.If(s.index == 3):
                    m.next = "CRC"


def _byte_of(value, index):
    """Byte ``index`` (0 = lowest) of a 32-bit ``value``."""
    return Array(value[8 * k: 8 * k + 8] for k in range(4))[index]
