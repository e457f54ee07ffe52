"""ALQ's loss model: AMSGrad moments as a diagonal quadratic model of the loss (alq.md section 3).

For a tensor with gradient g at step t (beta1 0.9, beta2 0.999, eps 1e-8)::

    m = beta1 m + (1 - beta1) g        v = beta2 v + (1 - beta2) g^2       vhat = max(vhat, v)
    G = lr / (1 - beta1^t) * m         H = (sqrt(vhat) + eps) / sqrt(1 - beta2^t)

so that ``loss(w + d) - loss(w) ~ G.d + d.H.d / 2``, minimised by the AMSGrad step ``d = -G/H``.
The same moments are kept per alpha; :func:`alpha_moments` carries them over when bases change.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch

from ecg_alq.quant.multibit import MultiBit


@dataclass
class Moments:
    """First moment, second moment and its running maximum of one tensor's gradient."""

    m: torch.Tensor
    v: torch.Tensor
    vhat: torch.Tensor
    t: int = 0
    beta1: float = 0.9
    beta2: float = 0.999
    eps: float = 1e-8

    @classmethod
    def zeros_like(cls, x: torch.Tensor, **kw) -> "Moments":
        return cls(torch.zeros_like(x), torch.zeros_like(x), torch.zeros_like(x), **kw)

    def update(self, grad: torch.Tensor) -> None:
        """Fold in the gradient of one step."""
        self.t += 1
        self.m.mul_(self.beta1).add_(grad, alpha=1 - self.beta1)
        self.v.mul_(self.beta2).addcmul_(grad, grad, value=1 - self.beta2)
        torch.maximum(self.vhat, self.v, out=self.vhat)

    def pseudo_grad(self, lr: float) -> torch.Tensor:
        """G = lr / (1 - beta1^t) * m."""
        return lr / (1 - self.beta1 ** max(self.t, 1)) * self.m

    def pseudo_hessian(self) -> torch.Tensor:
        """H = (sqrt(vhat) + eps) / sqrt(1 - beta2^t), strictly positive."""
        return (self.vhat.sqrt() + self.eps) / math.sqrt(1 - self.beta2 ** max(self.t, 1))


def alpha_grad(q: MultiBit, grad_w: torch.Tensor) -> torch.Tensor:
    """Gradient with respect to alpha (G, I) from the gradient of the weights (G, n): B^T g."""
    return torch.einsum("gin,gn->gi", q.beta.to(grad_w.dtype), grad_w) * q.mask


def alpha_moments(q: MultiBit, w: Moments) -> Moments:
    """Moments in the alpha domain after the bases changed: m_a = B^T m_w, v_a[i] = sum_j v_w[j]."""
    v = w.v.sum(1, keepdim=True).expand(-1, q.slots) * q.mask
    vhat = w.vhat.sum(1, keepdim=True).expand(-1, q.slots) * q.mask
    return Moments(alpha_grad(q, w.m), v.clone(), vhat.clone(), w.t, w.beta1, w.beta2, w.eps)
