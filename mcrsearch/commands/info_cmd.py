"""`mcrsearch info`: what a collection holds."""

from __future__ import annotations

from typing import Optional

import typer

from mcrsearch.commands.common import COLLECTION, NO_SERVER, QDRANT_API_KEY, QDRANT_URL


def info(
    ctx: typer.Context,
    collection: Optional[str] = COLLECTION,
    qdrant_url: Optional[str] = QDRANT_URL,
    qdrant_api_key: Optional[str] = QDRANT_API_KEY,
    no_server: bool = NO_SERVER,
    json_out: bool = typer.Option(False, "--json", help="Print as JSON on stdout."),
    encoders: bool = typer.Option(
        False, "--encoders", help="Load the spaces' encoders here (no server) to show the precision each route "
        "runs under; a running server always shows the precision of the encoders it has loaded."),
    precision: Optional[str] = typer.Option(None, "--precision", help="With --encoders: auto, fp32, bf16, int8 or onnx."),
) -> None:
    """Collection, spaces (with each route's numeric precision once loaded), counts per modality and storage size."""
    from mcrsearch.api import Client
    from mcrsearch.commands.common import open_client, out, print_json, settings
    from mcrsearch.errors import McrError

    cfg = settings(ctx, collection=collection, qdrant_url=qdrant_url, qdrant_api_key=qdrant_api_key,
                   **({"precision": precision} if precision else {}))
    with open_client(cfg, no_server) as client:
        data = client.info()
        if encoders and isinstance(client, Client):      # a server answers for the encoders it has loaded
            for space in data["spaces"]:
                try:
                    client.space(space["name"])
                except McrError as exc:
                    out.print(f"[yellow]note:[/] {exc}")
            data = client.info()
    if json_out:
        print_json(data)
        return
    out.print(f"[bold]{data['collection']}[/] ({data['backend']}) at {data['location']}")
    for s in data["spaces"]:
        out.print(f"  space {s['name']}  fingerprint {s['fingerprint']}  dim {s['dim']}  "
                  f"modalities {', '.join(s['modalities'])}")
        routes = s.get("precision") or {}
        out.print("    precision: " + (", ".join(f"{m} {p}" for m, p in routes.items()) if routes else
                                      f"{data.get('precision_setting', 'auto')} asked; encoders not loaded "
                                      "(--encoders loads them)"))
    out.print("  items: " + ", ".join(f"{m} {n}" for m, n in data["counts"].items()) + f"  (total {data['total']})")
    if data["storage_bytes"] is not None:
        out.print(f"  storage: {data['storage_bytes'] / 2**20:.1f} MB")
