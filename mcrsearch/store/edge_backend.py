"""The embedded default: a Qdrant Edge shard (`qdrant-edge-py`, Qdrant's in-process engine with HNSW, WAL
and payload indexes) in `<index_dir>/<collection>`, one open shard per path per process; and moving a
damaged index aside."""

from __future__ import annotations

import json
import os
import threading
import time
from pathlib import Path
from typing import Any, Sequence

import numpy as np

from mcrsearch.errors import DamagedStoreError, DiskFullError, StoreError
from mcrsearch.store.backend import Backend, pages
from mcrsearch.store.conditions import Filters
from mcrsearch.store.diskspace import (OPEN_MIN_FREE, POINT_WRITE_BYTES, WRITE_COPIES, free_bytes, mb,
                                       sparse_bytes)
from mcrsearch.store.engine_faults import engine_call, engine_detail, is_engine_fault
from mcrsearch.store.records import PointData, Record
from mcrsearch.store.schema import (DEFAULT_SCHEMA, FILTER_FIELDS, FULL_SCAN_THRESHOLD_KB, INDEXED_FIELDS,
                                    INDEXING_THREADS, QUANTILE, IndexSchema)

_OPEN_SHARDS: dict[str, list[Any]] = {}     # path -> [shard, users]: one engine per shard per process
_OPEN_LOCK = threading.Lock()


