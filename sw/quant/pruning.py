"""Cross-layer choice of the alpha to prune (ALQ step 1, alq.md section 4).

In each layer the ``top_k`` fraction of its active alpha with the smallest modelled loss increase
are candidates; the candidates of all layers are pooled and the ``quota`` cheapest are pruned.
Layers therefore compete: a layer whose bases matter little loses more of them. The quota must be
smaller than the pool for the competition to act (the paper's ECG run pruned the whole pool).
"""

from __future__ import annotations

import math

import torch


def candidates(cost: torch.Tensor, top_k: float) -> torch.Tensor:
    """bool, same shape as ``cost``: the ``ceil(top_k * active)`` cheapest finite entries."""
    flat = cost.flatten()
    active = int(torch.isfinite(flat).sum())
    k = min(active, max(1, math.ceil(top_k * active))) if active else 0
    chosen = torch.zeros_like(flat, dtype=torch.bool)
    if k:
        chosen[flat.topk(k, largest=False).indices] = True
    return chosen.view_as(cost)


def select(costs: list[torch.Tensor], top_k: float, quota: int,
           bits_per_alpha: list[int] | None = None, budget: int | None = None) -> list[torch.Tensor]:
    """Per layer a bool mask of the slots to prune: the cheapest of all candidates.

    ``costs`` are per-layer (G, I) tensors from :func:`ecg_alq.quant.multibit.prune_cost`
    (inf where already pruned). At most ``quota`` alpha are chosen; with ``budget`` the choice
    also stops once the removed sign bits (``bits_per_alpha[layer]`` each, the group size) reach
    it, so that pruning ends at a requested bitwidth. Ties go by layer order, then position.
    """
    pools = [candidates(c, top_k) for c in costs]
    values = torch.cat([c[p] for c, p in zip(costs, pools)])
    chosen = torch.zeros(len(values), dtype=torch.bool)
    if quota > 0 and len(values):
        order = torch.sort(values, stable=True).indices[:quota]
        if budget is not None:
            per = torch.cat([torch.full((int(p.sum()),), b) for p, b in zip(pools, bits_per_alpha)])
            before = torch.cumsum(per[order], 0) - per[order]  # bits removed before each choice
            order = order[before < budget]
        chosen[order] = True
    out, start = [], 0
    for p in pools:
        n = int(p.sum())
        mask = torch.zeros_like(p)
        mask[p] = chosen[start : start + n]
        out.append(mask)
        start += n
    return out
