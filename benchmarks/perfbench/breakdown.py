"""The breakdown part: an index run's stages timed one by one over the same files, and the real indexer's
own stage timings beside them."""

from __future__ import annotations

import statistics
import time
from typing import Any, Iterator

from .corpus import corpus_and_space


def modality_batches(modalities: list[Any], batch_size: dict) -> Iterator[list[int]]:
    """Positions of items split as the index batches them: per modality, in that modality's batch size."""
    by_mod: dict[Any, list[int]] = {}
    for i, m in enumerate(modalities):
        by_mod.setdefault(m, []).append(i)
    for m, idx in by_mod.items():
        for start in range(0, len(idx), batch_size[m]):
            yield idx[start:start + batch_size[m]]


def embed_all(space, decoded: list[tuple[Any, Any]], batch_size: dict) -> list:
    """Vectors for (modality, item) pairs, embedded in the index's batches; input order."""
    out: list = [None] * len(decoded)
    for chunk in modality_batches([m for m, _item in decoded], batch_size):
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
        with corpus_and_space(name, mods, items) as (tmp, n, base, space):
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
                vectors = timed("encode", lambda: embed_all(space, decoded, batch_size))
                points = timed("points", lambda: [
                    new_point(f, digest, m, media.describe(m, item) or {}, space.name, vec)
                    for f, (digest, _data), (m, item), vec in zip(files, read, decoded, vectors)])
                settings = load_settings(home=tmp / "home", device="cpu", collection=f"parts-{name}-{r}")
                with Store.open(settings, create=True) as store:
                    store.ensure_space(space.name, space.fingerprint, space.dim, space.modalities)
                store = timed("open", lambda: Store.open(settings))
                batches = [[points[i] for i in chunk]
                           for chunk in modality_batches([m for m, _item in decoded], batch_size)]
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
