"""The serial protocol and the board link: the pure encoding (CRC, frames, errors), the UART's
parameter checks, and the host client against the board's link top-level in Verilator, malformed
requests included (the testbench plays the serial line; see ``sim/tb_link.py``)."""

from __future__ import annotations

import struct

import numpy as np
import pytest

from ecg_alq.boards import protocol as P
from ecg_alq.boards.link import LinkTop
from ecg_alq.boards.uart import UartRx, UartTx
from ecg_alq.errors import EcgAlqError
from ecg_alq.hw.cycles import network_cycles
from ecg_alq.hw.params import HardwareParamError, HwParams
from ecg_alq.hw.plan import plan_network
from ecg_alq.intmodel import load
from ecg_alq.intmodel.shipped import default_model_path
from ecg_alq.intmodel.synthetic import conv, dense, random_model
from ecg_alq.sim.network import spread_rows
from ecg_alq.sim.runner import icarus_installed, run


def test_crc8_is_the_standard_one():
    assert P.crc8(b"123456789") == 0xF4  # CRC-8 (poly 0x07) check value
    assert P.crc8(b"") == 0


def test_the_links_hardware_crc_is_the_protocols():
    """The link's CRC generator (Amaranth's) against the software reference."""
    from ecg_alq.boards.link_parser import CRC8

    rng = np.random.default_rng(8)
    for n in (0, 1, 2, 9, 300):
        data = bytes(rng.integers(0, 256, n, dtype=np.uint8))
        assert CRC8.compute(data) == P.crc8(data), n


def test_requests_are_checked_and_responses_decoded():
    request = P.classify_request(np.arange(P.SAMPLES) % 2048)
    assert len(request) == 3 + 2 * P.SAMPLES and request[:2] == bytes([P.REQUEST_SYNC, P.CLASSIFY])
    assert P.crc8(request[1:-1]) == request[-1]
    with pytest.raises(EcgAlqError, match="3600 samples, got 10"):
        P.classify_request(range(10))
    with pytest.raises(EcgAlqError, match="0..2047; got 2048"):
        P.classify_request([2048] * P.SAMPLES)
    logits = list(range(-8, 9))
    ok = P.frame(P.RESPONSE_SYNC, bytes([P.OK]) + struct.pack("<B17iI", 3, *logits, 1234))
    assert P.parse_response(P.CLASSIFY, ok) == P.Classification(3, tuple(logits), 1234)
    assert P.load_request([1, 0xFFFF], 2, 8) == P.frame(P.REQUEST_SYNC, bytes([P.LOAD, 1, 0, 0xFF, 0xFF]))
    with pytest.raises(EcgAlqError, match="a sign row holds 16 bits"):
        P.load_request([1 << 16], 2, 8)
    info = P.frame(P.RESPONSE_SYNC, bytes([P.OK]) + struct.pack("<BBBBIIHB", 2, 17, 2, 8, 7, 12_000_000, 6073, 1))
    parsed = P.parse_response(P.INFO, info)
    assert (parsed.sign_rows, parsed.loadable, parsed.loaded) == (6073, True, False)
    with pytest.raises(P.ProtocolError, match="checksum mismatch"):
        P.parse_response(P.CLASSIFY, ok[:-1] + bytes([ok[-1] ^ 0xFF]))
    with pytest.raises(P.ProtocolError, match="74 bytes, expected 76"):
        P.parse_response(P.CLASSIFY, ok[:-2])
    error = P.frame(P.RESPONSE_SYNC, bytes([P.BAD_SAMPLE]))
    with pytest.raises(P.ProtocolError, match="status 2: sample outside 0..2047"):
        P.parse_response(P.CLASSIFY, error)


