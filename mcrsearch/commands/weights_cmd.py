"""`mcrsearch weights status|fetch|import`: what is on disk, download when online, file local copies."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Optional

import typer
from rich.table import Table

from mcrsearch.commands.common import console, print_json, settings
from mcrsearch.errors import McrError

app = typer.Typer(help="Model artifacts: what is present, fetch when online, import local files.", no_args_is_help=True)


@app.command("status")
def status(ctx: typer.Context, as_json: bool = typer.Option(False, "--json", help="Print a JSON list.")) -> None:
    """Show every artifact (encoders, tokenizer, released heads) as present / missing / invalid."""
    from mcrsearch import weights

    s = settings(ctx)
    rows = weights.status(s)
    if as_json:
        print_json(rows)
        return

    colour = {"present": "green", "missing": "yellow", "invalid": "red"}
    table = Table(title=f"Weights in {s.weights_dir}")
    table.add_column("name", no_wrap=True)
    table.add_column("state", min_width=8, overflow="fold")
    table.add_column("size", justify="right", no_wrap=True)
    table.add_column("hash check", min_width=7)
    table.add_column("file", overflow="ellipsis", no_wrap=True, max_width=20)
    table.add_column("source", overflow="fold", max_width=40)
    for row in rows:
        size = f"{row['size'] / 1e6:.1f} MB" if row["size"] else "-"
        state = f"[{colour[row['state']]}]{row['state']}[/]" + (f" ({row['reason']})" if row["reason"] else "")
        if row.get("partial"):
            state += f" ({row['partial'] / 1e6:.1f} MB downloaded; fetch resumes)"
        if row.get("rejected"):
            state += f" (a download was kept aside: {'; '.join(row['rejected'])})"
        check = "-" if set(row["sha256"].split(", ")) == {"-"} else row["sha256"]
        source = (row["sources"] or ["-"])[0] + (f" (+{len(row['sources']) - 1} more)" if len(row["sources"]) > 1 else "")
        table.add_row(row["name"], state, size, check, Path(row["file"]).name, source)
    console.print(table)
    missing = [r["name"] for r in rows if r["state"] != "present"]
    if missing:
        console.print(f"Get the others with 'mcrsearch weights fetch {' '.join(missing)}' (online) or "
                      f"'mcrsearch weights import FILE'; 'weights status --json' lists every source and note.")


@app.command("fetch")
def fetch(ctx: typer.Context, names: list[str] = typer.Argument(..., help="Artifact names, or 'all'.")) -> None:
    """Download artifacts (or all missing ones) into the weights folder, resuming partial downloads.

    One failure does not stop the others: each is reported, and the command fails at the end if any did.
    """
    # Read the user's choice before settings() sets HF_HUB_OFFLINE=1 by default for the hub libraries.
    user_offline = os.environ.get("HF_HUB_OFFLINE")
    s = settings(ctx)
    from mcrsearch import weights

    if user_offline is None:
        os.environ.pop("HF_HUB_OFFLINE", None)
    failed: list[tuple[str, McrError]] = []
    try:
        if names == ["all"]:
            todo = [r["name"] for r in weights.status(s) if r["state"] != "present" and r["kind"] != "own head"]
        else:
            todo = [weights.artifact(name).name for name in names]
        if weights.is_offline() and todo:
            weights.fetch(todo[0], s)                  # offline: the one-sentence refusal, at once
        from rich.progress import DownloadColumn, TransferSpeedColumn

        from mcrsearch.commands.progress import Bars

        with Bars(TransferSpeedColumn(), count=DownloadColumn(), transient=False) as bars:
            for item in todo:
                try:
                    path = weights.fetch(item, s, progress=bars.counter)
                except McrError as exc:
                    failed.append((item, exc))
                    console.print(f"[red]failed[/] {item}: {exc}")
                else:
                    console.print(f"[green]fetched[/] {item} -> {path}")
        if not todo:
            console.print("Every artifact is already present.")
    finally:
        if user_offline is None:
            os.environ["HF_HUB_OFFLINE"] = "1"
    if failed:
        raise McrError(f"{len(failed)} of {len(todo)} artifacts could not be fetched "
                       f"({', '.join(name for name, _ in failed)}); each reason is printed above.")


@app.command("import")
def import_(ctx: typer.Context, file: Path = typer.Argument(..., help="Checkpoint file (or tokenizer folder)."),
            name: Optional[str] = typer.Option(None, "--name", help="Artifact name, when the layout is ambiguous."),
            as_json: bool = typer.Option(False, "--json", help="Print the result as JSON.")) -> None:
    """Recognise a checkpoint by its keys and shapes, check it loads, and file it under its canonical name."""
    from mcrsearch import weights

    s = settings(ctx)
    found = weights.import_file(file, s, name=name)
    target = weights.ARTIFACTS[found].path(s.weights_dir)
    if as_json:
        print_json({"name": found, "file": str(target)})
    else:
        console.print(f"[green]imported[/] {file} as {found} -> {target}")


@app.command("check")
def check(ctx: typer.Context,
          assets: Optional[Path] = typer.Option(None, "--assets", help="Folder with the authors' demo files "
                                                "(default: the fetched cmcr-demo-assets)."),
          space: Optional[list[str]] = typer.Option(None, "--space", help="Check only this space (repeatable)."),
          as_json: bool = typer.Option(False, "--json", help="Print the results as JSON.")) -> None:
    """Reproduce the authors' demo matrices (C-MCR and Ex-MCR READMEs) with the real weights and compare.

    Each matrix is printed beside the authors' with its largest difference, its tolerance and a verdict;
    the command fails when any matrix differs by more than its tolerance (docs/WEIGHTS.md derives it).
    """
    from mcrsearch import democheck
    from mcrsearch.published_demo import ITEMS

    s = settings(ctx)
    results = democheck.check(s, assets=assets, spaces=space or None)
    if as_json:
        print_json([r.as_dict() for r in results])
    else:
        from rich.table import Table

        for r in results:
            verdict = "[green]match[/]" if r.ok else "[red]DIFFERS[/]"
            table = Table(title=f"{r.space}: {r.label}  max |diff| {r.max_diff:.4f}  tolerance {r.tolerance:.4f}  "
                                f"{verdict}", title_justify="left")
            table.add_column("row")
            table.add_column("ours", justify="right")
            table.add_column("authors", justify="right")
            for item, ours, theirs in zip(ITEMS, r.ours, r.expected):
                table.add_row(item, " ".join(f"{v:.4f}" for v in ours), " ".join(f"{v:.4f}" for v in theirs))
            console.print(table)
    bad = [f"{r.space} {r.label}" for r in results if not r.ok]
    if bad:
        raise McrError(f"{len(bad)} of {len(results)} demo matrices differ from the authors' beyond their tolerance "
                       f"({'; '.join(bad)}).")
    if not as_json:
        console.print(f"All {len(results)} demo matrices reproduce the authors' within tolerance.")
