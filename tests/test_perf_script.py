"""benchmarks/perf.py stays runnable: its stage breakdown writes a table whose accounting adds up."""

from __future__ import annotations

import importlib.util
from pathlib import Path


def _perf():
    spec = importlib.util.spec_from_file_location("perf", Path(__file__).parents[1] / "benchmarks" / "perf.py")
    perf = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(perf)
    return perf


def test_breakdown_part_writes_its_table(tmp_path, monkeypatch):
    monkeypatch.setenv("MCRSEARCH_HOME", str(tmp_path / "home"))
    perf = _perf()
    out = tmp_path / "BENCH.md"
    assert perf.main(["--parts", "breakdown", "--spaces", "bench-tiny-clip", "--items", "3", "--rounds", "1",
                      "--out", str(out)]) == 0
    text = out.read_text()
    assert "### Where an index run's time goes beyond the encoder" in text
    assert "`python benchmarks/perf.py --parts breakdown --spaces bench-tiny-clip --items 3 --rounds 1 --out" in text
    row = perf.previous_results(out)["breakdown"][0]
    assert row["space"] == "bench-tiny-clip" and row["items"] == 6
    per_item = sum(row[f"{k}_us"] for k in ("scan", "hash", "decode_bytes", "points", "write")) - row["decode_path_us"]
    fixed = row["open_ms"] + row["calibration_ms"] + row["close_ms"]
    assert abs(row["index_only_ms"] - (per_item * row["items"] / 1e3 + fixed)) < 1e-6
    assert row["stage_sum_ratio"] >= row["per_item_ratio"] > 0
    assert "The real indexer's own stage timings" in text
    assert all(row[f"indexer_{k}_us"] > 0 for k in ("read_hash", "decode", "encode", "write"))
