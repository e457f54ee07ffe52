"""Multi-bit binary weights: every group of n weights is ``sum_i alpha_i * beta_i``, beta in {-1,+1}^n.

This module holds the representation and the per-group algebra of Adaptive Loss-aware
Quantization (``../shared/docs/alq.md``): greedy residual initialisation, the basis step with
alpha fixed (exact element-wise sign-pattern choice, then the H-weighted least-squares refit of
alpha), the coordinate step on alpha, and the modelled loss increase of pruning one alpha.

Shapes (one layer, G groups of n weights, I basis slots per group):

    alpha  float (G, I)      scaling factors, > 0 where active, 0 where pruned
    beta   int8  (G, I, n)   signs, +1 where the slot is pruned
    mask   bool  (G, I)      active slots; a group's bitwidth is mask.sum(1)

Slots keep their position for the whole run (so per-slot optimizer moments stay aligned);
pruning clears a slot's mask. All functions are batched over groups and pure: they return new
tensors.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import torch

CONVERGED = 1e-6  #: greedy init stops once ||r||^2 / ||w||^2 falls below this


@dataclass
class MultiBit:
    """One layer's weights as groups of scaled binary bases (see the module docstring)."""

    alpha: torch.Tensor
    beta: torch.Tensor
    mask: torch.Tensor

    @property
    def groups(self) -> int:
        return self.alpha.shape[0]

    @property
    def slots(self) -> int:
        return self.alpha.shape[1]

    @property
    def group_size(self) -> int:
        return self.beta.shape[2]

    def bits(self) -> torch.Tensor:
        """int (G,) active bases per group."""
        return self.mask.sum(1)

    def reconstruct(self) -> torch.Tensor:
        """float (G, n): ``sum_i mask_i alpha_i beta_i``."""
        return torch.einsum("gi,gin->gn", self.alpha * self.mask, self.beta.to(self.alpha.dtype))


def _solve(design: torch.Tensor, target: torch.Tensor, active: torch.Tensor) -> torch.Tensor:
    """Least squares per group: argmin_a ||target - design a||, inactive columns forced to 0.

    design (G, n, I), target (G, n), active bool (G, I) -> (G, I). Rank-deficient systems (two
    equal bases) get the minimum-norm solution.
    """
    d = design * active[:, None, :]
    sol = torch.linalg.lstsq(d.double(), target.double().unsqueeze(-1), driver="gelsd").solution
    return (sol.squeeze(-1) * active).to(target.dtype)


def _positive(alpha: torch.Tensor, beta: torch.Tensor, mask: torch.Tensor) -> MultiBit:
    """Make every alpha non-negative by flipping its basis; clear pruned slots (alpha 0, beta +1)."""
    sign = torch.where(alpha < 0, -1, 1).to(beta.dtype)
    beta = torch.where(mask[:, :, None], beta * sign[:, :, None], torch.ones_like(beta))
    return MultiBit(alpha.abs() * mask, beta, mask)


def _canonical(alpha: torch.Tensor, beta: torch.Tensor, mask: torch.Tensor) -> MultiBit:
    """:func:`_positive`, then drop zero alpha and sort active slots ascending, pruned slots last."""
    q = _positive(alpha, beta, mask)
    alpha, beta, mask = q.alpha, q.beta, q.mask & (q.alpha > 0)
    key = torch.where(mask, alpha, torch.full_like(alpha, float("inf")))
    order = key.argsort(dim=1, stable=True)
    alpha = torch.gather(alpha, 1, order) * torch.gather(mask, 1, order)
    mask = torch.gather(mask, 1, order)
    beta = torch.gather(beta, 1, order[:, :, None].expand_as(beta))
    beta = torch.where(mask[:, :, None], beta, torch.ones_like(beta))
    return MultiBit(alpha, beta, mask)


def greedy_init(w: torch.Tensor, max_bits: int) -> MultiBit:
    """Greedy residual fit with refit of all alpha (alq.md section 2).

    w float (G, n). Up to ``min(max_bits, n)`` bases per group: add ``sign(r)`` (sign(0) = +1),
    refit every alpha by least squares, update the residual; a group stops once its relative
    residual is below :data:`CONVERGED` or the new basis repeats one it already has.
    Returns a :class:`MultiBit` with ``max_bits`` slots.
    """
    g, n = w.shape
    slots = max_bits
    alpha = torch.zeros(g, slots, dtype=w.dtype)
    beta = torch.ones(g, slots, n, dtype=torch.int8)
    mask = torch.zeros(g, slots, dtype=torch.bool)
    norm = (w * w).sum(1).clamp_min(torch.finfo(w.dtype).tiny)
    residual = w.clone()
    for i in range(min(max_bits, n)):
        open_ = (residual * residual).sum(1) / norm >= CONVERGED
        new = torch.where(residual >= 0, 1, -1).to(torch.int8)
        if i:  # a basis equal to (or the negative of) an existing one adds nothing
            overlap = torch.einsum("gin,gn->gi", beta[:, :i].float(), new.float()).abs()
            open_ &= ~((overlap == n) & mask[:, :i]).any(1)
        beta[:, i] = torch.where(open_[:, None], new, beta[:, i])
        mask[:, i] = open_
        alpha = _solve(beta.to(w.dtype).transpose(1, 2), w, mask)
        residual = w - MultiBit(alpha, beta, mask).reconstruct()
    return _canonical(alpha, beta, mask)


