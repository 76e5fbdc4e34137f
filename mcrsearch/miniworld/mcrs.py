"""The three mini MCRs: train each on its own paired split (symmetric InfoNCE), cache the checkpoints
under `<cache>/miniworld/<world key>-<model config hash>/`, evaluate within-MCR retrieval on the test split.

`load_or_train_mcrs(world, settings)` is the entry point; `encode_items` embeds world items with caching.
"""

from __future__ import annotations

import hashlib
import json
import math
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Sequence

import numpy as np

from mcrsearch.miniworld.models import MCR_MODALITIES, MCR_SPLITS, config_hash, default_configs
from mcrsearch.miniworld.world import World, WorldItem
from mcrsearch.modality import Modality

if TYPE_CHECKING:
    from mcrsearch.config import Settings
    from mcrsearch.encoders.base import Encoder

TRAIN_POINTS = 1024          # clouds kept per training item; each step subsamples the model's point count
MESH_POINTS = 2048           # surface samples when decoding a mesh file
CURRENT = "current.json"
# Head files under `MiniMCRs.heads_dir`, per method and leaf MCR (released names); the paired oracle's
# heads carry an "oracle_" prefix beside them.
HEAD_FILES = {"exmcr": {"clap": "ex_clap.pt", "ulip": "ex_ulip.pt"},
              "cmcr": {"clap": "clap_clip.pt", "ulip": "ulip_clip.pt"}}
ORACLE_PREFIX = "oracle_"


def head_file(method: str, leaf: str, oracle: bool = False) -> str:
    """File name of a trained mini-world head (e.g. `ex_clap.pt`, `oracle_ex_clap.pt`, `ulip_clip.pt`)."""
    return (ORACLE_PREFIX if oracle else "") + HEAD_FILES[method][leaf]


@dataclass
class MiniMCRs:
    """The trained mini MCRs of one world: `.clip`, `.clap`, `.ulip` are Encoder objects."""

    clip: "Encoder"
    clap: "Encoder"
    ulip: "Encoder"
    cache_dir: Path                     # <cache>/miniworld/<world key>-<config hash>; heads go in cache_dir/"heads"
    world_key: str
    metrics: dict = field(default_factory=dict)
    timings: dict = field(default_factory=dict)
    settings: Any = None
    world_root: Path | None = None

    @property
    def dims(self) -> dict[str, int]:
        return {"clip": self.clip.dim, "clap": self.clap.dim, "ulip": self.ulip.dim}

    @property
    def heads_dir(self) -> Path:
        return self.cache_dir / "heads"

    def encoder(self, name: str) -> "Encoder":
        return {"clip": self.clip, "clap": self.clap, "ulip": self.ulip}[name]


def miniworld_cache(settings: "Settings") -> Path:
    return Path(settings.cache_dir) / "miniworld"


def mcr_dir(world: World, settings: "Settings", configs: dict | None = None) -> Path:
    configs = configs or default_configs(world.config.scale)
    return miniworld_cache(settings) / f"{world.key()}-{config_hash(configs)}"


def load_or_train_mcrs(world: World, settings: "Settings", configs: dict | None = None,
                       log: Callable[[str], None] | None = None, device: Any = None) -> MiniMCRs:
    """Reuse cached checkpoints for this (world, model configs), else train and cache them; update current.json."""
    from mcrsearch.encoders.mini import build, save_checkpoint

    configs = configs or default_configs(world.config.scale)
    out = mcr_dir(world, settings, configs)
    device = device if device is not None else "cpu"
    encoders, metrics, timings = {}, {}, {}
    for name in ("clip", "clap", "ulip"):
        ckpt = out / f"{name}.pt"
        if not ckpt.is_file():
            start = time.perf_counter()
            model, train_info = train_mcr(name, world, configs[name], log=log)
            timings[f"train_{name}_s"] = round(time.perf_counter() - start, 2)
            enc = build(name, model=model, device=device)
            metrics[name] = {**evaluate_mcr(enc, world), **train_info}
            save_checkpoint(model, ckpt, metrics[name])
        encoders[name] = build(name, checkpoint=ckpt, device=device)
    metrics_file = out / "metrics.json"
    saved = json.loads(metrics_file.read_text()) if metrics_file.is_file() else {}
    if metrics:
        saved = {"world": world.key(), "mcr": {**saved.get("mcr", {}), **metrics},
                 "timings": {**saved.get("timings", {}), **timings}}
        metrics_file.write_text(json.dumps(saved, indent=1))
    mcrs = MiniMCRs(clip=encoders["clip"], clap=encoders["clap"], ulip=encoders["ulip"], cache_dir=out,
                    world_key=world.key(), metrics=saved.get("mcr", {}), timings=timings, settings=settings,
                    world_root=Path(world.root))
    write_current(settings, world, mcrs)
    return mcrs


def write_current(settings: "Settings", world: World, mcrs: MiniMCRs) -> Path:
    """Point `<cache>/miniworld/current.json` at this world and its MCRs (what the `miniworld` space loads)."""
    path = miniworld_cache(settings) / CURRENT
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(current_record(world, mcrs), indent=1))
    tmp.replace(path)
    return path


