"""Pieces both trainers share: device choice, seeding, InfoNCE, the optimiser and its schedule."""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field
from typing import Any, Callable

import numpy as np
import torch
import torch.nn.functional as F


def resolve_device(name: str) -> torch.device:
    from mcrsearch.device import pick_device

    device = pick_device(name)
    return torch.device("cpu") if device.type == "mps" else device   # BN + small heads: mps gains nothing


class cpu_threads:
    """Temporarily set torch's CPU thread count (0 = leave it); small heads rarely gain from threads."""

    def __init__(self, n: int) -> None:
        self.n, self.before = n, torch.get_num_threads()

    def __enter__(self) -> None:
        if self.n > 0:
            torch.set_num_threads(self.n)

    def __exit__(self, *exc: Any) -> None:
        if self.n > 0:
            torch.set_num_threads(self.before)


def seed_all(seed: int, device: torch.device) -> torch.Generator:
    torch.manual_seed(seed)
    np.random.seed(seed % (2 ** 32))
    return torch.Generator(device=device).manual_seed(seed)


def to_tensor(x: Any, device: torch.device) -> torch.Tensor:
    if isinstance(x, torch.Tensor):
        return x.to(device=device, dtype=torch.float32)
    return torch.from_numpy(np.ascontiguousarray(x, dtype=np.float32)).to(device)


def info_nce(x: torch.Tensor, y: torch.Tensor, tau: float) -> torch.Tensor:
    """Symmetric InfoNCE between row-aligned, L2-normalised batches (positives on the diagonal)."""
    logits = x @ y.T / tau
    target = torch.arange(x.shape[0], device=x.device)
    return 0.5 * (F.cross_entropy(logits, target) + F.cross_entropy(logits.T, target))


def intra_mse(x: torch.Tensor, partner: torch.Tensor) -> torch.Tensor:
    """Intra alignment: mean squared distance between each projected embedding and its projected partner in
    the same MCR. One named function for both trainers, so a regression test can break it on purpose."""
    return ((x - partner) ** 2).sum(-1).mean()


def total_steps(n: int, batch: int, epochs: int, steps: int) -> tuple[int, int]:
    """(steps per epoch, total steps): `steps > 0` wins over epochs."""
    per_epoch = max(1, math.ceil(n / max(1, batch)))
    return per_epoch, (steps if steps > 0 else per_epoch * max(1, epochs))


def make_optimizer(params, cfg, n_steps: int):
    opt = torch.optim.AdamW(params, lr=cfg.lr, weight_decay=cfg.weight_decay)

    def factor(step: int) -> float:
        if cfg.warmup_steps and step < cfg.warmup_steps:
            return (step + 1) / cfg.warmup_steps
        if not cfg.cosine:
            return 1.0
        span = max(1, n_steps - cfg.warmup_steps)
        return 0.5 * (1.0 + math.cos(math.pi * min(1.0, (step - cfg.warmup_steps) / span)))

    return opt, torch.optim.lr_scheduler.LambdaLR(opt, factor)


def batches(n: int, batch: int, n_steps: int, generator: torch.Generator):
    """Yield `n_steps` index batches: shuffled epochs, batches of at most `batch`, last partial kept if >= 2."""
    batch = min(batch, n)
    done = 0
    while done < n_steps:
        perm = torch.randperm(n, generator=generator, device=generator.device).cpu()
        for s in range(0, n, batch):
            idx = perm[s:s + batch]
            if len(idx) < 2:
                continue
            yield idx
            done += 1
            if done >= n_steps:
                return


@dataclass
class History:
    """Loss and validation curves recorded during training."""

    steps: list[int] = field(default_factory=list)
    loss: list[float] = field(default_factory=list)
    parts: dict[str, list[float]] = field(default_factory=dict)
    val_steps: list[int] = field(default_factory=list)
    val: dict[str, list[float]] = field(default_factory=dict)
    samples_per_s: float = 0.0
    seconds: float = 0.0

    def log(self, step: int, loss: float, parts: dict[str, float]) -> None:
        self.steps.append(step)
        self.loss.append(loss)
        for k, v in parts.items():
            self.parts.setdefault(k, []).append(v)

    def log_val(self, step: int, metrics: dict[str, float]) -> None:
        self.val_steps.append(step)
        for k, v in metrics.items():
            self.val.setdefault(k, []).append(float(v))

    def final_val(self) -> dict[str, float]:
        return {k: v[-1] for k, v in self.val.items() if v}

    def to_dict(self) -> dict[str, Any]:
        return {"steps": self.steps, "loss": self.loss, "parts": self.parts, "val_steps": self.val_steps,
                "val": self.val, "samples_per_s": self.samples_per_s, "seconds": self.seconds}


ProgressFn = Callable[[int, int, float], None]


def train_loop(module: torch.nn.Module, n: int, cfg, device: torch.device, generator: torch.Generator,
               step_fn: Callable[[torch.Tensor], tuple[torch.Tensor, dict[str, float]]],
               validate: Callable[[], dict[str, float]] | None = None,
               progress: ProgressFn | None = None, params=None) -> History:
    """Shuffled mini-batches over `n` training rows, AdamW + cosine, periodic validation.

    `step_fn(idx)` returns the loss for a batch of row indices and its named parts (for the curves).
    """

    history = History()
    per_epoch, n_steps = total_steps(n, cfg.batch_size, cfg.epochs, cfg.steps)
    opt, sched = make_optimizer(params if params is not None else module.parameters(), cfg, n_steps)
    val_every = cfg.val_every if cfg.val_every > 0 else per_epoch
    seen = 0
    t0 = time.perf_counter()
    module.train()
    for step, idx in enumerate(batches(n, cfg.batch_size, n_steps, generator), start=1):
        idx = idx.to(device)
        loss, parts = step_fn(idx)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        sched.step()
        seen += len(idx)
        history.log(step, float(loss.detach()), parts)
        if validate is not None and (step % val_every == 0 or step == n_steps):
            module.eval()
            history.log_val(step, validate())
            module.train()
        if progress is not None:
            progress(step, n_steps, float(loss.detach()))
    module.eval()
    history.seconds = time.perf_counter() - t0
    history.samples_per_s = seen / max(history.seconds, 1e-9)
    return history
