"""The stored results (docs/perf.json): rows of every part measured so far, each naming the command that
produced it, merged with a new run's rows; the machine and the product's index settings they were measured
with."""

from __future__ import annotations

import json
from pathlib import Path

MERGED_PARTS = ("indexing", "breakdown", "ann")   # tables whose rows accumulate across runs, each row naming its command


def provenance(results: dict) -> list[tuple[str, dict]]:
    """(part, command) pairs: one per part, or one per distinct command behind a merged part's rows."""
    pairs = []
    for part, meta in sorted(results.get("_runs", {}).items()):
        if part not in results:
            continue
        if part in MERGED_PARTS:
            seen: dict[str, dict] = {}
            for row in results[part]:
                seen.setdefault(row["produced_by"]["command"], row["produced_by"])
            pairs += [(part, m) for m in seen.values()]
        else:
            pairs.append((part, meta))
    return pairs


def indexing_key(row: dict) -> tuple:
    return row["space"], row["decode_threads"], row["items"]


def ann_key(row: dict) -> tuple:
    return row["vectors"], row["dim"], row.get("variant", "global+payload"), row["hnsw_ef"], row["oversampling"]


def json_path(section_file: Path) -> Path:
    """Where the results live: perf.json beside the Markdown file the section goes into (docs/)."""
    return Path(section_file).with_name("perf.json")


def load(path: Path) -> dict:
    """Results of earlier runs (empty when there are none), so that parts can be measured one at a time."""
    path = Path(path)
    return json.loads(path.read_text()) if path.exists() else {}


def save(path: Path, results: dict) -> None:
    Path(path).write_text(json.dumps(results, indent=1, sort_keys=True) + "\n")


def merge(results: dict, part: str, rows: list[dict], key, meta: dict, ordered: bool = False) -> None:
    """A run's rows of a merged part replace the stored rows with the same key; rows not measured now are kept.

    Each new row names the command that produced it (`meta`); `ordered` sorts the rows by key, else stored rows
    keep their place and new keys follow them.
    """
    merged = {key(r): r for r in results.get(part, [])}
    merged.update({key(r): {**r, "produced_by": meta} for r in rows})
    results[part] = [merged[k] for k in sorted(merged)] if ordered else list(merged.values())
