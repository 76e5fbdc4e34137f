"""Status: liveness and the collection's description."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends

import mcrsearch
from mcrsearch.errors import StoreError
from mcrsearch.api import Client
from mcrsearch.server.deps import get_client, get_jobs, require_token
from mcrsearch.server.jobs import JobManager
from mcrsearch.server.schemas import Health, Info

router = APIRouter(prefix="/api", tags=["status"], dependencies=[Depends(require_token)])


@router.get("/health", response_model=Health)
def health(client: Client = Depends(get_client), jobs: JobManager = Depends(get_jobs)) -> dict[str, Any]:
    """Liveness, and which collection this server owns."""
    from mcrsearch.server.discovery import location_of

    try:
        total = client.count()
    except StoreError:
        total = 0
    return {"status": "ok", "version": mcrsearch.__version__, "collection": client.settings.collection,
            "location": location_of(client.settings), "total": total, "indexing": jobs.busy()}


@router.get("/info", response_model=Info)
def info(client: Client = Depends(get_client)) -> dict[str, Any]:
    """Collection, spaces, counts per modality and storage size."""
    return client.info()
