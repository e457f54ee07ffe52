"""Pipeline timing constants of the accelerator, shared by the RTL and the cycle model."""

from ecg_alq.hw.fetch import LATENCY as FETCH_LATENCY
from ecg_alq.hw.lane import LATENCY as LANE_LATENCY

FEED = FETCH_LATENCY  #: cycles from issuing a chunk to the lanes seeing it
EMIT_DELAY = FEED + LANE_LATENCY + 2  #: issue of a channel's last chunk -> its value in the FIFO
FLUSH = EMIT_DELAY  #: cycles after a layer's last issue until its last emission is in a FIFO
