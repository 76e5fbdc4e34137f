"""What every command shares: the effective settings, the console, JSON output, shared options, bars."""

from __future__ import annotations

import json
import sys
from contextlib import contextmanager
from typing import Any, Callable, Iterator, Optional

import typer
from rich.console import Console

console = Console(stderr=True)   # progress, tables and messages; stdout stays clean for --json
out = Console()

# Options several commands take, declared once.
COLLECTION: Optional[str] = typer.Option(None, "--collection", help="Collection name.")
QDRANT_URL: Optional[str] = typer.Option(None, "--qdrant-url", help="Qdrant server/cluster URL.")
QDRANT_API_KEY: Optional[str] = typer.Option(None, "--qdrant-api-key", help="Qdrant API key.")
NO_SERVER: bool = typer.Option(False, "--no-server",
                               help="Open the store directly even when `mcrsearch serve` runs for it.")


def settings(ctx: typer.Context, **flags: Any):
    """The run's Settings: global options (stored by the app callback) plus this command's flags."""
    from mcrsearch.config import load_settings, prepare_offline_environment

    prepare_offline_environment()
    base = dict(ctx.find_root().obj or {})
    config_file = base.pop("config_file", None)
    base.update({k: v for k, v in flags.items() if v is not None})
    return load_settings(config_file, **base)


def open_client(cfg: Any, no_server: bool = False) -> Any:
    """A running `mcrsearch serve` for this collection when there is one (warm models, no store lock),
    else a direct `mcrsearch.Client`. Both offer the same index/query/info methods."""
    if not no_server and not cfg.qdrant_url:
        from mcrsearch.server.discovery import find_server

        found = find_server(cfg)
        if found is not None:
            from mcrsearch.server.remote import RemoteClient

            return RemoteClient(found)
    from mcrsearch.api import Client

    return Client(settings=cfg)


def print_json(obj: Any) -> None:
    """Machine-readable result on stdout (numpy scalars and paths made plain)."""
    sys.stdout.write(json.dumps(obj, indent=2, default=_plain) + "\n")
    sys.stdout.flush()


def _plain(value: Any) -> Any:
    if hasattr(value, "item"):
        return value.item()
    if hasattr(value, "tolist"):
        return value.tolist()
    return str(value)


@contextmanager
def progress_bar(label: str, enabled: bool = True, *columns: Any) -> Iterator[Callable[..., None]]:
    """A transient rich bar on stderr; yields `update(done, total, **fields)`. Disabled: a no-op callable.

    Library code reports progress through callbacks; this is where the CLI turns them into a bar.
    """
    if not enabled:
        yield lambda *a, **k: None
        return
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

    bar = Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), *columns,
                   TimeRemainingColumn(), console=console, transient=True)
    task = bar.add_task(label, total=None)

    def update(done: int, total: int | None = None, **fields: Any) -> None:
        bar.update(task, completed=done, total=total, **fields)

    with bar:
        yield update


def index_progress(update: Callable[..., None]) -> Callable[[Any], None]:
    """An indexer progress callback (IndexProgress snapshots) drawn on a `progress_bar`."""
    return lambda p: update(p.done, p.total)


def short(value: Any, width: int = 60) -> str:
    """A value for a table cell: floats at two decimals, long text cut with an ellipsis."""
    text = f"{value:.2f}" if isinstance(value, float) else str(value)
    return text if len(text) <= width else text[: width - 3] + "..."
