"""Two-connection training and evaluation on cached features (leaf->base for every declared connection).

Features come as {(split, mcr, modality): (vectors, class labels, instance ids)}: split "unpaired" trains,
"test" measures emergent pairs at class level, "oracle" (optional) holds true cross-modal tuples for the
paired oracle. Which MCRs connect through which modality is `mcrsearch.topology`'s; who produces the
features (the mini-world, `mcrsearch_trainer.synthetic`) is not this module's business.
"""

from __future__ import annotations

from dataclasses import replace
from itertools import combinations
from typing import Any, Callable

import numpy as np
from mcrsearch_trainer.data import ConnectionData, ValidationSet

from mcrsearch.modality import Modality
from mcrsearch.topology import BASE, CONNECTIONS, LEAVES, MCRS, within_mcr


def _aligned(feats: dict, tag: str, a: tuple[str, str], b: tuple[str, str]) -> tuple[np.ndarray, np.ndarray]:
    """Rows of two feature sets matched by instance (true partners)."""
    xa, _, ia = feats[(tag,) + tuple(a)]
    xb, _, ib = feats[(tag,) + tuple(b)]
    pos = {inst: i for i, inst in enumerate(ib)}
    rows = [(i, pos[inst]) for i, inst in enumerate(ia) if inst in pos]
    return xa[[r[0] for r in rows]], xb[[r[1] for r in rows]]


def _aligned_many(feats: dict, tag: str, keys: dict[str, tuple[str, str]]) -> dict[str, np.ndarray]:
    """Several feature sets restricted to the instances all of them have, row-aligned by instance."""
    common = set.intersection(*(set(feats[(tag,) + tuple(k)][2].tolist()) for k in keys.values()))
    order = sorted(common)
    out = {}
    for name, k in keys.items():
        x, _, inst = feats[(tag,) + tuple(k)]
        pos = {i: r for r, i in enumerate(inst.tolist())}
        out[name] = x[[pos[i] for i in order]]
    return out


def connection_data(feats: dict, leaf: str) -> ConnectionData:
    """ConnectionData for a declared leaf->base connection from the unpaired split; validation = the
    emergent pair on test."""
    conn = CONNECTIONS[leaf]
    base, over, mod_a, mod_b = conn.base, conn.overlap.value, conn.leaf_other.value, conn.base_other.value
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


def cross_mcr_pairs() -> list[tuple[tuple[str, str], tuple[str, str]]]:
    """((mcr, modality), (mcr, modality)) pairs no single MCR embeds together: the leaves' own modalities
    with each other and with the base's; emergent modality pairs first (e.g. audio-3d), then those one MCR
    saw in another form (e.g. CLAP audio against CLIP text)."""
    leaves = [(c.leaf, c.leaf_other.value) for c in CONNECTIONS.values()]
    base = [(BASE, m.value) for m in MCRS[BASE].modalities]
    pairs = list(combinations(leaves, 2)) + [(a, b) for a in leaves for b in base]
    return sorted(pairs, key=lambda p: within_mcr(Modality.parse(p[0][1]), Modality.parse(p[1][1])))


def emergent_metrics(feats: dict, proj: dict[tuple[str, str], Callable | None], split: str = "test") -> dict:
    """Class-level map/r@1/r@5 both directions for every cross-MCR pair whose two projections share a space.

    `proj[(mcr, modality)]` maps raw vectors into a common space (None = already there, e.g. CLIP in Ex-MCR).
    """
    from mcrsearch_trainer.evaluate import project, retrieval_metrics

    out: dict = {}
    for a, b in cross_mcr_pairs():
        if a not in proj or b not in proj:
            continue
        za = project(proj[a], feats[(split,) + tuple(a)][0])
        zb = project(proj[b], feats[(split,) + tuple(b)][0])
        la, lb = feats[(split,) + tuple(a)][1], feats[(split,) + tuple(b)][1]
        for (qn, q, ql), (gn, g, gl) in [((a[1], za, la), (b[1], zb, lb)), ((b[1], zb, lb), (a[1], za, la))]:
            for k, v in retrieval_metrics(q, ql, g, gl).items():
                out[f"{qn}->{gn}/{k}"] = v
    return out


