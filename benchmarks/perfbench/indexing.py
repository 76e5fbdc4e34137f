"""The indexing part: an index run's wall time against embedding the same files with no index, and against
the encoder's forward passes alone, interleaved per round."""

from __future__ import annotations

import statistics
import time
from typing import Any, Iterable, Iterator

from .corpus import corpus_and_space


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
        with corpus_and_space(name, mods, items) as (tmp, n, base, space):
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
