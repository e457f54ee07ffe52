"""The serial protocol between a host and a board running the accelerator (version 2).

Both directions are byte frames over an 8N1 UART; multi-byte numbers are little-endian. The
board's side is :mod:`ecg_alq.boards.link`, the host's :mod:`ecg_alq.boards.host`; this module
holds the constants and the pure encoding/decoding both share (and the testbench uses).

Request (host -> board)::

    0xA5  command  payload  crc8
    command 0x01 CLASSIFY  payload: 3600 samples x 2 bytes, each 0..2047 (11-bit ADC value)
    command 0x02 INFO      no payload
    command 0x03 LOAD      payload: the accelerator's sign memory, ``sign_rows`` rows of
                           ``ceil(pe x simd / 8)`` bytes each (only boards whose INFO says
                           "loadable": their sign bits live in SPRAM, which the bitstream
                           cannot initialise); the rows are
                           :meth:`ecg_alq.hw.accelerator.Accelerator.sign_rows` of the model

Response (board -> host)::

    0x5A  status  payload  crc8
    status 0 OK
      CLASSIFY payload: class id (1 byte, 1..17), 17 logits (4 bytes each, signed),
                        cycles (4 bytes: compute cycles of this inference)
      INFO payload:     protocol version (1), classes (1), pe (1), simd (1),
                        model id (4: the first 4 bytes of the model file's SHA-256),
                        clock (4: Hz), sign rows (2), flags (1: bit 0 loadable,
                        bit 1 loaded)
      LOAD: no payload
    any other status: no payload (see STATUS)

``crc8`` is CRC-8 (polynomial 0x07, initial value 0, no reflection) over every byte after the
sync byte. The board ignores bytes while it waits for a sync byte, so a host can always
resynchronise by sending a fresh request. A request whose samples stop arriving for
``timeout`` (a board parameter, 100 ms by default) is dropped with status TIMEOUT. A loadable
board answers CLASSIFY with NOT_LOADED until a LOAD succeeded (a failed or timed-out LOAD
unloads it); loaded sign bits stay until the FPGA is reconfigured or powered off.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from pathlib import Path

from ecg_alq.errors import EcgAlqError
from ecg_alq.intmodel.spec import ADC_MAX

VERSION = 2
BAUD = 115_200  #: the link's default UART rate, bits per second (8N1)
REQUEST_SYNC, RESPONSE_SYNC = 0xA5, 0x5A
CLASSIFY, INFO, LOAD = 0x01, 0x02, 0x03
SAMPLES = 3600
LOGITS = 17

OK, BAD_COMMAND, BAD_SAMPLE, BAD_CHECKSUM, TIMEOUT, NOT_LOADED = 0, 1, 2, 3, 4, 5
STATUS = {OK: "ok", BAD_COMMAND: "unknown command", BAD_SAMPLE: "sample outside 0..2047",
          BAD_CHECKSUM: "checksum mismatch", TIMEOUT: "request incomplete (timeout)",
          NOT_LOADED: "sign bits not loaded (send LOAD first)"}
FLAG_LOADABLE, FLAG_LOADED = 1, 2

CLASSIFY_PAYLOAD = 1 + 4 * LOGITS + 4  #: bytes of an OK CLASSIFY response's payload
INFO_PAYLOAD = 15


class ProtocolError(EcgAlqError):
    """A malformed response, or a board that reported an error status."""


def crc8(data: bytes, crc: int = 0) -> int:
    for byte in data:
        crc ^= byte
        for _ in range(8):
            crc = ((crc << 1) ^ 0x07) & 0xFF if crc & 0x80 else (crc << 1) & 0xFF
    return crc


def frame(sync: int, body: bytes) -> bytes:
    """``sync``, ``body``, CRC-8 of ``body``."""
    return bytes([sync]) + body + bytes([crc8(body)])


def classify_request(samples) -> bytes:
    """The CLASSIFY request of one fragment (``SAMPLES`` integers in 0..2047)."""
    values = [int(v) for v in samples]
    if len(values) != SAMPLES:
        raise EcgAlqError(f"a fragment has {SAMPLES} samples, got {len(values)}")
    bad = [v for v in values if not 0 <= v <= ADC_MAX]
    if bad:
        raise EcgAlqError(f"samples must be 11-bit ADC values 0..{ADC_MAX}; got {bad[0]}")
    return frame(REQUEST_SYNC, bytes([CLASSIFY]) + struct.pack(f"<{SAMPLES}H", *values))


def info_request() -> bytes:
    return frame(REQUEST_SYNC, bytes([INFO]))


def row_bytes(pe: int, simd: int) -> int:
    """Bytes of one sign-memory row in a LOAD request."""
    return -(-pe * simd // 8)


def load_request(rows: list[int], pe: int, simd: int) -> bytes:
    """The LOAD request of a sign memory (one integer of ``pe x simd`` bits per row)."""
    n = row_bytes(pe, simd)
    bad = [r for r in rows if not 0 <= r < 1 << (pe * simd)]
    if bad:
        raise EcgAlqError(f"a sign row holds {pe * simd} bits; got {bad[0]:#x}")
    return frame(REQUEST_SYNC, bytes([LOAD]) + b"".join(r.to_bytes(n, "little") for r in rows))


def model_id(path: str | Path) -> int:
    """The model id a board reports: the first 4 bytes of the model's content hash
    (:func:`ecg_alq.intmodel.fileio.content_sha256`: header without provenance, and arrays), so
    that the same network gives the same id, and the same bitstream, wherever it was made."""
    from ecg_alq.intmodel import load
    from ecg_alq.intmodel.fileio import content_sha256

    if not Path(path).is_file():
        raise EcgAlqError(f"model file not found: {path}")
    return int.from_bytes(bytes.fromhex(content_sha256(load(path)))[:4], "little")


@dataclass(frozen=True)
class Classification:
    class_id: int
    logits: tuple[int, ...]
    cycles: int


@dataclass(frozen=True)
class BoardInfo:
    version: int
    classes: int
    pe: int
    simd: int
    model_id: int
    clock_hz: int
    sign_rows: int
    flags: int

    @property
    def loadable(self) -> bool:
        """The sign bits must be loaded at run time (LOAD)."""
        return bool(self.flags & FLAG_LOADABLE)

    @property
    def loaded(self) -> bool:
        return bool(self.flags & FLAG_LOADED)


def payload_length(command: int, status: int) -> int:
    if status != OK or command == LOAD:
        return 0
    return CLASSIFY_PAYLOAD if command == CLASSIFY else INFO_PAYLOAD


def parse_response(command: int, data: bytes):
    """Decode one complete response frame (sync byte included) to a :class:`Classification` or
    :class:`BoardInfo`; raise :class:`ProtocolError` on a malformed frame or an error status."""
    if len(data) < 3 or data[0] != RESPONSE_SYNC:
        raise ProtocolError(f"response does not start with 0x{RESPONSE_SYNC:02X}: {data[:8].hex()}")
    status = data[1]
    want = 3 + payload_length(command, status)
    if len(data) != want:
        raise ProtocolError(f"response of {len(data)} bytes, expected {want} (status {status})")
    if crc8(data[1:-1]) != data[-1]:
        raise ProtocolError("response checksum mismatch (line noise?)")
    if status != OK:
        raise ProtocolError(f"board reported status {status}: {STATUS.get(status, 'unknown')}")
    body = data[2:-1]
    if command == LOAD:
        return None
    if command == CLASSIFY:
        cls, *rest = struct.unpack(f"<B{LOGITS}iI", body)
        if not 1 <= cls <= LOGITS:
            raise ProtocolError(f"the board answered class id {cls}, outside 1..{LOGITS}")
        return Classification(cls, tuple(rest[:LOGITS]), rest[LOGITS])
    return BoardInfo(*struct.unpack("<BBBBIIHB", body))
