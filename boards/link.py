"""The board's side of the serial protocol (:mod:`ecg_alq.boards.protocol`): the accelerator
behind a UART, independent of any particular board.

:class:`LinkTop` is what every board top-level instantiates and what the UART testbench
simulates. Half duplex: it receives one request, answers it, and waits for the next.

* Hunting, it ignores every byte but the sync byte 0xA5.
* CLASSIFY: it starts the accelerator at once and streams each sample into it as its second
  byte arrives (no fragment buffer besides the accelerator's own input memory), keeping the
  CRC and noting any sample above 2047. After the CRC byte it answers a good request with the
  accelerator's output, sent as it is produced (class id, 17 logits, cycles). A bad checksum or
  sample resets the accelerator and answers with the error status.
* INFO: answers with the protocol version, classes, pe, simd, model id, clock, sign rows and
  whether the sign bits are loadable/loaded.
* LOAD (only an accelerator of memory style "spram"): each sign-memory row is written into the
  idle accelerator as its last byte arrives; the sign bits count as loaded once the CRC checks.
  A CLASSIFY before that is answered with NOT_LOADED (after its whole frame has arrived).
* A request whose next byte does not arrive within ``timeout`` cycles resets the accelerator
  and is answered with TIMEOUT; an unknown command with BAD_COMMAND.

Ports::

    rx          In  1  the UART line from the host (idle high)
    tx          Out 1  the UART line to the host (idle high)
    busy        Out 1  the accelerator is busy (an LED)
    last_class  Out    the class id of the last fragment answered OK (0 before the first)
    status      Out 3  the status of the last answered request
"""

from __future__ import annotations

from types import SimpleNamespace

from amaranth import Array, Cat, Const, Module, Signal, signed
from amaranth.hdl import ResetInserter
from amaranth.lib import crc
from amaranth.lib.wiring import In, Out

from ecg_alq.boards import protocol as P
from ecg_alq.boards.uart import UartRx, UartTx
from ecg_alq.hw.accelerator import Accelerator
from ecg_alq.hw.layout import Layout
from ecg_alq.hw.params import Checked, HwParams, must_be_positive, reject
from ecg_alq.intmodel.spec import IntModel


MAX_BAUD_ERROR = 0.02  #: a UART tolerates a few percent of bit-time error between the ends


#: the protocol's CRC-8 (polynomial 0x07, initial 0, no reflection; ``protocol.crc8`` is its
#: software reference) for bytes, as Amaranth's CRC generator
CRC8 = crc.Algorithm(crc_width=8, polynomial=0x07, initial_crc=0, reflect_input=False,
                     reflect_output=False, xor_output=0)(data_width=8)


