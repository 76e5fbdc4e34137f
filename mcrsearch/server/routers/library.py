"""The collection as a library: duplicate groups, saved searches, and what a watch has pending.

Costs: `GET /api/duplicates` runs one graph search per item of the modality asked (identical-only runs none);
saved searches over the API hold texts, indexed items, weights and filters only (no file paths, so a request
can never make the server read a file it names); the watch endpoint only reads the watcher's state.
"""

from __future__ import annotations

from typing import Any, Optional

from fastapi import APIRouter, Body, Depends, Query, Request

from mcrsearch.api import Client
from mcrsearch.errors import ConfigError, NotFoundError
from mcrsearch.server.deps import get_client, require_token
from mcrsearch.server.schemas import Duplicates, HitOut, SavedDeleted, SavedList, SavedRun, SavedSearch, WatchState

router = APIRouter(prefix="/api", tags=["library"], dependencies=[Depends(require_token)])
MAX_GROUPS = 1000
# What a saved search may hold when it is saved through the API.
API_SAVED_KEYS = {"text", "not_text", "like", "not_like", "weights", "where", "target", "k", "space", "min_score"}


@router.get("/duplicates", response_model=Duplicates)
def duplicates(modality: str = "any", threshold: Optional[float] = None, identical: bool = False,
               limit: int = Query(200, ge=1, le=MAX_GROUPS), client: Client = Depends(get_client)) -> dict[str, Any]:
    """Groups of identical files and near-duplicates (largest first), at most `limit` of them."""
    groups = client.duplicates(modality=modality, threshold=threshold, near=not identical)
    return {"groups": [g.to_dict() for g in groups[:limit]], "total": len(groups)}


@router.get("/saved", response_model=SavedList)
def saved_list(client: Client = Depends(get_client)) -> dict[str, Any]:
    """The saved searches."""
    return {"saved": client.saved_searches()}


@router.post("/saved", response_model=SavedSearch)
def saved_create(name: str = Body(...), query: dict[str, Any] = Body(...),
                 client: Client = Depends(get_client)) -> dict[str, Any]:
    """Save a search (texts, indexed items, negatives, weights, filters, target, k) under a name."""
    unknown = sorted(set(query) - API_SAVED_KEYS)
    if unknown:
        raise ConfigError(f"A search saved through the server holds only {', '.join(sorted(API_SAVED_KEYS))}; "
                          f"not {', '.join(unknown)} (query files: index them and use like).")
    return client.save_search(name, **query)


@router.post("/saved/{name}/run", response_model=SavedRun)
def saved_run(name: str, k: Optional[int] = Query(None, ge=1, le=200),
              client: Client = Depends(get_client)) -> dict[str, Any]:
    """Run a saved search; hits missing from its last run carry new=true."""
    hits = client.run_saved(name, k=k)
    return {"name": name, "hits": [HitOut.of(h) for h in hits]}


@router.delete("/saved/{name}", response_model=SavedDeleted)
def saved_delete(name: str, client: Client = Depends(get_client)) -> dict[str, Any]:
    if not client.delete_saved(name):
        raise NotFoundError(f"No saved search '{name}'.")
    return {"deleted": name}


@router.get("/watch", response_model=WatchState)
def watch_state(request: Request) -> dict[str, Any]:
    """What `serve --watch` follows, the changes not yet searchable, and how many batches it applied."""
    watcher = getattr(request.app.state, "watcher", None)
    if watcher is None:
        return {"watching": [], "pending": [], "batches": 0}
    return {"watching": watcher.roots, "pending": watcher.pending()[:500], "batches": watcher.batches}
