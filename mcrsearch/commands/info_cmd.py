"""`mcrsearch info`: placeholder until its issue lands."""

from __future__ import annotations

import typer


def info(ctx: typer.Context) -> None:
    """Not available yet in this build."""
    from mcrsearch.errors import McrError

    raise McrError("'mcrsearch info' is not available in this build yet.")
