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
) -> None:
    """Collection, spaces, counts per modality and storage size."""
    from mcrsearch.commands.common import open_client, out, print_json, settings

    cfg = settings(ctx, collection=collection, qdrant_url=qdrant_url, qdrant_api_key=qdrant_api_key)
    with open_client(cfg, no_server) as client:
        data = client.info()
    if json_out:
        print_json(data)
        return
    out.print(f"[bold]{data['collection']}[/] ({data['backend']}) at {data['location']}")
    for s in data["spaces"]:
        out.print(f"  space {s['name']}  fingerprint {s['fingerprint']}  dim {s['dim']}  "
                  f"modalities {', '.join(s['modalities'])}")
    out.print("  items: " + ", ".join(f"{m} {n}" for m, n in data["counts"].items()) + f"  (total {data['total']})")
    if data["storage_bytes"] is not None:
        out.print(f"  storage: {data['storage_bytes'] / 2**20:.1f} MB")
