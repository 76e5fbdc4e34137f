"""The Qdrant layer: one collection per index, one point per item, one named vector per space.

Two backends sit behind `Store`:
- embedded (default): `qdrant-edge-py`, Qdrant's in-process engine (HNSW, WAL, payload indexes). Not
  qdrant-client's local mode, which is brute force in Python and stores points as pickles.
- server / cluster: `qdrant-client` with a URL and API key (shard_number, replication_factor passed on).

The collection carries its own metadata (one reserved point with no vectors): for every space the
fingerprint, dimension, modalities and score calibration. Every write and every query checks the
caller's space fingerprint against it, so vectors of two different spaces are never mixed.
"""

from __future__ import annotations

import functools
import hashlib
import inspect
import json
import os
import re
import threading
import time
import uuid
from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Iterable, Iterator, Sequence

import numpy as np

from mcrsearch.errors import DamagedStoreError, DiskFullError, SpaceMismatchError, StoreError
from mcrsearch.modality import Modality

if TYPE_CHECKING:
    from mcrsearch.config import Settings

_NAMESPACE = uuid.UUID("6f1c2a58-5b0e-4d7e-9a51-3f0f9c8e2d10")
_NAMESPACE_BYTES = _NAMESPACE.bytes
META_ID = str(uuid.uuid5(_NAMESPACE, "mcrsearch:collection-metadata"))
META_KEY = "mcrsearch_meta"
ALL_MODALITIES = [m.value for m in Modality]
# A video is one item stored as several points (DESIGN.md "Items, segments and regions"): its item point
# (modality "video", id = point_id(path), the indexer's state fields, no vectors) and one point per segment
# and channel (picture, sound) with that segment's vector, `item` = the item's id, `start`/`end` in seconds.
# Segment points carry their own modality value so that counts, browsing and item lookups see one item per
# video while searches for videos walk the segments (their own graph, as every modality has).
VIDEO_SEGMENT = "video-segment"
EVERY_POINT = ALL_MODALITIES + [VIDEO_SEGMENT]


def segment_id(path: str, space: str, index: int, channel: str) -> str:
    """Deterministic id of one segment point of a video (a NUL cannot occur in a path, so it never
    collides with an item id)."""
    return point_id(f"{path}\x00{space}\x00{index}\x00{channel}")
# Payload indexes: only fields that searches filter on. Paths and hashes are unique per point and looked up
# by point id (uuid5 of the path) or read by the indexer's scroll, so indexes on them would only cost RAM
# (a million distinct keys each) and write time (measured ~10 us per point and 20 ms per flush).
INDEXED_FIELDS = ("modality",)
# Fields that query filters (`Filters`) restrict on, and the payload index each gets (one per field, made when a
# collection is created and added to older collections by the next index run). `folders` holds every folder
# above the file, so "under a path" is one keyword match; `ext` the lower-case extension without its dot.
FILTER_FIELDS = {"folders": "keyword", "ext": "keyword", "mtime_ns": "integer", "duration": "float",
                 "point_count": "integer", "width": "integer", "height": "integer"}

# Index schema, chosen by `benchmarks/perf.py --parts ann --variants ...` (docs/BENCHMARKS.md): every query
# filters on one target modality, so modality is Qdrant's tenant key, each modality gets its own graph
# (payload_m links) and there is no global graph (m=0). At 1M x 512 that built in half the time of a global
# graph plus per-modality links (1,202 s against 2,330 s on 2 cores) and reached filtered recall@10 0.9935 at
# p50 4.2 ms with search ef 1024, where the global graph's best was 0.983 at 9.4 ms.
HNSW_M = 0
HNSW_EF_CONSTRUCT = 200
HNSW_PAYLOAD_M = 32


@dataclass(frozen=True)
class IndexSchema:
    """How a new collection is indexed: the graph, the modality index and the quantization.

    `m` is the global graph's links (0: no global graph), `payload_m` the links of the per-modality graphs,
    `tenant` marks modality as Qdrant's tenant key (points stored grouped by modality), `quantization` is
    'int8' (graph walked on 1-byte codes, rescored with floats) or 'none'.
    """

    m: int = HNSW_M
    ef_construct: int = HNSW_EF_CONSTRUCT
    payload_m: int = HNSW_PAYLOAD_M
    tenant: bool = True
    quantization: str = "int8"