def sign_patterns(bits: int) -> torch.Tensor:
    """int8 (2**bits, bits): every +-1 pattern, row k is the binary expansion of k (1 -> +1)."""
    rows = list(itertools.product((-1, 1), repeat=bits))
    return torch.tensor(rows, dtype=torch.int8).reshape(len(rows), bits)


def best_signs(alpha: torch.Tensor, mask: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """int8 (G, I, n): per weight the sign pattern whose value ``sum_i alpha_i s_i`` is nearest
    to ``target`` (G, n). Exact: enumerates all 2**I patterns. Pruned slots get +1."""
    patterns = sign_patterns(alpha.shape[1]).to(alpha.dtype)  # (P, I)
    values = (alpha * mask) @ patterns.T  # (G, P)
    pick = (target[:, :, None] - values[:, None, :]).abs().argmin(dim=2)  # (G, n)
    beta = patterns.to(torch.int8)[pick].permute(0, 2, 1)  # (G, I, n)
    return torch.where(mask[:, :, None], beta, torch.ones_like(beta))


def refit_alpha(beta: torch.Tensor, mask: torch.Tensor, w: torch.Tensor, grad: torch.Tensor,
                hess: torch.Tensor) -> torch.Tensor:
    """H-weighted least-squares alpha for fixed bases: ``(B^T H B)^-1 B^T (H w - G)``.

    This minimises ``sum_j H_j (w*_j - (B alpha)_j)^2`` with ``w* = w - G/H``, the quadratic loss
    model around ``w``. beta (G, I, n), mask (G, I), w/grad/hess (G, n) -> alpha (G, I), pruned
    slots 0. Solved as ordinary least squares on ``sqrt(H)``-scaled rows.
    """
    root = hess.sqrt()
    design = beta.to(w.dtype).transpose(1, 2) * root[:, :, None]
    return _solve(design, root * (w - grad / hess), mask)


def fit_bases(q: MultiBit, target: torch.Tensor, hess: torch.Tensor) -> MultiBit:
    """New bases nearest to ``target`` (G, n) for q's alpha, then the H-weighted alpha refit."""
    beta = best_signs(q.alpha, q.mask, target)
    alpha = refit_alpha(beta, q.mask, target, torch.zeros_like(target), hess)
    return _positive(alpha, beta, q.mask)


def basis_step(q: MultiBit, grad: torch.Tensor, hess: torch.Tensor) -> MultiBit:
    """Step 2 of ALQ: new bases for fixed alpha, then the alpha refit (alq.md section 5).

    grad, hess (G, n) are the pseudo-gradient G and diagonal pseudo-Hessian H of the loss at the
    current reconstruction ``w = B alpha``; the target is the AMSGrad step ``w - G/H``.
    """
    return fit_bases(q, q.reconstruct() - grad / hess, hess)


def coordinate_step(q: MultiBit, grad_alpha: torch.Tensor, hess_alpha: torch.Tensor) -> MultiBit:
    """Step 3 of ALQ: ``alpha <- alpha - G_alpha / H_alpha`` on active slots (alq.md section 6).

    An alpha may cross zero here (bases are not flipped, so the alpha-domain moments stay valid);
    the next basis step makes it positive again.
    """
    alpha = (q.alpha - grad_alpha / hess_alpha) * q.mask
    return MultiBit(alpha, q.beta, q.mask)


def prune_cost(q: MultiBit, grad_alpha: torch.Tensor, hess_alpha: torch.Tensor) -> torch.Tensor:
    """Modelled loss increase of setting each active alpha to 0: ``-G a + H a^2 / 2``.

    (G, I); pruned slots get +inf so that they are never chosen again.
    """
    cost = -grad_alpha * q.alpha + 0.5 * hess_alpha * q.alpha * q.alpha
    return torch.where(q.mask, cost, torch.full_like(cost, float("inf")))


def prune(q: MultiBit, which: torch.Tensor) -> MultiBit:
    """Remove the slots where ``which`` (bool (G, I)) is set; the rest keep their values."""
    mask = q.mask & ~which
    beta = torch.where(mask[:, :, None], q.beta, torch.ones_like(q.beta))
    return MultiBit(q.alpha * mask, beta, mask)
