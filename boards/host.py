"""The host's side of the serial protocol: send fragments to a board, read back the results.

:class:`BoardClient` works on any object with pyserial's ``write(bytes)`` and ``read(n)``
(which returns fewer than ``n`` bytes when its timeout expires): a real serial port from
:func:`open_port`, or the simulated line of the UART testbench (``sim/tb_link.py``).
"""

from __future__ import annotations

from ecg_alq.boards import protocol as P
from ecg_alq.errors import EcgAlqError



def open_port(port: str, baud: int = P.BAUD, timeout: float = 5.0):
    """Open a serial port with pyserial; a clear error when it cannot be opened."""
    try:
        import serial
    except ImportError as exc:  # pragma: no cover - pyserial is a dependency
        raise EcgAlqError("pyserial is not installed: pip install pyserial") from exc
    try:
        return serial.Serial(port, baudrate=baud, timeout=timeout)
    except (serial.SerialException, ValueError) as exc:
        raise EcgAlqError(f"cannot open serial port {port!r} at {baud} baud: {exc}") from exc


class BoardClient:
    """Requests over a byte port. ``max_garbage``: bytes skipped while looking for a response's
    sync byte before giving up."""

    def __init__(self, port, max_garbage: int = 64):
        self.port, self.max_garbage = port, max_garbage

    def _read_exactly(self, n: int, what: str) -> bytes:
        data = self.port.read(n)
        if len(data) != n:
            raise P.ProtocolError(f"the board stopped answering: {len(data)} of {n} bytes of "
                                  f"the {what} arrived (wrong port, baud rate or bitstream?)")
        return bytes(data)

    def exchange(self, command: int, request: bytes):
        """Send one request frame and return its decoded response."""
        import serial

        try:
            if hasattr(self.port, "reset_input_buffer"):
                self.port.reset_input_buffer()  # a late answer to an earlier request
            self.port.write(request)
            if hasattr(self.port, "flush"):
                self.port.flush()  # the read timeout starts when the request is out
            return self._response(command)
        except serial.SerialException as exc:
            raise P.ProtocolError(f"serial port error: {exc}") from None

    def _response(self, command: int):
        skipped = 0
        while True:
            sync = self._read_exactly(1, "response")
            if sync[0] == P.RESPONSE_SYNC:
                break
            skipped += 1
            if skipped > self.max_garbage:
                raise P.ProtocolError(f"no response sync byte in {skipped} bytes")
        status = self._read_exactly(1, "response status")
        rest = self._read_exactly(P.payload_length(command, status[0]) + 1, "response")
        return P.parse_response(command, sync + status + rest)

    def info(self) -> P.BoardInfo:
        return self.exchange(P.INFO, P.info_request())

    def load(self, rows: list[int], pe: int, simd: int) -> None:
        """Load the accelerator's sign memory (a board whose INFO says "loadable")."""
        self.exchange(P.LOAD, P.load_request(rows, pe, simd))

    def classify(self, samples) -> P.Classification:
        """Classify one fragment (``SAMPLES`` raw ADC values 0..2047)."""
        return self.exchange(P.CLASSIFY, P.classify_request(samples))


def sign_rows_for(model, info: P.BoardInfo) -> list[int]:
    """The sign-memory rows a board of ``info`` needs for ``model`` (an IntModel)."""
    from ecg_alq.hw.layout import Layout
    from ecg_alq.hw.params import HwParams

    rows = Layout.of(model, HwParams(pe=info.pe, simd=info.simd, memory="spram")).sign_rows()
    if len(rows) != info.sign_rows:
        raise EcgAlqError(f"the board's sign memory has {info.sign_rows} rows, this model needs "
                          f"{len(rows)} at pe {info.pe} x simd {info.simd}: not the model of "
                          f"its bitstream")
    return rows


def classify_all(client: BoardClient, x, model_id: int | None = None, progress=None,
                 model=None) -> list:
    """Classify every fragment of ``x`` (int (N, SAMPLES)) on the board; first ask the board
    which model it runs and refuse to go on if it is not ``model_id`` (when given). A board
    whose sign bits are loadable but not loaded gets them first, from ``model`` (an IntModel;
    required then). ``progress(done, total)`` is called after each fragment."""
    info = client.info()
    if info.version != P.VERSION:
        raise EcgAlqError(f"the board speaks protocol version {info.version}, this client "
                          f"{P.VERSION}: rebuild the bitstream or update ecg-alq")
    if model_id is not None and info.model_id != model_id:
        raise EcgAlqError(f"the board runs model {info.model_id:08x}, not {model_id:08x}: build "
                          f"and load the bitstream of this model (ecg-alq build --model ...)")
    if info.loadable and not info.loaded:
        if model is None:
            raise EcgAlqError("the board's sign bits are not loaded yet and no model was given "
                              "to load them from")
        client.load(sign_rows_for(model, info), info.pe, info.simd)
    results = []
    for k, fragment in enumerate(x):
        results.append(client.classify(fragment))
        if progress:
            progress(k + 1, len(x))
    return results
