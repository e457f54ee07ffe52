"""Baselines in ALQ's harness: uniform k-bit weight QAT and BinaryConnect.

Same starting float model, fold, training rows, augmentation, integer activations, freezing and
memory count as ``quantize`` (:mod:`ecg_alq.quant.quantize`); only the weight quantizer differs.
The default budget (95 epochs) equals ALQ's default schedule: 5 rounds x (8 basis + 10 alpha +
1 pruning) epochs.

``uniform`` (LSQ-style, k = 1..8 bits)
    per output channel a learned step ``s``; each weight is the mid-rise level
    ``s * (clamp(floor(w / s), -2^(k-1), 2^(k-1) - 1) + 1/2)``, so the 2^k levels are symmetric
    and never zero. Trained with the straight-through estimator inside the clamp range; ``s``
    gets the LSQ gradient (scaled by ``1 / sqrt(n * 2^(k-1))``) and starts at the per-channel
    least-squares step. Such a level is exactly a sum of k scaled binary bases with alpha
    ``s/2, s, 2s, ...``, so it is stored like ALQ's multi-bit weights with one alpha per channel.
``binaryconnect``
    ``w_b = c * sign(w)`` with ``c = mean |w|`` of the output channel (the scale BWN adds to
    BinaryConnect; this network has no batch normalisation to absorb it), straight-through
    gradient to the latent float weights, which are clipped to ``[-1, 1]`` after every step.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn
from torch.nn.utils import parametrize

from ecg_alq import atomic
from ecg_alq.config import common_problems, option, out_of_range
from ecg_alq.errors import EcgAlqError
from ecg_alq.outputs import run_folder
from ecg_alq.intmodel.spec import MAX_ACT_BITS, MAX_ALPHA_BITS, MIN_ACT_BITS, MIN_ALPHA_BITS
from ecg_alq.quant.layers import WeightLayer, weight_layers
from ecg_alq.quant.multibit import MultiBit
from ecg_alq.quant.quantize import percent, begin, finish

METHODS = ("uniform", "binaryconnect")
MIN_STEP = 1e-8


@dataclass
class BaselineConfig:
    """Every setting of one baseline run."""

    method: str = option("uniform", "uniform (LSQ-style k-bit) or binaryconnect")
    weight_bits: int = option(2, "k of the uniform quantizer (binaryconnect: always 1)")
    act_bits: int = option(8, "bits of the input and of every activation (2..16)")
    alpha_bits: int = option(8, "bits of every stored scale (per-layer fixed point)")
    epochs: int = option(95, "training epochs (ALQ's default schedule has 95)")
    lr: float = option(3e-4, "Adam learning rate, cosine decay to 0 (ALQ's lr)")
    batch_size: int = option(16, "mini-batch size")
    label_smoothing: float = option(0.1, "cross-entropy label smoothing (ALQ's default)")
    samples_per_epoch: int = option(1024, "windows per epoch when the float model trained on "
                                    "database windows (fragments: one pass over them)")
    seed: int = option(0, "seed of shuffling, augmentation and dropout")
    threads: int = option(1, "torch CPU threads (results are bit-reproducible for a given count)")

    @property
    def bits(self) -> int:
        return 1 if self.method == "binaryconnect" else self.weight_bits

    def validate(self) -> None:
        problems = []
        if self.method not in METHODS:
            problems.append(f"method must be one of {METHODS}, got {self.method!r}")
        if not 1 <= self.weight_bits <= 8:
            problems.append(f"weight_bits must be 1..8, got {self.weight_bits}")
        problems += out_of_range("act_bits", self.act_bits, MIN_ACT_BITS, MAX_ACT_BITS)
        problems += out_of_range("alpha_bits", self.alpha_bits, MIN_ALPHA_BITS, MAX_ALPHA_BITS)
        problems += common_problems(self)
        if min(self.epochs, self.batch_size, self.threads, self.samples_per_epoch) < 1 or self.lr <= 0:
            problems.append("epochs, batch_size, threads, samples_per_epoch and lr must be positive")
        if problems:
            raise EcgAlqError("bad baseline config: " + "; ".join(problems))


def _per_channel(x: torch.Tensor, w: torch.Tensor) -> torch.Tensor:
    """Reshape a per-output-channel vector (C,) to broadcast against ``w`` (C, ...)."""
    return x.reshape(-1, *([1] * (w.dim() - 1)))


class UniformWeight(nn.Module):
    """Parametrization: mid-rise ``bits``-bit quantizer with a learned step per output channel."""

    def __init__(self, w: torch.Tensor, bits: int):
        super().__init__()
        self.bits = bits
        self.lo, self.hi = -(2 ** (bits - 1)), 2 ** (bits - 1) - 1
        flat = w.detach().reshape(len(w), -1).double()
        self.grad_scale = 1.0 / math.sqrt(flat.shape[1] * 2 ** (bits - 1))
        top = flat.abs().amax(1, keepdim=True).clamp_min(1e-12)  # (C, 1)
        steps = top * torch.linspace(0.05, 1.0, 96, dtype=torch.float64) / 2 ** (bits - 1)  # (C, F)
        errors = torch.stack([((self._levels(flat, steps[:, j:j + 1]) - flat) ** 2).sum(1)
                              for j in range(steps.shape[1])], 1)
        best = steps.gather(1, errors.argmin(1, keepdim=True))  # least-squares step per channel
        self.step = nn.Parameter(best.squeeze(1).to(w.dtype))

    def _size(self) -> torch.Tensor:
        """The step ``|step|``: an optimizer step may push the parameter through zero."""
        return self.step.abs().clamp_min(MIN_STEP)

    def _levels(self, w: torch.Tensor, s: torch.Tensor) -> torch.Tensor:
        return (torch.floor(w / s).clamp(self.lo, self.hi) + 0.5) * s

    def forward(self, w: torch.Tensor) -> torch.Tensor:
        size = self._size()
        step = size * self.grad_scale
        step = (size - step).detach() + step  # value s, gradient scaled (LSQ)
        s = _per_channel(step, w)
        v = w / s
        clipped = v.clamp(self.lo, self.hi + 1)
        code = torch.floor(v).clamp(self.lo, self.hi) + 0.5
        return s * (clipped + (code - clipped).detach())

    def multibit(self, w: torch.Tensor, n: int) -> MultiBit:
        """The quantized weights as groups of ``n`` with alpha ``s/2, s, 2s, ...`` (float64)."""
        s = self._size().detach().double()
        code = (torch.floor(w.detach().double() / _per_channel(s, w)).clamp(self.lo, self.hi)
                - self.lo).to(torch.int64).reshape(-1, n)
        groups = code.shape[0]
        s_g = s.repeat_interleave(groups // len(s))
        alpha = s_g[:, None] * 2.0 ** torch.arange(-1, self.bits - 1, dtype=torch.float64)
        bits = (code[:, None, :] >> torch.arange(self.bits)[None, :, None]) & 1
        beta = (2 * bits - 1).to(torch.int8)
        return MultiBit(alpha, beta, torch.ones(groups, self.bits, dtype=torch.bool))


class BinaryWeight(nn.Module):
    """Parametrization: ``mean|w| * sign(w)`` per output channel, straight-through to ``w``."""

    bits = 1

    def forward(self, w: torch.Tensor) -> torch.Tensor:
        scale = _per_channel(w.abs().reshape(len(w), -1).mean(1), w)
        signs = torch.where(w >= 0, 1.0, -1.0)
        return w + (scale * signs - w).detach()

    def multibit(self, w: torch.Tensor, n: int) -> MultiBit:
        w = w.detach().double()
        scale = w.abs().reshape(len(w), -1).mean(1)
        flat = w.reshape(-1, n)
        alpha = scale.repeat_interleave(flat.shape[0] // len(scale))[:, None]
        beta = torch.where(flat >= 0, 1, -1).to(torch.int8)[:, None, :]
        return MultiBit(alpha, beta, torch.ones(flat.shape[0], 1, dtype=torch.bool))


def train_baseline(checkpoint: str | Path, cfg: BaselineConfig, out: str | Path,
                   data: str | None = None, log=print) -> dict:
    """Train one baseline from the float model file ``checkpoint`` into the run folder ``out``."""
    cfg.validate()
    with run_folder(out):
        return _train_baseline(checkpoint, cfg, out, data, log)


def _train_baseline(checkpoint: str | Path, cfg: BaselineConfig, out: str | Path,
                    data: str | None = None, log=print) -> dict:
    """The body of :func:`train_baseline`, inside its locked run folder."""
    out = Path(out)
    settings, p, done = begin(checkpoint, cfg, out, data, log)
    if done is not None:
        return done
    model = p.qnet
    specs = weight_layers(model, "channel", cfg.bits)
    mods = [m for m in model.modules() if isinstance(m, (nn.Conv1d, nn.Linear))]
    quantizers = [UniformWeight(m.weight, cfg.bits) if cfg.method == "uniform" else BinaryWeight()
                  for m in mods]
    for m, q in zip(mods, quantizers):
        parametrize.register_parametrization(m, "weight", q)
    latent = [m.parametrizations.weight.original for m in mods]
    opt = torch.optim.Adam(model.parameters(), lr=cfg.lr)
    data_set = p.training_set(cfg.samples_per_epoch)
    gen = torch.Generator().manual_seed(cfg.seed)
    torch.manual_seed(cfg.seed)
    t0, history = time.perf_counter(), []
    for epoch in range(1, cfg.epochs + 1):
        for g in opt.param_groups:
            g["lr"] = cfg.lr * 0.5 * (1 + math.cos(math.pi * (epoch - 1) / cfg.epochs))
        model.train()
        losses = []
        for xb, yb in data_set.batches(cfg.batch_size, gen):
            loss = F.cross_entropy(model(xb), yb, label_smoothing=cfg.label_smoothing)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            if cfg.method == "binaryconnect":
                with torch.no_grad():
                    for w in latent:
                        w.clamp_(-1, 1)
            losses.append(loss.item())
        history.append({"epoch": epoch, "train_loss": sum(losses) / len(losses),
                        "val_acc": p.accuracy(p.split.val)})
        if epoch % 10 == 0 or epoch == cfg.epochs:
            log(f"epoch {epoch}/{cfg.epochs}: loss {history[-1]['train_loss']:.4f}, validation "
                f"{percent(history[-1]['val_acc'])}")
    seconds = time.perf_counter() - t0
    layers: list[tuple[WeightLayer, MultiBit]] = []
    for spec, m, q in zip(specs, mods, quantizers):
        layers.append((spec, q.multibit(m.parametrizations.weight.original, spec.group_size)))
        parametrize.remove_parametrizations(m, "weight", leave_parametrized=True)
    atomic.write_json(out / "history.json", history)
    name = "BinaryConnect" if cfg.method == "binaryconnect" else f"uniform {cfg.bits}-bit"
    metrics, mem = finish(p, layers, cfg.alpha_bits, True, settings, out, seconds, name)
    log(f"{name}: test accuracy {percent(metrics.get('accuracy', float('nan')))} with {cfg.act_bits}-bit "
        f"activations, honest memory {mem.kib:.2f} KiB, {seconds:.0f} s")
    return metrics
