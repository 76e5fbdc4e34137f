"""`mcrsearch demo`: the whole method offline on the mini-world, from a cold cache in minutes."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer
from rich.table import Table

from mcrsearch.commands.common import console, print_json, settings


def demo(
    ctx: typer.Context,
    directory: Optional[Path] = typer.Option(None, "--dir", help="Where to write the mini-world (default <home>/miniworld)."),
    scale: str = typer.Option("default", "--scale", help="default (16 classes), small (8 classes, fast) or hard (48 confusable classes: tells the methods apart)."),
    json_out: bool = typer.Option(False, "--json", help="Print the metrics as JSON on stdout."),
) -> None:
    """Generate the mini-world, train its small MCRs and the connections, index it and run example queries."""
    from mcrsearch.commands.progress import Bars
    from mcrsearch.miniworld.demo import run_demo

    s = settings(ctx)
    with Bars(disable=json_out) as bars:
        task = bars.add("generating the mini-world")

        def progress(stage: str, done: int, total: int) -> None:
            bars.update(task, completed=done, total=total)

        def log(msg: str) -> None:
            bars.update(task, description=msg[:70])
            if not json_out:
                console.print(f"[dim]{msg}[/]")

        summary = run_demo(s, directory, scale, log=log, progress=progress)
    if json_out:
        print_json(summary)
        return
    _present(summary)


def _present(summary: dict) -> None:
    w = summary["world"]
    console.print(f"[bold]mini-world[/] {w['key']} ({w['scale']}): {w['files']} files, {w['classes']} classes at {w['root']}")
    table = Table(title="Within each mini MCR (held-out test split, class-level)")
    for col in ("MCR", "direction", "R@1", "mAP", "chance R@1"):
        table.add_column(col)
    for name, dirs in summary["mcr"].items():
        for d, m in dirs.items():
            table.add_row(f"mini-{name} ({summary['dims'][name]}-d)", d, f"{m['r@1']:.3f}", f"{m['map']:.3f}",
                          f"{m['chance_r@1']:.3f}")
    console.print(table)
    for note in summary.get("notes", []):
        console.print(f"[yellow]note:[/] {note}")
    if summary.get("emergent"):
        table = Table(title="Unified space (Ex-MCR: mini-CLAP and mini-ULIP into mini-CLIP)")
        for col in ("query -> target", "emergent", "R@1", "mAP", "chance R@1"):
            table.add_column(col)
        for pair, m in summary["emergent"].items():
            table.add_row(pair, "yes" if m["emergent"] else "", f"{m['r@1']:.3f}", f"{m['map']:.3f}",
                          f"{m['chance_r@1']:.3f}")
        console.print(table)
    for ex in summary.get("examples", []):
        console.print(f"\n[bold]{ex['query_modality']} -> {ex['target']}[/]: a held-out [cyan]{ex['query_class']}[/] "
                      f"({Path(ex['query']).name}); top {len(ex['hits'])}, {ex['precision']:.0%} of the same class")
        for h in ex["hits"]:
            mark = "[green]✓[/]" if h["class"] == ex["query_class"] else "[red]✗[/]"
            console.print(f"  {mark} {h['cosine']:+.3f}  {h['path']}")
    for pair, m in summary.get("query_layer", {}).items():
        console.print(f"\n[bold]Through the index and query layer[/]: every held-out {pair.split('->')[0]} file "
                      f"-> {pair.split('->')[1]}, precision@10 {m['p@10']:.3f} over {m['queries']} queries "
                      f"(chance {m['chance']:.3f})")
    t = summary.get("timings", {})
    console.print("\n[bold]timings[/] " + ", ".join(f"{k} {v:.1f}s" for k, v in t.items()))
    if summary.get("index", {}).get("status") == "indexed":
        console.print(f"Query it yourself: mcrsearch query --audio {summary['examples'][0]['query']} --target 3d "
                      f"--space miniworld --collection {summary['index']['collection']}")
