"""Benchmark results as a rich table, JSON (via `BenchmarkResult.as_dict`) and a Markdown section.

The Markdown goes between `<!-- BEGIN benchmark:NAME -->` and `<!-- END benchmark:NAME -->` in
docs/BENCHMARKS.md, so reruns replace their own section and leave the rest of the file alone.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from rich.console import Group
from rich.table import Table

_METRIC_ORDER = ("r@1", "r@5", "r@10", "map", "top1", "top5", "mean_class_top1")


def _fmt(value: Any) -> str:
    if value is None:
        return "—"
    if isinstance(value, float):
        return "nan" if value != value else f"{100 * value:.2f}"
    return str(value)


def _metrics(row: dict[str, Any]) -> list[str]:
    present = set(row.get("exact", {})) | set(row.get("chance", {}))
    return [m for m in _METRIC_ORDER if m in present]


def _published_text(row: dict[str, Any]) -> str:
    parts = [f"{p['method']} {p['metric']} {_fmt(p['value'])}" for p in row.get("published", [])]
    return "; ".join(parts) if parts else ""


def source_lines(result: dict[str, Any]) -> list[str]:
    """'annotations (test): /data/audiocaps/dataset/test.csv (utf-8, ',' delimited)', one per file read."""
    return [f"{s['role']}: {s['path']}" + (f" ({s['detail']})" if s.get("detail") else "")
            for s in result.get("sources", [])]


def problem_lines(problems: list[dict[str, str]], first: int = 5) -> list[str]:
    """The first few problems as 'path: reason', and how many more there are."""
    lines = [f"{p['path']}: {p['reason']}" for p in problems[:first]]
    if len(problems) > first:
        lines.append(f"... and {len(problems) - first} more")
    return lines


def write_problems(path: str | Path, problems: list[dict[str, str]]) -> Path:
    """Every problem as a tab-separated line `path<TAB>reason` (with a header), for reading or grepping."""
    p = Path(path)
    p.parent.mkdir(parents=True, exist_ok=True)
    clean = [(q["path"].replace("\t", " "), q["reason"].replace("\t", " ").replace("\n", " ")) for q in problems]
    p.write_text("path\treason\n" + "".join(f"{a}\t{b}\n" for a, b in clean), encoding="utf-8")
    return p


def space_label(result: dict[str, Any], space: str) -> str | None:
    """What a space is (e.g. 'Ex-MCR paired oracle'), when its builder says."""
    return next((s.get("label") for s in result.get("spaces", []) if s.get("space") == space), None)


def space_title(result: dict[str, Any], space: str) -> str:
    """A space's name with what it is, e.g. 'miniworld-oracle (Ex-MCR paired oracle)'."""
    label = space_label(result, space)
    return f"{space} ({label})" if label else space


def rows_for_table(result: dict[str, Any]) -> list[dict[str, str]]:
    """One flat row per (space, task): metric cells as 'ours' with index / chance / published columns."""
    out: list[dict[str, str]] = []
    for row in result["results"]:
        if "skipped" in row:
            title, reason = space_title(result, row["space"]), f"skipped: {row['skipped']}"
            if out and out[-1]["space"] == title and out[-1]["metrics"] == reason:
                out[-1]["task"] += f", {row['task']}"    # one line per space and reason, not per task
            else:
                out.append({"space": title, "task": row["task"], "metrics": reason, "index": "", "chance": "",
                            "published": ""})
            continue
        names = _metrics(row)
        ours = "  ".join(f"{m} {_fmt(row['exact'].get(m))}" for m in names if m in row["exact"])
        index = ""
        if "diff" in row:
            worst = max((abs(v) for v in row["diff"].values()), default=0.0)
            index = f"max abs Δ {100 * worst:.3f}"
        chance = "  ".join(f"{m} {_fmt(row['chance'].get(m))}" for m in names if m in row.get("chance", {}))
        kind = row.get("pair") or ""
        out.append({"space": space_title(result, row["space"]), "task": row["task"] + (f" ({kind})" if kind else ""),
                    "metrics": ours,
                    "index": index, "chance": chance, "published": _published_text(row)})
    return out


