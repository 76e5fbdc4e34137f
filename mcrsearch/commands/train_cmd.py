"""`mcrsearch train`: placeholder until its issue lands."""

from __future__ import annotations

import typer


def train(ctx: typer.Context) -> None:
    """Not available yet in this build."""
    from mcrsearch.errors import McrError

    raise McrError("'mcrsearch train' is not available in this build yet.")
