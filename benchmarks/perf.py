"""Performance benchmark of the index/query path; writes the `perf` section of docs/BENCHMARKS.md.

    python benchmarks/perf.py                       # default sizes (10k, 100k vectors), all parts
    python benchmarks/perf.py --sizes 10000,100000,1000000 --parts ann --store-dir ~/perf-ann   # keeps the built indexes
    python benchmarks/perf.py --sizes 1000000 --parts ann --store-dir ~/perf-ann --efs 64,128,256   # sweep on them
    python benchmarks/perf.py --parts indexing,reindex,query --items 200
    python benchmarks/perf.py --parts indexing --spaces bench-tiny-clip --workers 2   # decode threads, for comparison
    python benchmarks/perf.py --parts breakdown --spaces tiny-real --items 1000 --rounds 5   # stage by stage

Parts:
- indexing: index wall time vs embedding the same files without an index (decode + encode) and vs the
  encoder's forward passes alone (tiny real encoders: random open_clip "tiny", CLAP "tiny", ULIP-2 PointBERT
  "tiny"; the full-size architectures; the mini-world space after `mcrsearch demo`).
- breakdown: the index run's stages timed one by one on the same files (same --spaces, --items, --rounds).
- reindex: re-index an unchanged tree of N small files (default 10k).
- query: latency p50/p95 warm (in-process Client) and cold (a new `mcrsearch query` process each time).
- ann: embedded Qdrant Edge search latency and recall@10 against exact search, with a target-modality
  filter, at each size (synthetic clustered 512-d vectors with a per-modality offset, like real spaces).
Numbers are measured on the machine it runs on; nothing is typed by hand.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Iterable, Iterator

import numpy as np

from mcrsearch.benchmark.report import write_section

REPO = Path(__file__).resolve().parents[1]
MODS = ("image", "audio", "3d", "text")
# --spaces names: a group, or one space; each space with the modalities its corpus holds
_TINY = {"bench-tiny-clip": ("image", "text"), "bench-tiny-clap": ("audio",), "bench-tiny-ulip": ("3d",)}
_FULL = {"bench-full-clip": ("image", "text"), "bench-full-clap": ("audio",), "bench-full-ulip": ("3d",)}
INDEXING_SPACES: dict[str, list[tuple[str, tuple[str, ...]]]] = {
    "tiny-real": list(_TINY.items()),
    "full-real": list(_FULL.items()),     # the real architectures at full size, random weights: real model cost
    "miniworld": [("miniworld", MODS)],
    **{name: [(name, mods)] for name, mods in {**_TINY, **_FULL}.items()},
}


# ----------------------------------------------------------------------------- spaces used here

def _register_spaces() -> None:
    """Spaces the benchmark builds itself, registered so that a cold `mcrsearch query` process finds them."""
    from mcrsearch.space import SPACE_BUILDERS, Route, Space, register_space

    def tiny_clip(settings):
        from mcrsearch.encoders import create_encoder

        enc = create_encoder("openclip", config="tiny", random_init=True, device="cpu")
        return Space("bench-tiny-clip", {"image": Route(enc), "text": Route(enc)}, enc.dim)

    def tiny_clap(settings):
        from mcrsearch.encoders import create_encoder

        enc = create_encoder("clap", config="tiny", random_init=True, device="cpu")
        return Space("bench-tiny-clap", {"audio": Route(enc)}, enc.dim)

    def tiny_ulip(settings):
        from mcrsearch.encoders import create_encoder

        enc = create_encoder("ulip2", config="tiny", random_init=True, device="cpu")
        return Space("bench-tiny-ulip", {"3d": Route(enc)}, enc.dim)

    def full(family: str, config: str, name: str, mods: tuple[str, ...]):
        def build(settings):
            from mcrsearch.encoders import create_encoder

            enc = create_encoder(family, config=config, random_init=True, device="cpu")
            return Space(name, {m: Route(enc) for m in mods}, enc.dim)
        return build

    def hashed(settings):
        return Space("bench-hash", {m: Route(_HashEncoder()) for m in MODS}, 32)

    for name, fn in (("bench-tiny-clip", tiny_clip), ("bench-tiny-clap", tiny_clap),
                     ("bench-tiny-ulip", tiny_ulip), ("bench-hash", hashed),
                     ("bench-full-clip", full("openclip", "ViT-B-32-quickgelu", "bench-full-clip", ("image", "text"))),
                     ("bench-full-clap", full("clap", "HTSAT-tiny-fusion", "bench-full-clap", ("audio",))),
                     ("bench-full-ulip", full("ulip2", "pointbert-ulip2", "bench-full-ulip", ("3d",)))):
        if name not in SPACE_BUILDERS:
            register_space(name)(fn)


def _hash_encoder_cls():
    from mcrsearch.encoders.base import Encoder
    from mcrsearch.modality import Modality

    class HashEncoder(Encoder):
        """Near-free encoder: isolates the pipeline's own cost (scan, hash, decode, upsert)."""

        family = "bench-hash"
        modalities = tuple(Modality)
        dim = 32

        def __init__(self) -> None:
            super().__init__({}, "hash")

        def _encode(self, modality, items):
            out = []
            for item in items:
                raw = item.samples if hasattr(item, "samples") else item
                blob = raw.encode() if isinstance(raw, str) else np.asarray(raw).tobytes()[:4096]
                seed = int.from_bytes(__import__("hashlib").sha256(blob).digest()[:4], "little")
                out.append(np.random.default_rng(seed).standard_normal(32))
            return np.asarray(out, dtype=np.float32)

    return HashEncoder


