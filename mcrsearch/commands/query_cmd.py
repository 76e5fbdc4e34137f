"""`mcrsearch query`: any-to-any search, several inputs fused into one query."""

from __future__ import annotations

from pathlib import Path
from typing import List, Optional

import typer


def query(
    ctx: typer.Context,
    audio: Optional[List[Path]] = typer.Option(None, "--audio", help="Audio file query."),
    image: Optional[List[Path]] = typer.Option(None, "--image", help="Image file query."),
    text: Optional[List[str]] = typer.Option(None, "--text", help="Text query."),
    points: Optional[List[Path]] = typer.Option(None, "--3d", help="3D file query (mesh or point cloud)."),
    like: Optional[List[Path]] = typer.Option(None, "--like", help="An indexed item: reuse its stored vector."),
    target: str = typer.Option("any", "--target", help="image, audio, text, 3d or any."),
    k: int = typer.Option(10, "-k", "--k", help="Number of results."),
    weight: Optional[List[str]] = typer.Option(None, "--weight", help="Input weight, e.g. audio=2."),
    space: Optional[str] = typer.Option(None, "--space", help="Space to search (auto when only one fits)."),
    collection: Optional[str] = typer.Option(None, "--collection", help="Collection name."),
    qdrant_url: Optional[str] = typer.Option(None, "--qdrant-url", help="Qdrant server/cluster URL."),
    qdrant_api_key: Optional[str] = typer.Option(None, "--qdrant-api-key", help="Qdrant API key."),
    json_out: bool = typer.Option(False, "--json", help="Print results as JSON on stdout."),
) -> None:
    """Find the items nearest to the inputs, in the target modality (calibrated scores)."""
    from mcrsearch.commands.common import console, out, print_json, settings
    from mcrsearch.modality import Modality
    from mcrsearch.search import QueryInput, Searcher, parse_weights
    from mcrsearch.store import Store

    cfg = settings(ctx, collection=collection, qdrant_url=qdrant_url, qdrant_api_key=qdrant_api_key)
    weights = parse_weights(weight or [])
    inputs = [QueryInput(m, str(v) if isinstance(v, Path) else v, weights.get(m, 1.0))
              for m, values in ((Modality.AUDIO, audio), (Modality.IMAGE, image), (Modality.TEXT, text),
                                (Modality.POINTS, points)) for v in (values or [])]
    inputs += [QueryInput(None, str(p), 1.0, like=True) for p in (like or [])]
    with Store.open(cfg) as store:
        hits = Searcher(store, cfg).query(inputs, target=target, k=k, space=space)
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
    for i, h in enumerate(hits, 1):
        details = ", ".join(f"{k}={_short(v)}" for k, v in h.details.items())
        table.add_row(str(i), f"{h.score:.2f}", f"{h.cosine:.3f}", h.modality, h.path, details)
    out.print(table)


def _short(value) -> str:
    text = f"{value:.2f}" if isinstance(value, float) else str(value)
    return text if len(text) <= 60 else text[:57] + "..."