DEFAULT_SCHEMA = IndexSchema()
SEARCH_EF = 1024     # 1M x 512, one modality of four: recall@10 0.990 at ef 512, 0.9935 at 1024 (p50 4.2 ms)
FULL_SCAN_THRESHOLD_KB = 10_000
# The engine's automatic thread count keeps a core free for searches, which halves a 2-core build; an
# index run is the only work while it builds, so it gets every core.
INDEXING_THREADS = os.cpu_count() or 1
# int8 scalar quantization: the graph is built and walked on 1-byte codes (about 3x faster to build at 512-d,
# a quarter of the RAM), then the best OVERSAMPLING * k candidates are rescored with the float vectors.
QUANTILE = 0.99
OVERSAMPLING = 8.0


def path_fields(path: str) -> dict[str, Any]:
    """The payload fields filters use that follow from a path alone: its extension and the folders above it."""
    p = Path(path)
    folders = [str(d) for d in p.parents if d != Path(d.anchor)]
    return {"ext": p.suffix.lower().lstrip("."), "folders": folders}


@dataclass(frozen=True)
class Filters:
    """Restrictions on a search beside the target modality, each an exact payload condition (all must hold).

    `under`: absolute folders (an item matches when it lies under any of them); `types`: extensions, lower
    case without the dot (any of them); times are POSIX seconds compared with the file's modification time;
    durations in seconds (audio); point counts (3D); image width and height in pixels. None: no bound.
    """

    under: tuple[str, ...] = ()
    types: tuple[str, ...] = ()
    modified_after: float | None = None
    modified_before: float | None = None
    min_duration: float | None = None
    max_duration: float | None = None
    min_points: int | None = None
    max_points: int | None = None
    min_width: int | None = None
    min_height: int | None = None

    def __bool__(self) -> bool:
        return any(v not in (None, ()) for v in self.to_dict().values())

    def to_dict(self) -> dict[str, Any]:
        """The JSON form (saved searches, the API): only the bounds that are set."""
        out = {k: (list(v) if isinstance(v, tuple) else v) for k, v in self.__dict__.items()}
        return {k: v for k, v in out.items() if v not in (None, [])}

    @classmethod
    def from_dict(cls, data: dict[str, Any] | None) -> "Filters":
        data = dict(data or {})
        unknown = set(data) - set(cls.__dataclass_fields__)
        if unknown:
            raise StoreError(f"Unknown filter {', '.join(sorted(unknown))}.")
        for key in ("under", "types"):
            if key in data:
                data[key] = tuple(data[key])
        return cls(**data)

    def conditions(self) -> list[tuple[str, str, Any]]:
        """Backend-neutral conditions: ('any', field, values) or ('range', field, (gte, lte))."""
        out: list[tuple[str, str, Any]] = []
        if self.under:
            out.append(("any", "folders", list(self.under)))
        if self.types:
            out.append(("any", "ext", list(self.types)))
        ns = [None if t is None else float(t) * 1e9 for t in (self.modified_after, self.modified_before)]
        for name, lo, hi in (("mtime_ns", ns[0], ns[1]), ("duration", self.min_duration, self.max_duration),
                             ("point_count", self.min_points, self.max_points), ("width", self.min_width, None),
                             ("height", self.min_height, None)):
            if lo is not None or hi is not None:
                out.append(("range", name, (lo, hi)))
        return out

    def matches(self, payload: dict[str, Any]) -> bool:
        """Whether a payload passes every condition (the brute-force reference the tests compare with)."""
        for kind, name, value in self.conditions():
            have = payload.get(name)
            if kind == "any":
                vals = have if isinstance(have, list) else [have]
                if not set(vals) & set(value):
                    return False
            else:
                if have is None or (value[0] is not None and have < value[0]) or \
                        (value[1] is not None and have > value[1]):
                    return False
        return True


