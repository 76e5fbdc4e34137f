"""The perf section of docs/BENCHMARKS.md, from the stored results alone (docs/perf.json): `--render` redoes
it without measuring anything."""

from __future__ import annotations

import statistics

from .results import provenance


def table(rows: list[dict], cols: list[tuple[str, str, str]]) -> str:
    head = "| " + " | ".join(c[1] for c in cols) + " |\n|" + "---|" * len(cols) + "\n"
    body = ""
    for r in rows:
        body += "| " + " | ".join(format(r[c[0]], c[2]) if c[2] else str(r[c[0]]) for c in cols) + " |\n"
    return head + body


def render(results: dict) -> str:
    """Markdown for every part measured so far; each part says which command produced it and when, and the
    first line the machine and the product settings of the run that last wrote the results."""
    machine, s = results["_machine"], results["_settings"]
    lines = ["## Performance (index, re-index, query, ANN)", "",
             f"Machine: {machine['arch']} with {machine['cpus']} CPU cores (shared with other jobs), Python "
             f"{machine['python']}, CPU only. Embedded store: qdrant-edge-py, index schema "
             f"'{s['variant']}': HNSW m={s['m']}, ef_construct={s['ef_construct']}, "
             f"payload_m={s['payload_m']} (per-modality graphs for filtered search), built with "
             f"{s['indexing_threads']} threads on "
             f"{'int8 scalar-quantized' if s['quantization'] == 'int8' else 'float'} vectors "
             f"(quantile {s['quantile']}); search ef={s['search_ef']}, the best {s['oversampling']:g} x k candidates "
             f"rescored with the float vectors; {'tenant ' if s['tenant'] else ''}keyword payload index on "
             f"{'/'.join(s['indexed_fields'])}.", "",
             "Produced by: " + "; ".join(f"{part}: `{meta['command']}` ({meta['when']})"
                                        for part, meta in provenance(results)), ""]
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
                  table(shown, [("space", "space", ""), ("modalities", "modalities", ""),
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
                  table(results["breakdown"], [
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
                      table(measured, [("space", "space", ""), ("items", "items", ""),
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
                  f"'{s['variant']}' with search ef {s['search_ef']} and {s['oversampling']:g} x k rescored are the "
                  "product's settings; other rows show the "
                  "trade-off on the same index. `HNSW build s` is measured once per index: with `--store-dir` the "
                  "built index is kept and later runs on the same data reuse it (a 1M build is the better part of "
                  "an hour on 2 cores), so it can come from an earlier, possibly busier, run.", "",
                  "Variants (index schema, see `ann_variants` in benchmarks/perfbench/ann.py): *global+payload* = one graph "
                  "over all items (m=32) plus per-modality links (payload_m=32), plain keyword index on modality; "
                  "*tenant* = modality is Qdrant's tenant key, one graph per modality (payload_m=32), no global "
                  "graph (m=0); *tenant-m16* = the same with 16 links; *tenant-float* = tenant graphs on float "
                  "vectors (no int8 codes). `RAM MB` = resident-memory growth of a fresh process that opens the "
                  "index and answers the queries (mmapped pages it touches included; blank: not measured).", "",
                  table([{**r, "variant": r.get("variant", "global+payload"),
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
    return "\n".join(lines)
