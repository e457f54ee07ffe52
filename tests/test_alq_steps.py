"""ALQ's algorithmic steps against small cases checked by hand or by brute force."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
import torch

from ecg_alq.quant import pruning
from ecg_alq.quant.loss_model import Moments, alpha_grad, alpha_moments
from ecg_alq.quant.multibit import (MultiBit, basis_step, best_signs, coordinate_step,
                                    greedy_init, prune, prune_cost, refit_alpha)



@pytest.fixture(autouse=True)
def float64():
    """Exact comparisons in double precision; the global default is restored afterwards."""
    old = torch.get_default_dtype()
    torch.set_default_dtype(torch.float64)
    yield
    torch.set_default_dtype(old)


def test_init_reproduces_groups_with_few_distinct_values():
    gen = torch.Generator().manual_seed(0)
    signs = lambda *s: torch.randint(0, 2, s, generator=gen) * 2.0 - 1  # noqa: E731
    two_level = 0.3 * signs(50, 9) + 0.1 * signs(50, 9)  # values in {+-0.4, +-0.2}
    one_level = 0.25 * signs(5, 9)
    zero = torch.zeros(1, 9)
    w = torch.cat([two_level, one_level, zero])
    q = greedy_init(w, max_bits=4)
    assert torch.allclose(q.reconstruct(), w, atol=1e-12)
    bits = q.bits()
    assert (bits[:50] <= 2).all() and (bits[50:55] == 1).all() and bits[55] == 0
    # canonical form: positive alpha, ascending among active slots, pruned slots cleared
    assert (q.alpha[q.mask] > 0).all() and (q.alpha[~q.mask] == 0).all()
    assert (q.beta[~q.mask] == 1).all()
    a = q.alpha[:50, :2]
    assert (a[:, 0] <= a[:, 1]).all()


def test_init_is_the_greedy_residual_fit_on_a_generic_group():
    w = torch.tensor([[0.9, -0.2, 0.35, -0.7, 0.05]])
    q = greedy_init(w, max_bits=2)
    # first basis sign(w); two bases, alpha by least squares on both
    b1 = torch.sign(w[0])
    a1 = (w[0] * b1).mean()
    b2 = torch.where(w[0] - a1 * b1 >= 0, 1.0, -1.0)
    design = torch.stack([b1, b2], 1)
    alpha = torch.linalg.lstsq(design, w[0]).solution
    expect = design @ alpha
    assert torch.allclose(q.reconstruct()[0], expect, atol=1e-12)
    assert q.bits().item() == 2
    # more bases never fit worse, and n bases fit exactly
    errs = [((greedy_init(w, k).reconstruct() - w) ** 2).sum() for k in range(1, 6)]
    assert all(b <= a + 1e-12 for a, b in zip(errs, errs[1:])) and errs[-1] < 1e-20


def test_basis_step_picks_the_optimal_sign_pattern():
    gen = torch.Generator().manual_seed(1)
    alpha = torch.rand(6, 4, generator=gen) + 0.1
    mask = torch.tensor([[1, 1, 1, 0]] * 3 + [[1, 0, 1, 1]] * 2 + [[0, 0, 0, 0]], dtype=torch.bool)
    target = torch.randn(6, 7, generator=gen)
    beta = best_signs(alpha, mask, target)
    for g in range(6):
        act = mask[g].nonzero().flatten().tolist()
        for j in range(7):
            got = sum(alpha[g, i] * beta[g, i, j] for i in act)
            best = min(abs(target[g, j] - sum(alpha[g, i] * s for i, s in zip(act, pat)))
                       for pat in itertools.product((-1, 1), repeat=len(act)))
            assert abs(target[g, j] - got) <= best + 1e-12
        assert (beta[g][~mask[g]] == 1).all()


def test_alpha_refit_solves_the_weighted_least_squares_problem():
    gen = torch.Generator().manual_seed(2)
    beta = (torch.randint(0, 2, (4, 3, 8), generator=gen) * 2 - 1).to(torch.int8)
    mask = torch.tensor([[1, 1, 1], [1, 1, 0], [1, 0, 1], [1, 1, 1]], dtype=torch.bool)
    w, grad = torch.randn(4, 8, generator=gen), torch.randn(4, 8, generator=gen) * 0.1
    hess = torch.rand(4, 8, generator=gen) + 0.5
    alpha = refit_alpha(beta, mask, w, grad, hess)
    for g in range(4):
        act = mask[g].nonzero().flatten()
        B = beta[g, act].double().T.numpy()
        H = np.diag(hess[g].numpy())
        rhs = B.T @ (hess[g].numpy() * w[g].numpy() - grad[g].numpy())
        expect = np.linalg.solve(B.T @ H @ B, rhs)
        np.testing.assert_allclose(alpha[g, act].numpy(), expect, rtol=1e-9, atol=1e-12)
        assert (alpha[g][~mask[g]] == 0).all()


def test_basis_step_does_not_increase_the_modelled_loss():
    gen = torch.Generator().manual_seed(3)
    w = torch.randn(40, 9, generator=gen)
    q = greedy_init(w, 3)
    grad = torch.randn(40, 9, generator=gen) * 0.05
    hess = torch.rand(40, 9, generator=gen) + 0.2
    target = q.reconstruct() - grad / hess

    def model_loss(p: MultiBit) -> torch.Tensor:
        return (hess * (target - p.reconstruct()) ** 2).sum(1)

    new = basis_step(q, grad, hess)
    assert (model_loss(new) <= model_loss(q) + 1e-10).all()
    assert torch.equal(new.mask, q.mask) and (new.alpha[new.mask] >= 0).all()


def test_coordinate_step_and_moments_match_amsgrad():
    gen = torch.Generator().manual_seed(4)
    p = torch.nn.Parameter(torch.randn(10, generator=gen))
    opt = torch.optim.Adam([p], lr=0.01, amsgrad=True, eps=0.0)
    mom = Moments.zeros_like(p.detach(), eps=0.0)
    for _ in range(5):
        g = torch.randn(10, generator=gen)
        before = p.detach().clone()
        p.grad = g.clone()
        opt.step()
        mom.update(g)
        step = -mom.pseudo_grad(0.01) / mom.pseudo_hessian()
        assert torch.allclose(before + step, p.detach(), rtol=1e-10, atol=1e-12)
    q = MultiBit(torch.tensor([[0.5, 0.2]]), torch.ones(1, 2, 3, dtype=torch.int8),
                 torch.tensor([[True, False]]))
    out = coordinate_step(q, torch.tensor([[0.1, 0.3]]), torch.tensor([[2.0, 1.0]]))
    assert torch.allclose(out.alpha, torch.tensor([[0.45, 0.0]]))


def test_alpha_domain_moments():
    beta = torch.tensor([[[1, -1, 1], [1, 1, -1]]], dtype=torch.int8)
    q = MultiBit(torch.tensor([[0.3, 0.1]]), beta, torch.tensor([[True, False]]))
    g = torch.tensor([[0.2, 0.4, -0.1]])
    assert torch.allclose(alpha_grad(q, g), torch.tensor([[0.2 - 0.4 - 0.1, 0.0]]))
    w = Moments.zeros_like(g)
    w.update(g)
    a = alpha_moments(q, w)
    assert torch.allclose(a.m, 0.1 * alpha_grad(q, g))
    assert torch.allclose(a.v, torch.tensor([[0.001 * (0.04 + 0.16 + 0.01), 0.0]]))
    assert a.t == 1


def test_prune_cost_by_hand_and_pruning_removes_the_cheapest_first():
    q = MultiBit(torch.tensor([[0.5, 0.2], [0.1, 0.4]]), torch.ones(2, 2, 4, dtype=torch.int8),
                 torch.ones(2, 2, dtype=torch.bool))
    ga, ha = torch.tensor([[0.1, -0.2], [0.0, 0.3]]), torch.tensor([[1.0, 2.0], [4.0, 1.0]])
    cost = prune_cost(q, ga, ha)
    # -G a + H a^2 / 2
    assert torch.allclose(cost, torch.tensor([[-0.05 + 0.125, 0.04 + 0.04],
                                              [0.0 + 0.02, -0.12 + 0.08]]))
    order = cost.flatten().argsort()
    for k in range(1, 5):
        [which] = pruning.select([cost], top_k=1.0, quota=k)
        assert set(which.flatten().nonzero().flatten().tolist()) == set(order[:k].tolist())
    pruned = prune(q, which)
    assert not pruned.mask.any() and (pruned.alpha == 0).all()
    assert torch.isinf(prune_cost(prune(q, cost == cost.min()), ga, ha)).sum() == 1


def test_pruning_lets_layers_compete_through_the_pool():
    cheap = torch.full((10, 4), 0.01)  # a layer whose bases matter little
    dear = torch.full((10, 4), 1.0)
    cheap[0, 0], dear[0, 0] = 0.5, 0.001
    which = pruning.select([cheap, dear], top_k=0.5, quota=8)
    # candidates: 20 per layer; the 8 cheapest overall: the one cheap slot of `dear`, 7 of `cheap`
    assert int(which[0].sum()) == 7 and int(which[1].sum()) == 1 and which[1][0, 0]
    # already pruned slots (inf) are never candidates
    cheap[:5] = float("inf")
    which = pruning.select([cheap], top_k=1.0, quota=100)
    assert not which[0][:5].any() and which[0][5:].all()


@pytest.mark.parametrize("n, bits", [(3, 3), (16, 7), (108, 6), (1, 4)])
def test_init_shapes(n, bits):
    w = torch.randn(12, n, generator=torch.Generator().manual_seed(n))
    q = greedy_init(w, bits)
    assert q.alpha.shape == (12, bits) and q.beta.shape == (12, bits, n)
    assert (q.bits() <= min(bits, n)).all()


def test_pruning_stops_at_the_bit_budget():
    costs = [torch.tensor([[0.1, 0.2, 0.3]]), torch.tensor([[0.15, 0.25]])]
    # bits per alpha 10 and 1: order 0.1(10) 0.15(1) 0.2(10) 0.25(1) 0.3(10)
    which = pruning.select(costs, top_k=1.0, quota=5, bits_per_alpha=[10, 1], budget=12)
    # 0.1 -> 10 removed, 0.15 -> 11, 0.2 -> 21 >= 12: stop after the first choice reaching it
    assert which[0].tolist() == [[True, True, False]] and which[1].tolist() == [[True, False]]
    which = pruning.select(costs, top_k=1.0, quota=5, bits_per_alpha=[10, 1], budget=10)
    assert which[0].tolist() == [[True, False, False]] and not which[1].any()
