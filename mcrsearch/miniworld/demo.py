"""`mcrsearch demo` as clean stages: world -> mini MCRs -> connections -> index -> example queries + quality.

Each stage is a function the CLI (or a test) can call on its own. The mini-world sits on top of the
engine, the trainer and the indexer (like the CLI), so it imports them directly.
"""

from __future__ import annotations

import json
import time
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable

import numpy as np

from mcrsearch.miniworld.record import default_dir
from mcrsearch.miniworld.generate import generate_world
from mcrsearch.miniworld.world import World, WorldConfig
from mcrsearch.modality import Modality
from mcrsearch.topology import LEAVES, head_file, within_mcr

if TYPE_CHECKING:
    from mcrsearch.config import Settings
    from mcrsearch.miniworld.mcrs import MiniMCRs

DEMO_COLLECTION = "miniworld"
Log = Callable[[str], None]

# (query modality, target modality) pairs reported as "emergent" or cross-space in the unified space.
EVAL_PAIRS = [("audio", "3d"), ("3d", "audio"), ("audio", "image"), ("image", "audio"), ("3d", "text"),
              ("text", "3d"), ("audio", "text"), ("text", "audio"), ("3d", "image"), ("image", "3d"),
              ("image", "text"), ("text", "image")]
# Example queries: (query class, query modality, target modality)
EXAMPLES = [("bell", "audio", "3d"), ("dog", "audio", "image"), ("guitar", "3d", "text"), ("car", "text", "audio")]


def stage_world(settings: "Settings", directory: Path | None = None, scale: str = "default",
                progress: Callable[[int, int], None] | None = None) -> World:
    directory = Path(directory) if directory else default_dir(settings)
    return generate_world(directory, WorldConfig.preset(scale), progress=progress)


def stage_mcrs(world: World, settings: "Settings", log: Log | None = None) -> "MiniMCRs":
    from mcrsearch.miniworld.mcrs import load_or_train_mcrs

    return load_or_train_mcrs(world, settings, log=log)


# Heads the demo leaves on disk: (method, paired oracle?) -> the spaces `miniworld`, `miniworld-cmcr-*`,
# `miniworld-oracle` load them.
DEMO_HEADS = (("exmcr", False), ("cmcr", False), ("exmcr", True))


def heads_ready(world: World, mcrs: "MiniMCRs") -> bool:
    """Every head the demo trains (Ex-MCR, C-MCR, Ex-MCR paired oracle) is on disk for exactly this world."""
    for method, oracle in DEMO_HEADS:
        for leaf in LEAVES:
            path = mcrs.heads_dir / head_file(method, leaf, oracle)
            side = path.with_name(path.stem + ".json")
            if not path.is_file():
                return False
            if side.is_file():
                try:
                    if json.loads(side.read_text()).get("world", world.key()) != world.key():
                        return False
                except ValueError:
                    return False
    return True


def stage_connections(world: World, mcrs: "MiniMCRs", settings: "Settings", log: Log | None = None,
                      retrain: bool = False) -> dict:
    """Train (or reuse) every head of the mini-world table: Ex-MCR and C-MCR (clap->clip, ulip->clip) and
    the Ex-MCR paired oracle; {"status": trained|cached|unavailable, "heads", "seconds", ...}."""
    from mcrsearch.miniworld.connections import miniworld_features, oracle_world, train_miniworld_connections
    from mcrsearch.miniworld.mcrs import write_current

    if not retrain and heads_ready(world, mcrs):
        return {"status": "cached"}
    seconds: dict[str, float] = {}
    t = time.perf_counter()
    # The oracle's training pairs come from a separate, fully paired world (same classes, another seed).
    feats = miniworld_features(world, mcrs, oracle=oracle_world(world, settings))
    seconds["features_s"] = round(time.perf_counter() - t, 2)
    # One CPU thread: the heads are tiny, so more threads only add contention, which on a shared,
    # loaded machine makes training many times slower.
    t = time.perf_counter()
    result = train_miniworld_connections(world, mcrs, settings, method="exmcr", oracle=True, log=log,
                                         feats=feats, threads=1)
    seconds["exmcr_and_oracle_s"] = round(time.perf_counter() - t, 2)
    t = time.perf_counter()
    cmcr = train_miniworld_connections(world, mcrs, settings, method="cmcr", oracle=False, log=log,
                                       feats=feats, threads=1)
    seconds["cmcr_s"] = round(time.perf_counter() - t, 2)
    write_current(settings, world, mcrs)          # records every head path the miniworld* spaces load
    heads = {"exmcr": result.get("heads", {}), "cmcr": cmcr.get("heads", {}),
             "oracle": result.get("oracle_heads", {})}
    return {"status": "trained", **result, "heads": heads, "cmcr": {"emergent": cmcr["emergent"]},
            "seconds": seconds}