class _HashEncoder:  # placeholder replaced on first use (keeps module import light)
    def __new__(cls):
        return _hash_encoder_cls()()


# ----------------------------------------------------------------------------- corpora

def write_corpus(folder: Path, per_modality: int, modalities=MODS, small: bool = False, seed: int = 0) -> int:
    """Real files: PNG images, WAV tones, NPY point clouds, TXT captions (small=True: tiny files)."""
    import soundfile as sf
    from PIL import Image

    rng = np.random.default_rng(seed)
    words = "red green blue dog cat car bird drum bell chair table lamp wind rain engine".split()
    count = 0
    for m in modalities:
        sub = folder / m
        sub.mkdir(parents=True, exist_ok=True)
        for i in range(per_modality):
            if m == "image":
                side = 8 if small else 96
                Image.fromarray(rng.integers(0, 255, (side, side, 3), dtype=np.uint8)).save(sub / f"{i}.png")
            elif m == "audio":
                rate = 8000 if small else 16000
                n = rate // 10 if small else rate * 2
                t = np.arange(n) / rate
                sf.write(sub / f"{i}.wav", (0.3 * np.sin(2 * np.pi * rng.uniform(100, 3000) * t)).astype(np.float32),
                         rate)
            elif m == "3d":
                np.save(sub / f"{i}.npy", rng.standard_normal((64 if small else 2048, 3)).astype(np.float32))
            else:
                (sub / f"{i}.txt").write_text(" ".join(rng.choice(words, 6)))
            count += 1
    return count


# ----------------------------------------------------------------------------- parts

@contextmanager
def _corpus_and_space(name: str, mods: tuple[str, ...], items: int) -> Iterator[tuple[Path, int, Any, Any]]:
    """A temporary corpus of `items` files per modality, the settings and the space that embeds it."""
    from mcrsearch.config import load_settings
    from mcrsearch.space import create_space

    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        n = write_corpus(tmp / "corpus", items, mods)
        # the mini-world space lives in the user's home (after `mcrsearch demo`); the index stays temporary
        home = None if name == "miniworld" else tmp / "home"
        base = load_settings(home=home, store_path=tmp / "index", device="cpu")
        yield tmp, n, base, create_space(name, base)


def bench_indexing(items: int, spaces: list[tuple[str, tuple[str, ...]]], rounds: int,
                   workers: int = 0) -> list[dict]:
    """Interleave `rounds` of three passes over the same files and report each run's ratios.

    - model pass: the encoder alone on items decoded beforehand (same batch sizes);
    - files pass: decode the files in order and embed each modality's batch as soon as it is full, one
      thread, bounded memory: what embedding these files costs with no index at all, streamed as any
      embedding job over a real library must be (the baseline for the indexer's overhead);
    - index run: a full `index_path` into an existing empty collection, with `workers` decode threads
      (0: the product's choice, `decode_workers`).
    """
    from mcrsearch_indexer import index_path, scan
    from mcrsearch_indexer.pipeline import decode_workers
    from mcrsearch import media
    from mcrsearch.config import load_settings
    from mcrsearch.device import default_batch_size
    from mcrsearch.modality import Modality
    from mcrsearch.store import Store

    rows = []
    for name, mods in spaces:
        with _corpus_and_space(name, mods, items) as (tmp, n, base, space):
            files = scan(tmp / "corpus")

            batch_size = {m: default_batch_size("cpu", m.value, base.batch_size) for m in space.modalities}

            def decoded_items() -> Iterator[tuple[Modality, Any]]:
                for f in files:
                    yield media.decode(f.path, f.modality, n_points=space.mesh_points)

            def embed_stream(items: Iterable[tuple[Modality, Any]]) -> None:
                pending: dict[Modality, list] = {m: [] for m in batch_size}
                for m, item in items:
                    pending[m].append(item)
                    if len(pending[m]) >= batch_size[m]:
                        space.embed(m, pending[m])
                        pending[m] = []
                for m, rest in pending.items():
                    if rest:
                        space.embed(m, rest)

            predecoded = list(decoded_items())
            space.embed(predecoded[0][0], [predecoded[0][1]])   # warm-up, as indexing gets

            def model_pass() -> float:
                t0 = time.perf_counter()
                embed_stream(predecoded)
                return time.perf_counter() - t0

            def files_pass() -> float:
                t0 = time.perf_counter()
                embed_stream(decoded_items())
                return time.perf_counter() - t0

            models, from_files, walls, inside, creates = [], [], [], [], []
            for r in range(rounds):
                models.append(model_pass())
                from_files.append(files_pass())
                settings = load_settings(home=tmp / "home", device="cpu", collection=f"perf-{name}-{r}",
                                         workers=workers)
                t0 = time.perf_counter()             # one-off collection creation, reported on its own
                with Store.open(settings, create=True) as store:
                    store.ensure_space(space.name, space.fingerprint, space.dim, space.modalities)
                creates.append(time.perf_counter() - t0)
                report = index_path(tmp / "corpus", settings, space=space, progress=False)
                assert report.indexed == n, report.to_dict()
                walls.append(report.seconds)
                inside.append(report.encode_seconds)
            rows.append({"space": name, "modalities": "+".join(mods), "items": n, "rounds": rounds,
                         "decode_threads": decode_workers(settings, space),
                         "index_s": statistics.median(walls), "encoder_in_index_s": statistics.median(inside),
                         "pure_encoder_s": statistics.median(models),
                         "streamed_encoder_s": statistics.median(from_files),
                         "index_best_s": min(walls), "streamed_best_s": min(from_files),
                         "create_s": statistics.median(creates), "items_per_s": n / statistics.median(walls),
                         "ratio_per_round": [round(w / f, 2) for w, f in zip(walls, from_files)],
                         "model_ratio_per_round": [round(w / p, 2) for w, p in zip(walls, models)]})
            print("indexing", rows[-1], flush=True)
    return rows