def point_id(path: str | Path) -> str:
    """Deterministic id of an item: re-runs upsert the same point instead of adding a duplicate.

    The same string as `str(uuid.uuid5(namespace, path))` (RFC 4122: SHA-1 of namespace and name, version
    and variant bits set), built without the UUID object, which costs most of the time of an id (the
    indexer makes one per file). A path that is not valid UTF-8 keeps its raw bytes (surrogateescape).
    """
    name = str(path).encode("utf-8", "surrogateescape")
    digest = bytearray(hashlib.sha1(_NAMESPACE_BYTES + name, usedforsecurity=False).digest()[:16])
    digest[6] = (digest[6] & 0x0F) | 0x50        # version 5
    digest[8] = (digest[8] & 0x3F) | 0x80        # RFC 4122 variant
    h = digest.hex()
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"


_ITEM_ID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


def is_item_id(value: str) -> bool:
    """Whether a string has the form of an item id (as `point_id` writes them), rather than a path."""
    return _ITEM_ID.fullmatch(value) is not None


@dataclass
class SpaceRecord:
    """What the collection knows about one space stored in it."""

    name: str
    fingerprint: str
    dim: int
    modalities: list[str]
    calibration: dict[str, list[float]] = field(default_factory=dict)   # "q->t": [mean, std]

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "fingerprint": self.fingerprint, "dim": self.dim,
                "modalities": list(self.modalities), "calibration": self.calibration}


@dataclass
class PointData:
    """One item to write: id, vectors by space name, payload."""

    id: str
    vectors: dict[str, np.ndarray]
    payload: dict[str, Any]


@dataclass
class Record:
    id: str
    payload: dict[str, Any]
    vectors: dict[str, np.ndarray] = field(default_factory=dict)
    score: float = 0.0


def _pages(limit: int | None, batch: int) -> Iterator[int]:
    """Page sizes for a scroll: `batch` at a time, the last page cut to `limit` (None: no end)."""
    left = limit
    while left is None or left > 0:
        size = batch if left is None else min(batch, left)
        yield size
        if left is not None:
            left -= size


def _merged(result_lists: Iterable[list[Record]], k: int) -> list[Record]:
    """The best k of several per-modality searches (a collection without a global graph searches each
    modality in its own graph, so a query over several modalities runs once per modality)."""
    return sorted((r for results in result_lists for r in results), key=lambda r: -r.score)[:k]


def _modality_values(modalities: Iterable[Modality | str] | None) -> list[str]:
    """Payload modality values to filter on; None: every point (items and video segments)."""
    if modalities is None:
        return EVERY_POINT
    return [m if m == VIDEO_SEGMENT else Modality.parse(m).value for m in modalities]


class Backend(ABC):
    """Primitive vector-store operations; `Store` adds metadata and fingerprint checks on top."""

    location: str

    @abstractmethod
    def exists(self) -> bool: ...
    @abstractmethod
    def create(self, name: str, dim: int) -> None: ...
    @abstractmethod
    def vector_names(self) -> dict[str, int]: ...
    @abstractmethod
    def add_vector(self, name: str, dim: int) -> None: ...
    @abstractmethod
    def upsert(self, points: Sequence[PointData]) -> None: ...
    @abstractmethod
    def delete(self, ids: Sequence[str]) -> None: ...
    @abstractmethod
    def set_payload(self, ids: Sequence[str], payload: dict[str, Any]) -> None: ...
    @abstractmethod
    def retrieve(self, ids: Sequence[str], with_vectors: bool) -> list[Record]: ...
    @abstractmethod
    def scroll(self, modalities: list[str], fields: list[str] | None, with_vectors: bool | list[str],
               limit: int | None = None, batch: int = 1024) -> Iterator[Record]: ...
    @abstractmethod
    def search(self, name: str, vector: np.ndarray, k: int, modalities: list[str], exact: bool,
               ef: int, oversampling: float, with_vectors: bool,
               filters: Filters | None = None) -> list[Record]: ...
    @abstractmethod
    def count(self, modalities: list[str]) -> int: ...
    def global_graph(self) -> bool:
        """Whether the collection has a graph across modalities (else one graph per modality)."""
        return True
    def ensure_filter_indexes(self) -> None:
        """Create the payload indexes of FILTER_FIELDS that the collection lacks (collections made before them)."""
    def optimize(self) -> None: ...
    def size_bytes(self) -> int | None:
        return None
    def close(self) -> None: ...


