"""`mcrsearch saved`: searches saved by name in the collection (`mcrsearch query ... --save NAME`)."""

from __future__ import annotations

from typing import Optional

import typer

from mcrsearch.commands.common import COLLECTION, QDRANT_API_KEY, QDRANT_URL
from mcrsearch.errors import ConfigError

app = typer.Typer(help="Saved searches: list, run again (showing what is new), delete.", no_args_is_help=True)


def _client(ctx: typer.Context, collection, qdrant_url, qdrant_api_key):
    """A running server for the collection when there is one, else the collection itself."""
    from mcrsearch.commands.common import open_client, settings

    return open_client(settings(ctx, collection=collection, qdrant_url=qdrant_url, qdrant_api_key=qdrant_api_key))


@app.command("list")
def list_saved(ctx: typer.Context, collection: Optional[str] = COLLECTION, qdrant_url: Optional[str] = QDRANT_URL,
               qdrant_api_key: Optional[str] = QDRANT_API_KEY,
               json_out: bool = typer.Option(False, "--json", help="Print as JSON on stdout.")) -> None:
    """The saved searches and what each holds."""
    from mcrsearch.commands.common import console, out, print_json

    with _client(ctx, collection, qdrant_url, qdrant_api_key) as client:
        saved = client.saved_searches()
    if json_out:
        print_json(saved)
        return
    if not saved:
        console.print("No saved searches; save one with 'mcrsearch query ... --save NAME'.")
        return
    for s in saved:
        parts = ", ".join(f"{k}={v}" for k, v in s["query"].items())
        out.print(f"[bold]{s['name']}[/]: {parts}")


@app.command("run")
def run_saved(ctx: typer.Context, name: str = typer.Argument(..., help="The saved search."),
              k: Optional[int] = typer.Option(None, "-k", "--k", help="Number of results (default: as saved)."),
              collection: Optional[str] = COLLECTION, qdrant_url: Optional[str] = QDRANT_URL,
              qdrant_api_key: Optional[str] = QDRANT_API_KEY,
              json_out: bool = typer.Option(False, "--json", help="Print results as JSON on stdout.")) -> None:
    """Run a saved search again; results missing from its last run are marked new."""
    from mcrsearch.commands.query_cmd import show_hits

    with _client(ctx, collection, qdrant_url, qdrant_api_key) as client:
        hits = client.run_saved(name, k=k)
    show_hits(hits, json_out)


@app.command("delete")
def delete_saved(ctx: typer.Context, name: str = typer.Argument(..., help="The saved search."),
                 collection: Optional[str] = COLLECTION, qdrant_url: Optional[str] = QDRANT_URL,
                 qdrant_api_key: Optional[str] = QDRANT_API_KEY) -> None:
    """Forget a saved search."""
    from mcrsearch.commands.common import console

    with _client(ctx, collection, qdrant_url, qdrant_api_key) as client:
        if not client.delete_saved(name):
            raise ConfigError(f"No saved search '{name}'.")
    console.print(f"Deleted saved search '{name}'.")
