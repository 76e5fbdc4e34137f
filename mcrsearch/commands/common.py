"""What every command shares: the effective settings, the console, JSON output."""

from __future__ import annotations

import json
import sys
from typing import Any

import typer
from rich.console import Console

console = Console(stderr=True)   # progress, tables and messages; stdout stays clean for --json
out = Console()


def settings(ctx: typer.Context, **flags: Any):
    """The run's Settings: global options (stored by the app callback) plus this command's flags."""
    from mcrsearch.config import load_settings, prepare_offline_environment

    prepare_offline_environment()
    base = dict(ctx.find_root().obj or {})
    config_file = base.pop("config_file", None)
    base.update({k: v for k, v in flags.items() if v is not None})
    return load_settings(config_file, **base)


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
