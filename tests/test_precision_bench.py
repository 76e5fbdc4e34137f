"""benchmarks/precision.py runs on the tiny configurations: one row per encoder and mode, one chosen mode each,
fp32 as the reference, and a generated section (behaviour only: times are never thresholds here)."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path


def _bench():
    spec = importlib.util.spec_from_file_location("precision_bench",
                                                  Path(__file__).parents[1] / "benchmarks" / "precision.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def test_tiny_precision_run_rows_and_section(tmp_path, capsys):
    from mcrsearch import precision as P

    bench = _bench()
    out = tmp_path / "BENCH.md"
    assert bench.main(["--tiny", "--items", "2", "--rounds", "1", "--parts", "encoders", "--json",
                       "--out", str(out)]) == 0
    res = json.loads(capsys.readouterr().out)
    rows = res["rows"]
    assert {r["encoder"] for r in rows} == {"clip", "clap", "ulip"}
    for enc in ("clip", "clap", "ulip"):
        mine = {r["mode"]: r for r in rows if r["encoder"] == enc}
        assert {"fp32", "int8", "bf16"} <= set(mine)
        assert set(mine["fp32"]) >= {"encoder", "mode", "items_per_s", "speedup_vs_fp32", "min_cosine", "chosen"}
        assert mine["fp32"]["speedup_vs_fp32"] == 1.0 and mine["fp32"]["min_cosine"] > 0.99999
        assert sum(r["chosen"] for r in mine.values()) == 1
        chosen = next(r for r in mine.values() if r["chosen"])
        assert chosen["mode"] == "fp32" or (chosen["offered"] and chosen["min_cosine"] >= P.MIN_COSINE)
        assert mine["int8"]["min_cosine"] < 1.0                     # int8 really changed the numbers
        assert all(r["items_per_s"] > 0 for r in mine.values())
    assert res["chosen"] == {r["encoder"]: r["mode"] for r in rows if r["chosen"]}
    for enc in ("clip", "ulip"):                 # ONNX Runtime: same vectors, none moved by its batch-mates
        onnx = next(r for r in rows if r["encoder"] == enc and r["mode"] == "onnx")
        assert onnx["min_cosine"] >= P.MIN_COSINE and onnx["batch_drift"] <= 1e-6
    assert all(r["batch_drift"] > 1e-4 for r in rows if r["mode"] == "int8")    # dynamic int8: it moves
    ulip = res["facts"]["ulip"]
    assert 0 < ulip["grouping_s"] < ulip["encode_s"] and 0 < ulip["grouping_share"] < 1
    text = out.read_text()
    assert "<!-- BEGIN precision -->" in text and "## Encoder precision and runtime on CPU" in text
    assert "`python benchmarks/precision.py --tiny --items 2 --rounds 1 --parts encoders --json --out " in text
    assert json.loads((tmp_path / "precision.json").read_text())["rows"] == rows
