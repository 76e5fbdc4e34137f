"""`mcrsearch demo`: placeholder until the mini-world lands."""

from __future__ import annotations

import typer


def demo(ctx: typer.Context) -> None:
    """Not available yet."""
    from mcrsearch.errors import McrError

    raise McrError("'mcrsearch demo' is not available in this build yet.")
