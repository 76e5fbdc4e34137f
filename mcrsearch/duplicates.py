"""Identical files and near-duplicates: groups of items that hold the same content, across folders and formats.

Identical: the same content hash (every point carries the hash of its file's bytes). Near-duplicates: items
of one modality whose stored vectors reach a cosine threshold (`Settings.duplicate_cosine`, else the
per-modality DEFAULT_COSINE), found with one graph search per item among its own modality; the same mesh saved as .obj and .glb, the same sound as .wav
and .flac, a photo re-saved as .jpg land here. Groups are the connected components of both relations.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Iterable

from mcrsearch.errors import ConfigError
from mcrsearch.modality import Modality
from mcrsearch.store import Record, Store

# Per-modality cosine thresholds, the lowest with no false group on the mini-world's held-out split with
# copies in other formats (benchmarks/search_features.py, docs/BENCHMARKS.md "search-features"), where
# distinct items of one class are unusually close; a lossy re-encoding (mp3) can fall below them.
DEFAULT_COSINE = {"image": 0.995, "audio": 0.9995, "3d": 0.9999, "text": 0.999}
NEIGHBOURS = 8         # graph neighbours looked at per item: a group larger than this is still joined through links


@dataclass
class DuplicateGroup:
    """Items holding the same content: `identical` when they share one content hash, else `near` (with the
    lowest cosine of the links that joined them)."""

    kind: str
    modality: str
    items: list[dict[str, Any]]
    min_cosine: float = 1.0
    links: list[tuple[str, str, float]] = field(default_factory=list, repr=False)

    def to_dict(self) -> dict[str, Any]:
        """The documented `mcrsearch duplicates --json` shape."""
        return {"kind": self.kind, "modality": self.modality, "min_cosine": round(self.min_cosine, 4),
                "items": self.items}


class _Union:
    def __init__(self) -> None:
        self.parent: dict[str, str] = {}

    def find(self, a: str) -> str:
        self.parent.setdefault(a, a)
        while self.parent[a] != a:
            self.parent[a] = self.parent[self.parent[a]]
            a = self.parent[a]
        return a

    def join(self, a: str, b: str) -> None:
        self.parent[self.find(a)] = self.find(b)


def find_duplicates(store: Store, space: str, modalities: Iterable[Modality] | None = None,
                    threshold: float | None = None, near: bool = True) -> list[DuplicateGroup]:
    """Groups of two or more items, largest first.

    Args:
        store: the collection.
        space: the space whose vectors are compared.
        modalities: the modalities to look in (None: all).
        threshold: the cosine at which two items of one modality count as the same content (None: the
            modality's DEFAULT_COSINE).
        near: also look for near-duplicates (False: identical content hashes only, no vector search).
    Returns:
        The groups, each with its items' id, path, hash and content fields.
    """
    if threshold is not None and not -1.0 <= threshold <= 1.0:
        raise ConfigError("The duplicate threshold is a cosine, between -1 and 1.")
    mods = [m.value for m in modalities] if modalities else None
    records: list[Record] = list(store.scroll(fields=["path", "hash", "modality", "size"], modalities=mods,
                                              with_vectors=[space] if near else False))
    by_id = {r.id: r for r in records}
    union = _Union()
    by_hash: dict[str, str] = {}
    for r in records:
        digest = r.payload.get("hash")
        if digest:
            if digest in by_hash:
                union.join(r.id, by_hash[digest])
            else:
                by_hash[digest] = r.id
    links: list[tuple[str, str, float]] = []
    if near:
        for r in records:
            if space not in r.vectors:
                continue
            mod = str(r.payload["modality"])
            limit = DEFAULT_COSINE.get(mod, 0.9999) if threshold is None else threshold
            for h in store.search(space, r.vectors[space], NEIGHBOURS + 1, [mod]):
                if h.id in by_id and h.score >= limit and union.find(h.id) != union.find(r.id):
                    union.join(r.id, h.id)
                    links.append((r.id, h.id, float(h.score)))
    members: dict[str, list[str]] = {}
    for r in records:
        members.setdefault(union.find(r.id), []).append(r.id)
    groups = []
    for root, ids in members.items():
        if len(ids) < 2:
            continue
        recs = sorted((by_id[i] for i in ids), key=lambda r: str(r.payload.get("path", "")))
        hashes = {r.payload.get("hash") for r in recs}
        own = [lk for lk in links if union.find(lk[0]) == root]
        kind = "identical" if len(hashes) == 1 and None not in hashes else "near"
        groups.append(DuplicateGroup(
            kind, str(recs[0].payload.get("modality", "")),
            [{"id": r.id, "path": r.payload.get("path", ""), "hash": r.payload.get("hash", ""),
              "size": r.payload.get("size")} for r in recs],
            min((c for *_, c in own), default=1.0) if kind == "near" else 1.0, own))
    groups.sort(key=lambda g: (-len(g.items), g.kind, g.items[0]["path"]))
    return groups
