"""`mcrsearch weights status|fetch|import`: placeholder until the weights registry lands."""

from __future__ import annotations

import typer

app = typer.Typer(help="Model artifacts: what is present, fetch when online, import local files.", no_args_is_help=True)


@app.command("status")
def status(ctx: typer.Context) -> None:
    """Not available yet."""
    from mcrsearch.errors import McrError

    raise McrError("'mcrsearch weights status' is not available in this build yet.")
