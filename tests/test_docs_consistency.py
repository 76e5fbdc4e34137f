"""Docs that quote generated figures quote the ones the generated section holds now."""

from __future__ import annotations

import re
from pathlib import Path

DOCS = Path(__file__).resolve().parent.parent / "docs"
# SCALE.md's names for the rows of BENCHMARKS.md's "Where an index run's time goes" table
ROWS = {"image": "bench-tiny-clip", "audio": "bench-tiny-clap", "3D": "bench-tiny-ulip", "mini-world mix": "miniworld"}


def test_scale_quotes_the_decode_times_benchmarks_holds():
    benchmarks = (DOCS / "BENCHMARKS.md").read_text()
    header = next(line for line in benchmarks.splitlines() if line.startswith("| space | items | scan us"))
    column = [c.strip() for c in header.strip("|").split("|")].index("decode from bytes us")
    table = {}
    for line in benchmarks[benchmarks.index(header):].splitlines()[2:]:
        if not line.startswith("|"):
            break
        cells = [c.strip() for c in line.strip("|").split("|")]
        table[cells[0]] = cells[column]
    scale = " ".join((DOCS / "SCALE.md").read_text().split())
    quoted = re.search(r"\*decode from bytes\*, per item on the benchmark's files\): (.*?)\. ", scale).group(1)
    found = dict(re.findall(r"([\w -]+?) (\d+) us", quoted))
    assert {k.strip(", ") for k in found} == set(ROWS), quoted
    for name, value in found.items():
        assert table[ROWS[name.strip(", ")]] == value, f"SCALE.md quotes {name} {value} us; BENCHMARKS.md has " \
                                                      f"{table[ROWS[name.strip(', ')]]} us"
