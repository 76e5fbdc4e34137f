"""`mcrsearch explain`: where a sound or a text is in a picture (or on a shape), and whether it is there at all."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from mcrsearch.commands.common import COLLECTION, NO_SERVER, QDRANT_API_KEY, QDRANT_URL


def explain(
    ctx: typer.Context,
    audio: Optional[Path] = typer.Option(None, "--audio", help="The sound to look for."),
    text: Optional[str] = typer.Option(None, "--text", help="The text to look for."),
    like: Optional[str] = typer.Option(None, "--like", help="An indexed item (path or id) whose vector to look for."),
    image: Optional[Path] = typer.Option(None, "--image", help="The picture to explain."),
    points: Optional[Path] = typer.Option(None, "--3d", help="The 3D shape to explain."),
    item: Optional[str] = typer.Option(None, "--item", help="An indexed picture, shape or video (path or id) to explain."),
    at: Optional[float] = typer.Option(None, "--at", min=0, help="For an indexed video: the second whose frame to explain."),
    out_png: Optional[Path] = typer.Option(None, "--out", help="Write the picture with the heat map over it (PNG)."),
    space: Optional[str] = typer.Option(None, "--space", help="Space to compare in (needed for an empty collection)."),
    method: str = typer.Option("", "--method", help="Dense method of the image encoder (default: its first)."),
    collection: Optional[str] = COLLECTION,
    qdrant_url: Optional[str] = QDRANT_URL,
    qdrant_api_key: Optional[str] = QDRANT_API_KEY,
    no_server: bool = NO_SERVER,
    json_out: bool = typer.Option(False, "--json", help="Print the heat map and verdict as JSON on stdout."),
) -> None:
    """Light up where the query matches a picture (or shape), with a calibrated is-it-there verdict."""
    from mcrsearch.atomic import atomic_path
    from mcrsearch.commands.common import console, open_client, print_json, settings

    cfg = settings(ctx, collection=collection, qdrant_url=qdrant_url, qdrant_api_key=qdrant_api_key)
    with open_client(cfg, no_server) as client:
        result = client.explain(image=str(image) if image else None, points=str(points) if points else None,
                                item=item, audio=str(audio) if audio else None, text=text, like=like,
                                space=space, method=method, overlay=out_png is not None, at=at)
    if out_png is not None and result.overlay is not None:
        with atomic_path(out_png) as tmp:
            Path(tmp).write_bytes(result.overlay)
    if json_out:
        data = result.as_dict()
        data["overlay_path"] = str(out_png) if out_png is not None and result.overlay is not None else None
        print_json(data)
        return
    where = ", ".join(f"{v:.2f}" for v in result.peak_at)
    frame = f" (the frame at {result.at:.2f} s)" if result.at is not None else ""
    console.print(f"space {result.space} (dense method {result.method}){frame}: score {result.score:.3f}, "
                  f"peak {result.peak:.3f} at ({where})", highlight=False)
    v = result.verdict
    if v is not None:
        said = "present" if v.present else "not present"
        console.print(f"verdict: {said} (confidence {v.confidence:.3f}, z {v.z:.2f} against {v.threshold:.1f}, "
                      f"calibrated by {v.calibrated_by})", highlight=False)
    for note in result.notes:
        console.print(f"note: {note}", highlight=False)
    if out_png is not None:
        if result.overlay is not None:
            console.print(f"Wrote the overlay to {out_png}.", highlight=False)
        else:
            console.print("No overlay: only pictures get one.", highlight=False)