def _modality_batches(modalities: list[Any], batch_size: dict) -> Iterator[list[int]]:
    """Positions of items split as the index batches them: per modality, in that modality's batch size."""
    by_mod: dict[Any, list[int]] = {}
    for i, m in enumerate(modalities):
        by_mod.setdefault(m, []).append(i)
    for m, idx in by_mod.items():
        for start in range(0, len(idx), batch_size[m]):
            yield idx[start:start + batch_size[m]]


def _embed_all(space, decoded: list[tuple[Any, Any]], batch_size: dict) -> list:
    """Vectors for (modality, item) pairs, embedded in the index's batches; input order."""
    out: list = [None] * len(decoded)
    for chunk in _modality_batches([m for m, _item in decoded], batch_size):
        for i, vec in zip(chunk, space.embed(decoded[chunk[0]][0], [decoded[i][1] for i in chunk])):
            out[i] = vec
    return out


def bench_breakdown(items: int, spaces: list[tuple[str, tuple[str, ...]]], rounds: int) -> list[dict]:
    """Where an index run's time goes beyond embedding the files: each stage timed on its own, same files.

    Per item: scan, read + hash, decode from those bytes (the index) and from the path (the from-files
    pass), the encoder's forward passes, building the points (payload, id), and the store write (the
    binding's conversion of each point and the engine's upsert, in the index's batch sizes). Per run:
    opening the collection, calibration, closing it (the flush). `index-only` adds what an index run does
    beyond the from-files pass, so `stage-sum ratio` predicts the indexing part's overhead ratio.
    """
    from mcrsearch_indexer import index_path, scan
    from mcrsearch_indexer.pipeline import new_point
    from mcrsearch_indexer.report import STAGES
    from mcrsearch import media
    from mcrsearch.config import load_settings
    from mcrsearch.device import default_batch_size
    from mcrsearch.calibration import compute_calibration
    from mcrsearch.store import Store

    rows = []
    for name, mods in spaces:
        with _corpus_and_space(name, mods, items) as (tmp, n, base, space):
            batch_size = {m: default_batch_size("cpu", m.value, base.batch_size) for m in space.modalities}
            max_bytes = int(base.max_file_mb * 2**20)
            stages: dict[str, list[float]] = {}

            def timed(stage: str, fn):
                t0 = time.perf_counter()
                result = fn()
                stages.setdefault(stage, []).append(time.perf_counter() - t0)
                return result

            for r in range(rounds):
                files = timed("scan", lambda: scan(tmp / "corpus"))
                read = timed("hash", lambda: [media.read_hashed(f.path) for f in files])
                decoded = timed("decode_bytes", lambda: [
                    media.decode(f.path, f.modality, n_points=space.mesh_points, max_bytes=max_bytes, data=data)
                    for f, (_digest, data) in zip(files, read)])
                timed("decode_path", lambda: [media.decode(f.path, f.modality, n_points=space.mesh_points)
                                              for f in files])
                vectors = timed("encode", lambda: _embed_all(space, decoded, batch_size))
                points = timed("points", lambda: [
                    new_point(f, digest, m, media.describe(m, item) or {}, space.name, vec)
                    for f, (digest, _data), (m, item), vec in zip(files, read, decoded, vectors)])
                settings = load_settings(home=tmp / "home", device="cpu", collection=f"parts-{name}-{r}")
                with Store.open(settings, create=True) as store:
                    store.ensure_space(space.name, space.fingerprint, space.dim, space.modalities)
                store = timed("open", lambda: Store.open(settings))
                batches = [[points[i] for i in chunk]
                           for chunk in _modality_batches([m for m, _item in decoded], batch_size)]
                timed("write", lambda: [store.set_vectors_keep_others(space.name, space.fingerprint, batch,
                                                                      stored_ids=[]) for batch in batches])
                timed("calibration", lambda: store.set_calibration(space.name,
                                                                   compute_calibration(store, space.name)))
                timed("close", store.close)
                # the real indexer over the same files, into a fresh collection: its own stage timings
                real = index_path(tmp / "corpus", load_settings(home=tmp / "home", device="cpu",
                                                                collection=f"real-{name}-{r}"), space=space)
                for stage, seconds in real.stage_seconds.items():
                    stages.setdefault(f"indexer_{stage}", []).append(seconds)
            med = {k: statistics.median(v) for k, v in stages.items()}
            per_item = ("scan", "hash", "decode_bytes", "decode_path", "encode", "points", "write")
            fixed = ("open", "calibration", "close")
            per_item_only = (med["scan"] + med["hash"] + med["decode_bytes"] - med["decode_path"] + med["points"]
                             + med["write"])
            index_only = per_item_only + sum(med[k] for k in fixed)
            from_files = med["decode_path"] + med["encode"]
            rows.append({"space": name, "items": n, "rounds": rounds,
                         **{f"{k}_us": med[k] / n * 1e6 for k in per_item},
                         **{f"{k}_ms": med[k] * 1e3 for k in fixed},
                         "index_only_ms": index_only * 1e3, "from_files_ms": from_files * 1e3,
                         "stage_sum_ratio": (from_files + index_only) / from_files,
                         "per_item_ratio": (from_files + per_item_only) / from_files,
                         **{f"indexer_{k}_us": med[f"indexer_{k}"] / n * 1e6 for k in STAGES}})
            print("breakdown", rows[-1], flush=True)
    return rows


