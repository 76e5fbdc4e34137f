"""The index path: benchmark vectors go into a real collection and come back through the query layer.

`StoreIndexPath` writes every embedded item into a fresh embedded Qdrant collection (mcrsearch.store,
one point per item, payload `modality` + `path`, as the indexer writes them) and ranks targets with
`mcrsearch.Client.query` in its `like` mode: the query vector is read back from the collection,
the space is chosen and checked, the target-modality filter and calibration apply, and the item
itself is excluded, exactly as `mcrsearch query --like ITEM --target T` runs. Mode "store" queries with
the exact query vectors instead (`Client.query(vectors=...)`), so no stored query vector is involved.

Differences from the exact path therefore measure the search engine: HNSW approximation, filtering,
vector storage round trips and ranking in the query layer. Tied scores (duplicate captions, identical
clips) are not such a difference: both paths put tied targets in the order they were added (the exact
path's target index), and the index path fetches past a tie at the cut so that the cut is the same.
"""

from __future__ import annotations

import shutil
import tempfile
from dataclasses import replace
from functools import partial
from pathlib import Path
from types import SimpleNamespace
from typing import TYPE_CHECKING, Any, Callable, cast

import numpy as np

from mcrsearch.modality import Modality

if TYPE_CHECKING:
    from mcrsearch.config import Settings
    from mcrsearch.space import Space

_PSEUDO_ROOT = "/mcrsearch-benchmark"
_UPSERT_BATCH = 512


class IndexUnavailable(RuntimeError):
    """The store or query layer cannot be used here (module missing, engine not installed)."""


def index_path_available() -> str | None:
    """None when the index path can run, else the reason it cannot (the embedded engine's wheel is missing)."""
    try:
        import qdrant_edge  # noqa: F401 - imported only to learn whether the wheel loads
    except ImportError as exc:
        return f"index path unavailable ({exc})"
    return None


def _video_points(path: str, key: str, space: str, vec: np.ndarray) -> list[Any]:
    """A benchmark video as the indexer stores a video (mcrsearch.store.VIDEO_SEGMENT): an item point without
    a vector and one picture segment with the video's vector, so that the query layer groups it back."""
    from mcrsearch.store import VIDEO_SEGMENT, PointData, point_id, segment_id

    item = point_id(path)
    head = {"path": path, "modality": Modality.VIDEO.value, "hash": key, "spaces": [space],
            "segments": {space: 1}, "segment_seconds": {space: 0.0}}
    part = {"path": path, "modality": VIDEO_SEGMENT, "item": item, "hash": key, "spaces": [space], "segment": 0,
            "start": 0.0, "end": 0.0, "channel": "picture"}
    return [PointData(segment_id(path, space, 0, "picture"), {space: vec}, part), PointData(item, {}, head)]


def _pseudo_path(key: str) -> str:
    """A stable absolute 'path' per benchmark item; the store ids points by path."""
    return f"{_PSEUDO_ROOT}/{key}"


class StoreIndexPath:
    """A temporary embedded collection holding one space's benchmark vectors (see module doc)."""

    def __init__(self, space: Any, settings: "Settings", mode: str = "like", folder: str | Path | None = None) -> None:
        reason = index_path_available()
        if reason:
            raise IndexUnavailable(reason)
        if mode not in {"like", "store"}:
            raise ValueError("mode must be 'like' or 'store'")
        from mcrsearch.api import Client

        self.mode = mode
        self.name = "query layer (like)" if mode == "like" else "store search"
        self.space = space
        self._own_dir = folder is None
        self.folder = Path(folder) if folder else Path(tempfile.mkdtemp(prefix="mcrsearch-bench-"))
        self.settings = replace(settings, qdrant_url=None, qdrant_api_key=None, store_path=self.folder,
                                collection="benchmark")
        self.client = Client(settings=self.settings, spaces=[space] if hasattr(space, "fingerprint") else [])
        self._key_of: dict[str, str] = {}
        self._order: dict[str, int] = {}        # key -> insertion ordinal, the tie-break of both paths
        self._count: dict[Modality, int] = {}
        self._dirty = False

    @property
    def fingerprint(self) -> str:
        return str(getattr(self.space, "fingerprint", "unfingerprinted"))

    def add(self, modality: Modality, keys: list[str], vectors: np.ndarray) -> None:
        from mcrsearch.store import PointData, point_id

        record = SimpleNamespace(name=self.space.name, fingerprint=self.fingerprint, dim=int(vectors.shape[1]),
                                 modalities=getattr(self.space, "modalities", list(Modality)))
        for start in range(0, len(keys), _UPSERT_BATCH):
            points = []
            for key, vec in zip(keys[start:start + _UPSERT_BATCH], vectors[start:start + _UPSERT_BATCH]):
                path = _pseudo_path(key)
                self._key_of[point_id(path)] = key
                self._order.setdefault(key, len(self._order))
                if modality is Modality.VIDEO:          # a video item: its item point and one segment point
                    points += _video_points(path, key, self.space.name, vec)
                    continue
                points.append(PointData(point_id(path), {self.space.name: vec},
                                        {"path": path, "modality": modality.value, "hash": key,
                                         "spaces": [self.space.name]}))
            self.client.upsert(cast("Space", record), points)    # the fields upsert reads of a space
            self._dirty = True
        self._count[modality] = self._count.get(modality, 0) + len(keys)

    def rank(self, queries: np.ndarray, target: Modality, k: int, query_keys: list[str] | None = None) -> list[list[str]]:
        """Top-k target keys per query. `like` mode needs the queries' keys (they are stored items)."""
        if self._dirty:          # build the HNSW graph as `mcrsearch index` does at the end of a run
            self.client.optimize()
            self._dirty = False
        total = self._count.get(target, 0)
        if self.mode == "like" and query_keys is not None:
            return [self._tie_ordered(partial(self._like, key, target), k, total) for key in query_keys]
        return [self._tie_ordered(partial(self._search, vec, target), k, total) for vec in queries]

    def _tie_ordered(self, fetch: Callable[[int], list[tuple[str, float]]], k: int, total: int) -> list[str]:
        """Top-k keys with equal scores in insertion order; fetches more while a tie crosses the cut."""
        n = min(total, k + 8) if total else k
        hits = fetch(n)
        while len(hits) == n > k and n < total and hits[k - 1][1] == hits[-1][1]:
            n = min(total, 2 * n)
            hits = fetch(n)
        hits.sort(key=lambda h: (-h[1], self._order.get(h[0], len(self._order))))
        return [key for key, _ in hits[:k]]

    def _search(self, vec: np.ndarray, target: Modality, n: int) -> list[tuple[str, float]]:
        # one input and one target: the key modality (used for calibration) does not change the ranking
        hits = self.client.query(vectors={target: vec}, target=target, k=n, space=self.space.name)
        return [(self._key_of.get(h.id, h.payload.get("hash", "")), float(h.cosine)) for h in hits]

    def _like(self, key: str, target: Modality, n: int) -> list[tuple[str, float]]:
        hits = self.client.query(like=_pseudo_path(key), target=target, k=n, space=self.space.name)
        return [(self._key_of.get(h.id, h.payload.get("hash", "")), float(h.score)) for h in hits]

    def close(self) -> None:
        try:
            self.client.close()
        finally:
            if self._own_dir:
                shutil.rmtree(self.folder, ignore_errors=True)
