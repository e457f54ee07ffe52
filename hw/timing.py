"""Pipeline timing of the accelerator, shared by the RTL and the cycle model: each latency is
the constant of the block that has it."""

from ecg_alq.hw.fetch import LATENCY as FETCH_LATENCY
from ecg_alq.hw.lane import lane_latency
from ecg_alq.hw.pool import EMIT_LATENCY
from ecg_alq.hw.writer import READ_LATENCY

FEED = FETCH_LATENCY  #: cycles from issuing a chunk to the lanes seeing it
#: the sign and pass-table words reach the lanes with the feed: row address registered, memory
#: read, word registered (the accelerator checks that this equals FEED)
TABLE_STAGES = 3


def emit_delay(simd: int) -> int:
    """Cycles from the issue of a channel's last chunk to its pooled value being readable in its
    lane's FIFO: feed, lane, the pool unit's emission, the FIFO's read latency."""
    return FEED + lane_latency(simd) + EMIT_LATENCY + READ_LATENCY


def flush_cycles(simd: int) -> int:
    """Cycles after a layer's last issue until its last emission is in a FIFO (FLUSH)."""
    return emit_delay(simd)
