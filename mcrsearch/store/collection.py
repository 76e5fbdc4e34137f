"""`Store`: one collection, its items with a named vector per space, and its own metadata point (every
space's fingerprint, dimension, modalities and calibration), checked on every write and query so that
vectors of two different spaces are never mixed."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any, Iterable, Iterator, Sequence

import numpy as np

from mcrsearch.errors import SpaceMismatchError, StoreError
from mcrsearch.modality import Modality
from mcrsearch.store.backend import Backend
from mcrsearch.store.client_backend import ClientBackend, open_qdrant_client
from mcrsearch.store.conditions import Filters
from mcrsearch.store.edge_backend import EdgeBackend, set_aside
from mcrsearch.store.ids import META_ID, META_KEY
from mcrsearch.store.records import ALL_MODALITIES, PointData, Record, SpaceRecord, modality_values
from mcrsearch.store.schema import OVERSAMPLING, SEARCH_EF

if TYPE_CHECKING:
    from mcrsearch.config import Settings


def merged(result_lists: Iterable[list[Record]], k: int) -> list[Record]:
    """The best k of several per-modality searches (a collection without a global graph searches each
    modality in its own graph, so a query over several modalities runs once per modality)."""
    return sorted((r for results in result_lists for r in results), key=lambda r: -r.score)[:k]


class Store:
    """One collection: items with named vectors per space, and the collection's own metadata."""

    def __init__(self, backend: Backend, collection: str) -> None:
        self.backend = backend
        self.collection = collection
        self._meta: dict[str, Any] | None = None

    # -- opening
    @classmethod
    def open(cls, settings: "Settings", create: bool = False, rebuild: bool = False) -> "Store":
        """The store the settings point at: a Qdrant server when `qdrant_url` is set, else embedded.

        `rebuild` (embedded, with `create`): move the collection's folder aside (damaged or not, never
        deleted) and start an empty one, to be filled again from the files, which are the source of truth.
        """
        if rebuild and not settings.qdrant_url:
            set_aside(Path(settings.index_dir) / settings.collection)
        if settings.qdrant_url:
            client = open_qdrant_client(settings.qdrant_url, settings.qdrant_api_key)
            backend: Backend = ClientBackend(client, settings.collection, settings.shard_number,
                                             settings.replication_factor, location=settings.qdrant_url)
        else:
            backend = EdgeBackend(Path(settings.index_dir) / settings.collection, create=create,
                                  reserve_bytes=int(settings.min_free_disk_mb * 2**20))
        store = cls(backend, settings.collection)
        if not create and not backend.exists():
            raise StoreError(f"There is no index '{settings.collection}' at {backend.location}; "
                             "run 'mcrsearch index PATH' first.")
        return store

    def __enter__(self) -> "Store":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def close(self) -> None:
        self.backend.close()

    @property
    def exists(self) -> bool:
        return self.backend.exists()

    # -- metadata
    def _load_meta(self) -> dict[str, Any]:
        if self._meta is None:
            meta: dict[str, Any] = {"spaces": {}}
            if self.backend.exists():
                records = self.backend.retrieve([META_ID], with_vectors=False)
                if records and META_KEY in records[0].payload:
                    meta = json.loads(records[0].payload[META_KEY])
            self._meta = meta
        return self._meta

    def _save_meta(self) -> None:
        blob = json.dumps(self._meta, sort_keys=True)
        self.backend.upsert([PointData(META_ID, {}, {META_KEY: blob})])

    def refresh(self) -> None:
        """Forget cached metadata (another handle may have added a space or new calibration)."""
        self._meta = None

    def spaces(self) -> dict[str, SpaceRecord]:
        return {name: SpaceRecord(**rec) for name, rec in self._load_meta()["spaces"].items()}

    def ensure_space(self, name: str, fingerprint: str, dim: int, modalities: Iterable[Modality | str]) -> None:
        """Register a space before writing its vectors; refuse a different space under the same name."""
        mods = sorted(modality_values(modalities))
        self.refresh()
        if not self.backend.exists():
            self.backend.create(name, dim)
            self._meta = {"spaces": {}}
        meta = self._load_meta()
        if name in meta["spaces"]:
            self.check_space(name, fingerprint)
            self.backend.ensure_filter_indexes()       # collections made before the filter indexes get them
            known = meta["spaces"][name].get("modalities", [])
            if set(mods) - set(known):        # registered before the space could index video
                meta["spaces"][name]["modalities"] = sorted(set(known) | set(mods))
                self._save_meta()
            return
        names = self.backend.vector_names()
        if name not in names:
            self.backend.add_vector(name, dim)
        elif names[name] != dim:
            raise SpaceMismatchError(f"Collection '{self.collection}' stores '{name}' vectors of dimension "
                                     f"{names[name]}, not {dim}; use another --collection.")
        meta["spaces"][name] = SpaceRecord(name, fingerprint, dim, mods).to_dict()
        self._save_meta()

    def check_space(self, name: str, fingerprint: str | None) -> SpaceRecord:
        spaces = self.spaces()
        if not spaces and isinstance(self.backend, EdgeBackend) and self.backend.exists() \
                and self.backend.vector_names():
            # created with vectors but no metadata point: its files lost it (or its first run died at once)
            raise self.backend.fault(Exception("it holds no mcrsearch metadata"))
        if name not in spaces:
            known = ", ".join(sorted(spaces)) or "none"
            raise SpaceMismatchError(f"Collection '{self.collection}' has no vectors in space '{name}' "
                                     f"(it holds: {known}).")
        record = spaces[name]
        if fingerprint is not None and record.fingerprint != fingerprint:
            raise SpaceMismatchError(
                f"Collection '{self.collection}' was built with a different '{name}' space (fingerprint "
                f"{record.fingerprint}, this one is {fingerprint}); re-index into another --collection "
                "instead of mixing vectors from two spaces.")
        return record

    def roots(self) -> list[str]:
        """The folders index runs were given (what `serve --watch` follows)."""
        return list(self._load_meta().get("roots", []))

    def add_root(self, folder: str) -> None:
        """Remember a folder an index run was given (once)."""
        meta = self._load_meta()
        if folder not in meta.setdefault("roots", []):
            meta["roots"] = sorted({*meta["roots"], folder})
            self._save_meta()

    def saved_searches(self) -> dict[str, dict[str, Any]]:
        """Searches saved by name in the collection (see Client.save_search)."""
        self.refresh()
        return dict(self._load_meta().get("saved", {}))

    def set_saved_search(self, name: str, spec: dict[str, Any] | None) -> None:
        """Save (or with None, forget) a named search; kept in the collection's metadata point."""
        self.refresh()
        meta = self._load_meta()
        saved = meta.setdefault("saved", {})
        if spec is None:
            saved.pop(name, None)
        else:
            saved[name] = spec
        self._save_meta()

    def set_calibration(self, name: str, calibration: dict[str, list[float]]) -> None:
        meta = self._load_meta()
        if meta["spaces"][name].get("calibration") != calibration:
            meta["spaces"][name]["calibration"] = calibration
            self._save_meta()

    # -- points
    def upsert(self, space: str, fingerprint: str, points: Sequence[PointData]) -> None:
        self.check_space(space, fingerprint)
        known = set(self.spaces())
        for p in points:
            if set(p.vectors) - known:
                raise SpaceMismatchError(f"A point carries vectors of spaces unknown to collection "
                                         f"'{self.collection}'.")
        self.backend.upsert(points)

    def set_vectors_keep_others(self, space: str, fingerprint: str, points: Sequence[PointData],
                                stored_ids: Iterable[str] | None = None) -> None:
        """Upsert, keeping vectors of other spaces that unchanged items already have (one atomic write each).

        `stored_ids`: the ids among `points` that may already be stored (the indexer knows them from its
        scroll); the others are written without first being looked up. None looks them all up.
        """
        self.check_space(space, fingerprint)
        lookup = [p.id for p in points] if stored_ids is None else list(stored_ids)
        existing = {r.id: r for r in self.backend.retrieve(lookup, with_vectors=True)}
        if not existing:                    # new items only (a first index run): nothing to keep
            self.backend.upsert(points)
            return
        merged = []
        for p in points:
            old = existing.get(p.id)
            vectors = dict(p.vectors)
            if old is not None and old.payload.get("hash") == p.payload.get("hash"):
                keep = [s for s in old.payload.get("spaces", []) if s != space and s in old.vectors]
                for s in keep:
                    vectors[s] = old.vectors[s]
                p.payload["spaces"] = sorted(set(keep) | {space})
            merged.append(PointData(p.id, vectors, p.payload))
        self.backend.upsert(merged)

    def delete(self, ids: Sequence[str]) -> None:
        self.backend.delete([i for i in ids if i != META_ID])

    def set_payload(self, ids: Sequence[str], payload: dict[str, Any]) -> None:
        self.backend.set_payload([i for i in ids if i != META_ID], payload)

    def retrieve(self, ids: Sequence[str], with_vectors: bool = False) -> list[Record]:
        return [r for r in self.backend.retrieve(ids, with_vectors) if r.id != META_ID]

    def scroll(self, fields: list[str] | None = None, modalities: Iterable[Modality | str] | None = None,
               with_vectors: bool | list[str] = False, limit: int | None = None) -> Iterator[Record]:
        """Stored items in id order: `fields` of the payload (None: all), the vectors of every space (True)
        or of the named ones, at most `limit` of them."""
        vectors = with_vectors if isinstance(with_vectors, bool) else list(with_vectors)
        return self.backend.scroll(modality_values(modalities), fields, vectors, limit)

    def search(self, space: str, vector: np.ndarray, k: int = 10,
               modalities: Iterable[Modality | str] | None = None, fingerprint: str | None = None,
               exact: bool = False, ef: int = SEARCH_EF, oversampling: float = OVERSAMPLING,
               with_vectors: bool = False, filters: Filters | None = None) -> list[Record]:
        """Nearest items in `space`, restricted to the target modalities and `filters` (payload-indexed).

        A collection without a global graph searches each modality in its own graph and merges the best k.
        """
        self.check_space(space, fingerprint)
        mods = modality_values(modalities)
        filters = filters or None
        if len(mods) > 1 and not exact and not self.backend.global_graph():
            return merged((self.backend.search(space, vector, k, [m], exact, ef, oversampling, with_vectors,
                                                filters) for m in mods), k)
        return self.backend.search(space, vector, k, mods, exact, ef, oversampling, with_vectors, filters)

    def count(self, modalities: Iterable[Modality | str] | None = None) -> int:
        return self.backend.count(modality_values(modalities))

    def counts(self) -> dict[str, int]:
        """Items per modality (a video counts once); "video" is listed only when the collection holds videos."""
        counts = {m: self.backend.count([m]) for m in ALL_MODALITIES}
        if not counts.get(Modality.VIDEO.value):
            counts.pop(Modality.VIDEO.value, None)
        return counts

    def optimize(self) -> None:
        self.backend.optimize()

    def size_bytes(self) -> int | None:
        return self.backend.size_bytes()