# ----------------------------------------------------------------------------- embedded (qdrant-edge)

# The engine memory-maps sparse, pre-sized files (32 MB vector chunks, WAL segments) and fills them in
# later, some whole at the next open: a write that lands on a page the full disk cannot back kills the
# process with SIGBUS, which no handler can turn into an error. So before opening and before every write
# the free space must cover the files' unallocated ("sparse") part, plus the reserve (Settings'
# min_free_disk_mb) and a bound on what the write adds; otherwise the run stops with DiskFullError while
# every file is still whole. Opening, which may write to the WAL, needs at least this beyond the sparse part:
OPEN_MIN_FREE = 4 * 2**20
# Upper bound on the disk one point's write touches besides its vectors (WAL record, payload page,
# trackers), and the factor for vectors written to the WAL, the vector storage and the quantized copy.
POINT_WRITE_BYTES = 4096
WRITE_COPIES = 3


def _is_engine_fault(exc: BaseException) -> bool:
    """The engine raises plain `Exception` (and pyo3's PanicException, a BaseException) for its own faults."""
    return type(exc) is Exception or type(exc).__name__ == "PanicException" or isinstance(exc, OSError)


def _engine_detail(exc: BaseException) -> str:
    text = " ".join(str(exc).split()) or type(exc).__name__
    for prefix in ("Service runtime error:", "Service internal error:"):
        text = text.replace(prefix, "").strip()
    return text if len(text) <= 200 else text[:197] + "..."


def _reraise(backend: Any, exc: BaseException) -> None:
    """Raise `exc` again, or the one-sentence error for it when it is an engine fault."""
    if isinstance(exc, (StoreError, KeyboardInterrupt, SystemExit, GeneratorExit)) or not _is_engine_fault(exc):
        raise exc
    raise backend.fault(exc) from exc


def _engine_call(method):
    """Turn engine faults inside a backend call (or while its scroll is consumed) into one-sentence errors."""
    if inspect.isgeneratorfunction(method):
        @functools.wraps(method)
        def generator(self, *args, **kwargs):
            try:
                yield from method(self, *args, **kwargs)
            except BaseException as exc:  # noqa: BLE001 - _reraise re-raises every one, translated or not
                _reraise(self, exc)
        return generator

    @functools.wraps(method)
    def call(self, *args, **kwargs):
        try:
            return method(self, *args, **kwargs)
        except BaseException as exc:  # noqa: BLE001 - _reraise re-raises every one, translated or not
            _reraise(self, exc)
    return call


def _free_bytes(path: Path) -> int | None:
    """Free bytes (for unprivileged writers) on the filesystem holding `path` or its nearest existing parent."""
    probe = Path(path)
    while not probe.exists() and probe != probe.parent:
        probe = probe.parent
    try:
        st = os.statvfs(probe)
    except (OSError, AttributeError):      # no statvfs (Windows): no check
        return None
    return st.f_bavail * st.f_frsize


def sparse_bytes(path: Path) -> int:
    """Bytes the segment files of the index at `path` may still claim from the disk: apparent size minus
    allocated blocks. (WAL files are left out: the engine fills them in as it writes, which the per-write
    bound covers; segment files are the ones it can fill in whole, e.g. at the next open.)"""
    total = 0
    for root, _, files in os.walk(Path(path) / "segments"):
        for name in files:
            try:
                st = os.stat(os.path.join(root, name))
            except OSError:
                continue
            blocks = getattr(st, "st_blocks", None)
            if blocks is not None:
                total += max(0, st.st_size - blocks * 512)
    return total


