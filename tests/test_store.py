"""The store: named vectors per space, fingerprint checks, filtered search, metadata, both backends."""

from __future__ import annotations

import os
import subprocess
import sys

import numpy as np
import pytest

from mcrsearch.errors import SpaceMismatchError, StoreError
from mcrsearch.store import ClientBackend, EdgeBackend, PointData, Store, point_id

# qdrant-client's local mode stands in for a server here (same client code path); it warns that it
# ignores payload indexes and search params, which is expected.
pytestmark = pytest.mark.filterwarnings("ignore:Payload indexes have no effect:UserWarning",
                                        "ignore:Local mode performs exact:UserWarning")


def _unit(rng, n, d):
    x = rng.standard_normal((n, d)).astype(np.float32)
    return x / np.linalg.norm(x, axis=1, keepdims=True)


def _edge(tmp_path):
    return Store(EdgeBackend(tmp_path / "coll", create=True), "coll")


def _memory_client():
    from qdrant_client import QdrantClient

    return Store(ClientBackend(QdrantClient(":memory:"), "coll", location=":memory:"), "coll")


@pytest.fixture(params=["edge", "client"])
def store(request, tmp_path):
    s = _edge(tmp_path) if request.param == "edge" else _memory_client()
    yield s
    s.close()


def _fill(store, n=200, d=16, seed=0):
    rng = np.random.default_rng(seed)
    vectors = _unit(rng, n, d)
    mods = ["image", "audio", "text", "3d"]
    points = [PointData(point_id(f"/data/{i}"), {"s": vectors[i]},
                        {"path": f"/data/{i}", "modality": mods[i % 4], "hash": str(i), "spaces": ["s"]})
              for i in range(n)]
    store.ensure_space("s", "fp-a", d, mods)
    store.upsert("s", "fp-a", points)
    return vectors, mods


def test_filtered_search_matches_exact(store):
    vectors, mods = _fill(store)
    rng = np.random.default_rng(1)
    for q in _unit(rng, 5, 16):
        hits = store.search("s", q, k=5, modalities=["audio"], fingerprint="fp-a")
        assert {h.payload["modality"] for h in hits} == {"audio"}
        idx = [i for i in range(len(vectors)) if mods[i % 4] == "audio"]
        exact = sorted(idx, key=lambda i: -float(vectors[i] @ q))[:5]
        assert [h.payload["path"] for h in hits] == [f"/data/{i}" for i in exact]
    assert store.count() == 200 and store.counts()["audio"] == 50


def test_scroll_stops_at_limit_in_id_order(store):
    _fill(store, n=40)
    every = [r.id for r in store.scroll(fields=["path"], modalities=["image"])]
    assert len(every) == 10
    for limit, batch in ((0, 4), (3, 4), (4, 4), (7, 4), (50, 4)):
        got = list(store.backend.scroll(["image"], ["path"], ["s"], limit=limit, batch=batch))
        assert [r.id for r in got] == every[:limit], (limit, batch)
        assert all(set(r.vectors) == {"s"} for r in got)
    assert [r.id for r in store.scroll(modalities=["image"], limit=2)] == every[:2]


def test_foreign_space_refused_on_write_and_query(store):
    _fill(store)
    with pytest.raises(SpaceMismatchError, match="different 's' space"):
        store.ensure_space("s", "fp-b", 16, ["image"])
    with pytest.raises(SpaceMismatchError):
        store.upsert("s", "fp-b", [PointData(point_id("/x"), {"s": np.ones(16)}, {"modality": "image"})])
    with pytest.raises(SpaceMismatchError):
        store.search("s", np.ones(16), fingerprint="fp-b")
    with pytest.raises(SpaceMismatchError, match="no vectors in space 'other'"):
        store.search("other", np.ones(16))


def test_upsert_same_ids_never_duplicates(store):
    _fill(store)
    _fill(store, seed=5)
    assert store.count() == 200
    assert point_id("/a/b.png") == point_id("/a/b.png") != point_id("/a/c.png")


@pytest.mark.parametrize("path", ["/a/b.png", "", "/données/été.wav", "/日本/猫.obj", "/x/🐶.txt", "/y/" + "z" * 500])
def test_point_id_is_the_uuid5_of_the_path(path):
    """Ids are stored: the fast construction must give exactly the RFC 4122 uuid5 of earlier releases."""
    import uuid

    from mcrsearch.store import _NAMESPACE

    assert point_id(path) == str(uuid.uuid5(_NAMESPACE, path))


def test_point_id_of_a_path_object_and_of_a_non_utf8_name():
    from pathlib import Path

    assert point_id(Path("/a/b.png")) == point_id("/a/b.png")
    bad = os.fsdecode(b"/a/\xff.png")            # what os.walk gives for a name that is not UTF-8
    assert point_id(bad) != point_id("/a/.png") and len(point_id(bad)) == 36


def test_second_space_keeps_vectors_of_the_first(tmp_path):
    store = _edge(tmp_path)
    _fill(store)
    store.ensure_space("t", "fp-t", 8, ["image"])
    pid = point_id("/data/0")
    payload = {"path": "/data/0", "modality": "image", "hash": "0", "spaces": ["t"]}
    store.set_vectors_keep_others("t", "fp-t", [PointData(pid, {"t": np.ones(8)}, payload)])
    rec = store.retrieve([pid], with_vectors=True)[0]
    assert set(rec.vectors) == {"s", "t"} and sorted(rec.payload["spaces"]) == ["s", "t"]
    scrolled = {r.id: set(r.vectors) for r in store.scroll(modalities=["image"], with_vectors=["t"])}
    assert scrolled.pop(pid) == {"t"} and set(map(frozenset, scrolled.values())) == {frozenset()}, \
        "a named-vector scroll returns that space's vectors only"
    store.close()


