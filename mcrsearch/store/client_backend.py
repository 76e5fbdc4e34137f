"""A collection on a Qdrant server or cluster through qdrant-client (shard_number and replication_factor
passed on), and the one in-process ':memory:' client tests and trials share."""

from __future__ import annotations

import threading
from typing import Any, Sequence

import numpy as np

from mcrsearch.errors import StoreError
from mcrsearch.store.backend import Backend, pages
from mcrsearch.store.conditions import Filters
from mcrsearch.store.records import PointData, Record
from mcrsearch.store.schema import (DEFAULT_SCHEMA, FILTER_FIELDS, FULL_SCAN_THRESHOLD_KB, INDEXED_FIELDS, QUANTILE,
                                    IndexSchema)

MEMORY_URL = ":memory:"                     # qdrant_url for qdrant-client's in-process mode (tests, trials)
_MEMORY_CLIENT: list[Any] = []
_MEMORY_LOCK = threading.Lock()


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
        for size in pages(limit, batch):
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



def open_qdrant_client(url: str, api_key: str | None) -> Any:
    """A qdrant-client for the URL; ':memory:' is qdrant-client's in-process mode, one per process so that
    every handle (the Client's, an index run's) sees the same collections."""
    from qdrant_client import QdrantClient

    if url != MEMORY_URL:
        return QdrantClient(url=url, api_key=api_key)
    with _MEMORY_LOCK:
        if not _MEMORY_CLIENT:
            _MEMORY_CLIENT.append(QdrantClient(location=MEMORY_URL))
        return _MEMORY_CLIENT[0]
