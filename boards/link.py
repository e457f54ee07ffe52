"""The board's side of the serial protocol (:mod:`ecg_alq.boards.protocol`): the accelerator
behind a UART, independent of any particular board.

:class:`LinkTop` is what every board top-level instantiates and what the UART testbench
simulates: the UART receiver and transmitter, the protocol parser
(:class:`ecg_alq.boards.link_parser.LinkParser`, which says how requests are answered) and
the accelerator, which a bad or timed-out request resets. With ``boot_offset`` (memory style
"spram" only), a :class:`ecg_alq.boards.flash_loader.FlashLoader` first reads the sign rows
from the SPI flash at that offset into SPRAM, and the link counts them as loaded if the boot
record's header names this model in this pe x simd layout and its CRC checks: the board boots
alone; bytes that arrive meanwhile are dropped.

Ports::

    rx          In  1  the UART line from the host (idle high)
    tx          Out 1  the UART line to the host (idle high)
    busy        Out 1  the accelerator is busy (an LED)
    last_class  Out    the class id of the last fragment answered OK (0 before the first)
    status      Out 3  the status of the last answered request
    flash_cs_n, flash_sck, flash_copi  Out 1,  flash_cipo  In 1   (``boot_offset``) the SPI flash
    booting     Out 1  (``boot_offset``) the sign rows are being read from the flash
"""

from __future__ import annotations

from amaranth import Module, Mux, Signal
from amaranth.hdl import ResetInserter
from amaranth.lib.wiring import In, Out

from ecg_alq.boards import protocol as P
from ecg_alq.boards.flash_loader import DEFAULT_WAKE_CYCLES, FlashLoader, boot_header
from ecg_alq.boards.link_parser import LinkParser
from ecg_alq.boards.uart import UartRx, UartTx
from ecg_alq.hw.accelerator import Accelerator
from ecg_alq.hw.layout import Layout
from ecg_alq.hw.params import Checked, HwParams, must_be_positive, reject
from ecg_alq.intmodel.spec import IntModel


MAX_BAUD_ERROR = 0.02  #: a UART tolerates a few percent of bit-time error between the ends


class LinkTop(Checked):

    @classmethod
    def check(cls, model, params, clock_hz, baud, timeout_cycles, model_id=0, boot_offset=None,
              boot_wake_cycles=DEFAULT_WAKE_CYCLES):
        must_be_positive(clock_hz=clock_hz, baud=baud, timeout_cycles=timeout_cycles)
        if boot_offset is not None and params.memory != "spram":
            reject(f"booting from the flash loads sign rows into SPRAM: memory style 'spram' "
                   f"only (this one's sign bits are in the bitstream, memory {params.memory!r})")
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
                 timeout_cycles: int, model_id: int = 0, boot_offset: int | None = None,
                 boot_wake_cycles: int = DEFAULT_WAKE_CYCLES):
        layout = Layout.of(model, params)
        self.divisor = max(1, round(clock_hz / baud))
        self.params, self.clock_hz, self.baud = params, clock_hz, baud
        self.timeout_cycles, self.model_id = timeout_cycles, model_id
        self.accel = Accelerator(model, params, layout)
        self.uart_rx, self.uart_tx = UartRx(self.divisor), UartTx(self.divisor)
        ports = {"rx": In(1, init=1), "tx": Out(1, init=1), "busy": Out(1),
                 "last_class": Out(layout.class_width), "status": Out(3)}
        self.loader = None
        if boot_offset is not None:
            # the SPI clock at most 25 MHz (half the READ command's limit: the round trip
            # through the pads is not constrained)
            header = boot_header(model_id, params.pe, params.simd, layout.sign_depth)
            self.loader = FlashLoader(layout.sign_depth, P.row_bytes(params.pe, params.simd),
                                      boot_offset, header, divisor=-(-clock_hz // 50_000_000),
                                      wake_cycles=boot_wake_cycles)
            ports |= {"flash_cs_n": Out(1, init=1), "flash_sck": Out(1), "flash_copi": Out(1),
                      "flash_cipo": In(1), "booting": Out(1)}
        super().__init__(ports)

    def info_bytes(self) -> bytes:
        """INFO's payload but its last byte (the flags, which change when loading)."""
        return bytes([P.VERSION, P.LOGITS, self.params.pe, self.params.simd]) + \
            self.model_id.to_bytes(4, "little") + self.clock_hz.to_bytes(4, "little") + \
            self.accel.layout.sign_depth.to_bytes(2, "little")

    def elaborate(self, platform):
        m = Module()
        accel, rx, tx = self.accel, self.uart_rx, self.uart_tx
        layout = accel.layout
        m.submodules.parser = parser = LinkParser(
            samples=P.SAMPLES, logits=P.LOGITS, info=self.info_bytes(),
            sign_depth=layout.sign_depth, row_bytes=P.row_bytes(self.params.pe, self.params.simd),
            loadable=layout.loadable_signs, timeout_cycles=self.timeout_cycles,
            class_width=layout.class_width)
        abort_q = Signal()  # the reset fans out to most of the accelerator: registered
        m.d.sync += abort_q.eq(parser.abort)
        m.submodules.accel = ResetInserter(abort_q)(accel)
        m.submodules.uart_rx, m.submodules.uart_tx = rx, tx
        # the received byte, registered (the receiver's valid is combinational); none while
        # the sign rows come from the flash
        booted = self._boot(m, parser) if self.loader else 1
        m.d.sync += [parser.got.eq(rx.valid & booted), parser.byte.eq(rx.data)]
        m.d.comb += [
            rx.rx.eq(self.rx), self.tx.eq(tx.tx), self.busy.eq(accel.busy),
            tx.data.eq(parser.tx_data), tx.valid.eq(parser.tx_valid),
            parser.tx_ready.eq(tx.ready),
            accel.start.eq(parser.start), accel.in_data.eq(parser.sample),
            accel.in_valid.eq(parser.sample_valid), parser.sample_ready.eq(accel.in_ready),
            parser.out_valid.eq(accel.out_valid), parser.out_class.eq(accel.out_class),
            parser.out_logit.eq(accel.out_logit), accel.out_ready.eq(parser.out_ready),
            parser.cycles.eq(accel.cycles),
            self.status.eq(parser.status), self.last_class.eq(parser.last_class)]
        if layout.loadable_signs:
            for name in ("load_valid", "load_addr", "load_data"):
                row = getattr(parser, name)
                if self.loader:  # the flash's rows first, then the host's LOADs
                    row = Mux(self.loader.done, row, getattr(self.loader, name))
                m.d.comb += getattr(accel, name).eq(row)
        return m

    def _boot(self, m: Module, parser: LinkParser):
        """The flash loader on the flash pins, ``booting`` until it is done, the parser told
        the rows are loaded as it finishes if the boot record was this model's and intact (else
        they stay unloaded: CLASSIFY answers NOT_LOADED until a LOAD). Returns its ``done``."""
        loader = m.submodules.loader = self.loader
        done_q = Signal()
        m.d.sync += done_q.eq(loader.done)
        m.d.comb += [self.flash_cs_n.eq(loader.cs_n), self.flash_sck.eq(loader.sck),
                     self.flash_copi.eq(loader.copi), loader.cipo.eq(self.flash_cipo),
                     self.booting.eq(~loader.done),
                     parser.preloaded.eq(loader.done & ~done_q & loader.valid)]
        return loader.done
