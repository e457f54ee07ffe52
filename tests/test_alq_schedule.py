"""The ALQ schedule on a small model: loss-aware competition, exact stop, consistent weights."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from ecg_alq.augment import TrainingSet
from ecg_alq.errors import EcgAlqError
from ecg_alq.quant.alq import Alq, AlqConfig


class TwoBranch(nn.Module):
    """Logits = big(x) + 0.05 * small(x): the bases of `small` matter far less for the loss."""

    def __init__(self):
        super().__init__()
        self.big = nn.Linear(64, 8)
        self.small = nn.Linear(64, 8)

    def forward(self, x):
        return self.big(x) + 0.05 * self.small(x)


@pytest.fixture
def trained():
    torch.manual_seed(0)
    x = torch.randn(512, 64)
    y = (x @ torch.randn(64, 8)).argmax(1)
    model = TwoBranch()
    opt = torch.optim.Adam(model.parameters(), 1e-2)
    for _ in range(300):
        opt.zero_grad()
        nn.functional.cross_entropy(model(x), y).backward()
        opt.step()
    return model, TrainingSet(x, y)


def _cfg(**kw):
    base = dict(grouping="kernel", basis_mode="projected", label_smoothing=0.0, max_bits="4", target_bits=1.5, rounds=4, epoch_basis=1, epoch_coord=1, lr=1e-2,
                pr=0.3, top_k=0.5, batch_size=64)
    return AlqConfig(**(base | kw))


def test_pruning_concentrates_in_the_layer_whose_bases_matter_least(trained):
    model, data = trained
    alq = Alq(model, _cfg())
    assert alq.layer_bits() == [4.0, 4.0]  # same caps: any difference comes from the loss
    history = alq.run(data)
    big, small = history[-1]["layer_bits"]
    assert small < 0.5 * big, history[-1]
    # both layers had equal caps and equal size; the first pruning round already prefers `small`
    assert history[1]["layer_bits"][1] < history[1]["layer_bits"][0]


def test_pruning_stops_at_the_target_and_weights_are_the_reconstruction(trained):
    model, data = trained
    alq = Alq(model, _cfg(target_bits=2.2))
    history = alq.run(data)
    total = sum(s.spec.numel for s in alq.layers)
    bits = alq.average_bits()
    assert bits <= 2.2 and bits > 2.2 - 64 / total  # at most one alpha (64 sign bits) past it
    assert [h["average_bits"] for h in history] == sorted((h["average_bits"] for h in history),
                                                         reverse=True)
    for s, p in zip(alq.layers, alq.weights):
        assert torch.equal(p.detach(), s.q.reconstruct().reshape(p.shape))
    acc = (model(data.x).argmax(1) == data.y).float().mean()
    assert acc > 0.9


def test_quota_must_stay_below_the_candidate_pool(trained):
    model, data = trained
    alq = Alq(model, _cfg(pr=0.9, top_k=0.01, epoch_basis=0, epoch_coord=0))
    with pytest.raises(EcgAlqError, match="not below the candidate pool"):
        alq.run(data)


@pytest.mark.parametrize("kw, message", [
    ({"grouping": "row"}, "grouping must be one of"),
    ({"max_bits": "7,x"}, "max_bits must be integers"),
    ({"max_bits": "3,3,3"}, "gives 3 values for 2 weight layers"),
    ({"pr": 0.0}, "0 < pr <= 1"),
    ({"basis_mode": "lazy"}, "basis_mode must be one of"),
    ({"distill": 0.5}, "distillation needs the float model as teacher"),
    ({"distill": 1.5}, "0 <= distill <= 1"),
])
def test_bad_alq_configs(trained, kw, message):
    with pytest.raises(EcgAlqError, match=message):
        Alq(trained[0], _cfg(**kw))


def test_runs_are_reproducible_with_dropout(trained):
    model, data = trained
    results = []
    for _ in range(2):
        net = nn.Sequential(nn.Dropout(0.3), TwoBranch())
        net[1].load_state_dict(model.state_dict())
        torch.manual_seed(123 + len(results))  # whatever the caller's global state
        alq = Alq(net, _cfg(rounds=2))
        alq.run(data)
        results.append([s.q.alpha.clone() for s in alq.layers])
    assert all(torch.equal(a, b) for a, b in zip(*results))


def _loss(model, data):
    with torch.no_grad():
        return float(nn.functional.cross_entropy(model(data.x), data.y))


def test_shadow_steps_accumulate_until_signs_flip(trained):
    """With a learning rate too small for any single step to cross a sign boundary, the
    projected basis step leaves the weights unchanged; the shadow copy accumulates the steps
    and flips signs, lowering the loss."""
    model, data = trained
    losses, moved = {}, {}
    for mode in ("projected", "shadow"):
        net = TwoBranch()
        net.load_state_dict(model.state_dict())
        alq = Alq(net, _cfg(max_bits="1", basis_mode=mode, lr=1e-4))
        start = [s.q.beta.clone() for s in alq.layers]
        gen = torch.Generator().manual_seed(0)
        for _ in range(40):
            alq.basis_epoch(data, 1e-4, gen)
        alq.write_weights()
        losses[mode] = _loss(net, data)
        moved[mode] = sum(int((s.q.beta != b).sum()) for s, b in zip(alq.layers, start))
    assert moved["shadow"] > 0
    assert losses["shadow"] < losses["projected"]


def test_distillation_follows_the_teacher(trained):
    """With distill=1 the loss is the teacher's soft labels only: ALQ then keeps the quantized
    network's predictions close to the float network's."""
    model, data = trained
    net = TwoBranch()
    net.load_state_dict(model.state_dict())
    teacher = TwoBranch()
    teacher.load_state_dict(model.state_dict())
    alq = Alq(net, _cfg(distill=1.0, target_bits=2.0), teacher)
    alq.run(data)
    with torch.no_grad():
        agree = (net(data.x).argmax(1) == teacher(data.x).argmax(1)).float().mean()
    assert agree > 0.9
    assert all(not p.requires_grad or p.grad is None for p in teacher.parameters())