def pivot(result: dict[str, Any], metric: str = "map") -> tuple[list[str], list[list[str]]]:
    """Class-level tasks as rows, spaces as columns (one metric), chance last: the mini-world's table
    of within-MCR and emergent pairs across C-MCR, Ex-MCR, paired oracle and chance."""
    spaces = [s["space"] for s in result["spaces"]]
    tasks: dict[str, dict[str, Any]] = {}
    for row in result["results"]:
        if row.get("kind") != "class" or "exact" not in row:
            continue
        entry = tasks.setdefault(row["task"], {"chance": row.get("chance", {}).get(metric), "pair": row.get("pair")})
        entry[row["space"]] = row["exact"].get(metric)
    header = ["pair", "kind"] + [space_label(result, s) or s for s in spaces] + ["chance"]
    body = []
    for task, values in tasks.items():
        body.append([task, values["pair"] or ""] + [_fmt(values.get(s)) for s in spaces] + [_fmt(values["chance"])])
    body.sort(key=lambda r: (r[1] != "within", r[0]))
    return header, body


def rich_table(result: dict[str, Any]):
    table = Table(title=f"benchmark {result['benchmark']} — {result['root']} (percent)", show_lines=False)
    for col in ("space", "task", "ours (exact)", "index path", "chance", "published"):
        table.add_column(col, overflow="fold")
    for r in rows_for_table(result):
        table.add_row(r["space"], r["task"], r["metrics"], r["index"], r["chance"], r["published"])
    header, body = pivot(result)
    if not body:
        return table

    summary = Table(title="class-level mAP by pair (percent)")
    for n, col in enumerate(header):
        summary.add_column(col, no_wrap=n < 2)
    for cells in body:
        summary.add_row(*cells)
    return Group(table, summary)


def markdown_section(result: dict[str, Any], command: str = "") -> str:
    """The Markdown body for docs/BENCHMARKS.md (without the markers)."""
    lines = [f"### Benchmark `{result['benchmark']}`", ""]
    if command:
        lines += [f"Generated by `{command}`.", ""]
    counts = ", ".join(f"{n} {m}" for m, n in sorted(result["items"].items()))
    split = f", split `{result['split']}`" if result.get("split") else ""
    lines += [f"Data: `{result['root']}`{split} ({counts}); {result['problems']} missing or unreadable files or rows.", ""]
    if result.get("sources"):
        lines += ["Files read: " + "; ".join(f"`{line}`" for line in source_lines(result)) + ".", ""]
    for space in result["spaces"]:
        detail = f"fingerprint `{space.get('fingerprint', '?')}`"
        routes = space.get("routes") or {}
        if routes:
            detail += "; " + "; ".join(
                f"{m}: {r['encoder']} (weights {str(r['weights'])[:12]}){' + ' + '/'.join(r['heads']) if r['heads'] else ''}"
                for m, r in sorted(routes.items()))
        label = f" ({space['label']})" if space.get("label") else ""
        lines.append(f"- Space `{space['space']}`{label}: {detail}.")
    lines += ["", "All numbers are percentages. *Index* is the largest absolute difference between the exact path",
              "(matrix products) and the same metrics read back through the index and the query layer",
              "(R@k only, when a task has more than 2,000 targets: mAP then needs a full ranking).", "",
              "| space | task | ours (exact) | index | chance | published |", "|---|---|---|---|---|---|"]
    for r in rows_for_table(result):
        lines.append(f"| {r['space']} | {r['task']} | {r['metrics']} | {r['index']} | {r['chance']} | {r['published'] or '—'} |")
    header, body = pivot(result)
    if body:
        lines += ["", "Class-level mAP by pair and space (percent):", "",
                  "| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
        lines += ["| " + " | ".join(r) + " |" for r in body]
    if result.get("notes"):
        lines += [""] + [f"- {n}" for n in result["notes"]]
    return "\n".join(lines) + "\n"


def write_section(path: str | Path, marker: str, body: str) -> Path:
    """Insert or replace the text between `<!-- BEGIN marker -->` and `<!-- END marker -->`, keeping the rest.

    docs/BENCHMARKS.md is assembled this way by every benchmark command, so no section is typed by hand.
    """
    p = Path(path)
    begin, end = f"<!-- BEGIN {marker} -->", f"<!-- END {marker} -->"
    block = f"{begin}\n{body.rstrip()}\n{end}\n"
    text = p.read_text(encoding="utf-8") if p.exists() else "# Benchmarks\n\nGenerated by commands; never edited by hand.\n"
    pattern = re.compile(re.escape(begin) + r".*?" + re.escape(end) + r"\n?", re.DOTALL)
    if pattern.search(text):
        text = pattern.sub(lambda _: block, text, count=1)
    else:
        text = text.rstrip("\n") + "\n\n" + block
    p.parent.mkdir(parents=True, exist_ok=True)
    p.write_text(text, encoding="utf-8")
    return p


def write_markdown(path: str | Path, name: str, body: str) -> Path:
    """This benchmark's section of a Markdown file (markers `benchmark:NAME`)."""
    return write_section(path, f"benchmark:{name}", body)