def test_features(world: World, mcrs: "MiniMCRs") -> dict[str, tuple[np.ndarray, np.ndarray, list]]:
    """Test-split vectors in the unified (mini-CLIP) space per modality: (vectors, labels, items)."""
    from mcrsearch.miniworld.mcrs import current_record, encode_items
    from mcrsearch.miniworld.space import build_miniworld_space

    space = build_miniworld_space(mcrs.settings, current_record(world, mcrs), device="cpu")
    out = {}
    for mod in ("image", "text", "audio", "3d"):
        items = world.select("test", mod)
        route = space.routes[Modality.parse(mod)]
        raw = encode_items(route.encoder, mod, items, cache_dir=mcrs.cache_dir)
        out[mod] = (space.project(mod, raw), np.array([it.label for it in items]), items)
    return out


def stage_quality(world: World, mcrs: "MiniMCRs", feats: dict | None = None) -> dict:
    """Class-level retrieval in the unified space for every modality pair (emergent ones flagged)."""
    from mcrsearch.miniworld.metrics import retrieval

    feats = feats or test_features(world, mcrs)
    out = {}
    for q, g in EVAL_PAIRS:
        vq, lq, _ = feats[q]
        vg, lg, _ = feats[g]
        m = retrieval(vq, lq, vg, lg)
        out[f"{q}->{g}"] = {"map": round(m["map"], 4), "r@1": round(m["r@1"], 4), "r@5": round(m["r@5"], 4),
                            "chance_r@1": round(m["chance_r@1"], 4),
                            "emergent": not within_mcr(Modality.parse(q), Modality.parse(g))}
    return out


def stage_index(world: World, settings: "Settings", log: Log | None = None) -> dict:
    """Index the held-out test media into the embedded store (collection `miniworld`) with the miniworld space."""
    from mcrsearch.api import Client

    with Client(settings=replace(settings, collection=DEMO_COLLECTION)) as client:
        report = client.index(world.root / "test", space="miniworld")
    return {"status": "indexed", "collection": DEMO_COLLECTION, "path": str(world.root / "test"),
            "unchanged": report.unchanged, "failed": len(report.failed), "seconds": report.seconds}


def stage_examples(world: World, mcrs: "MiniMCRs", settings: "Settings", feats: dict | None = None,
                   use_store: bool = False, k: int = 5) -> list[dict]:
    """A few held-out queries (e.g. a bell sound -> 3D objects) with their top results and class hits."""
    feats = feats or test_features(world, mcrs)
    classes = world.classes
    examples = []
    for cls, qmod, tmod in EXAMPLES:
        if cls not in classes:      # the hard world names variants of the base classes ("tall-bell")
            cls = next((c for c in classes if c.endswith("-" + cls)), classes[0])
        label = classes.index(cls)
        vq, lq, iq = feats[qmod]
        idx = int(np.flatnonzero(lq == label)[0])
        query_item = iq[idx]
        if use_store:
            hits = _store_hits(settings, query_item, qmod, tmod, k)
        else:
            vg, lg, ig = feats[tmod]
            order = np.argsort(-(vg @ vq[idx]), kind="stable")[:k]
            hits = [{"path": str(ig[j].path), "class": ig[j].class_name, "cosine": round(float(vg[j] @ vq[idx]), 4)}
                    for j in order]
        examples.append({"query": str(query_item.path), "query_class": cls, "query_modality": qmod,
                         "target": tmod, "hits": hits,
                         "precision": round(float(np.mean([h["class"] == cls for h in hits])), 3)})
    return examples


def _query_of(modality: str, path: Path) -> dict[str, Any]:
    """Client.query arguments for a held-out file: a caption file queries with its text."""
    if modality == Modality.TEXT.value:
        from mcrsearch.media import load_text

        return {"text": load_text(path)}
    return {"points" if modality == Modality.POINTS.value else modality: str(path)}


def _store_hits(settings: "Settings", item, qmod: str, tmod: str, k: int) -> list[dict]:
    from mcrsearch.api import Client

    with Client(settings=replace(settings, collection=DEMO_COLLECTION, space="miniworld")) as client:
        hits = client.query(**_query_of(qmod, item.path), target=tmod, k=k)
    return [{"path": h.path, "class": Path(h.path).stem.rsplit("_", 1)[0], "cosine": round(h.cosine, 4),
             "score": round(h.score, 3)} for h in hits]