def bench_reindex(n_files: int) -> dict:
    from mcrsearch_indexer import index_path
    from mcrsearch.config import load_settings

    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        write_corpus(tmp / "tree", n_files // 4, small=True)
        settings = load_settings(home=tmp / "home", device="cpu", collection="perf-reindex")
        first = index_path(tmp / "tree", settings, space="bench-hash", progress=False)
        second = index_path(tmp / "tree", settings, space="bench-hash", progress=False)
        assert second.unchanged == first.indexed and second.indexed == 0
        row = {"files": first.indexed, "first_index_s": first.seconds, "reindex_unchanged_s": second.seconds}
        print("reindex", row, flush=True)
        return row


def _pct(values: list[float], q: float) -> float:
    return float(np.percentile(np.asarray(values), q))


def bench_query(items: int, runs: int, cold_runs: int) -> dict:
    from mcrsearch_indexer import index_path
    from mcrsearch.api import Client
    from mcrsearch.config import load_settings

    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        write_corpus(tmp / "corpus", items, ("image", "text"))
        settings = load_settings(home=tmp / "home", device="cpu", collection="perf-query")
        index_path(tmp / "corpus", settings, space="bench-tiny-clip", progress=False)
        like = str(tmp / "corpus" / "image" / "0.png")
        with Client(settings=settings) as client:
            client.query(text="warm up", target="image", k=10)
            text_lat, like_lat = [], []
            for i in range(runs):
                t0 = time.perf_counter()
                client.query(text=f"a red dog number {i}", target="image", k=10)
                text_lat.append(time.perf_counter() - t0)
                t0 = time.perf_counter()
                client.query(like=like, target="text", k=10)
                like_lat.append(time.perf_counter() - t0)
        cold = []
        for i in range(cold_runs):
            cmd = [sys.executable, str(Path(__file__).resolve()), "--cold-query", str(settings.home),
                   f"a blue car {i}"]
            t0 = time.perf_counter()
            subprocess.run(cmd, check=True, capture_output=True)
            cold.append(time.perf_counter() - t0)
        row = {"collection_items": 2 * items, "runs": runs,
               "warm_text_p50_ms": 1000 * _pct(text_lat, 50), "warm_text_p95_ms": 1000 * _pct(text_lat, 95),
               "warm_like_p50_ms": 1000 * _pct(like_lat, 50), "warm_like_p95_ms": 1000 * _pct(like_lat, 95),
               "cold_runs": cold_runs, "cold_p50_s": _pct(cold, 50), "cold_p95_s": _pct(cold, 95)}
        print("query", row, flush=True)
        return row


def _cold_query(home: str, text: str) -> int:
    _register_spaces()
    from mcrsearch.cli import main

    return main(["--home", home, "--device", "cpu", "query", "--text", text, "--target", "image",
                 "--collection", "perf-query", "--json"])


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


def _variant_name(schema: Any) -> str:
    """The named variant a schema equals (rows name the schema, not 'default', so they stay true later)."""
    return next(name for name, s in ann_variants().items() if s == schema and name != "default")


def _build_ann_store(path: Path, data: np.ndarray, labels: np.ndarray, ids: list[str], schema: Any):
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
    name = _variant_name(schema)

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
        store, upsert_s, build_s = _build_ann_store(path, data, labels, ids, schema)
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
                             "p50_ms": 1000 * _pct(lat, 50), "p95_ms": 1000 * _pct(lat, 95),
                             "numpy_exact_p50_ms": 1000 * _pct(exact_lat, 50),
                             "disk_mb": (store.size_bytes() or 0) / 2**20})
        finally:
            store.close()
        ram_mb = _search_rss_mb(path / "ann", queries, target, rows[-1]["hnsw_ef"], rows[-1]["oversampling"])
    for row in rows:                  # the engine locks an open index, so the probe runs after it is closed
        row["ram_mb"] = ram_mb
        print("ann", row, flush=True)
    return rows


