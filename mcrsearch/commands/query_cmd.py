"""`mcrsearch query`: any-to-any search, several inputs fused into one query."""

from __future__ import annotations

from pathlib import Path
from typing import Any, List, Optional

import typer
from rich.table import Table

from mcrsearch.commands.common import COLLECTION, NO_SERVER, PRECISION, QDRANT_API_KEY, QDRANT_URL


def query(
    ctx: typer.Context,
    audio: Optional[List[Path]] = typer.Option(None, "--audio", help="Audio file query."),
    image: Optional[List[Path]] = typer.Option(None, "--image", help="Image file query."),
    text: Optional[List[str]] = typer.Option(None, "--text", help="Text query."),
    points: Optional[List[Path]] = typer.Option(None, "--3d", help="3D file query (mesh or point cloud)."),
    video: Optional[List[Path]] = typer.Option(None, "--video", help="Video file query (its picture and sound)."),
    like: Optional[List[str]] = typer.Option(None, "--like",
                                             help="An indexed item (its path or id): reuse its stored vector; "
                                                  "ID@12.5 is a video's moment at 12.5 s."),
    not_audio: Optional[List[Path]] = typer.Option(None, "--not-audio", help="Audio file to move away from."),
    not_image: Optional[List[Path]] = typer.Option(None, "--not-image", help="Image file to move away from."),
    not_text: Optional[List[str]] = typer.Option(None, "--not-text", help="Text to move away from."),
    not_points: Optional[List[Path]] = typer.Option(None, "--not-3d", help="3D file to move away from."),
    not_like: Optional[List[str]] = typer.Option(None, "--not-like",
                                                 help="An indexed item to move away from (left out of the results)."),
    target: str = typer.Option("any", "--target", help="image, audio, text, 3d, video or any."),
    k: Optional[int] = typer.Option(None, "-k", "--k", help="Number of results (default 10, or as saved)."),
    offset: int = typer.Option(0, "--offset", help="Skip this many of the best results (paging)."),
    min_score: Optional[float] = typer.Option(None, "--min-score", help="Drop results below this calibrated score."),
    weight: Optional[List[str]] = typer.Option(
        None, "--weight", help="Input weight: audio=2, like=0.5, not-text=2 (negatives); text=-1 makes the "
                               "text inputs negative."),
    under: Optional[List[Path]] = typer.Option(None, "--under", help="Only items under this folder (repeatable)."),
    types: Optional[List[str]] = typer.Option(None, "--type", help="Only files with this extension, e.g. wav "
                                                                   "(repeatable)."),
    modified_after: Optional[str] = typer.Option(None, "--modified-after", help="Only files modified after this "
                                                                                "date (2024-05-01)."),
    modified_before: Optional[str] = typer.Option(None, "--modified-before", help="Only files modified before "
                                                                                  "this date."),
    min_duration: Optional[float] = typer.Option(None, "--min-duration", help="Audio at least this long (s)."),
    max_duration: Optional[float] = typer.Option(None, "--max-duration", help="Audio at most this long (s)."),
    min_points: Optional[int] = typer.Option(None, "--min-points", help="3D items with at least this many points."),
    max_points: Optional[int] = typer.Option(None, "--max-points", help="3D items with at most this many points."),
    min_width: Optional[int] = typer.Option(None, "--min-width", help="Images at least this wide (pixels)."),
    min_height: Optional[int] = typer.Option(None, "--min-height", help="Images at least this tall (pixels)."),
    space: Optional[str] = typer.Option(None, "--space", help="Space to search (auto when only one fits)."),
    collection: Optional[str] = COLLECTION,
    qdrant_url: Optional[str] = QDRANT_URL,
    qdrant_api_key: Optional[str] = QDRANT_API_KEY,
    precision: Optional[str] = PRECISION,
    no_server: bool = NO_SERVER,
    json_out: bool = typer.Option(False, "--json", help="Print results as JSON on stdout."),
    save: Optional[str] = typer.Option(None, "--save", help="Also save this search under NAME in the collection."),
    saved: Optional[str] = typer.Option(None, "--saved", help="Run the search saved under NAME (marks new results)."),
) -> None:
    """Find the items nearest to the inputs, in the target modality (calibrated scores)."""
    from mcrsearch.commands.common import console, open_client, settings
    from mcrsearch.search import parse_weights

    cfg = settings(ctx, precision=precision, collection=collection, qdrant_url=qdrant_url, qdrant_api_key=qdrant_api_key)
    weights = parse_weights(weight or [])
    where = {"under": [str(p) for p in under or []], "types": list(types or []), "modified_after": modified_after,
             "modified_before": modified_before, "min_duration": min_duration, "max_duration": max_duration,
             "min_points": min_points, "max_points": max_points, "min_width": min_width, "min_height": min_height}

    def paths(values: Optional[List[Path]]) -> list[str]:
        return [str(p) for p in values or []]

    spec: dict[str, Any] = dict(audio=paths(audio), image=paths(image), text=list(text or []), points=paths(points),
                like=list(like or []), not_audio=paths(not_audio), not_image=paths(not_image),
                not_text=list(not_text or []), not_points=paths(not_points), not_like=list(not_like or []),
                target=target, k=k or 10, weights=weights, space=space, min_score=min_score, where=where)
    if video:
        spec["video"] = paths(video)
    with open_client(cfg, no_server) as client:
        if saved:
            hits = client.run_saved(saved, k=k)
        else:
            hits = client.query(**spec, offset=offset)
            if save:
                client.save_search(save, **spec)
    show_hits(hits, json_out, offset)
    if save and not json_out:
        console.print(f"Saved as '{save}'; run it again with 'mcrsearch saved run {save}'.")


def show_hits(hits: list, json_out: bool, offset: int = 0) -> None:
    """Print hits as the documented JSON or as a table (a saved search's new hits are marked)."""
    from mcrsearch.commands.common import console, out, print_json, short

    if json_out:
        print_json([h.to_dict() for h in hits])
        return
    if not hits:
        console.print("No results.")
        return

    table = Table(show_header=True, header_style="bold")
    for col in ("#", "score", "cosine", "modality"):
        table.add_column(col, no_wrap=True)
    table.add_column("path", overflow="fold")
    table.add_column("details")
    for i, h in enumerate(hits, offset + 1):
        details = ", ".join(f"{key}={short(v)}" for key, v in h.details.items())
        mark = " [green](new)[/]" if getattr(h, "new", None) else ""
        table.add_row(str(i), f"{h.score:.2f}", f"{h.cosine:.3f}", h.modality, h.path + mark, details)
    out.print(table)
