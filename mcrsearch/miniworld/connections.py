"""The mini-world's connection recipe: train CLAP->CLIP (via text) and ULIP->CLIP (via image) on its
unpaired split with the generic trainer, save the heads where the `miniworld*` spaces load them, and
measure emergent retrieval on the held-out test split.

Training data come only from the world's "unpaired" split (no cross-modal pair in it). The paired oracle
is the same heads trained with TRUE cross-modal pairs from a separate "oracle" world (same classes,
another seed, only fully paired instances), i.e. what a paired-data method would be given.
The mini-world sits on top of the trainer (like the CLI); the trainer knows nothing of it.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Sequence

import numpy as np

from mcrsearch.miniworld.mcrs import encode_items, load_or_train_mcrs
from mcrsearch.miniworld.record import default_dir, miniworld_cache, read_current
from mcrsearch.miniworld.generate import generate_world
from mcrsearch.miniworld.world import World, WorldConfig
from mcrsearch.topology import CONNECTIONS, head_file
from mcrsearch_trainer.head_files import plot_curves, save_checkpoint
from mcrsearch_trainer.config import CMCRConfig, ExMCRConfig, make_config
from mcrsearch_trainer.pipeline import connection_data, evaluate_heads, fit_connections

if TYPE_CHECKING:
    from mcrsearch.config import Settings
    from mcrsearch.miniworld.mcrs import MiniMCRs

ORACLE_SEED_OFFSET = 7919
ORACLE_PER_CLASS = {"hard": 16}      # fully paired instances per class in the oracle's world (default 40)


def default_world(settings: "Settings", scale: str = "default") -> World:
    """The current mini-world (as `current.json` records it) when it has this scale, else the demo's one."""
    current = read_current(settings)
    if current and Path(current.get("world_root", "")).is_dir():
        world = World.load(current["world_root"])
        if world.config.scale == scale:
            return world
    return generate_world(default_dir(settings), WorldConfig.preset(scale))


def oracle_world(world: World, settings: "Settings") -> World:
    """A world of fully paired instances of the same classes (another seed): training pairs for the oracle."""
    cfg = replace(world.config, seed=world.config.seed + ORACLE_SEED_OFFSET,
                  counts=(("test", ORACLE_PER_CLASS.get(world.config.scale, 40)),))
    return generate_world(miniworld_cache(settings) / "worlds" / f"oracle-{cfg.key()}", cfg)


def miniworld_features(world: World, mcrs: "MiniMCRs", splits: Sequence[str] = ("unpaired", "test"),
                       oracle: World | None = None) -> dict:
    """Encoder vectors (cached on disk) and labels per (split, mcr, modality) that the connections use.

    The shape `mcrsearch_trainer.pipeline` trains and evaluates on: {(split, mcr, modality): (x, labels, instances)};
    the oracle world's test items come in as split "oracle".
    """
    need = sorted({(conn.leaf, m.value) for conn in CONNECTIONS.values() for m in (conn.overlap, conn.leaf_other)}
                  | {(conn.base, m.value) for conn in CONNECTIONS.values() for m in (conn.overlap, conn.base_other)})
    feats: dict = {}
    sources = [(world, s, s) for s in splits] + ([(oracle, "test", "oracle")] if oracle is not None else [])
    for w, split, tag in sources:
        for mcr, mod in need:
            items = w.select(split, mod)
            vecs = encode_items(mcrs.encoder(mcr), mod, items, cache_dir=mcrs.cache_dir)
            feats[(tag, mcr, mod)] = (np.asarray(vecs, np.float32), np.array([it.label for it in items]),
                                      np.array([it.instance for it in items]))
    return feats


def train_miniworld_connections(world: World | None = None, mcrs: "MiniMCRs | None" = None,
                                settings: "Settings | None" = None, method: str = "exmcr", config: Any = None,
                                oracle: bool = True, save: bool = True, log: Callable[[str], None] | None = None,
                                feats: dict | None = None, **overrides: Any) -> dict:
    """Train the mini-world connections with `method`, save heads, return metrics (+ the paired oracle's).

    Ex-MCR heads go to `<mcrs.cache_dir>/heads/ex_clap.pt` / `ex_ulip.pt` (what the `miniworld` space loads);
    C-MCR heads (method="cmcr") to `clap_clip.pt` / `ulip_clip.pt` beside them; with `oracle` the paired
    oracle's heads too, as `oracle_<name>` (what the `miniworld-oracle` space loads). Returns
    {"method", "emergent": {pair/metric: value}, "oracle": {...}, "ratio": {...}, "heads": {...}, "training": {...}}.
    """
    from mcrsearch.config import load_settings

    say = log or (lambda msg: None)
    settings = settings or load_settings()
    if world is None:
        world = default_world(settings)
    if mcrs is None:
        mcrs = load_or_train_mcrs(world, settings, log=log)
    cls = ExMCRConfig if method == "exmcr" else CMCRConfig
    cfg = config if config is not None else make_config(cls, **overrides)
    if config is not None and overrides:
        cfg = make_config(cls, {**cfg.to_dict(), **overrides})
    cfg = make_config(cls, {k: v for k, v in cfg.to_dict().items() if k != "method"})
    if feats is None:
        say("encoding the mini-world (cached)")
        feats = miniworld_features(world, mcrs, oracle=oracle_world(world, settings) if oracle else None)
    say(f"training {method} connections " + " and ".join(f"{c.leaf}->{c.base}" for c in CONNECTIONS.values()))
    heads, hist = fit_connections(method, feats, cfg)
    result: dict = {"method": method, "world": world.key(), "config": cfg.to_dict(),
                    "emergent": evaluate_heads(method, heads, feats),
                    "training": {leaf: {"steps": len(h.steps), "samples_per_s": h.samples_per_s, "seconds": h.seconds}
                                 for leaf, h in hist.items()}}
    if save:
        result["heads"] = _save_heads(method, heads, hist, feats, cfg, world, mcrs, result["emergent"])
    if oracle and any(key[0] == "oracle" for key in feats):
        say("training the paired oracle")
        o_heads, o_hist = fit_connections(method, feats, cfg, oracle=True)
        result["oracle"] = evaluate_heads(method, o_heads, feats)
        result["ratio"] = {k: result["emergent"][k] / v for k, v in result["oracle"].items()
                           if k in result["emergent"] and k.endswith("/map") and v > 0}
        if save:
            result["oracle_heads"] = _save_heads(method, o_heads, o_hist, feats, cfg, world, mcrs,
                                                 result["oracle"], oracle=True)
    return result


def _save_heads(method: str, heads: dict, hist: dict, feats: dict, cfg: Any, world: World, mcrs: "MiniMCRs",
                emergent: dict, oracle: bool = False) -> dict[str, str]:
    """Write each leaf's heads (released key layout) with sidecar and curves; {leaf: path}."""
    out = {}
    for leaf, module in heads.items():
        path = Path(mcrs.heads_dir) / head_file(method, leaf, oracle)
        data = connection_data(feats, leaf)
        save_checkpoint(module, path, config=cfg.to_dict(), data_fingerprint=data.fingerprint(),
                        metrics=hist[leaf].final_val(), history=hist[leaf],
                        extra={"method": method, "oracle": oracle, "world": world.key(), "leaf": leaf,
                               "base": CONNECTIONS[leaf].base, "emergent": emergent})
        title = f"{method}{' paired oracle' if oracle else ''} {leaf}->{CONNECTIONS[leaf].base}"
        plot_curves(hist[leaf], path.with_name(path.stem + "_curves.png"), title=title)
        out[leaf] = str(path)
    return out
