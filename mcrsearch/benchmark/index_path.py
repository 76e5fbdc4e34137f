"""The index path: benchmark vectors go into a real collection and come back through the query layer.

`StoreIndexPath` writes every embedded item into a fresh embedded Qdrant collection (mcrsearch.store,
one point per item, payload `modality` + `path`, as the indexer writes them) and ranks targets with
`mcrsearch.Client.query` in its `like` mode: the query vector is read back from the collection,
the space is chosen and checked, the target-modality filter and calibration apply, and the item
itself is excluded, exactly as `mcrsearch query --like ITEM --target T` runs. Mode "store" queries with
the exact query vectors instead (`Client.query(vectors=...)`), so no stored query vector is involved.

Differences from the exact path therefore measure the search engine: HNSW approximation, filtering,
vector storage round trips and ranking in the query layer.
"""

from __future__ import annotations

import shutil
import tempfile
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from mcrsearch.modality import Modality

if TYPE_CHECKING:
    from mcrsearch.config import Settings

_PSEUDO_ROOT = "/mcrsearch-benchmark"
_UPSERT_BATCH = 512


class IndexUnavailable(RuntimeError):
    """The store or query layer cannot be used here (module missing, engine not installed)."""


def index_path_available() -> str | None:
    """None when the index path can run, else the reason it cannot."""
    try:
        import mcrsearch.search  # noqa: F401
        import mcrsearch.store  # noqa: F401
        import qdrant_edge  # noqa: F401
    except ImportError as exc:
        return f"index path unavailable ({exc})"
    return None


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
        self._dirty = False

    @property
    def fingerprint(self) -> str:
        return str(getattr(self.space, "fingerprint", "unfingerprinted"))

    def add(self, modality: Modality, keys: list[str], vectors: np.ndarray) -> None:
        from types import SimpleNamespace

        from mcrsearch.store import PointData, point_id

        record = SimpleNamespace(name=self.space.name, fingerprint=self.fingerprint, dim=int(vectors.shape[1]),
                                 modalities=getattr(self.space, "modalities", list(Modality)))
        for start in range(0, len(keys), _UPSERT_BATCH):
            points = []
            for key, vec in zip(keys[start:start + _UPSERT_BATCH], vectors[start:start + _UPSERT_BATCH]):
                path = _pseudo_path(key)
                self._key_of[point_id(path)] = key
                points.append(PointData(point_id(path), {self.space.name: vec},
                                        {"path": path, "modality": modality.value, "hash": key,
                                         "spaces": [self.space.name]}))
            self.client.upsert(record, points)
            self._dirty = True

    def rank(self, queries: np.ndarray, target: Modality, k: int, query_keys: list[str] | None = None) -> list[list[str]]:
        """Top-k target keys per query. `like` mode needs the queries' keys (they are stored items)."""
        if self._dirty:          # build the HNSW graph as `mcrsearch index` does at the end of a run
            self.client.optimize()
            self._dirty = False
        if self.mode == "like" and query_keys is not None:
            found = [self.client.query(like=_pseudo_path(key), target=target, k=k, space=self.space.name)
                     for key in query_keys]
        else:
            # one input and one target: calibration is monotonic, so the key modality does not change the ranking
            found = [self.client.query(vectors={target: vec}, target=target, k=k, space=self.space.name)
                     for vec in queries]
        return [[self._key_of.get(h.id, h.payload.get("hash", "")) for h in hits] for hits in found]

    def close(self) -> None:
        try:
            self.client.close()
        finally:
            if self._own_dir:
                shutil.rmtree(self.folder, ignore_errors=True)
