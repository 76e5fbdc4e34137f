"""The Qdrant layer: one collection per index, one point per item, one named vector per space.

Two backends sit behind `Store` (collection.py), both implementing `Backend` (backend.py):
- embedded (default, edge_backend.py): `qdrant-edge-py`, Qdrant's in-process engine (HNSW, WAL, payload
  indexes). Not qdrant-client's local mode, which is brute force in Python and stores points as pickles.
- server / cluster (client_backend.py): `qdrant-client` with a URL and API key (shard_number,
  replication_factor passed on).

The collection carries its own metadata (one reserved point with no vectors): for every space the
fingerprint, dimension, modalities and score calibration. Every write and every query checks the
caller's space fingerprint against it, so vectors of two different spaces are never mixed.

The rest of the tree imports from `mcrsearch.store` only; the modules below are its sections:
ids (point ids), records (what is read and written), schema (index defaults), conditions (`Filters`),
diskspace and engine_faults (the embedded engine's guards).
"""

from __future__ import annotations

from mcrsearch.store.backend import Backend
from mcrsearch.store.client_backend import MEMORY_URL, ClientBackend
from mcrsearch.store.collection import Store
from mcrsearch.store.conditions import Filters, path_fields
from mcrsearch.store.diskspace import OPEN_MIN_FREE, POINT_WRITE_BYTES, WRITE_COPIES, sparse_bytes
from mcrsearch.store.edge_backend import EdgeBackend, set_aside
from mcrsearch.store.ids import _NAMESPACE as _NAMESPACE
from mcrsearch.store.ids import META_ID, META_KEY, is_item_id, point_id, segment_id
from mcrsearch.store.records import ALL_MODALITIES, EVERY_POINT, VIDEO_SEGMENT, PointData, Record, SpaceRecord
from mcrsearch.store.schema import (DEFAULT_SCHEMA, FILTER_FIELDS, FULL_SCAN_THRESHOLD_KB, HNSW_EF_CONSTRUCT, HNSW_M,
                                    HNSW_PAYLOAD_M, INDEXED_FIELDS, INDEXING_THREADS, OVERSAMPLING, QUANTILE,
                                    SEARCH_EF, IndexSchema)

__all__ = [
    "ALL_MODALITIES", "DEFAULT_SCHEMA", "EVERY_POINT", "FILTER_FIELDS", "FULL_SCAN_THRESHOLD_KB", "HNSW_EF_CONSTRUCT",
    "HNSW_M", "HNSW_PAYLOAD_M", "INDEXED_FIELDS", "INDEXING_THREADS", "MEMORY_URL", "META_ID", "META_KEY",
    "OPEN_MIN_FREE", "OVERSAMPLING", "POINT_WRITE_BYTES", "QUANTILE", "SEARCH_EF", "VIDEO_SEGMENT", "WRITE_COPIES",
    "Backend", "ClientBackend", "EdgeBackend", "Filters", "IndexSchema", "PointData", "Record", "SpaceRecord", "Store",
    "is_item_id", "path_fields", "point_id", "segment_id", "set_aside", "sparse_bytes",
]
