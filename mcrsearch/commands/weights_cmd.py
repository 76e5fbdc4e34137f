"""`mcrsearch weights status|fetch|import`: what is on disk, download when online, file local copies."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Optional

import typer

from mcrsearch.commands.common import console, print_json, settings

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
    from rich.table import Table

    colour = {"present": "green", "missing": "yellow", "invalid": "red"}
    table = Table(title=f"Weights in {s.weights_dir}")
    table.add_column("name", no_wrap=True)
    table.add_column("state", min_width=8, overflow="fold")
    table.add_column("size", justify="right", no_wrap=True)
    table.add_column("hash check", min_width=7)
    table.add_column("file", overflow="ellipsis", no_wrap=True, max_width=20)
    for row in rows:
        size = f"{row['size'] / 1e6:.1f} MB" if row["size"] else "-"
        state = f"[{colour[row['state']]}]{row['state']}[/]" + (f" ({row['reason']})" if row["reason"] else "")
        check = "-" if set(row["sha256"].split(", ")) == {"-"} else row["sha256"]
        table.add_row(row["name"], state, size, check, Path(row["file"]).name)
    console.print(table)
    missing = [r["name"] for r in rows if r["state"] != "present"]
    if missing:
        console.print("Get the others with 'mcrsearch weights fetch NAME' (online) or "
                      "'mcrsearch weights import FILE'.")


@app.command("fetch")
def fetch(ctx: typer.Context, name: str = typer.Argument(..., help="Artifact name, or 'all'.")) -> None:
    """Download an artifact (or all missing ones) into the weights folder; fails at once when offline."""
    # Read the user's choice before settings() sets HF_HUB_OFFLINE=1 by default for the hub libraries.
    user_offline = os.environ.get("HF_HUB_OFFLINE")
    s = settings(ctx)
    from mcrsearch import weights

    if user_offline is None:
        os.environ.pop("HF_HUB_OFFLINE", None)
    try:
        if name == "all":
            names = [r["name"] for r in weights.status(s) if r["state"] != "present"]
        else:
            names = [weights.artifact(name).name]
        from rich.progress import DownloadColumn, TransferSpeedColumn

        from mcrsearch.commands.progress import Bars

        with Bars(TransferSpeedColumn(), count=DownloadColumn(), transient=False) as bars:
            for item in names:
                path = weights.fetch(item, s, progress=bars.counter)
                console.print(f"[green]fetched[/] {item} -> {path}")
        if not names:
            console.print("Every artifact is already present.")
    finally:
        if user_offline is None:
            os.environ["HF_HUB_OFFLINE"] = "1"


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
