"""The `mcrsearch` command. Stays import-light: `mcrsearch --help` must not import torch."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Optional

import typer

from mcrsearch.commands import (
    benchmark_cmd,
    demo_cmd,
    duplicates_cmd,
    explain_cmd,
    index_cmd,
    info_cmd,
    query_cmd,
    saved_cmd,
    serve_cmd,
    train_cmd,
    weights_cmd,
)
from mcrsearch.errors import McrError

app = typer.Typer(
    name="mcrsearch",
    help="Any-to-any search over images, text, audio and 3D through connected contrastive spaces.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)


@app.callback()
def _global_options(
    ctx: typer.Context,
    home: Optional[Path] = typer.Option(None, "--home", help="Folder for weights, caches and the index (MCRSEARCH_HOME)."),
    config: Optional[Path] = typer.Option(None, "--config", help="TOML settings file (default: <home>/config.toml)."),
    device: Optional[str] = typer.Option(None, "--device", help="auto, cpu, cuda, cuda:N or mps."),
    debug: bool = typer.Option(False, "--debug", help="Show full tracebacks on errors."),
) -> None:
    ctx.obj = {"home": home, "config_file": config, "device": device, "debug": debug or None}


app.command("index")(index_cmd.index)
app.command("query")(query_cmd.query)
app.command("explain")(explain_cmd.explain)
app.command("train")(train_cmd.train)
app.command("benchmark")(benchmark_cmd.benchmark)
app.command("demo")(demo_cmd.demo)
app.command("info")(info_cmd.info)
app.command("duplicates")(duplicates_cmd.duplicates)
app.command("serve")(serve_cmd.serve)
app.add_typer(weights_cmd.app, name="weights")
app.add_typer(saved_cmd.app, name="saved")


def main(argv: list[str] | None = None) -> int:
    """Run the CLI; every failure becomes one sentence and a meaningful exit code."""
    from mcrsearch.commands.common import console

    args = list(sys.argv[1:] if argv is None else argv)
    debug = "--debug" in args
    try:
        app(args=args, prog_name="mcrsearch", standalone_mode=False)
        return 0
    except typer.Exit as exc:
        return exc.exit_code
    except typer.Abort:
        console.print("[yellow]Interrupted.[/]")
        return 130
    except typer.exceptions.TyperException as exc:  # usage errors (typer's click's): they print themselves
        show = getattr(exc, "show", None)
        if callable(show):
            show()
        return getattr(exc, 'exit_code', 2)
    except KeyboardInterrupt:
        console.print("[yellow]Interrupted.[/]")
        return 130
    except McrError as exc:
        if debug:
            console.print_exception()
        console.print(f"[red]error:[/] {exc}")
        return exc.exit_code
    except Exception as exc:  # noqa: BLE001 - the last line of defence for users
        if debug:
            console.print_exception()
        console.print(f"[red]error:[/] {type(exc).__name__}: {exc} (rerun with --debug for the traceback)")
        return 1


if __name__ == "__main__":
    sys.exit(main())
