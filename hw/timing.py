"""Pipeline timing of the accelerator, shared by the RTL and the cycle model."""

from ecg_alq.hw.fetch import LATENCY as FETCH_LATENCY
from ecg_alq.hw.lane import lane_latency

FEED = FETCH_LATENCY  #: cycles from issuing a chunk to the lanes seeing it


def emit_delay(simd: int) -> int:
    """Cycles from the issue of a channel's last chunk to its value in the FIFO."""
    return FEED + lane_latency(simd) + 2


def flush_cycles(simd: int) -> int:
    """Cycles after a layer's last issue until its last emission is in a FIFO."""
    return emit_delay(simd)
