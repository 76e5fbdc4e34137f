"""The ann part: filtered search latency and recall@10 against exact search on synthetic clustered vectors,
for each index schema variant, search ef and rescoring oversampling; and the resident memory a fresh process
needs to answer (the child is `benchmarks/perf.py --rss-probe`)."""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

from .spaces import MODS
from .stats import pct

ENTRY = Path(__file__).resolve().parents[1] / "perf.py"


def synthetic(n: int, dim: int, seed: int = 0):
    """Clustered unit vectors with a per-modality offset (the 'modality gap' of real MCR spaces)."""
    rng = np.random.default_rng(seed)
    n_clusters = max(n // 50, 10)
    centers = rng.standard_normal((n_clusters, dim)).astype(np.float32)
    gap = {m: rng.standard_normal(dim).astype(np.float32) * 0.6 for m in MODS}

    def make(count, modality):
        c = rng.integers(0, n_clusters, count)
        x = centers[c] + gap[modality] + 0.9 * rng.standard_normal((count, dim)).astype(np.float32)
        return x / np.linalg.norm(x, axis=1, keepdims=True)

    labels = rng.choice(np.array(MODS), n)
    data = np.zeros((n, dim), np.float32)
    for m in MODS:
        mask = labels == m
        data[mask] = make(int(mask.sum()), m)
    return data, labels, make


def ann_variants() -> dict[str, Any]:
    """Index schemas the ann part can build, by name ('default' is the product's DEFAULT_SCHEMA):
    - global+payload: one graph over all items (m=32) plus per-modality links (payload_m=32), plain keyword index;
    - tenant: modality as Qdrant's tenant key, one graph per modality (payload_m=32) and no global graph (m=0);
    - tenant-m16: the same with 16 links per node (a faster build, a smaller graph);
    - tenant-float: tenant graphs built and walked on float vectors (no int8 quantization)."""
    from mcrsearch.store import DEFAULT_SCHEMA, IndexSchema

    return {"default": DEFAULT_SCHEMA, "global+payload": IndexSchema(m=32, payload_m=32, tenant=False),
            "tenant": IndexSchema(m=0, payload_m=32, tenant=True),
            "tenant-m16": IndexSchema(m=0, payload_m=16, tenant=True),
            "tenant-float": IndexSchema(m=0, payload_m=32, tenant=True, quantization="none")}


def variant_name(schema: Any) -> str:
    """The named variant a schema equals (rows name the schema, not 'default', so they stay true later)."""
    return next(name for name, s in ann_variants().items() if s == schema and name != "default")


def build_ann_store(path: Path, data: np.ndarray, labels: np.ndarray, ids: list[str], schema: Any):
    """Upsert and build the HNSW graph in `path`, or reopen it when an earlier run built the same data there
    with the same schema (a 1M-vector build takes the better part of an hour on 2 cores; search settings can
    be swept on it)."""
    from dataclasses import asdict

    from mcrsearch.store import INDEXED_FIELDS, QUANTILE, EdgeBackend, PointData, Store

    marker = path / "bench-ann.json"
    want = {"vectors": len(data), "dim": int(data.shape[1]), "checksum": float(data[:: max(1, len(data) // 997)].sum()),
            "indexed_fields": list(INDEXED_FIELDS), "schema": asdict(schema), "quantile": QUANTILE}
    if marker.exists():
        done = json.loads(marker.read_text())
        if all(done.get(k) == v for k, v in want.items()):
            return Store(EdgeBackend(path / "ann", create=False), "ann"), done["upsert_s"], done["index_build_s"]
    if path.exists():
        import shutil

        shutil.rmtree(path)
    store = Store(EdgeBackend(path / "ann", create=True, schema=schema), "ann")
    store.ensure_space("s", "fp", data.shape[1], MODS)
    t0 = time.perf_counter()
    for i in range(0, len(data), 5000):
        store.upsert("s", "fp", [PointData(ids[j], {"s": data[j]}, {"modality": str(labels[j]),
                                                                     "path": f"/synthetic/{j}"})
                                 for j in range(i, min(len(data), i + 5000))])
    upsert_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    store.optimize()
    build_s = time.perf_counter() - t0
    store.close()
    marker.write_text(json.dumps({**want, "upsert_s": upsert_s, "index_build_s": build_s}))
    # Reopened, as a kept index is: closing flushes and truncates the WAL, so disk size and latency are
    # measured on the same state whether the index was built by this run or an earlier one.
    return Store(EdgeBackend(path / "ann", create=False), "ann"), upsert_s, build_s


def bench_ann(n: int, dim: int, n_queries: int, efs: list[int] | None = None,
              store_dir: Path | None = None, oversamplings: list[float] | None = None,
              variant: str = "default") -> list[dict]:
    """One row per (search ef, rescoring oversampling) on one built index of n synthetic vectors; the
    defaults are the product's SEARCH_EF and OVERSAMPLING, and its index schema."""
    import itertools
    import uuid

    from mcrsearch.store import OVERSAMPLING, SEARCH_EF

    schema = ann_variants()[variant]
    name = variant_name(schema)

    data, labels, make = synthetic(n, dim)
    ids = [str(uuid.UUID(int=i + 1)) for i in range(n)]
    queries = make(n_queries, "audio")
    target = "3d"
    pool = np.where(labels == target)[0]
    exact, exact_lat = [], []
    for q in queries:
        t0 = time.perf_counter()
        exact.append({ids[j] for j in pool[np.argsort(-(data[pool] @ q))[:10]]})
        exact_lat.append(time.perf_counter() - t0)
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(store_dir) / f"ann-{n}-{dim}-{name}" if store_dir else Path(tmp)
        store, upsert_s, build_s = build_ann_store(path, data, labels, ids, schema)
        del data
        try:
            for ef, over in itertools.product(efs or [SEARCH_EF], oversamplings or [OVERSAMPLING]):
                for q in queries[:20]:                    # warm the pages these settings touch
                    store.search("s", q, 10, [target], ef=ef, oversampling=over)
                recalls, lat = [], []
                for q, truth in zip(queries, exact):
                    t0 = time.perf_counter()
                    hits = store.search("s", q, 10, [target], ef=ef, oversampling=over)
                    lat.append(time.perf_counter() - t0)
                    recalls.append(len(truth & {h.id for h in hits}) / 10)
                rows.append({"vectors": n, "dim": dim, "queries": n_queries, "filter": f"modality={target} (~25%)",
                             "variant": name, "hnsw_ef": ef, "oversampling": over, "upsert_s": upsert_s,
                             "index_build_s": build_s,
                             "recall_at_10": float(np.mean(recalls)), "min_recall_at_10": float(np.min(recalls)),
                             "p50_ms": 1000 * pct(lat, 50), "p95_ms": 1000 * pct(lat, 95),
                             "numpy_exact_p50_ms": 1000 * pct(exact_lat, 50),
                             "disk_mb": (store.size_bytes() or 0) / 2**20})
        finally:
            store.close()
        ram_mb = search_rss_mb(path / "ann", queries, target, rows[-1]["hnsw_ef"], rows[-1]["oversampling"])
    for row in rows:                  # the engine locks an open index, so the probe runs after it is closed
        row["ram_mb"] = ram_mb
        print("ann", row, flush=True)
    return rows


def search_rss_mb(path: Path, queries: np.ndarray, target: str, ef: int, oversampling: float) -> float:
    """Resident memory a fresh process needs to open the index and answer these queries (MB, over the same
    process with the engine imported and nothing opened; page cache of the mmapped files it touches counts)."""
    with tempfile.NamedTemporaryFile(suffix=".npy") as f:
        np.save(f.name, queries)
        out = subprocess.run([sys.executable, str(ENTRY), "--rss-probe", str(path), f.name, target, str(ef),
                              str(oversampling)], capture_output=True, text=True, check=True)
    return float(out.stdout.strip().splitlines()[-1])


def rss_probe(path: str, queries: str, target: str, ef: str, oversampling: str) -> int:
    """Child of search_rss_mb: prints the resident-memory growth from opening and searching the index."""
    from mcrsearch.store import EdgeBackend, Store

    def rss_mb() -> float:
        fields = dict(line.split(":", 1) for line in Path("/proc/self/status").read_text().splitlines())
        return int(fields["VmRSS"].split()[0]) / 1024

    qs = np.load(queries)
    before = rss_mb()
    store = Store(EdgeBackend(Path(path), create=False), "ann")
    for q in qs:
        store.search("s", q, 10, [target], ef=int(ef), oversampling=float(oversampling))
    print(rss_mb() - before)
    store.close()
    return 0
