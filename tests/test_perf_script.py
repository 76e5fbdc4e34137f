"""benchmarks/perf.py stays runnable: its stage breakdown writes a table whose accounting adds up, its rows
go to perf.json, and the committed perf section is exactly what `--render` makes of docs/perf.json."""

from __future__ import annotations

import importlib.util
import json
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _perf():
    spec = importlib.util.spec_from_file_location("perf", ROOT / "benchmarks" / "perf.py")
    perf = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(perf)
    return perf


def _section(text: str) -> str:
    return re.search(r"<!-- BEGIN perf -->\n(.*?)<!-- END perf -->", text, re.S).group(1)


def test_breakdown_part_writes_its_table(tmp_path, monkeypatch):
    monkeypatch.setenv("MCRSEARCH_HOME", str(tmp_path / "home"))
    perf = _perf()
    out = tmp_path / "BENCH.md"
    assert perf.main(["--parts", "breakdown", "--spaces", "bench-tiny-clip", "--items", "3", "--rounds", "1",
                      "--out", str(out)]) == 0
    text = out.read_text()
    assert "### Where an index run's time goes beyond the encoder" in text
    assert "`python benchmarks/perf.py --parts breakdown --spaces bench-tiny-clip --items 3 --rounds 1 --out" in text
    assert "perf-data" not in text                      # the rows live in perf.json, not in the Markdown
    results = json.loads((tmp_path / "perf.json").read_text())
    row = results["breakdown"][0]
    assert row["space"] == "bench-tiny-clip" and row["items"] == 6
    per_item = sum(row[f"{k}_us"] for k in ("scan", "hash", "decode_bytes", "points", "write")) - row["decode_path_us"]
    fixed = row["open_ms"] + row["calibration_ms"] + row["close_ms"]
    assert abs(row["index_only_ms"] - (per_item * row["items"] / 1e3 + fixed)) < 1e-6
    assert row["stage_sum_ratio"] >= row["per_item_ratio"] > 0
    assert "The real indexer's own stage timings" in text
    assert all(row[f"indexer_{k}_us"] > 0 for k in ("read_hash", "decode", "encode", "write"))
    # the section's first line says what this run measured on, and --render gives back the same section
    assert f"with {results['_machine']['cpus']} CPU cores" in text
    again = tmp_path / "AGAIN.md"
    assert perf.main(["--render", str(tmp_path / "perf.json"), "--out", str(again)]) == 0
    assert _section(again.read_text()) == _section(text)


def test_docs_hold_what_render_gives_from_perf_json(tmp_path):
    out = tmp_path / "BENCHMARKS.md"
    assert _perf().main(["--render", str(ROOT / "docs" / "perf.json"), "--out", str(out)]) == 0
    assert not (tmp_path / "perf.json").exists()        # rendering measures and stores nothing
    assert _section(out.read_text()) == _section((ROOT / "docs" / "BENCHMARKS.md").read_text()), \
        "docs/BENCHMARKS.md's perf section is not what `benchmarks/perf.py --render docs/perf.json` gives"


def test_a_new_run_keeps_the_stored_rows_it_did_not_measure():
    perf = _perf()
    meta = {"command": "python benchmarks/perf.py --parts ann", "when": "now"}
    results = {"ann": [{"vectors": 10, "dim": 4, "variant": "tenant", "hnsw_ef": 64, "oversampling": 8.0, "p50_ms": 1,
                        "produced_by": {"command": "old", "when": "then"}},
                       {"vectors": 10, "dim": 4, "variant": "tenant", "hnsw_ef": 128, "oversampling": 8.0, "p50_ms": 2,
                        "produced_by": {"command": "old", "when": "then"}}]}
    perf.stored.merge(results, "ann", [{"vectors": 10, "dim": 4, "variant": "tenant", "hnsw_ef": 32,
                                        "oversampling": 8.0, "p50_ms": 3},
                                       {"vectors": 10, "dim": 4, "variant": "tenant", "hnsw_ef": 128,
                                        "oversampling": 8.0, "p50_ms": 4}], perf.stored.ann_key, meta, ordered=True)
    assert [(r["hnsw_ef"], r["p50_ms"], r["produced_by"]["command"]) for r in results["ann"]] == \
        [(32, 3, meta["command"]), (64, 1, "old"), (128, 4, meta["command"])]