def test_metadata_survives_reopen_and_lock_is_reported(tmp_path):
    from mcrsearch.config import Settings

    settings = Settings(home=tmp_path, collection="coll", store_path=tmp_path)
    store = Store.open(settings, create=True)
    _fill(store)
    store.set_calibration("s", {"image->audio": [0.1, 0.2]})
    twin = Store.open(settings)                  # same process: shares the open shard
    assert twin.count() == 200
    twin.close()
    assert store.count() == 200
    code = ("import sys; from pathlib import Path; from mcrsearch.config import Settings; "
            "from mcrsearch.store import Store; from mcrsearch.errors import StoreError\n"
            f"try: Store.open(Settings(home=Path({str(tmp_path)!r}), collection='coll', "
            f"store_path=Path({str(tmp_path)!r})))\nexcept StoreError as e: print(e); sys.exit(5)")
    other = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert other.returncode == 5 and "in use by another" in other.stdout
    store.close()
    again = Store.open(settings)
    assert again.spaces()["s"].fingerprint == "fp-a"
    assert again.spaces()["s"].calibration == {"image->audio": [0.1, 0.2]}
    assert again.count() == 200 and again.size_bytes() > 0
    again.close()


def test_missing_collection_is_one_clear_error(tmp_path):
    from mcrsearch.config import Settings

    with pytest.raises(StoreError, match="run 'mcrsearch index PATH' first"):
        Store.open(Settings(home=tmp_path, collection="nothing"))


@pytest.mark.slow
def test_filtered_hnsw_recall_at_50k():
    """The chosen HNSW schema keeps filtered recall@10 >= 0.99 once the graph is built (not exact search)."""
    import importlib.util
    from pathlib import Path

    spec = importlib.util.spec_from_file_location("perf", Path(__file__).parents[1] / "benchmarks" / "perf.py")
    perf = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(perf)
    row = perf.bench_ann(50_000, 256, 100)[0]
    assert row["recall_at_10"] >= 0.99


def test_quantized_search_keeps_top_k_of_near_duplicates_and_float_scores(tmp_path):
    """Once optimized, the engine picks candidates on int8 codes; among tight clusters of near-duplicates the
    hits must still be the exact top-k with float cosines, since calibration and fused ranking use them."""
    rng = np.random.default_rng(3)
    n, d = 12_000, 256                      # 12 MB of float vectors: above the full-scan threshold
    centers = _unit(rng, 60, d)
    vectors = centers[rng.integers(0, 60, n)] + 0.08 * _unit(rng, n, d)   # clustered, like real embeddings
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    mods = np.array(["image", "audio", "text", "3d"])[rng.integers(0, 4, n)]
    store = _edge(tmp_path)
    store.ensure_space("s", "fp", d, list(set(mods)))
    store.upsert("s", "fp", [PointData(point_id(f"/v/{i}"), {"s": vectors[i]},
                                       {"path": f"/v/{i}", "modality": str(mods[i])}) for i in range(n)])
    store.optimize()
    pool = np.where(mods == "3d")[0]
    recalls = []
    for q in centers[:20] + 0.05 * _unit(rng, 20, d):
        q = q / np.linalg.norm(q)
        hits = store.search("s", q, k=10, modalities=["3d"], fingerprint="fp")
        exact = pool[np.argsort(-(vectors[pool] @ q))[:10]]
        recalls.append(len({f"/v/{i}" for i in exact} & {h.payload["path"] for h in hits}) / 10)
        for h in hits:
            i = int(h.payload["path"].rsplit("/", 1)[1])
            assert h.score == pytest.approx(float(vectors[i] @ q), abs=1e-5)
    store.close()
    assert np.mean(recalls) >= 0.99


@pytest.mark.parametrize("backend", ["edge", "client"])
def test_tenant_schema_without_global_graph_searches_each_modality(tmp_path, backend):
    """Modality as the tenant key, per-modality graphs and no global graph (m=0): a one-modality search is
    answered in its own graph, and a search over several modalities merges one search per modality, so it
    still returns the exact top-k across them (with float scores)."""
    from qdrant_client import QdrantClient

    from mcrsearch.store import IndexSchema

    schema = IndexSchema(m=0, payload_m=16, tenant=True)
    store = Store(EdgeBackend(tmp_path / "coll", create=True, schema=schema), "coll") if backend == "edge" else \
        Store(ClientBackend(QdrantClient(":memory:"), "coll", location=":memory:", schema=schema), "coll")
    rng = np.random.default_rng(5)
    n, d = 3000, 64
    vectors = _unit(rng, n, d)
    mods = np.array(["image", "audio", "text", "3d"])[rng.integers(0, 4, n)]
    store.ensure_space("s", "fp", d, ["image", "audio", "text", "3d"])
    store.upsert("s", "fp", [PointData(point_id(f"/t/{i}"), {"s": vectors[i]},
                                       {"path": f"/t/{i}", "modality": str(mods[i])}) for i in range(n)])
    store.optimize()
    for q in _unit(rng, 5, d):
        for targets in (["audio"], ["image", "3d"], None):
            pool = np.arange(n) if targets is None else np.where(np.isin(mods, targets))[0]
            exact = [f"/t/{i}" for i in pool[np.argsort(-(vectors[pool] @ q))[:10]]]
            hits = store.search("s", q, k=10, modalities=targets, fingerprint="fp")
            assert [h.payload["path"] for h in hits] == exact
            assert all(h.payload["modality"] in (targets or mods) for h in hits)
    if backend == "edge":
        import json

        hnsw = json.loads((tmp_path / "coll" / "edge_config.json").read_text())["hnsw_config"]
        assert (hnsw["m"], hnsw["payload_m"]) == (0, 16)
    store.close()