def _search_rss_mb(path: Path, queries: np.ndarray, target: str, ef: int, oversampling: float) -> float:
    """Resident memory a fresh process needs to open the index and answer these queries (MB, over the same
    process with the engine imported and nothing opened; page cache of the mmapped files it touches counts)."""
    with tempfile.NamedTemporaryFile(suffix=".npy") as f:
        np.save(f.name, queries)
        out = subprocess.run([sys.executable, __file__, "--rss-probe", str(path), f.name, target, str(ef),
                              str(oversampling)], capture_output=True, text=True, check=True)
    return float(out.stdout.strip().splitlines()[-1])


def _rss_probe(path: str, queries: str, target: str, ef: str, oversampling: str) -> int:
    """Child of _search_rss_mb: prints the resident-memory growth from opening and searching the index."""
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


# ----------------------------------------------------------------------------- report

def _table(rows: list[dict], cols: list[tuple[str, str, str]]) -> str:
    head = "| " + " | ".join(c[1] for c in cols) + " |\n|" + "---|" * len(cols) + "\n"
    body = ""
    for r in rows:
        body += "| " + " | ".join(format(r[c[0]], c[2]) if c[2] else str(r[c[0]]) for c in cols) + " |\n"
    return head + body


MERGED_PARTS = ("indexing", "breakdown", "ann")   # tables whose rows accumulate across runs, each row naming its command


def _provenance(results: dict) -> list[tuple[str, dict]]:
    """(part, command) pairs: one per part, or one per distinct command behind a merged part's rows."""
    pairs = []
    for part, meta in sorted(results.get("_runs", {}).items()):
        if part not in results:
            continue
        if part in MERGED_PARTS:
            seen: dict[str, dict] = {}
            for row in results[part]:
                seen.setdefault(row["produced_by"]["command"], row["produced_by"])
            pairs += [(part, m) for m in seen.values()]
        else:
            pairs.append((part, meta))
    return pairs


