"""The reindex part: re-indexing an unchanged tree of small files (one stat per file, nothing decoded)."""

from __future__ import annotations

import tempfile
from pathlib import Path

from .corpus import write_corpus


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