def _exmcr_proj(heads: dict) -> dict:
    """Ex-MCR: every leaf modality through its leaf's head into the base space, which stays as it is."""
    proj: dict = {(BASE, m.value): None for m in MCRS[BASE].modalities}
    for leaf in LEAVES:
        proj.update({(leaf, m.value): heads[leaf] for m in MCRS[leaf].modalities})
    return proj


def _cmcr_proj(heads: dict) -> dict:
    """C-MCR: one new space per connection, the leaf's own modality and the base's both projected."""
    from mcrsearch_trainer.cmcr import sides

    out = {}
    for leaf, conn in CONNECTIONS.items():
        leaf_side, base_side = sides(heads[leaf], conn.cmcr_kind)
        out[leaf] = {(leaf, conn.leaf_other.value): leaf_side,
                     **{(conn.base, m.value): base_side for m in MCRS[conn.base].modalities}}
    return out


def evaluate_heads(method: str, heads: dict, feats: dict) -> dict:
    """Emergent metrics of trained heads: one base space for Ex-MCR, one new space per connection for C-MCR."""
    if method == "exmcr":
        return emergent_metrics(feats, _exmcr_proj(heads))
    out: dict = {}
    for proj in _cmcr_proj(heads).values():
        out.update({k: v for k, v in emergent_metrics(feats, proj).items() if k not in out})
    return out


def intra_gaps(method: str, heads: dict, feats: dict, split: str = "test") -> dict[str, float]:
    """The modality gap between each MCR's two modalities where the intra alignment acts on them, per connection.

    C-MCR: in the new space, each side's head applied to its MCR's overlap and other modality (the intra
    term pulls f(overlap) to f(partner) on both sides). Ex-MCR: after the leaf's intra projector f_l, between
    the leaf's overlap and other modality (the decoupled intra term's space). Keys `"{leaf}:{mod}-{overlap}"`.
    """
    from mcrsearch_trainer.cmcr import sides
    from mcrsearch_trainer.evaluate import modality_gap, project

    out: dict[str, float] = {}
    for leaf, conn in CONNECTIONS.items():
        over = conn.overlap.value
        if method == "exmcr":
            f_l = heads[leaf].intra
            groups = [(leaf, conn.leaf_other.value, f_l)]
        else:
            leaf_side, base_side = sides(heads[leaf], conn.cmcr_kind)
            groups = [(leaf, conn.leaf_other.value, leaf_side), (conn.base, conn.base_other.value, base_side)]
        for mcr, mod, fn in groups:
            out[f"{leaf}:{mod}-{over}"] = modality_gap(project(fn, feats[(split, mcr, mod)][0]),
                                                       project(fn, feats[(split, mcr, over)][0]))
    return out


def fit_connections(method: str, feats: dict, cfg: Any, oracle: bool = False) -> tuple[dict, dict]:
    """Train both connections; (heads per leaf, histories). `oracle=True` trains the paired oracle instead."""

    from mcrsearch_trainer.cmcr import fit_cmcr, fit_cmcr_oracle
    from mcrsearch_trainer.exmcr import fit_exmcr, fit_exmcr_oracle
    from mcrsearch_trainer.loop import total_steps

    heads, hist = {}, {}
    for leaf in LEAVES:
        data = connection_data(feats, leaf)
        run_cfg = cfg
        if oracle and cfg.steps <= 0:   # same number of optimiser steps as the method gets on its own rows
            rows = len(data.overlap_a)
            if method == "exmcr" and cfg.use_pseudo and cfg.various_centric:
                rows += len(data.memory_a) + len(data.memory_b)
            run_cfg = replace(cfg, steps=total_steps(rows, cfg.batch_size, cfg.epochs, 0)[1])
        kind = CONNECTIONS[leaf].cmcr_kind
        if method == "exmcr":
            heads[leaf], hist[leaf] = (fit_exmcr_oracle if oracle else fit_exmcr)(data, run_cfg)
        else:
            heads[leaf], hist[leaf] = (fit_cmcr_oracle if oracle else fit_cmcr)(data, run_cfg, kind)
    return heads, hist


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
