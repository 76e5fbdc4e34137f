"""What every command shares: the effective settings, the console, JSON output, shared options, bars."""

from __future__ import annotations

import json
import sys
from typing import TYPE_CHECKING, Any, Optional

import typer
from rich.console import Console

if TYPE_CHECKING:
    from mcrsearch.surface import SearchClient

console = Console(stderr=True)   # progress, tables and messages; stdout stays clean for --json
out = Console()

# Options several commands take, declared once.
COLLECTION: Optional[str] = typer.Option(None, "--collection", help="Collection name.")
QDRANT_URL: Optional[str] = typer.Option(None, "--qdrant-url", help="Qdrant server/cluster URL.")
QDRANT_API_KEY: Optional[str] = typer.Option(None, "--qdrant-api-key", help="Qdrant API key.")
PRECISION: Optional[str] = typer.Option(
    None, "--precision", help="Encoder numerics: auto (by CPU support, within tolerance of fp32), fp32, bf16, int8 or onnx (fp32 in ONNX Runtime).")
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


def open_client(cfg: Any, no_server: bool = False) -> "SearchClient":
    """A running `mcrsearch serve` for this collection when there is one (warm models, no store lock),
    else a direct `mcrsearch.Client`: both answer the same surface (mcrsearch.surface.SearchClient)."""
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


def short(value: Any, width: int = 60) -> str:
    """A value for a table cell: floats at two decimals, long text cut with an ellipsis."""
    text = f"{value:.2f}" if isinstance(value, float) else str(value)
    return text if len(text) <= width else text[: width - 3] + "..."
