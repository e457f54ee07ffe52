"""The ALQ schedule: rounds of basis steps, alpha steps and loss-aware pruning (alq.md 4-7).

:class:`Alq` holds, for every quantized weight layer, its multi-bit weights (:class:`MultiBit`)
and the AMSGrad moments of the loss model in the weight and the alpha domain. Biases train with
plain Adam at the same learning rate. The model's weight parameters are overwritten with the
reconstruction ``B alpha`` before every forward pass, so the model always computes with the
quantized weights.

Pruning stops exactly at ``target_bits`` (mean active bases per weight, weighted by group size),
at most one alpha past it; the per-step quota is checked to be below the candidate pool, so that
layers really compete (the pitfall of the paper's ECG run).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Callable

import torch
import torch.nn.functional as F
from torch import nn

from ecg_alq.augment import TrainingSet
from ecg_alq.config import common_problems, option, out_of_range
from ecg_alq.errors import EcgAlqError
from ecg_alq.intmodel.spec import MAX_ACT_BITS, MAX_ALPHA_BITS, MIN_ACT_BITS, MIN_ALPHA_BITS
from ecg_alq.quant import pruning
from ecg_alq.quant.layers import GROUPINGS, WeightLayer, weight_layers
from ecg_alq.quant.loss_model import Moments, alpha_grad, alpha_moments
from ecg_alq.quant.multibit import (MultiBit, basis_step, coordinate_step, fit_bases, greedy_init,
                                    prune, prune_cost)


BASIS_MODES = ("projected", "shadow")


@dataclass
class AlqConfig:
    """Every setting of one ALQ run (schedule of alq.md section 7)."""

    grouping: str = option("channel", "channel (one set of alpha per output channel) or kernel "
                           "(per kernel row, the paper's)")
    max_bits: str = option("7,7,6,6,6,6,6,6,6", "initial bases per layer: one value or one per layer")
    target_bits: float = option(1.2, "stop pruning at this mean number of bases per weight")
    act_bits: int = option(8, "bits of the input and of every activation (2..16)")
    alpha_bits: int = option(8, "bits of every stored alpha (per-layer fixed point)")
    rounds: int = option(5, "rounds of (basis epochs, alpha epochs, one pruning epoch)")
    epoch_basis: int = option(8, "epochs of basis steps per round")
    ld_basis: float = option(0.8, "learning-rate factor per basis epoch")
    epoch_coord: int = option(10, "epochs of alpha steps per round")
    ld_coord: float = option(0.8, "learning-rate factor per alpha epoch")
    lr: float = option(3e-4, "learning rate of the loss model and of the biases")
    pr: float = option(0.7, "share of the active alpha one pruning epoch removes")
    top_k: float = option(0.05, "share of each layer's active alpha that are pruning candidates")
    basis_mode: str = option("shadow", "projected (alq.md step 2: bases fit to w - G/H) or "
                             "shadow (bases fit to a float shadow copy moved by -G/H, "
                             "straight-through, in every round)")
    post_basis: int = option(0, "post-training: epochs of shadow-weight basis refits after the rounds")
    post_coord: int = option(0, "post-training: alpha epochs after the shadow epochs")
    batch_size: int = option(16, "mini-batch size")
    label_smoothing: float = option(0.1, "cross-entropy label smoothing")
    distill: float = option(0.0, "weight of distillation from the float model (0: plain "
                            "cross-entropy, 1: only the teacher's soft labels)")
    temperature: float = option(2.0, "softmax temperature of the distillation loss")
    samples_per_epoch: int = option(1024, "windows per epoch when the float model trained on "
                                    "database windows (fragments: one pass over them)")
    seed: int = option(0, "seed of shuffling and augmentation")
    threads: int = option(1, "torch CPU threads (results are bit-reproducible for a given count)")

    def caps(self) -> tuple[int, ...] | int:
        try:
            values = tuple(int(v) for v in self.max_bits.split(","))
        except ValueError:
            raise EcgAlqError(f"max_bits must be integers separated by commas, got {self.max_bits!r}") from None
        return values[0] if len(values) == 1 else values

    def validate(self) -> None:
        problems = common_problems(self)
        if self.grouping not in GROUPINGS:
            problems.append(f"grouping must be one of {GROUPINGS}, got {self.grouping!r}")
        if not 0 < self.target_bits:
            problems.append(f"target_bits must be positive, got {self.target_bits}")
        if min(self.rounds, self.batch_size, self.threads, self.samples_per_epoch) < 1 or min(
                self.epoch_basis, self.epoch_coord, self.post_basis, self.post_coord) < 0:
            problems.append("rounds, batch_size, threads and samples_per_epoch must be >= 1, "
                            "epoch counts >= 0")
        problems += out_of_range("act_bits", self.act_bits, MIN_ACT_BITS, MAX_ACT_BITS)
        problems += out_of_range("alpha_bits", self.alpha_bits, MIN_ALPHA_BITS, MAX_ALPHA_BITS)
        if self.basis_mode not in BASIS_MODES:
            problems.append(f"basis_mode must be one of {BASIS_MODES}, got {self.basis_mode!r}")
        if not (0 <= self.distill <= 1 and self.temperature > 0):
            problems.append("need 0 <= distill <= 1 and temperature > 0")
        if not (0 < self.pr <= 1 and 0 < self.top_k <= 1 and self.lr > 0):
            problems.append("need 0 < pr <= 1, 0 < top_k <= 1 and lr > 0")
        if problems:
            raise EcgAlqError("bad ALQ config: " + "; ".join(problems))
        self.caps()


@dataclass
class LayerState:
    """One quantized layer: its spec, weights and loss-model moments (weight and alpha domain)."""

    spec: WeightLayer
    q: MultiBit
    mw: Moments
    ma: Moments
    shadow: torch.Tensor | None = None  #: float (G, n) shadow weights (shadow mode, post-training)


class Alq:
    """ALQ applied to ``model`` (modified in place), starting from its current weights."""

    def __init__(self, model: nn.Module, cfg: AlqConfig, teacher: nn.Module | None = None):
        """``teacher``: the float network whose soft labels the ``distill`` share of the loss
        follows (required when ``cfg.distill`` > 0; kept in eval mode, never trained)."""
        cfg.validate()
        if cfg.distill and teacher is None:
            raise EcgAlqError("distillation needs the float model as teacher")
        self.model, self.cfg = model, cfg
        self.teacher = teacher.eval() if cfg.distill and teacher is not None else None
        params = dict(model.named_parameters())
        self.layers: list[LayerState] = []
        for spec in weight_layers(model, cfg.grouping, cfg.caps()):
            w = params[spec.name].detach().reshape(spec.groups, spec.group_size)
            q = greedy_init(w.double(), spec.max_bits)
            q = MultiBit(q.alpha.to(w.dtype), q.beta, q.mask)
            shadow = w.clone() if cfg.basis_mode == "shadow" else None  # starts at the float weights
            self.layers.append(LayerState(spec, q, Moments.zeros_like(w), Moments.zeros_like(q.alpha),
                                          shadow))
        self.weights = [params[s.spec.name] for s in self.layers]
        names = {s.spec.name for s in self.layers}
        self.other = [p for n, p in model.named_parameters() if n not in names]
        self.bias_opt = torch.optim.Adam(self.other, lr=cfg.lr) if self.other else None
        self.write_weights()

    # ------------------------------------------------------------------------- bookkeeping
    def write_weights(self) -> None:
        """Overwrite the model's weight parameters with the reconstructions ``B alpha``."""
        with torch.no_grad():
            for s, p in zip(self.layers, self.weights):
                p.copy_(s.q.reconstruct().reshape(s.spec.shape))

    def sign_bits(self) -> int:
        """Stored sign bits: group size x active bases, summed over all groups."""
        return sum(int(s.q.bits().sum()) * s.spec.group_size for s in self.layers)

    def average_bits(self) -> float:
        """Mean active bases per weight over the network (weighted by group size)."""
        return self.sign_bits() / sum(s.spec.numel for s in self.layers)

    def layer_bits(self) -> list[float]:
        """Mean active bases per group, per layer."""
        return [float(s.q.bits().float().mean()) for s in self.layers]

    # ------------------------------------------------------------------------- one step
    def _gradients(self, xb: torch.Tensor, yb: torch.Tensor) -> tuple[float, list[torch.Tensor]]:
        """Loss and the weight gradient of every layer, (G, n) each; biases take an Adam step."""
        self.write_weights()
        self.model.train()
        self.model.zero_grad(set_to_none=True)
        logits = self.model(xb)
        loss = F.cross_entropy(logits, yb, label_smoothing=self.cfg.label_smoothing)
        if self.teacher is not None:
            t = self.cfg.temperature
            with torch.no_grad():
                soft = F.softmax(self.teacher(xb) / t, dim=1)
            kd = F.kl_div(F.log_softmax(logits / t, dim=1), soft, reduction="batchmean") * t * t
            loss = (1 - self.cfg.distill) * loss + self.cfg.distill * kd
        loss.backward()
        if self.bias_opt:
            self.bias_opt.step()
        grads = [p.grad.reshape(s.spec.groups, s.spec.group_size)
                 for s, p in zip(self.layers, self.weights)]
        return loss.item(), grads

    def _set_lr(self, lr: float) -> None:
        if self.bias_opt:
            for g in self.bias_opt.param_groups:
                g["lr"] = lr

    def _epoch(self, data: TrainingSet, lr: float, gen: torch.Generator,
               step: Callable[[list[torch.Tensor]], None]) -> float:
        """One pass over ``data``; ``step`` gets every mini-batch's weight gradients (per layer)."""
        self._set_lr(lr)
        losses = []
        for xb, yb in data.batches(self.cfg.batch_size, gen):
            loss, grads = self._gradients(xb, yb)
            step(grads)
            losses.append(loss)
        return sum(losses) / len(losses)

    def basis_epoch(self, data: TrainingSet, lr: float, gen: torch.Generator) -> float:
        """Step 2 on every mini-batch: new bases for fixed alpha, then the alpha refit
        (in ``shadow`` basis mode: :meth:`shadow_epoch`)."""
        if self.cfg.basis_mode == "shadow":
            return self.shadow_epoch(data, lr, gen)

        def step(grads: list[torch.Tensor]) -> None:
            for s, g in zip(self.layers, grads):
                s.mw.update(g)
                s.q = basis_step(s.q, s.mw.pseudo_grad(lr), s.mw.pseudo_hessian())
                s.ma = alpha_moments(s.q, s.mw)

        return self._epoch(data, lr, gen, step)

    def shadow_epoch(self, data: TrainingSet, lr: float, gen: torch.Generator) -> float:
        """Post-training step (alq.md section 7): a float shadow copy of every layer moves by the
        AMSGrad step ``-G/H`` with the gradient taken at the quantized weights (straight-through),
        and bases and alpha are refit to the shadow at every mini-batch. Small steps accumulate
        in the shadow until they flip a sign, which the projected step 2 cannot do."""

        def step(grads: list[torch.Tensor]) -> None:
            for s, g in zip(self.layers, grads):
                s.mw.update(g)
                if s.shadow is None:
                    s.shadow = s.q.reconstruct()
                hess = s.mw.pseudo_hessian()
                s.shadow = s.shadow - s.mw.pseudo_grad(lr) / hess
                s.q = fit_bases(s.q, s.shadow, hess)
                s.ma = alpha_moments(s.q, s.mw)

        return self._epoch(data, lr, gen, step)

    def coord_epoch(self, data: TrainingSet, lr: float, gen: torch.Generator) -> float:
        """Step 3 on every mini-batch: an AMSGrad step on alpha with the bases fixed."""

        def step(grads: list[torch.Tensor]) -> None:
            for s, g in zip(self.layers, grads):
                s.ma.update(alpha_grad(s.q, g))
                s.q = coordinate_step(s.q, s.ma.pseudo_grad(lr), s.ma.pseudo_hessian())

        return self._epoch(data, lr, gen, step)

    def prune_epoch(self, data: TrainingSet, lr: float, gen: torch.Generator) -> float:
        """Step 1: at every mini-batch prune the cheapest candidates of all layers.

        The quota per step removes about ``pr`` of the active alpha over the epoch; pruning stops
        once the network reaches ``target_bits``.
        """
        steps = math.ceil(len(data) / self.cfg.batch_size)
        active = sum(int(s.q.mask.sum()) for s in self.layers)
        quota = max(1, round(self.cfg.pr * active / steps))
        pool = sum(math.ceil(self.cfg.top_k * int(s.q.mask.sum())) for s in self.layers)
        if quota >= pool:
            raise EcgAlqError(
                f"pruning quota {quota} per step is not below the candidate pool {pool}: every "
                "candidate would be pruned and layers would not compete; raise top_k or lower pr")
        total = sum(s.spec.numel for s in self.layers)

        def step(grads: list[torch.Tensor]) -> None:
            costs = []
            for s, g in zip(self.layers, grads):
                s.ma.update(alpha_grad(s.q, g))
                costs.append(prune_cost(s.q, s.ma.pseudo_grad(lr), s.ma.pseudo_hessian()))
            budget = self.sign_bits() - self.cfg.target_bits * total
            if budget > 0:
                chosen = pruning.select(costs, self.cfg.top_k, quota,
                                        [s.spec.group_size for s in self.layers], budget)
                for s, which in zip(self.layers, chosen):
                    s.q = prune(s.q, which)

        return self._epoch(data, lr, gen, step)

    # ------------------------------------------------------------------------- schedule
    def run(self, data: TrainingSet, evaluate: Callable[[], float] | None = None,
            log: Callable[[dict], None] = lambda row: None) -> list[dict]:
        """The round schedule; returns one row per round (bits per layer, losses, validation)."""
        cfg = self.cfg
        gen = torch.Generator().manual_seed(cfg.seed)  # shuffling and augmentation
        torch.manual_seed(cfg.seed)  # dropout draws from the global generator
        history = [self._row(0, None, evaluate)]
        log(history[-1])
        for r in range(1, cfg.rounds + 1):
            loss = None
            for e in range(cfg.epoch_basis):
                loss = self.basis_epoch(data, cfg.lr * cfg.ld_basis**e, gen)
            for e in range(cfg.epoch_coord):
                loss = self.coord_epoch(data, cfg.lr * cfg.ld_coord**e, gen)
            if self.average_bits() > cfg.target_bits:
                loss = self.prune_epoch(data, cfg.lr, gen)
            history.append(self._row(r, loss, evaluate))
            log(history[-1])
        if cfg.post_basis or cfg.post_coord:
            loss = None
            for e in range(cfg.post_basis):
                loss = self.shadow_epoch(data, cfg.lr * cfg.ld_basis**e, gen)
            for e in range(cfg.post_coord):
                loss = self.coord_epoch(data, cfg.lr * cfg.ld_coord**e, gen)
            history.append(self._row(cfg.rounds + 1, loss, evaluate) | {"post_training": True})
            log(history[-1])
        self.write_weights()
        return history

    def _row(self, r: int, loss: float | None, evaluate) -> dict:
        self.write_weights()
        row = {"round": r, "train_loss": loss, "average_bits": self.average_bits(),
               "layer_bits": self.layer_bits()}
        if evaluate:
            row["val_acc"] = evaluate()
        return row
