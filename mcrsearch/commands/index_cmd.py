"""`mcrsearch index PATH`: bring a collection in line with a folder (incremental, interrupt-safe)."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from mcrsearch.commands.common import COLLECTION, NO_SERVER, PRECISION, QDRANT_API_KEY, QDRANT_URL


def index(
    ctx: typer.Context,
    path: Path = typer.Argument(..., help="Folder (or file) to index."),
    space: Optional[str] = typer.Option(None, "--space", help="Space to embed with (default: settings / auto)."),
    collection: Optional[str] = COLLECTION,
    workers: Optional[int] = typer.Option(None, "--workers",
                                          help="Decode threads (0 = auto: cores when encoding on a GPU, none on CPU)."),
    batch_size: Optional[int] = typer.Option(None, "--batch-size", help="Encoder batch size (0 = by device)."),
    max_file_mb: Optional[float] = typer.Option(None, "--max-file-mb", help="Skip files larger than this."),
    qdrant_url: Optional[str] = QDRANT_URL,
    qdrant_api_key: Optional[str] = QDRANT_API_KEY,
    shards: Optional[int] = typer.Option(None, "--shards", help="shard_number of a new server collection."),
    replicas: Optional[int] = typer.Option(None, "--replicas", help="replication_factor of a new server collection."),
    ray: Optional[str] = typer.Option(None, "--ray", help="Embed on a Ray cluster: its address, or 'local'.",
                                      metavar="ADDRESS"),
    precision: Optional[str] = PRECISION,
    no_server: bool = NO_SERVER,
    json_out: bool = typer.Option(False, "--json", help="Print the report as JSON on stdout."),
    rebuild: bool = typer.Option(False, "--rebuild",
                                 help="Move the collection aside (e.g. a damaged one) and build it again from the files."),
    watch: bool = typer.Option(False, "--watch", help="Then keep following the folder: index what appears, "
                                                      "changes, moves or disappears (Ctrl-C stops)."),
    poll: bool = typer.Option(False, "--poll", help="With --watch: poll instead of file-system events."),
) -> None:
    """Index images, audio, text and 3D files under PATH; unchanged files cost no model time."""
    from mcrsearch.commands.common import console, open_client, print_json, settings
    from mcrsearch.commands.progress import Bars

    cfg = settings(ctx, precision=precision, space=space, collection=collection, workers=workers, batch_size=batch_size,
                   max_file_mb=max_file_mb, qdrant_url=qdrant_url, qdrant_api_key=qdrant_api_key,
                   shard_number=shards, replication_factor=replicas)
    ray_address: str | bool | None = None if ray is None else (True if ray == "local" else ray)
    with open_client(cfg, no_server or rebuild or ray_address is not None) as client, Bars(disable=json_out) as bars:
        track = bars.tracker("indexing")
        report = client.index(path, space=space, progress=lambda p: track(p.done, p.total), ray=ray_address,
                              rebuild=rebuild)
    if json_out:
        print_json(report.to_dict())
        return
    console.print(f"[bold]{report.collection}[/] ({report.space}) at {report.location}: "
                  f"[green]{report.indexed} indexed[/], {report.unchanged} unchanged, {report.removed} removed, "
                  f"{'[red]' if report.failed else ''}{len(report.failed)} failed{'[/]' if report.failed else ''} "
                  f"in {report.seconds:.1f} s (encoder {report.encode_seconds:.1f} s)"
                  + (" [yellow](cancelled)[/]" if report.cancelled else ""))
    for failure in report.failed[:50]:
        console.print(f"  [red]failed[/] {failure.path}: {failure.reason}")
    if len(report.failed) > 50:
        console.print(f"  ... and {len(report.failed) - 50} more (use --json for the full list)")
    if watch:
        _watch(cfg, path, space, no_server, poll, json_out)


def _watch(cfg, path: Path, space: Optional[str], no_server: bool, poll: bool, json_out: bool) -> None:
    """Follow the folder until Ctrl-C, re-indexing each quiet burst of changes (one line or JSON per batch)."""
    from mcrsearch.commands.common import console, open_client, print_json
    from mcrsearch_indexer.watch import Watcher

    def show(batch) -> None:
        totals = {k: sum(getattr(r, k) for r in batch.results) for k in ("indexed", "unchanged", "removed")}
        failed = sum(len(r.failed) for r in batch.results)      # IndexReports (Client and RemoteClient alike)
        if json_out:
            print_json({"changed": batch.paths, "folders": batch.folders, **totals, "failed": failed,
                        "errors": batch.errors})
        else:
            console.print(f"{len(batch.paths)} change(s) in {', '.join(batch.folders)}: {totals['indexed']} "
                          f"indexed, {totals['removed']} removed, {failed} failed"
                          + (f"; [red]{'; '.join(batch.errors)}[/]" if batch.errors else ""))

    with open_client(cfg, no_server) as client:
        watcher = Watcher([path], lambda folder: client.index(folder, space=space), poll=poll or None,
                          on_batch=show)
        if not json_out:
            console.print(f"Watching {', '.join(watcher.roots)} (Ctrl-C stops).")
        try:
            watcher.run()
        except KeyboardInterrupt:
            watcher.stop_event.set()