def test_impossible_link_parameters_are_rejected():
    with pytest.raises(HardwareParamError, match="at least 4, got 3"):
        UartRx(3)
    with pytest.raises(HardwareParamError, match="divisor must be a positive integer"):
        UartTx(0)
    small = random_model([conv(2, 3), dense(4)], input_length=50, seed=1)
    with pytest.raises(HardwareParamError, match="3600-sample fragments and 17 logits"):
        LinkTop(small, HwParams(), 12_000_000, 115_200, 1000)
    with pytest.raises(HardwareParamError, match="baud must be a positive integer"):
        LinkTop(load(default_model_path()), HwParams(), 12_000_000, 0, 1000)
    with pytest.raises(HardwareParamError, match=r"2000000 baud from a 25 MHz clock is 4.2% off"):
        LinkTop(load(default_model_path()), HwParams(), 25_000_000, 2_000_000, 1000)


def test_host_client_against_the_link_in_verilator(frags, small_model, tmp_path):
    """The link does not depend on the network behind it: a small 17-class model of 3600-sample
    fragments (the protocol's geometry) keeps the simulation short."""
    model = load(small_model)
    params = HwParams()
    clock_hz, divisor, timeout = 12_000_000, 8, 30_000
    mid = P.model_id(small_model)
    top = LinkTop(model, params, clock_hz, clock_hz // divisor, timeout, model_id=mid)
    rows = spread_rows(frags.label, 2)
    np.save(tmp_path / "x.npy", frags.x[rows])
    cfg = {"model": str(small_model), "fragments": str(tmp_path / "x.npy"),
           "divisor": divisor, "model_id": mid, "pe": params.pe, "simd": params.simd,
           "clock_hz": clock_hz, "timeout_cycles": timeout,
           "expected_cycles": network_cycles(plan_network(model, params)).total,
           "report": str(tmp_path / "link.json")}
    run(top, "link", "tb_link", tmp_path / "sim", cfg, testcase="link_serves_the_host_client")


@pytest.mark.parametrize("simulator", ["verilator", pytest.param("icarus", marks=pytest.mark.skipif(
    not icarus_installed(), reason="Icarus Verilog is not installed (make icarus)"))])
def test_link_answers_short_requests_in_both_simulators(small_model, simulator, tmp_path):
    """INFO, an unknown command, a bad checksum, a request cut short (TIMEOUT) and garbage
    before a request, through the host client: no classification completes (the cut-short one
    starts the accelerator and must reset it), so Icarus can."""
    model = load(small_model)
    clock_hz, divisor, timeout = 12_000_000, 8, 2_000
    mid = P.model_id(small_model)
    top = LinkTop(model, HwParams(), clock_hz, clock_hz // divisor, timeout, model_id=mid)
    cfg = {"divisor": divisor, "model_id": mid, "timeout_cycles": timeout,
           "expected_cycles": 0, "report": str(tmp_path / "link.json")}
    run(top, "link", "tb_link", tmp_path / "sim", cfg, testcase="link_answers_short_requests",
        simulator=simulator)


def test_sign_bits_are_loaded_over_the_link_in_verilator(frags, tmp_path):
    """The iCEBreaker's configuration: sign bits in SPRAM, loaded by the host (LOAD). A small
    model whose 432 sign rows take row numbers beyond one byte, with little to compute."""
    from ecg_alq.intmodel import save

    model = random_model([conv(4, 16, stride=8, padding=4, pool_kernel=8, pool_stride=8),
                          conv(24, 5, stride=2, padding=2, pool_kernel=4, pool_stride=4),
                          dense(17)], input_length=P.SAMPLES, seed=3)
    save(model, tmp_path / "wide.npz")
    params = HwParams(pe=2, simd=8, memory="spram")
    clock_hz, divisor, timeout = 12_000_000, 8, 30_000
    mid = P.model_id(tmp_path / "wide.npz")
    top = LinkTop(model, params, clock_hz, clock_hz // divisor, timeout, model_id=mid)
    assert top.accel.layout.sign_depth > 256
    np.save(tmp_path / "x.npy", frags.x[spread_rows(frags.label, 1)])
    cfg = {"model": str(tmp_path / "wide.npz"), "fragments": str(tmp_path / "x.npy"),
           "divisor": divisor, "model_id": mid, "pe": params.pe, "simd": params.simd,
           "clock_hz": clock_hz, "timeout_cycles": timeout, "sign_rows": top.accel.layout.sign_depth,
           "expected_cycles": network_cycles(plan_network(model, params)).total,
           "report": str(tmp_path / "link.json")}
    run(top, "link", "tb_link", tmp_path / "sim", cfg, testcase="link_loads_sign_bits")


@pytest.mark.parametrize("record", ["this model's", "another model's"])
def test_the_board_boots_from_the_flash_and_classifies_without_a_load(record, frags, tmp_path):
    """Power-up with the sign rows in an SPI flash model at 1 MiB: the link reads them into
    SPRAM itself, INFO says loaded, and a fragment is classified bit-exactly with no LOAD. A
    boot record of another model is not counted as loaded: NOT_LOADED, then LOAD works."""
    from ecg_alq.boards.flash_loader import boot_header, boot_record
    from ecg_alq.intmodel import save

    model = random_model([conv(4, 16, stride=8, padding=4, pool_kernel=8, pool_stride=8),
                          conv(24, 5, stride=2, padding=2, pool_kernel=4, pool_stride=4),
                          dense(17)], input_length=P.SAMPLES, seed=3)
    save(model, tmp_path / "wide.npz")
    params = HwParams(pe=2, simd=8, memory="spram")
    clock_hz, divisor, timeout, offset = 12_000_000, 8, 30_000, 0x100000
    mid = P.model_id(tmp_path / "wide.npz")
    top = LinkTop(model, params, clock_hz, clock_hz // divisor, timeout, model_id=mid,
                  boot_offset=offset, boot_wake_cycles=5)
    header = boot_header(mid if record == "this model's" else mid ^ 1, params.pe, params.simd,
                         top.accel.layout.sign_depth)
    rows = boot_record(top.accel.layout.sign_rows(), P.row_bytes(params.pe, params.simd), header)
    np.save(tmp_path / "x.npy", frags.x[spread_rows(frags.label, 1)])
    cfg = {"model": str(tmp_path / "wide.npz"), "fragments": str(tmp_path / "x.npy"),
           "divisor": divisor, "model_id": mid, "timeout_cycles": timeout,
           "expected_cycles": network_cycles(plan_network(model, params)).total,
           "flash_rows": rows.hex(), "flash_offset": offset, "flash_wake_cycles": 5,
           "sign_rows": top.accel.layout.sign_depth, "report": str(tmp_path / "link.json")}
    run(top, "link", "tb_link", tmp_path / "sim", cfg,
        testcase="link_boots_from_flash" if record == "this model's"
        else "link_refuses_a_foreign_boot_record_then_loads")


def test_booting_from_flash_needs_sign_bits_in_spram(small_model):
    with pytest.raises(HardwareParamError, match="memory style 'spram' only"):
        LinkTop(load(small_model), HwParams(), 12_000_000, 115_200, 1000, boot_offset=0)


def test_board_classify_command_gives_clear_errors(tmp_path, capsys):
    from ecg_alq.cli import main

    x = tmp_path / "x.npy"
    np.save(x, np.full(P.SAMPLES, 1000, np.int16))
    assert main(["board", "classify", "--port", str(tmp_path / "ttyNONE"), "--input", str(x)]) == 2
    assert "cannot open serial port" in capsys.readouterr().err
    assert main(["board", "classify", "--port", "/dev/null", "--input",
                 str(tmp_path / "missing.npy")]) == 2
    assert "input file not found" in capsys.readouterr().err
    np.save(x, np.full(100, 1000, np.int16))
    assert main(["board", "classify", "--port", "/dev/null", "--input", str(x)]) == 2
    assert "expected (N, 3600)" in capsys.readouterr().err
