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

from amaranth import Array, Cat, Const, Module, Signal, signed
from amaranth.hdl import ResetInserter
from amaranth.lib.wiring import In, Out

from ecg_alq.boards import protocol as P
from ecg_alq.boards.uart import UartRx, UartTx
from ecg_alq.hw.accelerator import Accelerator
from ecg_alq.hw.layout import Layout
from ecg_alq.hw.params import Checked, HwParams, must_be_positive, reject
from ecg_alq.intmodel.spec import IntModel


MAX_BAUD_ERROR = 0.02  #: a UART tolerates a few percent of bit-time error between the ends


def crc8_next(m: Module, crc, byte) -> Signal:
    """The CRC-8 (polynomial 0x07) after one more byte: combinational logic added to ``m``
    (one signal per bit step, so that the expression does not grow with every step)."""
    c = Signal(8)
    m.d.comb += c.eq(crc ^ byte)
    for _ in range(8):
        nxt = Signal(8)
        m.d.comb += nxt.eq(Cat(Const(0, 1), c[:7]) ^ (c[7].replicate(8) & Const(0x07, 8)))
        c = nxt
    return c


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
        accel, rx, tx = self.accel, self.uart_rx, self.uart_tx
        abort = Signal()  # reset the accelerator (a bad request): registered, as it fans out
        abort_q = Signal()  # to most of the accelerator's flip-flops
        m.d.sync += abort_q.eq(abort)
        m.submodules.accel = ResetInserter(abort_q)(accel)
        m.submodules.uart_rx, m.submodules.uart_tx = rx, tx
        m.d.comb += [rx.rx.eq(self.rx), self.tx.eq(tx.tx), self.busy.eq(accel.busy)]
        # the received byte, registered (the receiver's valid is combinational)
        got, byte = Signal(), Signal(8)
        m.d.sync += [got.eq(rx.valid), byte.eq(rx.data)]
        start = Signal()  # the accelerator starts the cycle after the CLASSIFY command byte
        m.d.sync += start.eq(0)
        m.d.comb += accel.start.eq(start)

        crc = Signal(8)
        command = Signal(8)
        count = Signal(range(P.SAMPLES + 1))
        low = Signal(8)
        bad_sample = Signal()
        idle = Signal(range(self.timeout_cycles + 1))  # cycles since the last byte of a request
        sample = Signal(11)
        pending = Signal()  # a sample waits for the accelerator's in_ready
        m.d.comb += [accel.in_data.eq(sample), accel.in_valid.eq(pending)]
        with m.If(pending & accel.in_ready):
            m.d.sync += pending.eq(0)

        loadable = accel.layout.loadable_signs
        loaded = Signal(init=int(not loadable))
        info = Array([Const(b, 8) for b in self.info_bytes()]
                     + [Cat(Const(int(loadable), 1), loaded, Const(0, 6))])
        row_bytes = P.row_bytes(self.params.pe, self.params.simd)
        row = Signal(range(accel.layout.sign_depth + 1))
        row_byte = Signal(range(row_bytes + 1))
        row_word = Signal(8 * row_bytes)  # the row's bytes so far, the first in the low bits
        if loadable:
            m.d.comb += [accel.load_addr.eq(row),
                         accel.load_data.eq(Cat(row_word[8:], byte)
                                            if row_bytes > 1 else byte)]
        index = Signal(range(max(len(info), 4) + 1))
        word = Signal(range(P.LOGITS + 1))
        logit = Signal(signed(32))
        m.d.comb += logit.eq(accel.out_logit)
        cycles = accel.cycles  # holds until the next start

        crc_rx = crc8_next(m, crc, byte)  # the CRC with the byte received / sent this cycle
        crc_tx = crc8_next(m, crc, tx.data)

        def send(value, nxt, counted=True):
            """Offer ``value`` to the transmitter; on acceptance add it to the CRC, go to ``nxt``."""
            m.d.comb += [tx.data.eq(value), tx.valid.eq(1)]
            with m.If(tx.ready):
                if counted:
                    m.d.sync += crc.eq(crc_tx)
                if nxt is not None:
                    m.next = nxt
            return tx.ready

        with m.FSM():
            with m.State("HUNT"):
                with m.If(got & (byte == P.REQUEST_SYNC)):
                    m.d.sync += [crc.eq(0), idle.eq(0)]
                    m.next = "COMMAND"
            # ------------------------------------------------------------ receiving
            for state in ("COMMAND", "LOW", "HIGH", "ROWS", "CHECK"):
                with m.State(state):
                    with m.If(got):
                        m.d.sync += [idle.eq(0), crc.eq(crc_rx)]
                    with m.Elif(idle == self.timeout_cycles):
                        m.d.comb += abort.eq(1)
                        m.d.sync += [self.status.eq(P.TIMEOUT), pending.eq(0)]
                        m.next = "REPLY"
                    with m.Else():
                        m.d.sync += idle.eq(idle + 1)
                    if state == "COMMAND":
                        with m.If(got):
                            m.d.sync += command.eq(byte)
                            with m.If(byte == P.CLASSIFY):
                                m.d.sync += start.eq(1)
                                m.d.sync += [count.eq(0), bad_sample.eq(0)]
                                m.next = "LOW"
                            with m.Elif(byte == P.INFO):
                                m.next = "CHECK"
                            if loadable:
                                with m.Elif(byte == P.LOAD):
                                    m.d.sync += [loaded.eq(0), row.eq(0), row_byte.eq(0)]
                                    m.next = "ROWS"
                            with m.Else():
                                m.d.sync += self.status.eq(P.BAD_COMMAND)
                                m.next = "REPLY"
                    elif state == "LOW":
                        with m.If(got):
                            m.d.sync += low.eq(byte)
                            m.next = "HIGH"
                    elif state == "HIGH":
                        with m.If(got):
                            with m.If(byte[3:] != 0):
                                m.d.sync += bad_sample.eq(1)
                            m.d.sync += [sample.eq(Cat(low, byte[:3])), pending.eq(1),
                                         count.eq(count + 1)]
                            with m.If(count == P.SAMPLES - 1):
                                m.next = "CHECK"
                            with m.Else():
                                m.next = "LOW"
                    elif state == "ROWS":  # LOAD's payload, row by row
                        with m.If(got):
                            m.d.sync += row_word.eq(Cat(row_word[8:], byte)
                                                    if row_bytes > 1 else byte)
                            with m.If(row_byte == row_bytes - 1):
                                if loadable:
                                    m.d.comb += accel.load_valid.eq(1)
                                m.d.sync += [row_byte.eq(0), row.eq(row + 1)]
                                with m.If(row == accel.layout.sign_depth - 1):
                                    m.next = "CHECK"
                            with m.Else():
                                m.d.sync += row_byte.eq(row_byte + 1)
                    else:  # CHECK: the CRC byte
                        with m.If(got):
                            with m.If(byte != crc):
                                m.d.sync += self.status.eq(P.BAD_CHECKSUM)
                            with m.Elif(bad_sample & (command == P.CLASSIFY)):
                                m.d.sync += self.status.eq(P.BAD_SAMPLE)
                            with m.Elif(~loaded & (command == P.CLASSIFY)):
                                m.d.sync += self.status.eq(P.NOT_LOADED)
                            with m.Else():
                                m.d.sync += self.status.eq(P.OK)
                                with m.If(command == P.LOAD):
                                    m.d.sync += loaded.eq(1)
                            m.next = "DECIDE"
            with m.State("DECIDE"):
                with m.If((self.status != P.OK) & (command == P.CLASSIFY)):
                    m.d.comb += abort.eq(1)
                m.next = "REPLY"
            # ------------------------------------------------------------ answering
            with m.State("REPLY"):
                send(P.RESPONSE_SYNC, "STATUS", counted=False)
                with m.If(tx.ready):
                    m.d.sync += [crc.eq(0), index.eq(0), word.eq(0)]
            with m.State("STATUS"):
                with m.If(self.status != P.OK):
                    send(self.status, "CRC")
                with m.Elif(command == P.INFO):
                    send(self.status, "INFO")
                with m.Elif(command == P.LOAD):
                    send(self.status, "CRC")
                with m.Else():
                    send(self.status, "CLASS")
            with m.State("INFO"):
                with m.If(send(info[index], None)):
                    m.d.sync += index.eq(index + 1)
                    with m.If(index == len(info) - 1):
                        m.next = "CRC"
            with m.State("CLASS"):  # wait for the result, then its class id
                with m.If(accel.out_valid):
                    with m.If(send(accel.out_class, "LOGIT")):
                        m.d.sync += [self.last_class.eq(accel.out_class), index.eq(0)]
            with m.State("LOGIT"):  # 4 bytes of each output word, then take the word
                with m.If(accel.out_valid):
                    with m.If(send(Array(logit[8 * k: 8 * k + 8] for k in range(4))[index], None)):
                        m.d.sync += index.eq(index + 1)
                        with m.If(index == 3):
                            m.d.comb += accel.out_ready.eq(1)
                            m.d.sync += [index.eq(0), word.eq(word + 1)]
                            with m.If(word == P.LOGITS - 1):
                                m.next = "CYCLES"
            with m.State("CYCLES"):
                with m.If(send(Array(cycles[8 * k: 8 * k + 8] for k in range(4))[index], None)):
                    m.d.sync += index.eq(index + 1)
                    with m.If(index == 3):
                        m.next = "CRC"
            with m.State("CRC"):
                send(crc, "HUNT", counted=False)
        return m
