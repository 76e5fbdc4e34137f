"""Performance benchmark of the index/query path; keeps its rows in docs/perf.json and writes the `perf` section
of docs/BENCHMARKS.md from them.

    python benchmarks/perf.py                       # default sizes (10k, 100k vectors), all parts
    python benchmarks/perf.py --sizes 10000,100000,1000000 --parts ann --store-dir ~/perf-ann   # keeps the built indexes
    python benchmarks/perf.py --sizes 1000000 --parts ann --store-dir ~/perf-ann --efs 64,128,256   # sweep on them
    python benchmarks/perf.py --parts indexing,reindex,query --items 200
    python benchmarks/perf.py --parts indexing --spaces bench-tiny-clip --workers 2   # decode threads, for comparison
    python benchmarks/perf.py --parts breakdown --spaces tiny-real --items 1000 --rounds 5   # stage by stage
    python benchmarks/perf.py --render docs/perf.json   # only redo the section from stored results

Parts:
- indexing: index wall time vs embedding the same files without an index (decode + encode) and vs the
  encoder's forward passes alone (tiny real encoders: random open_clip "tiny", CLAP "tiny", ULIP-2 PointBERT
  "tiny"; the full-size architectures; the mini-world space after `mcrsearch demo`).
- breakdown: the index run's stages timed one by one on the same files (same --spaces, --items, --rounds).
- reindex: re-index an unchanged tree of N small files (default 10k).
- query: latency p50/p95 warm (in-process Client) and cold (a new `mcrsearch query` process each time).
- ann: embedded Qdrant Edge search latency and recall@10 against exact search, with a target-modality
  filter, at each size (synthetic clustered 512-d vectors with a per-modality offset, like real spaces).
Numbers are measured on the machine it runs on; nothing is typed by hand. A run measures only the parts it
is asked for and keeps every other stored row. The parts live in benchmarks/perfbench/.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))   # the perfbench package beside this script

from mcrsearch.benchmark.report import write_section
from perfbench import results as stored
from perfbench.ann import ann_variants, bench_ann, rss_probe
from perfbench.breakdown import bench_breakdown
from perfbench.context import measured_with
from perfbench.indexing import bench_indexing
from perfbench.query import bench_query, cold_query
from perfbench.reindex import bench_reindex
from perfbench.render import render
from perfbench.spaces import INDEXING_SPACES, register_spaces

REPO = Path(__file__).resolve().parents[1]


def publish(out: Path, results: dict) -> None:
    """Store the results beside `out` (perf.json) and write the section rendered from them."""
    stored.save(stored.json_path(out), results)
    write_section(out, "perf", render(results))


def parser() -> argparse.ArgumentParser:
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
    p.add_argument("--render", type=Path, default=None, metavar="PERF_JSON",
                   help="only redo the section from stored results (docs/perf.json); measures nothing")
    return p


def main(argv: list[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    if args[:1] == ["--cold-query"]:
        return cold_query(args[1], args[2])
    if args[:1] == ["--rss-probe"]:
        return rss_probe(*args[1:6])
    p = parser()
    ns = p.parse_args(args)
    out_path = Path(ns.out)
    if ns.render:
        write_section(out_path, "perf", render(stored.load(ns.render)))
        print(f"wrote {out_path} from {ns.render}")
        return 0
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    register_spaces()
    parts = set(ns.parts.split(","))
    results = stored.load(stored.json_path(out_path))
    results.update(measured_with())
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
        stored.merge(results, "indexing", bench_indexing(ns.items, spaces, ns.rounds, ns.workers),
                     stored.indexing_key, meta)
    if "breakdown" in parts:
        stored.merge(results, "breakdown", bench_breakdown(ns.items, spaces, ns.rounds), lambda r: r["space"], meta)
    if "reindex" in parts:
        results["reindex"] = bench_reindex(ns.reindex_files)
    if "query" in parts:
        results["query"] = bench_query(ns.items, ns.runs, ns.cold_runs)
    if "ann" in parts:
        sizes = [int(s) for s in ns.sizes.split(",") if s]
        efs = [int(e) for e in ns.efs.split(",")] if ns.efs else None
        overs = [float(o) for o in ns.oversamplings.split(",")] if ns.oversamplings else None
        for n in sizes:
            for variant in ns.variants.split(","):
                rows = bench_ann(n, ns.dim, ns.queries, efs, ns.store_dir, overs, variant)
                stored.merge(results, "ann", rows, stored.ann_key, meta, ordered=True)
                publish(out_path, results)   # keep what finished if a later one is cut short
        done = {r["vectors"] for r in results["ann"]}
        skipped = [s for s in (10_000, 100_000, 1_000_000) if s not in done]
        results["ann_skipped"] = ", ".join(f"{s:,} vectors" for s in skipped) if skipped else ""
    publish(out_path, results)
    print(f"wrote {ns.out} and {stored.json_path(out_path)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
