"""`mcrsearch duplicates`: identical files and near-duplicates, across folders and formats."""

from __future__ import annotations

from typing import Optional

import typer

from mcrsearch.commands.common import COLLECTION, NO_SERVER, QDRANT_API_KEY, QDRANT_URL


def duplicates(
    ctx: typer.Context,
    modality: str = typer.Option("any", "--modality", help="image, audio, text, 3d or any."),
    threshold: Optional[float] = typer.Option(None, "--threshold",
                                              help="Cosine at which two items count as near-duplicates "
                                                   "(default: the duplicate_cosine setting, else per modality)."),
    identical_only: bool = typer.Option(False, "--identical", help="Only identical files (no vector search)."),
    space: Optional[str] = typer.Option(None, "--space", help="Space whose vectors are compared."),
    collection: Optional[str] = COLLECTION,
    qdrant_url: Optional[str] = QDRANT_URL,
    qdrant_api_key: Optional[str] = QDRANT_API_KEY,
    no_server: bool = NO_SERVER,
    json_out: bool = typer.Option(False, "--json", help="Print the groups as JSON on stdout."),
) -> None:
    """List groups of identical files (same content) and near-duplicates (same modality, vectors above the
    threshold), e.g. one mesh as .obj and .glb or one sound as .wav and .flac."""
    from mcrsearch.commands.common import console, open_client, out, print_json, settings

    cfg = settings(ctx, collection=collection, qdrant_url=qdrant_url, qdrant_api_key=qdrant_api_key)
    with open_client(cfg, no_server) as client:
        groups = client.duplicates(modality=modality, threshold=threshold, near=not identical_only, space=space)
    if json_out:
        print_json([g.to_dict() for g in groups])
        return
    if not groups:
        console.print("No duplicates.")
        return
    for i, g in enumerate(groups, 1):
        how = "identical" if g.kind == "identical" else f"near (cosine >= {g.min_cosine:.3f})"
        out.print(f"[bold]{i}.[/] {g.modality}, {len(g.items)} items, {how}")
        for item in g.items:
            out.print(f"   {item['path']}")