def render(results: dict) -> str:
    """Markdown for every part measured so far; each part says which command produced it and when."""
    from mcrsearch.store import DEFAULT_SCHEMA, INDEXED_FIELDS, INDEXING_THREADS, OVERSAMPLING, QUANTILE, SEARCH_EF

    schema = DEFAULT_SCHEMA
    lines = ["## Performance (index, re-index, query, ANN)", "",
             f"Machine: {platform.machine()} with {os.cpu_count()} CPU cores (shared with other jobs), Python "
             f"{platform.python_version()}, CPU only. Embedded store: qdrant-edge-py, index schema "
             f"'{_variant_name(schema)}': HNSW m={schema.m}, ef_construct={schema.ef_construct}, "
             f"payload_m={schema.payload_m} (per-modality graphs for filtered search), built with {INDEXING_THREADS} "
             f"threads on {'int8 scalar-quantized' if schema.quantization == 'int8' else 'float'} vectors "
             f"(quantile {QUANTILE}); search ef={SEARCH_EF}, the best {OVERSAMPLING:g} x k candidates rescored with "
             f"the float vectors; {'tenant ' if schema.tenant else ''}keyword payload index on "
             f"{'/'.join(INDEXED_FIELDS)}.", "",
             "Produced by: " + "; ".join(f"{part}: `{meta['command']}` ({meta['when']})"
                                        for part, meta in _provenance(results)), ""]
    if "indexing" in results:
        shown = [{**row, "ratio_median": statistics.median(row["ratio_per_round"]),
                  "ratio_best": row["index_best_s"] / row["streamed_best_s"],
                  "model_ratio_median": statistics.median(row["model_ratio_per_round"])}
                 for row in results["indexing"]]
        lines += ["### Indexing throughput and overhead over the encoder", "",
                  "Three passes over the same files, interleaved per round; times are medians over the rounds. "
                  "`encoder from files s` decodes the files in order and embeds each batch as soon as it is full, in "
                  "one thread: the cost of embedding these files with no index, streamed as any job over a real "
                  "library must be. `index wall s` is a full `index_path` run into an existing empty collection: "
                  "scan, hashing, decoding (in the encoding thread on CPU, see `decode_workers`), encoding, upserts, "
                  "calibration and the HNSW optimize step (creating a collection is a one-off cost of its own, "
                  "`create s`). `overhead ratio` = index wall / encoder from files, the median of the per-round "
                  "ratios (listed in `per round`); target <= 1.25. `best-of ratio` = the fastest index run / the "
                  "fastest from-files pass: on a machine shared with other jobs, interference only ever adds time, so"
                  " the minimum is the steadiest estimate of the cost itself (as Python's timeit documentation "
                  "advises). `model-only ratio` = index wall / the encoder's forward passes alone on items decoded "
                  "beforehand: for the tiny and mini-world encoders reading and decoding a file costs as much as "
                  "embedding it, so this ratio counts decoding, which any embedding of files must do, as overhead. "
                  "The `bench-full-*` rows are the real architectures at full size (random weights). `decode "
                  "threads`: 0 = files decoded in the encoding thread, the product's choice when every encoder runs "
                  "on the CPU; rows with threads were measured with `--workers N` for comparison. A space measured "
                  "at two folder sizes (`--items`) shows the once-per-run costs (open, calibration, close: see the "
                  "breakdown below) taking a smaller share of a larger run.", "",
                  _table(shown, [("space", "space", ""), ("modalities", "modalities", ""),
                                 ("decode_threads", "decode threads", ""),
                                 ("items", "items", ""), ("create_s", "create s", ".2f"),
                                 ("index_s", "index wall s", ".2f"),
                                 ("streamed_encoder_s", "encoder from files s", ".2f"),
                                 ("pure_encoder_s", "model only s", ".2f"),
                                 ("encoder_in_index_s", "model s inside index", ".2f"),
                                 ("items_per_s", "items/s", ".1f"),
                                 ("ratio_median", "overhead ratio", ".2f"),
                                 ("ratio_best", "best-of ratio", ".2f"),
                                 ("model_ratio_median", "model-only ratio", ".2f"),
                                 ("ratio_per_round", "per round", "")]), ""]
    if "breakdown" in results:
        lines += ["### Where an index run's time goes beyond the encoder", "",
                  "Each stage timed on its own over the same files (medians over rounds), per item in "
                  "microseconds and per run in milliseconds. `decode from path` is what the from-files pass does "
                  "instead of `read + hash` and `decode from bytes`; `build points` is the payload and id of each "
                  "point; `store write` is the upsert in the index's batch sizes (qdrant-edge-py converting each "
                  "point's vector and payload to its own types, then the engine's write); open, calibration and "
                  "close (which flushes) happen once per run. `index-only ms` sums what an index run adds to the "
                  "from-files pass, so `stage-sum ratio` = (from files + index-only) / from files predicts the "
                  "overhead ratio above, without the interference between stages (which the indexing part's per-round ratios "
                  "include); `per-item ratio` leaves out the once-per-run costs: what the ratio tends to on a large "
                  "folder.", "",
                  _table(results["breakdown"], [
                      ("space", "space", ""), ("items", "items", ""), ("scan_us", "scan us", ".0f"),
                      ("hash_us", "read + hash us", ".0f"), ("decode_bytes_us", "decode from bytes us", ".0f"),
                      ("decode_path_us", "decode from path us", ".0f"), ("encode_us", "encode us", ".0f"),
                      ("points_us", "build points us", ".0f"), ("write_us", "store write us", ".0f"),
                      ("open_ms", "open ms", ".0f"), ("calibration_ms", "calibration ms", ".0f"),
                      ("close_ms", "close ms", ".0f"), ("index_only_ms", "index-only ms", ".0f"),
                      ("from_files_ms", "from files ms", ".0f"), ("stage_sum_ratio", "stage-sum ratio", ".2f"),
                      ("per_item_ratio", "per-item ratio", ".2f")]),
                  ""]
        measured = [r for r in results["breakdown"] if "indexer_encode_us" in r]
        if measured:
            lines += ["The real indexer's own stage timings over the same files (`IndexReport.stage_seconds`, "
                      "recorded by every `mcrsearch index` run; per item, medians over rounds):", "",
                      _table(measured, [("space", "space", ""), ("items", "items", ""),
                                        ("indexer_read_hash_us", "read + hash us", ".0f"),
                                        ("indexer_decode_us", "decode us", ".0f"),
                                        ("indexer_encode_us", "encode us", ".0f"),
                                        ("indexer_write_us", "store write us", ".0f")]), ""]
    if "reindex" in results:
        r = results["reindex"]
        lines += ["### Re-index of an unchanged tree", "",
                  f"{r['files']} small files (image/audio/3d/text): first index {r['first_index_s']:.1f} s "
                  f"(near-free hash encoder), re-index with nothing changed **{r['reindex_unchanged_s']:.2f} s** "
                  "(one stat per file against the payload already in the store; no hashing, decoding or model).", ""]
    if "query" in results:
        r = results["query"]
        lines += ["### Query latency", "",
                  f"Collection of {r['collection_items']} items (tiny random open_clip space). Warm = in-process "
                  f"`mcrsearch.Client`, {r['runs']} runs; cold = a new `mcrsearch query --json` process per run "
                  f"({r['cold_runs']} runs: interpreter start, imports, model build, store open, query).", "",
                  "| query | p50 | p95 |\n|---|---|---|",
                  f"| warm text -> image (encode + search) | {r['warm_text_p50_ms']:.1f} ms | {r['warm_text_p95_ms']:.1f} ms |",
                  f"| warm --like -> text (stored vector + search) | {r['warm_like_p50_ms']:.1f} ms | "
                  f"{r['warm_like_p95_ms']:.1f} ms |",
                  f"| cold process, text -> image | {r['cold_p50_s']:.2f} s | {r['cold_p95_s']:.2f} s |", ""]
    if "ann" in results:
        lines += ["### Filtered vector search: recall@10 against exact search", "",
                  "Synthetic clustered unit vectors with a per-modality offset; queries are 'audio' vectors, the "
                  "filter keeps the '3d' quarter; exact = numpy brute force over the filtered set. Targets: "
                  "recall@10 >= 0.99 at 100k, p50 <= 10 ms at 1M. Rows of variant "
                  f"'{_variant_name(schema)}' with search ef {SEARCH_EF} and {OVERSAMPLING:g} x k rescored are the "
                  "product's settings; other rows show the "
                  "trade-off on the same index. `HNSW build s` is measured once per index: with `--store-dir` the "
                  "built index is kept and later runs on the same data reuse it (a 1M build is the better part of "
                  "an hour on 2 cores), so it can come from an earlier, possibly busier, run.", "",
                  "Variants (index schema, see `ann_variants` in benchmarks/perf.py): *global+payload* = one graph "
                  "over all items (m=32) plus per-modality links (payload_m=32), plain keyword index on modality; "
                  "*tenant* = modality is Qdrant's tenant key, one graph per modality (payload_m=32), no global "
                  "graph (m=0); *tenant-m16* = the same with 16 links; *tenant-float* = tenant graphs on float "
                  "vectors (no int8 codes). `RAM MB` = resident-memory growth of a fresh process that opens the "
                  "index and answers the queries (mmapped pages it touches included; blank: not measured).", "",
                  _table([{**r, "variant": r.get("variant", "global+payload"),
                           "ram": "" if r.get("ram_mb") is None else f"{r['ram_mb']:.0f}"} for r in results["ann"]],
                         [("vectors", "vectors", ""), ("dim", "dim", ""), ("variant", "variant", ""),
                                          ("queries", "queries", ""), ("hnsw_ef", "search ef", ""),
                                          ("oversampling", "rescored x k", "g"),
                                          ("upsert_s", "upsert s", ".1f"),
                                          ("index_build_s", "HNSW build s", ".1f"),
                                          ("recall_at_10", "recall@10", ".4f"),
                                          ("min_recall_at_10", "worst query", ".2f"), ("p50_ms", "p50 ms", ".2f"),
                                          ("p95_ms", "p95 ms", ".2f"),
                                          ("numpy_exact_p50_ms", "numpy exact p50 ms", ".2f"),
                                          ("disk_mb", "disk MB", ".0f"), ("ram", "RAM MB", "")])]
        missing = results.get("ann_skipped")
        if missing:
            lines += ["", f"Sizes not measured yet (too long for this run; pass --sizes to add them): {missing}."]
        lines.append("")
    lines.append(f"<!-- perf-data {json.dumps(results, sort_keys=True)} -->")
    return "\n".join(lines)


