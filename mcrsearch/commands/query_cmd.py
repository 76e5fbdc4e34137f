"""`mcrsearch query`: any-to-any search, several inputs fused into one query."""

from __future__ import annotations

from pathlib import Path
from typing import List, Optional

import typer

from mcrsearch.commands.common import COLLECTION, NO_SERVER, QDRANT_API_KEY, QDRANT_URL


def query(
    ctx: typer.Context,
    audio: Optional[List[Path]] = typer.Option(None, "--audio", help="Audio file query."),
    image: Optional[List[Path]] = typer.Option(None, "--image", help="Image file query."),
    text: Optional[List[str]] = typer.Option(None, "--text", help="Text query."),
    points: Optional[List[Path]] = typer.Option(None, "--3d", help="3D file query (mesh or point cloud)."),
    like: Optional[List[str]] = typer.Option(None, "--like",
                                             help="An indexed item (its path or id): reuse its stored vector."),
    target: str = typer.Option("any", "--target", help="image, audio, text, 3d or any."),
    k: int = typer.Option(10, "-k", "--k", help="Number of results."),
    offset: int = typer.Option(0, "--offset", help="Skip this many of the best results (paging)."),
    min_score: Optional[float] = typer.Option(None, "--min-score", help="Drop results below this calibrated score."),
    weight: Optional[List[str]] = typer.Option(None, "--weight", help="Input weight, e.g. audio=2."),
    space: Optional[str] = typer.Option(None, "--space", help="Space to search (auto when only one fits)."),
    collection: Optional[str] = COLLECTION,
    qdrant_url: Optional[str] = QDRANT_URL,
    qdrant_api_key: Optional[str] = QDRANT_API_KEY,
    no_server: bool = NO_SERVER,
    json_out: bool = typer.Option(False, "--json", help="Print results as JSON on stdout."),
) -> None:
    """Find the items nearest to the inputs, in the target modality (calibrated scores)."""
    from mcrsearch.commands.common import console, open_client, out, print_json, settings, short
    from mcrsearch.search import parse_weights

    cfg = settings(ctx, collection=collection, qdrant_url=qdrant_url, qdrant_api_key=qdrant_api_key)
    weights = parse_weights(weight or [])
    with open_client(cfg, no_server) as client:
        hits = client.query(audio=[str(p) for p in audio or []], image=[str(p) for p in image or []],
                            text=list(text or []), points=[str(p) for p in points or []],
                            like=list(like or []), target=target, k=k, weights=weights, space=space,
                            offset=offset, min_score=min_score)
    if json_out:
        print_json([h.to_dict() for h in hits])
        return
    if not hits:
        console.print("No results.")
        return
    from rich.table import Table

    table = Table(show_header=True, header_style="bold")
    for col in ("#", "score", "cosine", "modality"):
        table.add_column(col, no_wrap=True)
    table.add_column("path", overflow="fold")
    table.add_column("details")
    for i, h in enumerate(hits, offset + 1):
        details = ", ".join(f"{key}={short(v)}" for key, v in h.details.items())
        table.add_row(str(i), f"{h.score:.2f}", f"{h.cosine:.3f}", h.modality, h.path, details)
    out.print(table)