def stage_query_precision(world: World, settings: "Settings", qmod: str = "audio", tmod: str = "3d",
                          k: int = 10) -> dict:
    """Mean precision@k of every held-out `qmod` file queried through the real query layer and index
    (decode -> encode -> project -> filtered search), judged by class."""
    from mcrsearch.api import Client

    classes = {str(it.path): it.class_name for it in world.select("test")}
    precisions: list[float] = []
    with Client(settings=replace(settings, collection=DEMO_COLLECTION, space="miniworld")) as client:
        for item in world.select("test", qmod):
            hits = client.query(**_query_of(qmod, item.path), target=tmod, k=k)
            precisions.append(float(np.mean([classes.get(h.path) == item.class_name for h in hits])) if hits else 0.0)
    return {f"p@{k}": round(float(np.mean(precisions)), 4), "queries": len(precisions),
            "chance": round(1.0 / len(world.classes), 4)}


def run_demo(settings: "Settings", directory: Path | None = None, scale: str = "default", log: Log | None = None,
             progress: Callable[[str, int, int], None] | None = None) -> dict:
    """All stages; returns the JSON-able summary (mcr, emergent, timings, notes, examples)."""
    say = log or (lambda msg: None)
    timings: dict[str, float] = {}
    notes: list[str] = []
    t0 = time.perf_counter()

    t = time.perf_counter()
    world = stage_world(settings, directory, scale, progress=(lambda d, n: progress("world", d, n)) if progress else None)
    timings["world_s"] = round(time.perf_counter() - t, 2)
    say(f"world {world.key()} at {world.root}: {len(world.items)} files, {len(world.classes)} classes")

    t = time.perf_counter()
    mcrs = stage_mcrs(world, settings, log=say)
    timings["mcrs_s"] = round(time.perf_counter() - t, 2)
    timings.update(mcrs.timings)                      # per-MCR training seconds when they were trained now
    summary: dict[str, Any] = {"world": {"root": str(world.root), "key": world.key(), "scale": world.config.scale,
                                         "files": len(world.items), "classes": len(world.classes)},
                               "mcr": _mcr_metrics(mcrs.metrics), "dims": mcrs.dims}

    t = time.perf_counter()
    conn = stage_connections(world, mcrs, settings, log=say)
    timings["connections_s"] = round(time.perf_counter() - t, 2)
    timings.update({f"connections_{k}": v for k, v in conn.get("seconds", {}).items()})
    summary["connections"] = {k: v for k, v in conn.items() if k in ("status", "note", "heads", "training", "seconds")}
    t = time.perf_counter()
    feats = test_features(world, mcrs)
    summary["emergent"] = stage_quality(world, mcrs, feats)
    timings["evaluate_s"] = round(time.perf_counter() - t, 2)

    t = time.perf_counter()
    try:
        idx = stage_index(world, settings, log=say)
    except Exception as exc:  # noqa: BLE001 - the demo reports a failed stage and goes on
        idx = {"status": "failed", "note": f"indexing failed: {type(exc).__name__}: {exc}"}
    if idx["status"] != "indexed":
        notes.append(idx["note"] + "; example queries run on in-memory vectors.")
    summary["index"] = idx
    timings["index_s"] = round(time.perf_counter() - t, 2)

    t = time.perf_counter()
    try:
        summary["examples"] = stage_examples(world, mcrs, settings, feats, use_store=idx["status"] == "indexed")
    except Exception as exc:  # noqa: BLE001
        notes.append(f"store queries failed ({type(exc).__name__}: {exc}); using in-memory vectors.")
        summary["examples"] = stage_examples(world, mcrs, settings, feats, use_store=False)
    if idx["status"] == "indexed":
        summary["query_layer"] = {"audio->3d": stage_query_precision(world, settings)}
    timings["queries_s"] = round(time.perf_counter() - t, 2)
    timings["total_s"] = round(time.perf_counter() - t0, 2)
    summary["timings"] = timings
    summary["notes"] = notes
    return summary


def _mcr_metrics(metrics: dict) -> dict:
    out = {}
    for name, m in metrics.items():
        out[name] = {d: {"r@1": round(v["r@1"], 4), "map": round(v["map"], 4), "chance_r@1": round(v["chance_r@1"], 4)}
                     for d, v in m.items() if isinstance(v, dict) and "r@1" in v}
    return out
