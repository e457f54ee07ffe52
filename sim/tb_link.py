"""cocotb testbench of the board link (:class:`ecg_alq.boards.link.LinkTop`): the real host
client (:class:`ecg_alq.boards.host.BoardClient`) talks to the simulated board through a
simulated serial line.

The testbench plays the line: :class:`SimLine` drives ``rx`` bit by bit and decodes ``tx``;
:class:`SimPort` gives the client pyserial's ``write``/``read`` (with its timeout semantics) on
top of it. This port object is the only stand-in: a physical serial port cannot exist in a
simulation. The client runs in a thread (``cocotb.task.bridge``) and each port call resumes the
simulation (``cocotb.task.resume``) until its bytes are sent or received.

Scenarios, in one session without resets between them: INFO; good fragments through
:func:`~ecg_alq.boards.host.classify_all` (what ``ecg-alq board classify`` runs; integer logits,
class and cycles against the golden and cycle models); a model id the board does not run; then each malformed request followed
by a good one (the link must recover): a bad checksum, a sample above 2047, an unknown command,
a request that stops half way (TIMEOUT), a byte with a broken stop bit, garbage before the sync
byte.

``link_answers_short_requests`` (for a slow simulator: no classification completes): INFO,
an unknown command, a bad checksum, a request that stops half way, garbage before a request.

``link_classifies_like_the_board_client``: what ``ecg-alq board classify`` does after power-up
(INFO, LOAD where the board needs it, the fragments), for a slow gate-level simulation.

``link_loads_sign_bits`` (a board of memory style "spram", whose sign bits are loaded at run
time): INFO says loadable and not loaded; CLASSIFY is answered NOT_LOADED; a LOAD with a broken
checksum fails and leaves it unloaded; :func:`~ecg_alq.boards.host.classify_all` then loads the
model's rows and classifies correctly; INFO says loaded.

Config: ``model``, ``fragments`` (.npy), ``divisor``, ``model_id``, ``pe``, ``simd``,
``clock_hz``, ``expected_cycles``, ``timeout_cycles``, ``report``.
"""

from __future__ import annotations

import json

import cocotb
import numpy as np
from cocotb.task import bridge, resume
from cocotb.triggers import FallingEdge, Timer

from ecg_alq.boards import protocol as P
from ecg_alq.boards.host import BoardClient, classify_all, sign_rows_for
from ecg_alq.errors import EcgAlqError
from ecg_alq.intmodel import load
from ecg_alq.intmodel.golden import GoldenModel
from ecg_alq.sim.bench import CLOCK_NS, Bench
from ecg_alq.sim.runner import config
from ecg_alq.sim.spi_flash import SpiFlash



