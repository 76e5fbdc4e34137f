"""Training one mini MCR: symmetric InfoNCE on its own paired split, with light augmentation per modality.

Why one thread: the towers are tiny, so one thread is as fast as several, and much faster when the cores are
shared with other work.
"""

from __future__ import annotations

import math
import time
from typing import TYPE_CHECKING, Any, Callable

from mcrsearch.miniworld.world import World, mcr_split
from mcrsearch.modality import Modality
from mcrsearch.topology import MCRS

if TYPE_CHECKING:
    from mcrsearch.miniworld.models import MiniMCRModel

TRAIN_POINTS = 1024          # clouds kept per training item; each step subsamples the model's point count


def _inputs(model: Any, modality: Modality, decoded: list[Any]) -> Any:
    from mcrsearch.miniworld import preprocess as pp
    from mcrsearch.miniworld.encoder import MiniEncoder

    if modality is Modality.POINTS:
        return pp.clouds_array(decoded, TRAIN_POINTS)
    return MiniEncoder(model, "training").preprocess(modality, decoded)


def _augment(modality: Modality, x: Any, cfg: dict, gen) -> Any:
    """Training-time augmentation on a batch (torch tensors / token lists)."""
    import torch

    if modality is Modality.IMAGE:
        b, _, s, _ = x.shape
        pad = max(2, s // 12)
        xp = torch.nn.functional.pad(x, (pad, pad, pad, pad), mode="replicate")
        dx, dy = torch.randint(0, 2 * pad + 1, (2,), generator=gen).tolist()
        x = xp[:, :, dy:dy + s, dx:dx + s]
        flip = torch.rand(b, generator=gen) < 0.5
        x = torch.where(flip[:, None, None, None], x.flip(3), x)
        return x + 0.15 * torch.randn(b, 3, 1, 1, generator=gen)
    if modality is Modality.AUDIO:
        shift = int(torch.randint(0, x.shape[-1] // 4 + 1, (1,), generator=gen))
        x = torch.roll(x, shift, dims=-1)
        f0 = int(torch.randint(0, x.shape[2] - 4, (1,), generator=gen))
        x = x.clone()
        x[:, :, f0:f0 + int(torch.randint(0, 5, (1,), generator=gen))] = 0
        return x
    if modality is Modality.POINTS:
        b, n, _ = x.shape
        k = cfg["points"]
        idx = torch.randint(0, n, (b, k), generator=gen)
        x = torch.gather(x, 1, idx[:, :, None].expand(-1, -1, 3))
        theta = torch.rand(b, generator=gen) * 2 * math.pi
        c, s = torch.cos(theta), torch.sin(theta)
        rot = torch.zeros(b, 3, 3)
        rot[:, 0, 0], rot[:, 0, 1], rot[:, 1, 0], rot[:, 1, 1], rot[:, 2, 2] = c, -s, s, c, 1
        x = x @ rot.transpose(1, 2)
        x = x * (0.85 + 0.3 * torch.rand(b, 1, 3, generator=gen))
        return x + 0.01 * torch.randn(x.shape, generator=gen)
    # text: word dropout, never emptying a caption
    out = []
    for seq in x:
        keep = [t for t in seq if float(torch.rand(1, generator=gen)) > 0.1]
        out.append(keep or list(seq))
    return out


def train_mcr(name: str, world: World, config: dict,
              log: Callable[[str], None] | None = None) -> tuple["MiniMCRModel", dict]:
    """Train one mini MCR contrastively on its own paired split; returns (model, training info)."""
    import torch

    threads = torch.get_num_threads()
    torch.set_num_threads(1)   # tiny models: one thread is as fast, and far faster on a shared, loaded machine
    try:
        return _train(name, world, config, log)
    finally:
        torch.set_num_threads(threads)


def _train(name: str, world: World, config: dict, log: Callable[[str], None] | None) -> tuple[Any, dict]:
    import torch

    from mcrsearch.miniworld.captions import hard_vocabulary, vocabulary
    from mcrsearch.miniworld.world import decode_items
    from mcrsearch.miniworld.models import MiniMCRModel, info_nce

    tcfg = config["train"]
    torch.manual_seed(tcfg["seed"])
    gen = torch.Generator().manual_seed(tcfg["seed"])
    model = MiniMCRModel(config, hard_vocabulary() if config.get("vocab") == "hard" else vocabulary())
    ma, mb = MCRS[name].modalities
    pairs = world.partners(mcr_split(name), ma, mb)
    if len(pairs) < 4:
        raise ValueError(f"the {mcr_split(name)} split has too few pairs to train mini-{name}")
    t0 = time.perf_counter()
    xa = _inputs(model, ma, decode_items([p[0] for p in pairs], ma))
    xb = _inputs(model, mb, decode_items([p[1] for p in pairs], mb))
    decode_s = time.perf_counter() - t0

    def take(x, idx):
        if isinstance(x, list):
            return [x[i] for i in idx]
        return torch.from_numpy(x[idx])

    def feed(modality, batch):
        if modality is Modality.TEXT:
            return model.towers["text"].bag(batch)
        return batch

    n, bs = len(pairs), min(tcfg["batch"], len(pairs))
    steps_per_epoch = max(1, n // bs)
    total = int(tcfg["steps"])
    epochs = max(1, math.ceil(total / steps_per_epoch))
    opt = torch.optim.AdamW(model.parameters(), lr=tcfg["lr"], weight_decay=tcfg["weight_decay"])
    warm = max(1, total // 20)
    sched = torch.optim.lr_scheduler.LambdaLR(
        opt, lambda s: min(1.0, (s + 1) / warm) * 0.5 * (1 + math.cos(math.pi * min(s, total) / total)))
    model.train()
    t1 = time.perf_counter()
    loss_val, step = float("nan"), 0
    for epoch in range(epochs):
        perm = torch.randperm(n, generator=gen).numpy()
        for s in range(steps_per_epoch):
            if step >= total:
                break
            step += 1
            idx = perm[s * bs:(s + 1) * bs]
            a = _augment(ma, take(xa, idx), config[ma.value], gen)
            b = _augment(mb, take(xb, idx), config[mb.value], gen)
            za = model.forward_batch(ma, feed(ma, a))
            zb = model.forward_batch(mb, feed(mb, b))
            loss = info_nce(za, zb, model.logit_scale)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            sched.step()
            loss_val = float(loss.detach())
        if log and (epoch + 1) % max(1, epochs // 5) == 0:
            log(f"mini-{name}: step {step}/{total}, loss {loss_val:.3f}")
    model.eval()
    return model, {"pairs": n, "steps": total, "epochs": epochs, "final_loss": round(loss_val, 4),
                   "decode_s": round(decode_s, 2), "fit_s": round(time.perf_counter() - t1, 2)}
