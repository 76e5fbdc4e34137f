"""The query part: warm latency through an in-process `Client` and cold latency of a new `mcrsearch query`
process per run (the child is `benchmarks/perf.py --cold-query`)."""

from __future__ import annotations

import subprocess
import sys
import tempfile
import time
from pathlib import Path

from .corpus import write_corpus
from .spaces import register_spaces
from .stats import pct

ENTRY = Path(__file__).resolve().parents[1] / "perf.py"


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
            cmd = [sys.executable, str(ENTRY), "--cold-query", str(settings.home),
                   f"a blue car {i}"]
            t0 = time.perf_counter()
            subprocess.run(cmd, check=True, capture_output=True)
            cold.append(time.perf_counter() - t0)
        row = {"collection_items": 2 * items, "runs": runs,
               "warm_text_p50_ms": 1000 * pct(text_lat, 50), "warm_text_p95_ms": 1000 * pct(text_lat, 95),
               "warm_like_p50_ms": 1000 * pct(like_lat, 50), "warm_like_p95_ms": 1000 * pct(like_lat, 95),
               "cold_runs": cold_runs, "cold_p50_s": pct(cold, 50), "cold_p95_s": pct(cold, 95)}
        print("query", row, flush=True)
        return row


def cold_query(home: str, text: str) -> int:
    register_spaces()
    from mcrsearch.cli import main

    return main(["--home", home, "--device", "cpu", "query", "--text", text, "--target", "image",
                 "--collection", "perf-query", "--json"])