class SimLine:
    """Both directions of the simulated UART line (8N1, ``divisor`` clock cycles per bit)."""

    def __init__(self, dut, divisor: int):
        self.dut, self.bit_ns = dut, divisor * CLOCK_NS
        self.received = bytearray()

    async def send(self, data: bytes, broken_stop: int | None = None) -> None:
        """Drive ``data`` on ``rx``; the byte at index ``broken_stop`` gets a 0 stop bit."""
        for i, byte in enumerate(data):
            stop = 0 if i == broken_stop else 1
            for bit in [0] + [(byte >> k) & 1 for k in range(8)] + [stop]:
                self.dut.rx.value = bit
                await Timer(self.bit_ns, unit="ns")
            if stop == 0:
                self.dut.rx.value = 1
                await Timer(self.bit_ns, unit="ns")

    async def monitor(self) -> None:
        """Decode every byte the board sends on ``tx`` into ``received``."""
        while True:
            await FallingEdge(self.dut.tx)
            await Timer(self.bit_ns * 3 // 2, unit="ns")
            byte = 0
            for k in range(8):
                byte |= int(self.dut.tx.value) << k
                await Timer(self.bit_ns, unit="ns")
            assert int(self.dut.tx.value) == 1, "the board sent a byte without its stop bit"
            self.received.append(byte)

    async def receive(self, n: int, timeout_ns: int) -> bytes:
        """Up to ``n`` received bytes, waiting at most ``timeout_ns`` (pyserial's ``read``)."""
        waited = 0
        while len(self.received) < n and waited < timeout_ns:
            await Timer(10 * self.bit_ns, unit="ns")
            waited += 10 * self.bit_ns
        out = bytes(self.received[:n])
        del self.received[:n]
        return out


class SimPort:
    """pyserial's ``write``/``read`` on the simulated line, for a client in a bridge thread."""

    def __init__(self, line: SimLine, timeout_ns: int):
        self.line, self.timeout_ns = line, timeout_ns
        self.broken_stop: int | None = None  # set to break the stop bit of one byte of a write

    def write(self, data: bytes) -> int:
        resume(self.line.send)(bytes(data), self.broken_stop)
        self.broken_stop = None
        return len(data)

    def read(self, n: int) -> bytes:
        return resume(self.line.receive)(n, self.timeout_ns)


def recorder(log: list):
    """``attempt(name, fn)``: run one request, append its result or its protocol error."""
    def attempt(name, fn):
        try:
            result = fn()
            log.append({"scenario": name, "ok": True,
                        "result": result.__dict__ if result is not None else None})
        except P.ProtocolError as exc:
            log.append({"scenario": name, "ok": False, "error": str(exc)})
    return attempt


def session(client: BoardClient, port: SimPort, x: np.ndarray, model_id: int) -> list[dict]:
    """The scenarios (blocking code, as a user's program would be)."""
    log = []

    attempt = recorder(log)
    good = P.classify_request(x[0])
    attempt("info", client.info)
    try:  # what `ecg-alq board classify` runs
        for k, r in enumerate(classify_all(client, x, model_id=model_id)):
            log.append({"scenario": f"fragment {k}", "ok": True, "result": r.__dict__})
    except P.ProtocolError as exc:
        log.append({"scenario": "fragment 0", "ok": False, "error": str(exc)})
    try:
        classify_all(client, x[:1], model_id=model_id ^ 1)
        log.append({"scenario": "wrong model", "ok": True})
    except EcgAlqError as exc:
        log.append({"scenario": "wrong model", "ok": False, "error": str(exc)})
    attempt("bad checksum", lambda: client.exchange(P.CLASSIFY, good[:-1] + bytes([good[-1] ^ 1])))
    attempt("recovery 1", lambda: client.classify(x[0]))
    samples = [int(v) for v in x[0]]
    samples[1234] = 4095
    body = bytes([P.CLASSIFY]) + b"".join(v.to_bytes(2, "little") for v in samples)
    attempt("bad sample", lambda: client.exchange(P.CLASSIFY, P.frame(P.REQUEST_SYNC, body)))
    command = next(c for c in range(0x70, 0x80) if P.crc8(bytes([c])) != P.REQUEST_SYNC)
    attempt("unknown command", lambda: client.exchange(command, P.frame(P.REQUEST_SYNC,
                                                                        bytes([command]))))
    attempt("timeout", lambda: client.exchange(P.CLASSIFY, good[:202]))
    port.broken_stop = 500
    attempt("broken stop bit", lambda: client.exchange(P.CLASSIFY, good))
    attempt("garbage, then a request", lambda: client.exchange(P.CLASSIFY,
                                                               b"\x00\x13\x37" + good))
    return log


async def start_line(dut, cfg) -> SimPort:
    """Clock, reset, the simulated line; returns the client's port (with its read timeout)."""
    dut.rx.value = 1  # the idle line
    await Bench(dut).start(5)
    line = SimLine(dut, cfg["divisor"])
    cocotb.start_soon(line.monitor())
    # the client's read timeout: the longest a response can take to start and finish
    timeout_ns = (2 * cfg["expected_cycles"] + cfg["timeout_cycles"]
                  + 200 * 10 * cfg["divisor"]) * CLOCK_NS
    return SimPort(line, timeout_ns)


async def run_session(cfg, session_fn, *args) -> dict:
    """Run the blocking ``session_fn(*args)`` (a list of scenario records) in a bridge thread;
    write the records to ``cfg["report"]`` and return them by scenario name."""
    log = await bridge(session_fn)(*args)
    if cfg.get("report"):
        with open(cfg["report"], "w") as fh:
            json.dump(log, fh, default=list)
    return {entry["scenario"]: entry for entry in log}


def check_classification(r: dict, want: np.ndarray, cycles: int, what: str) -> None:
    assert r["ok"], r
    assert list(r["result"]["logits"]) == want.tolist(), f"{what}: logits differ"
    assert r["result"]["class_id"] == int(np.argmax(want)) + 1, f"{what}: class"
    assert r["result"]["cycles"] == cycles, f"{what}: cycles"


def check_fragments(by: dict, want: np.ndarray, cycles: int) -> None:
    for k in range(len(want)):
        check_classification(by[f"fragment {k}"], want[k], cycles, f"fragment {k}")


@cocotb.test()
async def link_serves_the_host_client(dut):
    cfg = config()
    x = np.load(cfg["fragments"])
    want = GoldenModel(load(cfg["model"])).logits(x)
    port = await start_line(dut, cfg)
    by = await run_session(cfg, session, BoardClient(port), port, x, cfg["model_id"])
    info = by["info"]["result"]
    assert by["info"]["ok"] and (info["pe"], info["simd"], info["model_id"], info["clock_hz"],
                                 info["classes"], info["version"]) == \
        (cfg["pe"], cfg["simd"], cfg["model_id"], cfg["clock_hz"], P.LOGITS, P.VERSION), info
    assert not info["flags"] & P.FLAG_LOADABLE, info
    check_fragments(by, want, cfg["expected_cycles"])
    expected_errors = {"bad checksum": P.BAD_CHECKSUM, "bad sample": P.BAD_SAMPLE,
                       "unknown command": P.BAD_COMMAND, "timeout": P.TIMEOUT,
                       "broken stop bit": P.TIMEOUT}
    for name, status in expected_errors.items():
        r = by[name]
        assert not r["ok"] and f"status {status}:" in r["error"], (name, r)
    assert not by["wrong model"]["ok"] and "the board runs model" in by["wrong model"]["error"], \
        by["wrong model"]
    for name in ("recovery 1", "garbage, then a request"):
        r = by[name]
        assert r["ok"] and list(r["result"]["logits"]) == want[0].tolist(), (name, r)


def short_session(client: BoardClient, port: SimPort) -> list[dict]:
    """Requests that complete no classification, for a slow simulator: INFO; an unknown
    command; INFO with a broken checksum; a CLASSIFY that stops after 3 samples (TIMEOUT);
    garbage, then INFO."""
    log = []
    attempt = recorder(log)
    attempt("info", client.info)
    command = next(c for c in range(0x70, 0x80) if P.crc8(bytes([c])) != P.REQUEST_SYNC)
    attempt("unknown command", lambda: client.exchange(command, P.frame(P.REQUEST_SYNC,
                                                                        bytes([command]))))
    info = P.info_request()
    attempt("bad checksum", lambda: client.exchange(P.INFO, info[:-1] + bytes([info[-1] ^ 1])))
    attempt("timeout", lambda: client.exchange(P.CLASSIFY, P.classify_request(
        np.zeros(P.SAMPLES, int))[:8]))
    attempt("garbage, then info", lambda: client.exchange(P.INFO, b"\x00\x13\x37" + info))
    return log


@cocotb.test()
async def link_answers_short_requests(dut):
    cfg = config()
    port = await start_line(dut, cfg)
    by = await run_session(cfg, short_session, BoardClient(port), port)
    for name in ("info", "garbage, then info"):
        assert by[name]["ok"] and by[name]["result"]["model_id"] == cfg["model_id"], by[name]
    for name, status in (("unknown command", P.BAD_COMMAND), ("bad checksum", P.BAD_CHECKSUM),
                         ("timeout", P.TIMEOUT)):
        assert not by[name]["ok"] and f"status {status}:" in by[name]["error"], (name, by[name])


def board_session(client: BoardClient, model, x: np.ndarray, model_id: int) -> list[dict]:
    """What ``ecg-alq board classify`` does with a freshly configured board: INFO, the sign
    rows if the board needs them, then the fragments."""
    return [{"scenario": f"fragment {k}", "ok": True, "result": r.__dict__}
            for k, r in enumerate(classify_all(client, x, model_id=model_id, model=model))]


async def model_session(dut, session_fn, before=None) -> tuple[dict, np.ndarray, dict]:
    """Start the line, wait for ``before(dut)`` (when given), then run ``session_fn(client,
    model, x, model_id)`` on the config's model and fragments; returns the records by scenario,
    the golden logits and the config."""
    cfg = config()
    x = np.load(cfg["fragments"])
    model = load(cfg["model"])
    port = await start_line(dut, cfg)
    if before is not None:
        await before(dut)
    by = await run_session(cfg, session_fn, BoardClient(port), model, x, cfg["model_id"])
    return by, GoldenModel(model).logits(x), cfg


@cocotb.test()
async def link_classifies_like_the_board_client(dut):
    by, want, cfg = await model_session(dut, board_session)
    check_fragments(by, want, cfg["expected_cycles"])


def booted_session(client: BoardClient, model, x: np.ndarray, model_id: int) -> list[dict]:
    """After the board loaded its sign rows from the flash: INFO, then the fragments."""
    return [{"scenario": "info", "ok": True, "result": client.info().__dict__},
            *board_session(client, model, x, model_id)]


@cocotb.test()
async def link_boots_from_flash(dut):
    """Power-up with the sign rows in the SPI flash model (``flash_rows``, hex, at
    ``flash_offset``): the board loads them itself, says so, and classifies without a LOAD."""
    cfg = config()
    flash = SpiFlash(dut, bytes.fromhex(cfg["flash_rows"]), cfg["flash_wake_cycles"],
                     base=cfg["flash_offset"], prefix="flash_")
    cocotb.start_soon(flash.serve())
    by, want, cfg = await model_session(dut, booted_session, before=_wait_for_boot)
    assert by["info"]["result"]["flags"] == P.FLAG_LOADABLE | P.FLAG_LOADED, by["info"]
    assert flash.reads == 1
    check_fragments(by, want, cfg["expected_cycles"])


async def _wait_for_boot(dut) -> None:
    for _ in range(1_000_000):
        if not int(dut.booting.value):
            return
        await FallingEdge(dut.clk)
    raise AssertionError("the board never finished loading from the flash")


def load_session(client: BoardClient, model, x: np.ndarray, model_id: int) -> list[dict]:
    log = []

    attempt = recorder(log)
    info = client.info()
    log.append({"scenario": "info before", "ok": True, "result": info.__dict__})
    attempt("not loaded", lambda: client.classify(x[0]))
    rows = sign_rows_for(model, info)
    bad = P.load_request(rows, info.pe, info.simd)
    attempt("bad load", lambda: client.exchange(P.LOAD, bad[:-1] + bytes([bad[-1] ^ 0x10])))
    attempt("info after bad load", client.info)
    log += board_session(client, model, x, model_id)
    attempt("info after", client.info)
    return log


@cocotb.test()
async def link_loads_sign_bits(dut):
    await check_loading(dut)


@cocotb.test()
async def link_refuses_a_foreign_boot_record_then_loads(dut):
    """Power-up with a flash whose boot record is not this model's (``flash_rows`` at
    ``flash_offset``): the rows are not counted as loaded; LOAD then works as without a flash."""
    cfg = config()
    flash = SpiFlash(dut, bytes.fromhex(cfg["flash_rows"]), cfg["flash_wake_cycles"],
                     base=cfg["flash_offset"], prefix="flash_")
    cocotb.start_soon(flash.serve())
    await check_loading(dut, before=_wait_for_boot)
    assert flash.reads == 1


async def check_loading(dut, before=None) -> None:
    """:func:`load_session` and its checks: not loaded, NOT_LOADED, a bad LOAD refused, the
    rows loaded by the client, the fragments bit-exact, loaded."""
    by, want, cfg = await model_session(dut, load_session, before=before)
    flags = [by[k]["result"]["flags"] for k in ("info before", "info after bad load", "info after")]
    assert flags == [P.FLAG_LOADABLE, P.FLAG_LOADABLE, P.FLAG_LOADABLE | P.FLAG_LOADED], flags
    assert by["info before"]["result"]["sign_rows"] == cfg["sign_rows"]
    for name, status in (("not loaded", P.NOT_LOADED), ("bad load", P.BAD_CHECKSUM)):
        assert not by[name]["ok"] and f"status {status}:" in by[name]["error"], (name, by[name])
    check_fragments(by, want, cfg["expected_cycles"])
