"""Train the mini-world's connections (CLAP->CLIP via text, ULIP->CLIP via image) and measure emergence.

Training data come only from the world's "unpaired" split (no cross-modal pair in it). The test split
(held-out instances, all four modalities) measures emergent pairs at class level. The paired oracle
is the same heads trained with TRUE cross-modal pairs from a separate "oracle" world (same classes,
another seed, only fully paired instances), i.e. what a paired-data method would be given.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Callable

import numpy as np

from trainer.config import CMCRConfig, ExMCRConfig, make_config
from trainer.data import ConnectionData, ValidationSet

# leaf -> (overlap modality, leaf's other modality, base's other modality)
CONNECTIONS = {"clap": ("text", "audio", "image"), "ulip": ("image", "3d", "text")}
ORACLE_SEED_OFFSET = 7919
ORACLE_PER_CLASS = 40


def default_world(settings: Any, scale: str = "default"):
    """The current mini-world (as recorded by the mini-world), else the default one generated in the cache."""
    from mcrsearch.miniworld.mcrs import miniworld_cache, read_current
    from mcrsearch.miniworld.world import World, WorldConfig, generate_world

    current = read_current(settings)
    if current and Path(current.get("world_root", "")).is_dir():
        world = World.load(current["world_root"])
        if world.config.scale == scale:
            return world
    cfg = WorldConfig.preset(scale)
    try:   # where `mcrsearch demo` puts it
        from mcrsearch.miniworld.demo import default_dir

        root = default_dir(settings)
    except ImportError:
        root = miniworld_cache(settings) / "worlds" / cfg.key()
    return generate_world(root, cfg)


def oracle_world(world: Any, settings: Any):
    """A world of fully paired instances of the same classes (another seed): training pairs for the oracle."""
    from dataclasses import replace

    from mcrsearch.miniworld.mcrs import miniworld_cache
    from mcrsearch.miniworld.world import generate_world

    cfg = replace(world.config, seed=world.config.seed + ORACLE_SEED_OFFSET,
                  counts=(("test", ORACLE_PER_CLASS),))
    return generate_world(miniworld_cache(settings) / "worlds" / f"oracle-{cfg.key()}", cfg)


def miniworld_features(world: Any, mcrs: Any, splits=("unpaired", "test"), oracle: Any = None) -> dict:
    """Encoder vectors (cached on disk) and labels per (split, mcr, modality) that the connections use."""
    from mcrsearch.miniworld.mcrs import encode_items

    need = {("clap", "audio"), ("clap", "text"), ("clip", "text"), ("clip", "image"), ("ulip", "image"),
            ("ulip", "3d")}
    feats: dict = {}
    sources = [(world, s, s) for s in splits] + ([(oracle, "test", "oracle")] if oracle is not None else [])
    for w, split, tag in sources:
        for mcr, mod in sorted(need):
            items = w.select(split, mod)
            vecs = encode_items(mcrs.encoder(mcr), mod, items, cache_dir=mcrs.cache_dir)
            feats[(tag, mcr, mod)] = (np.asarray(vecs, np.float32), np.array([it.label for it in items]),
                                      np.array([it.instance for it in items]))
    return feats


def _aligned(feats: dict, tag: str, a: tuple[str, str], b: tuple[str, str]) -> tuple[np.ndarray, np.ndarray]:
    """Rows of two feature sets matched by instance (true partners)."""
    xa, _, ia = feats[(tag, *a)]
    xb, _, ib = feats[(tag, *b)]
    pos = {inst: i for i, inst in enumerate(ib)}
    rows = [(i, pos[inst]) for i, inst in enumerate(ia) if inst in pos]
    return xa[[r[0] for r in rows]], xb[[r[1] for r in rows]]


def _aligned_many(feats: dict, tag: str, keys: dict[str, tuple[str, str]]) -> dict[str, np.ndarray]:
    """Several feature sets restricted to the instances all of them have, row-aligned by instance."""
    common = set.intersection(*(set(feats[(tag, *k)][2].tolist()) for k in keys.values()))
    order = sorted(common)
    out = {}
    for name, k in keys.items():
        x, _, inst = feats[(tag, *k)]
        pos = {i: r for r, i in enumerate(inst.tolist())}
        out[name] = x[[pos[i] for i in order]]
    return out


def connection_data(feats: dict, leaf: str, base: str = "clip") -> ConnectionData:
    """ConnectionData for leaf->base from the unpaired split; validation = the emergent pair on test."""
    over, mod_a, mod_b = CONNECTIONS[leaf]
    oa, ob = _aligned(feats, "unpaired", (leaf, over), (base, over))     # the same overlap items in both MCRs
    pairs = {}
    if ("oracle", leaf, mod_a) in feats:   # true tuples of fully paired instances, for the oracle only
        keys = {"pairs_a": (leaf, mod_a), "pairs_overlap_a": (leaf, over), "pairs_overlap_b": (base, over),
                "pairs_b": (base, mod_b)}
        pairs = _aligned_many(feats, "oracle", keys)
    va, la, _ = feats[("test", leaf, mod_a)]
    vb, lb, _ = feats[("test", base, mod_b)]
    return ConnectionData(overlap_a=oa, overlap_b=ob, memory_a=feats[("unpaired", leaf, mod_a)][0],
                          memory_b=feats[("unpaired", base, mod_b)][0], **pairs,
                          validation=[ValidationSet(f"{mod_a}->{mod_b}", va, la, vb, lb)])


def emergent_metrics(feats: dict, proj: dict[tuple[str, str], Callable | None], split: str = "test") -> dict:
    """Class-level mAP/R@1/R@5 both directions for every pair whose two projections share a space.

    `proj[(mcr, modality)]` maps raw vectors into a common space (None = already there, e.g. CLIP in Ex-MCR).
    """
    from trainer.evaluate import project, retrieval_metrics

    pairs = [(("clap", "audio"), ("ulip", "3d")), (("clap", "audio"), ("clip", "image")),
             (("ulip", "3d"), ("clip", "text")), (("clap", "audio"), ("clip", "text")),
             (("ulip", "3d"), ("clip", "image"))]
    out: dict = {}
    for a, b in pairs:
        if a not in proj or b not in proj:
            continue
        za = project(proj[a], feats[(split, *a)][0])
        zb = project(proj[b], feats[(split, *b)][0])
        la, lb = feats[(split, *a)][1], feats[(split, *b)][1]
        for (qn, q, ql), (gn, g, gl) in [((a[1], za, la), (b[1], zb, lb)), ((b[1], zb, lb), (a[1], za, la))]:
            for k, v in retrieval_metrics(q, ql, g, gl).items():
                out[f"{qn}->{gn}/{k}"] = v
    return out


def _exmcr_proj(heads: dict) -> dict:
    return {("clap", "audio"): heads["clap"], ("clap", "text"): heads["clap"], ("ulip", "3d"): heads["ulip"],
            ("ulip", "image"): heads["ulip"], ("clip", "image"): None, ("clip", "text"): None}


def _cmcr_proj(heads: dict) -> dict:
    from trainer.cmcr import sides

    fa, fb = sides(heads["clap"], "cmcr-clap-clip")
    ga, gb = sides(heads["ulip"], "cmcr-ulip-clip")
    return {"clap": {("clap", "audio"): fa, ("clip", "image"): fb, ("clip", "text"): fb},
            "ulip": {("ulip", "3d"): ga, ("clip", "text"): gb, ("clip", "image"): gb}}


def evaluate_heads(method: str, heads: dict, feats: dict) -> dict:
    """Emergent metrics of trained heads: one CLIP space for Ex-MCR, two new spaces for C-MCR."""
    if method == "exmcr":
        return emergent_metrics(feats, _exmcr_proj(heads))
    projs = _cmcr_proj(heads)
    out = emergent_metrics(feats, projs["clap"])
    out.update({k: v for k, v in emergent_metrics(feats, projs["ulip"]).items() if k not in out})
    return out


def fit_connections(method: str, feats: dict, cfg: Any, oracle: bool = False) -> tuple[dict, dict]:
    """Train both connections; (heads per leaf, histories). `oracle=True` trains the paired oracle instead."""
    from trainer.cmcr import fit_cmcr, fit_cmcr_oracle
    from trainer.exmcr import fit_exmcr, fit_exmcr_oracle

    from dataclasses import replace

    from trainer.loop import total_steps

    heads, hist = {}, {}
    for leaf in ("clap", "ulip"):
        data = connection_data(feats, leaf)
        run_cfg = cfg
        if oracle and cfg.steps <= 0:   # same number of optimiser steps as the method gets on its own rows
            rows = len(data.overlap_a)
            if method == "exmcr" and cfg.use_pseudo and cfg.various_centric:
                rows += len(data.memory_a) + len(data.memory_b)
            run_cfg = replace(cfg, steps=total_steps(rows, cfg.batch_size, cfg.epochs, 0)[1])
        kind = f"cmcr-{leaf}-clip"
        if method == "exmcr":
            heads[leaf], hist[leaf] = (fit_exmcr_oracle if oracle else fit_exmcr)(data, run_cfg)
        else:
            heads[leaf], hist[leaf] = (fit_cmcr_oracle if oracle else fit_cmcr)(data, run_cfg, kind)
    return heads, hist


def train_miniworld_connections(world: Any = None, mcrs: Any = None, settings: Any = None, method: str = "exmcr",
                                config: Any = None, oracle: bool = True, save: bool = True,
                                log: Callable[[str], None] | None = None, feats: dict | None = None,
                                **overrides: Any) -> dict:
    """Train the mini-world connections with `method`, save heads, return metrics (+ the paired oracle's).

    Ex-MCR heads go to `<mcrs.cache_dir>/heads/ex_clap.pt` / `ex_ulip.pt` (what the `miniworld` space loads);
    C-MCR heads (method="cmcr") to `clap_clip.pt` / `ulip_clip.pt` beside them; with `oracle` the paired
    oracle's heads too, as `oracle_<name>` (what the `miniworld-oracle` space loads). Returns
    {"method", "emergent": {pair/metric: value}, "oracle": {...}, "ratio": {...}, "heads": {...}, "training": {...}}.
    """
    from mcrsearch.config import load_settings
    from mcrsearch.miniworld.mcrs import load_or_train_mcrs

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
    say(f"training {method} connections clap->clip and ulip->clip")
    heads, hist = fit_connections(method, feats, cfg)
    result: dict = {"method": method, "world": world.key(), "config": cfg.to_dict(),
                    "emergent": evaluate_heads(method, heads, feats),
                    "training": {leaf: {"steps": len(h.steps), "samples_per_s": h.samples_per_s, "seconds": h.seconds}
                                 for leaf, h in hist.items()}}
    if save:
        result["heads"] = _save_heads(method, heads, hist, feats, cfg, world, mcrs, result["emergent"])
    if oracle and ("oracle", "clap", "audio") in feats:
        say("training the paired oracle")
        o_heads, o_hist = fit_connections(method, feats, cfg, oracle=True)
        result["oracle"] = evaluate_heads(method, o_heads, feats)
        result["ratio"] = {k: result["emergent"][k] / v for k, v in result["oracle"].items()
                           if k in result["emergent"] and k.endswith("mAP") and v > 0}
        if save:
            result["oracle_heads"] = _save_heads(method, o_heads, o_hist, feats, cfg, world, mcrs,
                                                 result["oracle"], oracle=True)
    return result


def _save_heads(method: str, heads: dict, hist: dict, feats: dict, cfg: Any, world: Any, mcrs: Any,
                emergent: dict, oracle: bool = False) -> dict[str, str]:
    """Write each leaf's heads (released key layout) with sidecar and curves; {leaf: path}."""
    from mcrsearch.miniworld.mcrs import head_file
    from trainer.checkpoint import plot_curves, save_checkpoint

    out = {}
    for leaf, module in heads.items():
        path = Path(mcrs.heads_dir) / head_file(method, leaf, oracle)
        data = connection_data(feats, leaf)
        save_checkpoint(module, path, config=cfg.to_dict(), data_fingerprint=data.fingerprint(),
                        metrics=hist[leaf].final_val(), history=hist[leaf],
                        extra={"method": method, "oracle": oracle, "world": world.key(), "leaf": leaf,
                               "base": "clip", "emergent": emergent})
        title = f"{method}{' paired oracle' if oracle else ''} {leaf}->clip"
        plot_curves(hist[leaf], path.with_name(path.stem + "_curves.png"), title=title)
        out[leaf] = str(path)
    return out


def scarce_unpaired(feats: dict, per_class: int, seed: int = 0) -> dict:
    """The same features with the unpaired corpora cut to `per_class` instances per class and modality.

    Shows what each ingredient is worth when unpaired data are scarce (on the full mini-world every
    variant saturates). The same instances are kept in every MCR, so overlap rows stay row-aligned.
    """
    rng = np.random.default_rng(seed)
    keep: dict[str, set] = {}
    for (tag, _mcr, mod), (_x, labels, inst) in sorted(feats.items()):
        if tag != "unpaired" or mod in keep:
            continue
        chosen: set = set()
        for label in np.unique(labels):
            pool = np.unique(inst[labels == label])
            chosen.update(rng.choice(pool, size=min(per_class, len(pool)), replace=False).tolist())
        keep[mod] = chosen
    out = {}
    for key, (x, labels, inst) in feats.items():
        if key[0] == "unpaired":
            rows = np.array([i in keep[key[2]] for i in inst.tolist()], dtype=bool)
            out[key] = (x[rows], labels[rows], inst[rows])
        else:
            out[key] = (x, labels, inst)
    return out