def previous_results(path: Path) -> dict:
    """Results of earlier invocations, kept inside the section so that parts can be re-run one at a time."""
    if not path.exists():
        return {}
    text = path.read_text()
    marker = "<!-- perf-data "
    if marker not in text:
        return {}
    blob = text[text.index(marker) + len(marker):]
    try:
        return json.loads(blob[:blob.index(" -->")])
    except (ValueError, json.JSONDecodeError):
        return {}


def _current_layout(results: dict) -> dict:
    """Drop rows written by an older layout of this script (indexing rows without the streamed from-files
    pass, best times and decode threads; ANN rows without search settings): they are re-measured, never mixed
    into a table with the current ones. Rows written before rows named their own command get the command
    their part was last run with."""
    for part, field in (("indexing", "index_best_s"), ("breakdown", "per_item_ratio"), ("ann", "oversampling")):
        rows = [r for r in results.pop(part, []) if field in r]
        if rows:
            results[part] = [{"produced_by": results["_runs"][part], **r} for r in rows]
    return results


def _indexing_key(row: dict) -> tuple:
    return row["space"], row["decode_threads"], row["items"]


def _ann_key(row: dict) -> tuple:
    return row["vectors"], row["dim"], row.get("variant", "global+payload"), row["hnsw_ef"], row["oversampling"]