class EdgeBackend(Backend):
    """Qdrant Edge shard in `<index_dir>/<collection>`.

    The engine locks its WAL, so one process at a time owns a shard; inside a process every handle on the
    same path shares one open shard (reference counted), so several clients can coexist.
    """

    def __init__(self, path: Path, create: bool, reserve_bytes: int = 0, schema: IndexSchema | None = None) -> None:
        self.path = Path(path)
        self.schema = schema or DEFAULT_SCHEMA       # used only when this backend creates the collection
        self._has_global: bool | None = None
        self._sparse_cache: tuple[float, int] | None = None    # (when, sparse_bytes): walked at most once a second
        self.location = str(self.path)
        self.reserve_bytes = int(reserve_bytes)
        self._shard: Any = None       # the engine's EdgeShard (qdrant_edge is untyped)
        if (self.path / "edge_config.json").exists():
            self._open()
        elif not create:
            self._shard = None

    def _sparse(self) -> int:
        """`sparse_bytes` of this index, walked at most once a second (it is asked before every write)."""
        now = time.monotonic()
        if self._sparse_cache is None or now - self._sparse_cache[0] > 1.0:
            self._sparse_cache = (now, sparse_bytes(self.path))
        return self._sparse_cache[1]

    def fault(self, exc: BaseException) -> StoreError:
        """The one-sentence error for an engine fault: a full disk, else a damaged index and how to rebuild it."""
        detail = engine_detail(exc)
        name = self.path.name
        if "Permission denied" in detail or "os error 13" in detail:
            return StoreError(f"The index '{name}' at {self.path} cannot be accessed ({detail}); check the "
                              "folder's owner and permissions.")
        if "No space left" in detail or "os error 28" in detail:
            return DiskFullError(f"The disk holding index '{name}' at {self.path} is full ({detail}); free some "
                                 "space and run the same command again: an index run resumes where it stopped.")
        return DamagedStoreError(
            f"The index '{name}' at {self.path} is damaged ({detail}); the indexed files are the source of "
            f"truth: run 'mcrsearch index PATH --collection {name} --rebuild' for each folder it held, which "
            "moves the damaged index aside and builds a new one.")

    def ensure_free(self, extra: int = 0, reserve: int | None = None, doing: str = "write to it") -> None:
        """Raise DiskFullError unless the index's disk has `reserve` (default: the settings') + `extra` bytes free."""
        need = (self.reserve_bytes if reserve is None else reserve) + max(int(extra), 0)
        free = free_bytes(self.path)
        if need and free is not None and free < need + self._sparse():
            need += self._sparse()
            raise DiskFullError(
                f"The disk holding index '{self.path.name}' at {self.path} has {mb(free)} free, less than the "
                f"{mb(need)} needed to {doing} safely; free some space (or lower min_free_disk_mb) and run "
                "the same command again: an index run resumes where it stopped.")

    @staticmethod
    def _q():
        import qdrant_edge

        return qdrant_edge

    def _open(self) -> None:
        key = str(self.path.resolve())
        with _OPEN_LOCK:
            if key in _OPEN_SHARDS:
                _OPEN_SHARDS[key][1] += 1
                self._shard = _OPEN_SHARDS[key][0]
                return
            self._shard = self._load()
            _OPEN_SHARDS[key] = [self._shard, 1]

    def _load(self):
        self.ensure_free(reserve=OPEN_MIN_FREE, doing="open it")
        try:
            return self._q().EdgeShard.load(str(self.path))
        except (KeyboardInterrupt, SystemExit):
            raise
        except BaseException as exc:
            if "WouldBlock" in str(exc) or "lock" in str(exc).lower():
                raise StoreError(f"The index at {self.path} is in use by another mcrsearch process; "
                                 "wait for it to finish.") from exc
            if not is_engine_fault(exc):
                raise
            raise self.fault(exc) from exc

    def _hnsw(self):
        q = self._q()
        return q.HnswIndexConfig(m=self.schema.m, ef_construct=self.schema.ef_construct,
                                 full_scan_threshold=FULL_SCAN_THRESHOLD_KB, payload_m=self.schema.payload_m,
                                 max_indexing_threads=INDEXING_THREADS)

    def exists(self) -> bool:
        return self._shard is not None

    def global_graph(self) -> bool:
        """Whether this collection (as created, whatever today's default) has a graph across modalities."""
        if self._has_global is None:
            config = json.loads((self.path / "edge_config.json").read_text())
            self._has_global = int((config.get("hnsw_config") or {}).get("m", 1)) > 0
        return self._has_global

    @engine_call
    def create(self, name: str, dim: int) -> None:
        q = self._q()
        self.ensure_free()
        self.path.mkdir(parents=True, exist_ok=True)
        quantization = (q.ScalarQuantizationConfig(q.ScalarType.Int8, quantile=QUANTILE, always_ram=True)
                        if self.schema.quantization == "int8" else None)
        config = q.EdgeConfig(vectors={name: q.EdgeVectorParams(size=dim, distance=q.Distance.Cosine)},
                              hnsw_config=self._hnsw(), quantization_config=quantization)
        with _OPEN_LOCK:
            self._shard = q.EdgeShard.create(str(self.path), config)
            _OPEN_SHARDS[str(self.path.resolve())] = [self._shard, 1]
        for name_ in INDEXED_FIELDS:
            schema = q.KeywordIndexParams(is_tenant=True) if self.schema.tenant else q.PayloadSchemaType.Keyword
            self._shard.update(q.UpdateOperation.create_field_index(name_, schema))
        self.ensure_filter_indexes()

    @engine_call
    def ensure_filter_indexes(self) -> None:
        q = self._q()
        have = set(self._shard.info().payload_schema or {})
        # enable_hnsw=False: no extra graph per indexed value (only modality, the tenant, gets graphs); a filtered
        # search walks the modality's graph checking the conditions, or scans the payload index when it is small
        kinds = {"keyword": q.KeywordIndexParams(enable_hnsw=False),
                 "float": q.FloatIndexParams(enable_hnsw=False),
                 "integer": q.IntegerIndexParams(lookup=False, range=True, enable_hnsw=False)}
        for name_, kind in FILTER_FIELDS.items():
            if name_ not in have:
                self._shard.update(q.UpdateOperation.create_field_index(name_, kinds[kind]))

    def vector_names(self) -> dict[str, int]:
        try:
            config = json.loads((self.path / "edge_config.json").read_text())
        except (OSError, ValueError) as exc:
            raise self.fault(exc) from exc
        return {name: int(params.get("size", 0)) for name, params in (config.get("vectors") or {}).items()}

    @engine_call
    def add_vector(self, name: str, dim: int) -> None:
        q = self._q()
        self.ensure_free()
        self._shard.update(q.UpdateOperation.create_dense_vector(name, dim, q.Distance.Cosine))

    @engine_call
    def upsert(self, points: Sequence[PointData]) -> None:
        q = self._q()
        batch = [q.Point(p.id, {k: np.asarray(v, dtype=np.float32).tolist() for k, v in p.vectors.items()},
                         p.payload) for p in points]
        if batch:
            dims = sum(sum(np.size(v) for v in p.vectors.values()) for p in points)
            self.ensure_free(WRITE_COPIES * (4 * dims + POINT_WRITE_BYTES * len(points)))
            self._shard.update(q.UpdateOperation.upsert_points(batch))

    @engine_call
    def delete(self, ids: Sequence[str]) -> None:
        if ids:
            self.ensure_free(POINT_WRITE_BYTES * len(ids))
            self._shard.update(self._q().UpdateOperation.delete_points(list(ids)))

    @engine_call
    def set_payload(self, ids: Sequence[str], payload: dict[str, Any]) -> None:
        if ids:
            self.ensure_free(WRITE_COPIES * POINT_WRITE_BYTES * len(ids))
            self._shard.update(self._q().UpdateOperation.set_payload(list(ids), payload))

    @staticmethod
    def _record(point, score: float = 0.0) -> Record:
        vectors = {k: np.asarray(v, dtype=np.float32) for k, v in (point.vector or {}).items()} \
            if isinstance(point.vector, dict) else {}
        return Record(str(point.id), dict(point.payload or {}), vectors, score)

    @engine_call
    def retrieve(self, ids: Sequence[str], with_vectors: bool) -> list[Record]:
        if not ids:
            return []
        return [self._record(p) for p in self._shard.retrieve(list(ids), with_payload=True,
                                                              with_vector=with_vectors)]

    def _filter(self, modalities: list[str], filters: Filters | None = None):
        q = self._q()
        match = q.MatchValue(modalities[0]) if len(modalities) == 1 else q.MatchAny(list(modalities))
        must = [q.FieldCondition("modality", match=match)]
        for kind, name_, value in (filters.conditions() if filters else []):
            if kind == "any":
                must.append(q.FieldCondition(name_, match=q.MatchAny(list(value))))
            else:
                must.append(q.FieldCondition(name_, range=q.RangeFloat(gte=value[0], lte=value[1])))
        return q.Filter(must=must)

    @engine_call
    def scroll(self, modalities, fields, with_vectors, limit=None, batch=1024):
        q = self._q()
        offset = None
        with_payload = True if fields is None else list(fields)
        for size in pages(limit, batch):
            records, offset = self._shard.scroll(q.ScrollRequest(
                offset=offset, limit=size, filter=self._filter(modalities),
                with_payload=with_payload, with_vector=with_vectors))
            for r in records:
                yield self._record(r)
            if offset is None:
                return

    @engine_call
    def search(self, name, vector, k, modalities, exact, ef, oversampling, with_vectors, filters=None):
        q = self._q()
        request = q.QueryRequest(
            limit=k, query=q.Query.Nearest(np.asarray(vector, dtype=np.float32).tolist(), using=name),
            filter=self._filter(modalities, filters), with_payload=True, with_vector=[name] if with_vectors else False,
            params=q.SearchParams(hnsw_ef=ef, exact=exact, quantization=q.QuantizationSearchParams(
                ignore=exact, rescore=True, oversampling=oversampling)))
        return [self._record(p, float(p.score)) for p in self._shard.query(request)]

    @engine_call
    def count(self, modalities):
        return int(self._shard.count(self._q().CountRequest(exact=True, filter=self._filter(modalities))))

    @engine_call
    def optimize(self) -> None:
        # Optimizing rebuilds segments beside the old ones: up to the index's own size again.
        self.ensure_free(self.size_bytes() or 0, doing="optimize it")
        self._shard.optimize()

    def size_bytes(self) -> int | None:
        """Disk actually used (allocated blocks): the engine pre-allocates sparse files."""
        total = 0
        for root, _, files in os.walk(self.path):
            for f in files:
                try:
                    st = os.stat(os.path.join(root, f))
                except OSError:
                    continue
                total += getattr(st, "st_blocks", 0) * 512 or st.st_size
        return total

    def close(self) -> None:
        if self._shard is None:
            return
        key = str(self.path.resolve())
        with _OPEN_LOCK:
            entry = _OPEN_SHARDS.get(key)
            if entry is not None and entry[0] is self._shard:
                entry[1] -= 1
                if entry[1] > 0:
                    self._shard = None
                    return
                del _OPEN_SHARDS[key]
            # close() flushes by itself (a shard closed without flush() reloads every point, as fast as a
            # flushed one); a flush() first only repeated the fsyncs, ~8 ms a run
            self._shard.close()
            self._shard = None


def set_aside(path: Path) -> Path | None:
    """Rename an embedded collection folder to `<name>.damaged-<UTC time>` (never delete it); None if absent.

    Refuses a folder another process has open (the engine's lock), so a live index is never moved.
    """
    path = Path(path)
    if not path.exists():
        return None
    key = str(path.resolve())
    with _OPEN_LOCK:
        if key in _OPEN_SHARDS:
            raise StoreError(f"The index at {path} is open in this process; close it before rebuilding it.")
    if (path / "edge_config.json").exists() and not _lock_free(path):
        raise StoreError(f"The index at {path} is in use by another mcrsearch process; wait for it to finish.")
    target = path.with_name(f"{path.name}.damaged-{time.strftime('%Y%m%dT%H%M%SZ', time.gmtime())}")
    os.replace(path, target)
    return target


def _lock_free(path: Path) -> bool:
    """Whether no other process holds the index's engine lock (a damaged index counts as free)."""
    try:
        backend = EdgeBackend(path, create=False)
    except DamagedStoreError:
        return True
    except StoreError as exc:
        return "in use" not in str(exc)
    backend.close()
    return True
