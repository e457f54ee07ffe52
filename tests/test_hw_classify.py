"""The classifier (logits, argmax, output words) in Verilator against its reference model, over
class counts 2, 17 and 40, lane splits with and without constant logits, accumulator widths
from 4 to 33 bits and the three traffic shapes of the output stream."""

from __future__ import annotations

import pytest

from ecg_alq.hw.classify import Classifier, ClassifierModel, compute_cycles
from ecg_alq.hw.params import HardwareParamError
from ecg_alq.sim.runner import run

CASES = [  # classes, acc_width, lane_channels, constants, shape, rate
    (17, 20, [[0, 4, 8, 12, 16], [1, 5, 9, 13], [2, 6, 10, 14], [3, 7, 11]], [(15, -3)],
     "random", 0.3),
    (2, 4, [[0]], [(1, 5)], "periodic", 0.5),
    (40, 33, [list(range(0, 40, 3)), list(range(1, 40, 3)), list(range(2, 40, 3))], [],
     "none", 0.0),
]


@pytest.mark.parametrize("classes,acc_width,lanes,constants,shape,rate", CASES)
def test_classifier_in_verilator(tmp_path, classes, acc_width, lanes, constants, shape, rate):
    cfg = {"classes": classes, "acc_width": acc_width, "lane_channels": lanes,
           "constants": constants, "rounds": 6, "seed": classes, "shape": shape, "rate": rate}
    run(Classifier(classes, acc_width, lanes, constants), "classify", "tb_classify", tmp_path,
        cfg)


def test_classifier_model_lowest_index_wins_a_tie():
    words = ClassifierModel(4).words([3, 7, -1, 7])
    assert [w[2] for w in words] == [2] * 4 and [w[3] for w in words] == [0, 0, 0, 1]
    assert ClassifierModel(4).cycles() == compute_cycles(4) == 7


def test_classifier_rejects_logits_without_exactly_one_source():
    with pytest.raises(HardwareParamError, match="exactly one source"):
        Classifier(4, 12, [[0, 1], [1, 2]], [(3, 0)])
    with pytest.raises(HardwareParamError, match="exactly one source"):
        Classifier(4, 12, [[0, 1]], [(2, 0)])
    with pytest.raises(HardwareParamError, match="classes must be a positive integer"):
        Classifier(0, 12, [[]], [])