def main(argv: list[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    if args[:1] == ["--cold-query"]:
        return _cold_query(args[1], args[2])
    if args[:1] == ["--rss-probe"]:
        return _rss_probe(*args[1:6])
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--parts", default="indexing,reindex,query,ann")
    p.add_argument("--sizes", default="10000,100000", help="ANN sizes, e.g. 10000,100000,1000000")
    p.add_argument("--dim", type=int, default=512)
    p.add_argument("--queries", type=int, default=200)
    p.add_argument("--efs", default="", help="ANN search ef values to sweep (default: the product's SEARCH_EF)")
    p.add_argument("--oversamplings", default="",
                   help="ANN rescoring oversampling values to sweep (default: the product's OVERSAMPLING)")
    p.add_argument("--variants", default="default",
                   help="ANN index schemas to build and compare: " + ", ".join(ann_variants()))
    p.add_argument("--store-dir", type=Path, default=None,
                   help="keep each built ANN index here and reuse it on the next run with the same data")
    p.add_argument("--items", type=int, default=100, help="items per modality for the indexing part")
    p.add_argument("--reindex-files", type=int, default=10_000)
    p.add_argument("--runs", type=int, default=50)
    p.add_argument("--workers", type=int, default=0,
                   help="decode threads for the indexing part's index runs (0: the product's choice)")
    p.add_argument("--rounds", type=int, default=3, help="interleaved model/files/index rounds (medians reported)")
    p.add_argument("--cold-runs", type=int, default=5)
    p.add_argument("--spaces", default="tiny-real",
                   help="tiny-real, full-real, miniworld and/or single spaces such as bench-tiny-clip")
    p.add_argument("--out", default=str(REPO / "docs" / "BENCHMARKS.md"))
    ns = p.parse_args(args)
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    _register_spaces()
    parts = set(ns.parts.split(","))
    out_path = Path(ns.out)
    results: dict = _current_layout(previous_results(out_path))
    runs = results.setdefault("_runs", {})
    meta = {"command": ("python benchmarks/perf.py " + " ".join(args)).strip(),
            "when": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())}
    for part in parts:
        runs[part] = meta
    groups = ns.spaces.split(",")
    unknown = [g for g in groups if g not in INDEXING_SPACES]
    if unknown:
        p.error(f"unknown --spaces {', '.join(unknown)}; known: {', '.join(INDEXING_SPACES)}")
    spaces = [space for group in groups for space in INDEXING_SPACES[group]]
    if "indexing" in parts:
        rows = {_indexing_key(r): r for r in results.get("indexing", [])}   # rows not measured now are kept
        rows.update({_indexing_key(r): {**r, "produced_by": meta}
                     for r in bench_indexing(ns.items, spaces, ns.rounds, ns.workers)})
        results["indexing"] = list(rows.values())
    if "breakdown" in parts:
        rows = {r["space"]: r for r in results.get("breakdown", [])}
        rows.update({r["space"]: {**r, "produced_by": meta} for r in bench_breakdown(ns.items, spaces, ns.rounds)})
        results["breakdown"] = list(rows.values())
    if "reindex" in parts:
        results["reindex"] = bench_reindex(ns.reindex_files)
    if "query" in parts:
        results["query"] = bench_query(ns.items, ns.runs, ns.cold_runs)
    if "ann" in parts:
        sizes = [int(s) for s in ns.sizes.split(",") if s]
        efs = [int(e) for e in ns.efs.split(",")] if ns.efs else None
        overs = [float(o) for o in ns.oversamplings.split(",")] if ns.oversamplings else None
        rows = {_ann_key(r): r for r in results.get("ann", [])}   # sizes and settings not measured now are kept
        for n in sizes:
            for variant in ns.variants.split(","):
                for row in bench_ann(n, ns.dim, ns.queries, efs, ns.store_dir, overs, variant):
                    rows[_ann_key(row)] = {**row, "produced_by": meta}
                results["ann"] = [rows[key] for key in sorted(rows)]
                write_section(out_path, "perf", render(results))   # keep what finished if a later one is cut short
        done = {r["vectors"] for r in results["ann"]}
        skipped = [s for s in (10_000, 100_000, 1_000_000) if s not in done]
        results["ann_skipped"] = ", ".join(f"{s:,} vectors" for s in skipped) if skipped else ""
    write_section(out_path, "perf", render(results))
    print(f"wrote {ns.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
