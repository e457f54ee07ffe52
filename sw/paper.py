"""The paper's published figures this project compares with (``../shared/docs/mission-brief.md``),
and what they mean when counted honestly."""

#: the paper's ALQ model: accuracy (%) from one random 80/20 split by file (most test fragments
#: also trained on) and the memory it claimed (KiB; average sign bits x parameters)
ALQ_ACCURACY = 95.84
ALQ_CLAIMED_KIB = 13.54
#: the same model with its ~17,800 float32 scaling factors counted (KiB)
ALQ_COUNTED_KIB = 84.7
#: the paper's full-precision accuracy (%), same split
FLOAT_ACCURACY = 93.5
#: the float32 network's weights and biases (KiB)
FLOAT_KIB = 316.3