class LinkTop(Checked):

    @classmethod
    def check(cls, model, params, clock_hz, baud, timeout_cycles, model_id=0):
        must_be_positive(clock_hz=clock_hz, baud=baud, timeout_cycles=timeout_cycles)
        if model.input.length != P.SAMPLES or model.num_classes != P.LOGITS:
            reject(f"the serial protocol carries {P.SAMPLES}-sample fragments and "
                   f"{P.LOGITS} logits; the model has {model.input.length} and "
                   f"{model.num_classes}")
        acc_width = Layout.of(model, params).tables.acc_width
        if acc_width > 32:
            reject(f"logits of {acc_width} bits do not fit the protocol's 32")
        divisor = max(1, round(clock_hz / baud))
        UartRx.check(divisor)
        error = abs(clock_hz / divisor - baud) / baud
        if error > MAX_BAUD_ERROR:
            reject(f"{baud} baud from a {clock_hz / 1e6:g} MHz clock is {error:.1%} off "
                   f"(at most {MAX_BAUD_ERROR:.0%} works): choose another baud rate")

    def __init__(self, model: IntModel, params: HwParams, clock_hz: int, baud: int,
                 timeout_cycles: int, model_id: int = 0):
        layout = Layout.of(model, params)
        self.divisor = max(1, round(clock_hz / baud))
        self.params, self.clock_hz, self.baud = params, clock_hz, baud
        self.timeout_cycles, self.model_id = timeout_cycles, model_id
        self.accel = Accelerator(model, params, layout)
        self.uart_rx, self.uart_tx = UartRx(self.divisor), UartTx(self.divisor)
        super().__init__({"rx": In(1, init=1), "tx": Out(1, init=1), "busy": Out(1),
                          "last_class": Out(layout.class_width), "status": Out(3)})

    def info_bytes(self) -> bytes:
        """INFO's payload but its last byte (the flags, which change when loading)."""
        return bytes([P.VERSION, P.LOGITS, self.params.pe, self.params.simd]) + \
            self.model_id.to_bytes(4, "little") + self.clock_hz.to_bytes(4, "little") + \
            self.accel.layout.sign_depth.to_bytes(2, "little")

    def elaborate(self, platform):
        m = Module()
        s = self._datapath(m)
        with m.FSM():
            with m.State("HUNT"):
                with m.If(s.got & (s.byte == P.REQUEST_SYNC)):
                    m.d.comb += s.crc.start.eq(1)
                    m.d.sync += s.idle.eq(0)
                    m.next = "COMMAND"
            for state in ("COMMAND", "LOW", "HIGH", "ROWS", "CHECK"):
                with m.State(state):
                    self._receive(m, s, state)
            with m.State("DECIDE"):
                with m.If((self.status != P.OK) & (s.command == P.CLASSIFY)):
                    m.d.comb += s.abort.eq(1)
                m.next = "REPLY"
            self._answer(m, s)
        return m

    def _datapath(self, m: Module) -> SimpleNamespace:
        """The accelerator (reset by a bad request), the UARTs, the CRC and the request's
        registers, in a namespace the states share."""
        accel, rx, tx = self.accel, self.uart_rx, self.uart_tx
        s = SimpleNamespace(accel=accel, tx=tx, abort=Signal(), got=Signal(), byte=Signal(8),
                            start=Signal(), command=Signal(8), low=Signal(8),
                            count=Signal(range(P.SAMPLES + 1)), bad_sample=Signal(),
                            idle=Signal(range(self.timeout_cycles + 1)), sample=Signal(11),
                            pending=Signal(), index=Signal(range(max(len(self.info_bytes()) + 1,
                                                                     4) + 1)),
                            word=Signal(range(P.LOGITS + 1)), logit=Signal(signed(32)))
        abort_q = Signal()  # the reset fans out to most of the accelerator: registered
        m.d.sync += abort_q.eq(s.abort)
        m.submodules.accel = ResetInserter(abort_q)(accel)
        m.submodules.uart_rx, m.submodules.uart_tx = rx, tx
        m.submodules.crc = s.crc = CRC8.create()
        m.d.comb += [rx.rx.eq(self.rx), self.tx.eq(tx.tx), self.busy.eq(accel.busy),
                     accel.start.eq(s.start), accel.in_data.eq(s.sample),
                     accel.in_valid.eq(s.pending), s.logit.eq(accel.out_logit)]
        # the received byte, registered (the receiver's valid is combinational)
        m.d.sync += [s.got.eq(rx.valid), s.byte.eq(rx.data), s.start.eq(0)]
        with m.If(s.pending & accel.in_ready):
            m.d.sync += s.pending.eq(0)
        self._sign_rows(m, s)
        return s

    def _sign_rows(self, m: Module, s: SimpleNamespace) -> None:
        """LOAD's state: the row and byte being received, the bytes so far, whether loaded."""
        loadable = self.accel.layout.loadable_signs
        s.loaded = Signal(init=int(not loadable))
        s.info = Array([Const(b, 8) for b in self.info_bytes()]
                       + [Cat(Const(int(loadable), 1), s.loaded, Const(0, 6))])
        s.row_bytes = P.row_bytes(self.params.pe, self.params.simd)
        s.row = Signal(range(self.accel.layout.sign_depth + 1))
        s.row_byte = Signal(range(s.row_bytes + 1))
        s.row_word = Signal(8 * s.row_bytes)  # the row's bytes so far, the first in the low bits
        s.next_word = Cat(s.row_word[8:], s.byte) if s.row_bytes > 1 else s.byte
        if loadable:
            m.d.comb += [self.accel.load_addr.eq(s.row), self.accel.load_data.eq(s.next_word)]

    # ---------------------------------------------------------------- receiving
    def _receive(self, m: Module, s: SimpleNamespace, state: str) -> None:
        """A receiving state: every byte goes into the CRC; a silent line times out."""
        with m.If(s.got):
            m.d.comb += [s.crc.valid.eq(1), s.crc.data.eq(s.byte)]
            m.d.sync += s.idle.eq(0)
        with m.Elif(s.idle == self.timeout_cycles):
            m.d.comb += s.abort.eq(1)
            m.d.sync += [self.status.eq(P.TIMEOUT), s.pending.eq(0)]
            m.next = "REPLY"
        with m.Else():
            m.d.sync += s.idle.eq(s.idle + 1)
        with m.If(s.got):
            {"COMMAND": self._command, "LOW": self._low, "HIGH": self._high,
             "ROWS": self._row_byte, "CHECK": self._check}[state](m, s)

    def _command(self, m: Module, s: SimpleNamespace) -> None:
        m.d.sync += s.command.eq(s.byte)
        with m.If(s.byte == P.CLASSIFY):
            m.d.sync += [s.start.eq(1), s.count.eq(0), s.bad_sample.eq(0)]
            m.next = "LOW"
        with m.Elif(s.byte == P.INFO):
            m.next = "CHECK"
        if self.accel.layout.loadable_signs:
            with m.Elif(s.byte == P.LOAD):
                m.d.sync += [s.loaded.eq(0), s.row.eq(0), s.row_byte.eq(0)]
                m.next = "ROWS"
        with m.Else():
            m.d.sync += self.status.eq(P.BAD_COMMAND)
            m.next = "REPLY"

    def _low(self, m: Module, s: SimpleNamespace) -> None:
        m.d.sync += s.low.eq(s.byte)
        m.next = "HIGH"

    def _high(self, m: Module, s: SimpleNamespace) -> None:
        """A sample's second byte: the sample goes to the accelerator as it arrives."""
        with m.If(s.byte[3:] != 0):
            m.d.sync += s.bad_sample.eq(1)
        m.d.sync += [s.sample.eq(Cat(s.low, s.byte[:3])), s.pending.eq(1),
                     s.count.eq(s.count + 1)]
        with m.If(s.count == P.SAMPLES - 1):
            m.next = "CHECK"
        with m.Else():
            m.next = "LOW"

    def _row_byte(self, m: Module, s: SimpleNamespace) -> None:
        """LOAD's payload, row by row: a row is written as its last byte arrives."""
        m.d.sync += s.row_word.eq(s.next_word)
        with m.If(s.row_byte == s.row_bytes - 1):
            if self.accel.layout.loadable_signs:
                m.d.comb += self.accel.load_valid.eq(1)
            m.d.sync += [s.row_byte.eq(0), s.row.eq(s.row + 1)]
            with m.If(s.row == self.accel.layout.sign_depth - 1):
                m.next = "CHECK"
        with m.Else():
            m.d.sync += s.row_byte.eq(s.row_byte + 1)

    def _check(self, m: Module, s: SimpleNamespace) -> None:
        """The CRC byte: it must equal the CRC of the bytes before it."""
        with m.If(s.byte != s.crc.crc):
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

    # ---------------------------------------------------------------- answering
    def _send(self, m: Module, s: SimpleNamespace, value, nxt, counted=True):
        """Offer ``value`` to the transmitter; on acceptance add it to the CRC (``counted``)
        and go to ``nxt``. Returns the acceptance."""
        m.d.comb += [s.tx.data.eq(value), s.tx.valid.eq(1)]
        with m.If(s.tx.ready):
            if counted:
                m.d.comb += [s.crc.valid.eq(1), s.crc.data.eq(value)]
            if nxt is not None:
                m.next = nxt
        return s.tx.ready

    def _answer(self, m: Module, s: SimpleNamespace) -> None:
        """The response: sync, status, then the command's payload, then the CRC."""
        accel, send = self.accel, lambda *a, **k: self._send(m, s, *a, **k)
        with m.State("REPLY"):
            send(P.RESPONSE_SYNC, "STATUS", counted=False)
            with m.If(s.tx.ready):
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
        with m.State("CLASS"):  # wait for the result, then its class id
            with m.If(accel.out_valid):
                with m.If(send(accel.out_class, "LOGIT")):
                    m.d.sync += [self.last_class.eq(accel.out_class), s.index.eq(0)]
        with m.State("LOGIT"):  # 4 bytes of each output word, then take the word
            with m.If(accel.out_valid):
                with m.If(send(_byte_of(s.logit, s.index), None)):
                    m.d.sync += s.index.eq(s.index + 1)
                    with m.If(s.index == 3):
                        m.d.comb += accel.out_ready.eq(1)
                        m.d.sync += [s.index.eq(0), s.word.eq(s.word + 1)]
                        with m.If(s.word == P.LOGITS - 1):
                            m.next = "CYCLES"
        with m.State("CYCLES"):  # the counter holds until the next start
            with m.If(send(_byte_of(accel.cycles, s.index), None)):
                m.d.sync += s.index.eq(s.index + 1)
                with m.If(s.index == 3):
                    m.next = "CRC"
        with m.State("CRC"):
            send(s.crc.crc, "HUNT", counted=False)


def _byte_of(value, index):
    """Byte ``index`` (0 = lowest) of a 32-bit ``value``."""
    return Array(value[8 * k: 8 * k + 8] for k in range(4))[index]
