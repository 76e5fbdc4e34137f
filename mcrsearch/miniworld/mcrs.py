"""The three mini MCRs of a world: train each once (see `training`), cache the checkpoints under
`<cache>/miniworld/<world key>-<model config hash>/`, and evaluate within-MCR retrieval on the test split.

`load_or_train_mcrs(world, settings)` is the entry point. World items are decoded by `mcrsearch.media.decode`
(the path index and query use) and embedded through the trainer's feature cache (`encode_items`).
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Sequence

import numpy as np

from mcrsearch.atomic import write_json_atomic
from mcrsearch.miniworld.models import config_hash, default_configs
from mcrsearch.miniworld.record import CURRENT, miniworld_cache
from mcrsearch.miniworld.world import MESH_POINTS, World, WorldItem, decode_items
from mcrsearch.modality import Modality
from mcrsearch.topology import LEAVES, MCRS, head_file

if TYPE_CHECKING:
    from mcrsearch.config import Settings
    from mcrsearch.encoders.base import Encoder


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
        return {name: self.encoder(name).dim for name in MCRS}

    @property
    def heads_dir(self) -> Path:
        return self.cache_dir / "heads"

    def encoder(self, name: str) -> "Encoder":
        return {"clip": self.clip, "clap": self.clap, "ulip": self.ulip}[name]


def mcr_dir(world: World, settings: "Settings", configs: dict | None = None) -> Path:
    configs = configs or default_configs(world.config.scale)
    return miniworld_cache(settings) / f"{world.key()}-{config_hash(configs)}"


def load_or_train_mcrs(world: World, settings: "Settings", configs: dict | None = None,
                       log: Callable[[str], None] | None = None, device: Any = None) -> MiniMCRs:
    """Reuse cached checkpoints for this (world, model configs), else train and cache them; update current.json."""
    from mcrsearch.miniworld.encoder import build, save_checkpoint
    from mcrsearch.miniworld.training import train_mcr

    configs = configs or default_configs(world.config.scale)
    out = mcr_dir(world, settings, configs)
    device = device if device is not None else "cpu"
    encoders, metrics, timings = {}, {}, {}
    for name in MCRS:
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
        write_json_atomic(metrics_file, saved, indent=1)
    mcrs = MiniMCRs(clip=encoders["clip"], clap=encoders["clap"], ulip=encoders["ulip"], cache_dir=out,
                    world_key=world.key(), metrics=saved.get("mcr", {}), timings=timings, settings=settings,
                    world_root=Path(world.root))
    write_current(settings, world, mcrs)
    return mcrs


def current_record(world: World, mcrs: MiniMCRs) -> dict[str, Any]:
    """What the `miniworld*` spaces need: the world, the three MCR checkpoints and the head files
    (`heads` Ex-MCR, `cmcr_heads` C-MCR, `oracle_heads` the Ex-MCR paired oracle; they may not exist yet)."""

    def heads(method: str, oracle: bool = False) -> dict[str, str]:
        return {leaf: str((mcrs.heads_dir / head_file(method, leaf, oracle)).resolve()) for leaf in LEAVES}

    return {"world_root": str(Path(world.root).resolve()), "world_key": world.key(),
            "mcr_dir": str(mcrs.cache_dir.resolve()), "dims": mcrs.dims,
            "checkpoints": {n: str((mcrs.cache_dir / f"{n}.pt").resolve()) for n in MCRS},
            "heads": heads("exmcr"), "cmcr_heads": heads("cmcr"), "oracle_heads": heads("exmcr", oracle=True)}


def write_current(settings: "Settings", world: World, mcrs: MiniMCRs) -> Path:
    """Point `<cache>/miniworld/current.json` at this world and its MCRs (what the `miniworld` space loads)."""
    return write_json_atomic(miniworld_cache(settings) / CURRENT, current_record(world, mcrs), indent=1)


def encode_items(encoder: "Encoder", modality: Modality | str, items: Sequence[WorldItem],
                 cache_dir: Path | None = None) -> np.ndarray:
    """(n, dim) encoder vectors of world items; with `cache_dir`, through the trainer's feature cache
    (`<cache_dir>/features`, keyed by encoder fingerprint and the items' content hashes)."""
    modality = Modality.parse(modality)
    if not items:
        return np.zeros((0, encoder.dim), np.float32)
    if cache_dir is None:
        return encoder.encode(modality, decode_items(items, modality))
    from mcrsearch_trainer.features import cached_features

    known = [it.sha1 for it in items]
    vectors = cached_features([it.path for it in items], encoder, modality, Path(cache_dir) / "features",
                              chunk=256, mesh_points=MESH_POINTS, hashes=known if all(known) else None)
    return np.array(vectors, dtype=np.float32)


def evaluate_mcr(encoder: "Encoder", world: World, split: str = "test") -> dict:
    """Within-MCR class-level retrieval on held-out instances, both directions, and the space's geometry
    (matched/unmatched cosines and modality gap over the held-out instances' true pairs)."""
    from mcrsearch.miniworld.metrics import geometry, retrieval

    ma, mb = encoder.modalities
    ia, ib = world.select(split, ma), world.select(split, mb)
    va, vb = encode_items(encoder, ma, ia), encode_items(encoder, mb, ib)
    la, lb = [it.label for it in ia], [it.label for it in ib]
    row_b = {it.instance: j for j, it in enumerate(ib)}
    pairs = [(i, row_b[it.instance]) for i, it in enumerate(ia) if it.instance in row_b]
    out = {f"{ma.value}->{mb.value}": retrieval(va, la, vb, lb),
           f"{mb.value}->{ma.value}": retrieval(vb, lb, va, la)}
    if pairs:
        out["geometry"] = geometry(va[[p[0] for p in pairs]], vb[[p[1] for p in pairs]])
    return out