def _mb(n: float) -> str:
    return f"{n / 2**20:.1f} MB"


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
        self._shard = None
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
        detail = _engine_detail(exc)
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
        free = _free_bytes(self.path)
        if need and free is not None and free < need + self._sparse():
            need += self._sparse()
            raise DiskFullError(
                f"The disk holding index '{self.path.name}' at {self.path} has {_mb(free)} free, less than the "
                f"{_mb(need)} needed to {doing} safely; free some space (or lower min_free_disk_mb) and run "
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
            if not _is_engine_fault(exc):
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

    @_engine_call
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

    @_engine_call
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

    @_engine_call
    def add_vector(self, name: str, dim: int) -> None:
        q = self._q()
        self.ensure_free()
        self._shard.update(q.UpdateOperation.create_dense_vector(name, dim, q.Distance.Cosine))

    @_engine_call
    def upsert(self, points: Sequence[PointData]) -> None:
        q = self._q()
        batch = [q.Point(p.id, {k: np.asarray(v, dtype=np.float32).tolist() for k, v in p.vectors.items()},
                         p.payload) for p in points]
        if batch:
            dims = sum(sum(np.size(v) for v in p.vectors.values()) for p in points)
            self.ensure_free(WRITE_COPIES * (4 * dims + POINT_WRITE_BYTES * len(points)))
            self._shard.update(q.UpdateOperation.upsert_points(batch))

    @_engine_call
    def delete(self, ids: Sequence[str]) -> None:
        if ids:
            self.ensure_free(POINT_WRITE_BYTES * len(ids))
            self._shard.update(self._q().UpdateOperation.delete_points(list(ids)))

    @_engine_call
    def set_payload(self, ids: Sequence[str], payload: dict[str, Any]) -> None:
        if ids:
            self.ensure_free(WRITE_COPIES * POINT_WRITE_BYTES * len(ids))
            self._shard.update(self._q().UpdateOperation.set_payload(list(ids), payload))

    @staticmethod
    def _record(point, score: float = 0.0) -> Record:
        vectors = {k: np.asarray(v, dtype=np.float32) for k, v in (point.vector or {}).items()} \
            if isinstance(point.vector, dict) else {}
        return Record(str(point.id), dict(point.payload or {}), vectors, score)

    @_engine_call
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

    @_engine_call
    def scroll(self, modalities, fields, with_vectors, limit=None, batch=1024):
        q = self._q()
        offset = None
        with_payload = True if fields is None else list(fields)
        for size in _pages(limit, batch):
            records, offset = self._shard.scroll(q.ScrollRequest(
                offset=offset, limit=size, filter=self._filter(modalities),
                with_payload=with_payload, with_vector=with_vectors))
            for r in records:
                yield self._record(r)
            if offset is None:
                return

    @_engine_call
    def search(self, name, vector, k, modalities, exact, ef, oversampling, with_vectors, filters=None):
        q = self._q()
        request = q.QueryRequest(
            limit=k, query=q.Query.Nearest(np.asarray(vector, dtype=np.float32).tolist(), using=name),
            filter=self._filter(modalities, filters), with_payload=True, with_vector=[name] if with_vectors else False,
            params=q.SearchParams(hnsw_ef=ef, exact=exact, quantization=q.QuantizationSearchParams(
                ignore=exact, rescore=True, oversampling=oversampling)))
        return [self._record(p, float(p.score)) for p in self._shard.query(request)]

    @_engine_call
    def count(self, modalities):
        return int(self._shard.count(self._q().CountRequest(exact=True, filter=self._filter(modalities))))

    @_engine_call
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


# ----------------------------------------------------------------------------- server / cluster

class ClientBackend(Backend):
    """A collection on a Qdrant server or cluster, through qdrant-client."""

    def __init__(self, client: Any, collection: str, shard_number: int | None = None,
                 replication_factor: int | None = None, location: str = "",
                 schema: IndexSchema | None = None) -> None:
        from qdrant_client import models

        self.m = models
        self.schema = schema or DEFAULT_SCHEMA       # used only when this backend creates the collection
        self._has_global: bool | None = None
        self.client = client
        self.collection = collection
        self.shard_number = shard_number
        self.replication_factor = replication_factor
        self.location = f"{location or 'qdrant'}/{collection}"

    def exists(self) -> bool:
        try:
            return bool(self.client.collection_exists(self.collection))
        except Exception as exc:
            raise StoreError(f"The Qdrant server at {self.location} is unreachable ({exc}).") from exc

    def _hnsw(self):
        return self.m.HnswConfigDiff(m=self.schema.m, ef_construct=self.schema.ef_construct,
                                     payload_m=self.schema.payload_m, full_scan_threshold=FULL_SCAN_THRESHOLD_KB)

    def create(self, name: str, dim: int) -> None:
        m = self.m
        self.client.create_collection(
            self.collection, vectors_config={name: m.VectorParams(size=dim, distance=m.Distance.COSINE)},
            hnsw_config=self._hnsw(), shard_number=self.shard_number,
            quantization_config=m.ScalarQuantization(scalar=m.ScalarQuantizationConfig(
                type=m.ScalarType.INT8, quantile=QUANTILE, always_ram=True))
            if self.schema.quantization == "int8" else None,
            replication_factor=self.replication_factor)
        for name_ in INDEXED_FIELDS:
            schema = (m.KeywordIndexParams(type=m.KeywordIndexType.KEYWORD, is_tenant=True) if self.schema.tenant
                      else m.PayloadSchemaType.KEYWORD)
            self.client.create_payload_index(self.collection, name_, field_schema=schema)
        self.ensure_filter_indexes()

    def ensure_filter_indexes(self) -> None:
        m = self.m
        have = set(self.client.get_collection(self.collection).payload_schema or {})
        kinds = {"keyword": m.KeywordIndexParams(type=m.KeywordIndexType.KEYWORD, enable_hnsw=False),
                 "float": m.FloatIndexParams(type=m.FloatIndexType.FLOAT, enable_hnsw=False),
                 "integer": m.IntegerIndexParams(type=m.IntegerIndexType.INTEGER, lookup=False, range=True,
                                                 enable_hnsw=False)}
        for name_, kind in FILTER_FIELDS.items():
            if name_ not in have:
                self.client.create_payload_index(self.collection, name_, field_schema=kinds[kind])

    def global_graph(self) -> bool:
        """Whether the collection (as created on the server) has a graph across modalities."""
        if self._has_global is None:
            m = self.client.get_collection(self.collection).config.hnsw_config.m
            self._has_global = m is None or m > 0
        return self._has_global

    def vector_names(self) -> dict[str, int]:
        vectors = self.client.get_collection(self.collection).config.params.vectors
        if not isinstance(vectors, dict):
            return {"": vectors.size}
        return {name: params.size for name, params in vectors.items()}

    def add_vector(self, name: str, dim: int) -> None:
        raise StoreError(f"Collection '{self.collection}' on the Qdrant server was created without space "
                         f"'{name}' and a server cannot add a named vector; use another --collection.")

    def upsert(self, points: Sequence[PointData]) -> None:
        if not points:
            return
        structs = [self.m.PointStruct(id=p.id, vector={k: np.asarray(v, dtype=np.float32).tolist()
                                                       for k, v in p.vectors.items()}, payload=p.payload)
                   for p in points]
        self.client.upsert(self.collection, points=structs, wait=True)

    def delete(self, ids: Sequence[str]) -> None:
        if ids:
            self.client.delete(self.collection, points_selector=self.m.PointIdsList(points=list(ids)), wait=True)

    def set_payload(self, ids: Sequence[str], payload: dict[str, Any]) -> None:
        if ids:
            self.client.set_payload(self.collection, payload=payload, points=list(ids), wait=True)

    @staticmethod
    def _record(point, score: float = 0.0) -> Record:
        vec = point.vector if isinstance(point.vector, dict) else {}
        return Record(str(point.id), dict(point.payload or {}),
                      {k: np.asarray(v, dtype=np.float32) for k, v in vec.items()}, score)

    def retrieve(self, ids, with_vectors):
        if not ids:
            return []
        return [self._record(p) for p in self.client.retrieve(self.collection, list(ids), with_payload=True,
                                                              with_vectors=with_vectors)]

    def _filter(self, modalities, filters: Filters | None = None):
        m = self.m
        must = [m.FieldCondition(key="modality", match=m.MatchAny(any=list(modalities)))]
        for kind, name_, value in (filters.conditions() if filters else []):
            if kind == "any":
                must.append(m.FieldCondition(key=name_, match=m.MatchAny(any=list(value))))
            else:
                must.append(m.FieldCondition(key=name_, range=m.Range(gte=value[0], lte=value[1])))
        return m.Filter(must=must)

    def scroll(self, modalities, fields, with_vectors, limit=None, batch=1024):
        offset = None
        for size in _pages(limit, batch):
            records, offset = self.client.scroll(self.collection, scroll_filter=self._filter(modalities),
                                                 limit=size, offset=offset,
                                                 with_payload=True if fields is None else list(fields),
                                                 with_vectors=with_vectors)
            for r in records:
                yield self._record(r)
            if offset is None:
                return

    def search(self, name, vector, k, modalities, exact, ef, oversampling, with_vectors, filters=None):
        response = self.client.query_points(
            self.collection, query=np.asarray(vector, dtype=np.float32).tolist(), using=name,
            query_filter=self._filter(modalities, filters), limit=k, with_payload=True,
            with_vectors=[name] if with_vectors else False,
            search_params=self.m.SearchParams(hnsw_ef=ef, exact=exact, quantization=self.m.QuantizationSearchParams(
                ignore=exact, rescore=True, oversampling=oversampling)))
        return [self._record(p, float(p.score)) for p in response.points]

    def count(self, modalities):
        return int(self.client.count(self.collection, count_filter=self._filter(modalities), exact=True).count)

    def close(self) -> None:
        if _MEMORY_CLIENT and self.client is _MEMORY_CLIENT[0]:   # shared by every handle in the process
            return
        try:
            self.client.close()
        except Exception:  # noqa: BLE001
            pass


MEMORY_URL = ":memory:"                     # qdrant_url for qdrant-client's in-process mode (tests, trials)
_MEMORY_CLIENT: list[Any] = []


def _qdrant_client(url: str, api_key: str | None) -> Any:
    """A qdrant-client for the URL; ':memory:' is qdrant-client's in-process mode, one per process so that
    every handle (the Client's, an index run's) sees the same collections."""
    from qdrant_client import QdrantClient

    if url != MEMORY_URL:
        return QdrantClient(url=url, api_key=api_key)
    with _OPEN_LOCK:
        if not _MEMORY_CLIENT:
            _MEMORY_CLIENT.append(QdrantClient(location=MEMORY_URL))
        return _MEMORY_CLIENT[0]


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


# ----------------------------------------------------------------------------- the store

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
            client = _qdrant_client(settings.qdrant_url, settings.qdrant_api_key)
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
        mods = sorted(_modality_values(modalities))
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
        return self.backend.scroll(_modality_values(modalities), fields, vectors, limit)

    def search(self, space: str, vector: np.ndarray, k: int = 10,
               modalities: Iterable[Modality | str] | None = None, fingerprint: str | None = None,
               exact: bool = False, ef: int = SEARCH_EF, oversampling: float = OVERSAMPLING,
               with_vectors: bool = False, filters: Filters | None = None) -> list[Record]:
        """Nearest items in `space`, restricted to the target modalities and `filters` (payload-indexed).

        A collection without a global graph searches each modality in its own graph and merges the best k.
        """
        self.check_space(space, fingerprint)
        mods = _modality_values(modalities)
        filters = filters or None
        if len(mods) > 1 and not exact and not self.backend.global_graph():
            return _merged((self.backend.search(space, vector, k, [m], exact, ef, oversampling, with_vectors,
                                                filters) for m in mods), k)
        return self.backend.search(space, vector, k, mods, exact, ef, oversampling, with_vectors, filters)

    def count(self, modalities: Iterable[Modality | str] | None = None) -> int:
        return self.backend.count(_modality_values(modalities))

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