def current_record(world: World, mcrs: MiniMCRs) -> dict:
    """What the `miniworld*` spaces need: the world, the three MCR checkpoints and the head files
    (`heads` Ex-MCR, `cmcr_heads` C-MCR, `oracle_heads` the Ex-MCR paired oracle; they may not exist yet)."""

    def heads(method: str, oracle: bool = False) -> dict[str, str]:
        return {leaf: str((mcrs.heads_dir / head_file(method, leaf, oracle)).resolve()) for leaf in ("clap", "ulip")}

    return {"world_root": str(Path(world.root).resolve()), "world_key": world.key(),
            "mcr_dir": str(mcrs.cache_dir.resolve()), "dims": mcrs.dims,
            "checkpoints": {n: str((mcrs.cache_dir / f"{n}.pt").resolve()) for n in ("clip", "clap", "ulip")},
            "heads": heads("exmcr"), "cmcr_heads": heads("cmcr"), "oracle_heads": heads("exmcr", oracle=True)}


def read_current(settings: "Settings") -> dict | None:
    path = miniworld_cache(settings) / CURRENT
    return json.loads(path.read_text()) if path.is_file() else None


# ------------------------------------------------------------------------------------------------ decoding

def decode_items(items: Sequence[WorldItem], modality: Modality | str | None = None) -> list[Any]:
    """Decode files through `mcrsearch.media` (the same path index and query use)."""
    from mcrsearch import media

    out = []
    for it in items:
        mod = Modality.parse(modality) if modality is not None else it.modality
        if mod is Modality.POINTS:
            out.append(media.load_points(it.path, MESH_POINTS))
        elif mod is Modality.IMAGE:
            out.append(media.load_image(it.path))
        elif mod is Modality.AUDIO:
            out.append(media.load_audio(it.path))
        else:
            out.append(media.load_text(it.path))
    return out


def encode_items(encoder: "Encoder", modality: Modality | str, items: Sequence[WorldItem],
                 cache_dir: Path | None = None) -> np.ndarray:
    """(n, dim) encoder vectors of world items, cached by (encoder fingerprint, item contents) when asked."""
    modality = Modality.parse(modality)
    if not items:
        return np.zeros((0, encoder.dim), np.float32)
    cache_file = None
    if cache_dir is not None:
        h = hashlib.sha256(f"{encoder.fingerprint}|{modality.value}".encode())
        for it in items:
            h.update((it.sha1 or f"{it.path}:{it.path.stat().st_size}:{it.path.stat().st_mtime_ns}").encode())
        cache_file = Path(cache_dir) / "features" / f"{encoder.family}-{modality.value}-{h.hexdigest()[:20]}.npy"
        if cache_file.is_file():
            return np.load(cache_file)
    vectors = encoder.encode(modality, decode_items(items, modality))
    if cache_file is not None:
        cache_file.parent.mkdir(parents=True, exist_ok=True)
        tmp = cache_file.with_suffix(".tmp.npy")
        np.save(tmp, vectors)
        tmp.replace(cache_file)
    return vectors


# ------------------------------------------------------------------------------------------------ training

def _inputs(name: str, model: Any, modality: Modality, decoded: list[Any]) -> Any:
    from mcrsearch.encoders.mini import MiniEncoder
    from mcrsearch.miniworld import preprocess as pp

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


def train_mcr(name: str, world: World, config: dict, log: Callable[[str], None] | None = None) -> tuple[Any, dict]:
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

    from mcrsearch.miniworld.captions import vocabulary
    from mcrsearch.miniworld.models import MiniMCRModel, info_nce

    tcfg = config["train"]
    torch.manual_seed(tcfg["seed"])
    gen = torch.Generator().manual_seed(tcfg["seed"])
    model = MiniMCRModel(config, vocabulary())
    ma, mb = MCR_MODALITIES[name]
    pairs = world.partners(MCR_SPLITS[name], ma, mb)
    if len(pairs) < 4:
        raise ValueError(f"the {MCR_SPLITS[name]} split has too few pairs to train mini-{name}")
    t0 = time.perf_counter()
    xa = _inputs(name, model, ma, decode_items([p[0] for p in pairs], ma))
    xb = _inputs(name, model, mb, decode_items([p[1] for p in pairs], mb))
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


def evaluate_mcr(encoder: "Encoder", world: World, split: str = "test") -> dict:
    """Within-MCR class-level retrieval on held-out instances, both directions."""
    from mcrsearch.miniworld.metrics import retrieval

    ma, mb = encoder.modalities
    ia, ib = world.select(split, ma), world.select(split, mb)
    va, vb = encode_items(encoder, ma, ia), encode_items(encoder, mb, ib)
    la, lb = [it.label for it in ia], [it.label for it in ib]
    return {f"{ma.value}->{mb.value}": retrieval(va, la, vb, lb),
            f"{mb.value}->{ma.value}": retrieval(vb, lb, va, la)}
