"""How a new collection is indexed (graph, payload indexes, quantization) and how searches walk it: the
measured defaults both backends share."""

from __future__ import annotations

import os
from dataclasses import dataclass

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
