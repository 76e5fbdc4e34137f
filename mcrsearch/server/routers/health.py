"""Status: liveness and the collection's description."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Query, Request

import mcrsearch
from mcrsearch.errors import StoreError
from mcrsearch.api import Client
from mcrsearch.server.deps import get_client, get_jobs, require_token
from mcrsearch.server.jobs import JobManager
from mcrsearch.server.schemas import Health, Info

router = APIRouter(prefix="/api", tags=["status"])


@router.get("/health", response_model=Health, response_model_exclude_none=True)
def health(request: Request, challenge: str | None = Query(None, max_length=256),
           client: Client = Depends(get_client), jobs: JobManager = Depends(get_jobs)) -> dict[str, Any]:
    """Liveness and, for a `challenge`, the proof of identity: HMAC(nonce, challenge) with the nonce of the
    server's owner-only record, so the CLI knows whom it is about to send its token. Without the token
    that is all; with it, also which collection this server owns."""
    from mcrsearch.server.discovery import location_of, proof

    out: dict[str, Any] = {"status": "ok", "version": mcrsearch.__version__}
    nonce = request.app.state.nonce
    if challenge is not None and nonce is not None:
        out["proof"] = proof(nonce, challenge)
    if not request.scope.get("state", {}).get("authorised"):
        return out
    try:
        total = client.count()
    except StoreError:
        total = 0
    return {**out, "collection": client.settings.collection, "location": location_of(client.settings),
            "total": total, "indexing": jobs.busy()}


@router.get("/info", response_model=Info, dependencies=[Depends(require_token)])
def info(client: Client = Depends(get_client)) -> dict[str, Any]:
    """Collection, spaces, counts per modality and storage size."""
    return client.info()
