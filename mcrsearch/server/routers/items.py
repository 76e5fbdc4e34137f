"""Items: browse the collection, one item, and its file, thumbnail and geometry, by id only (a request
never names a file to read)."""

from __future__ import annotations

import mimetypes
import os
from pathlib import Path
from typing import Any, Optional

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response
from starlette.concurrency import run_in_threadpool

from mcrsearch.api import Client
from mcrsearch.errors import ConfigError, NotFoundError
from mcrsearch.modality import Modality
from mcrsearch.server.deps import find_item, get_client, require_token
from mcrsearch.server.safefile import file_response, open_indexed, read_indexed
from mcrsearch.server.schemas import Count, Geometry, IdsRequest, ItemList, ItemOut, ItemsPage, PathsRequest, Removed

THUMB_SIZES = (32, 1024)
MAX_BROWSE_OFFSET = 100_000     # browsing reads offset + limit records

router = APIRouter(prefix="/api/items", tags=["items"], dependencies=[Depends(require_token)])


@router.get("", response_model=ItemsPage)
def items(modality: str = "any", offset: int = 0, limit: int = Query(50, ge=1, le=500),
          client: Client = Depends(get_client)) -> ItemsPage:
    """Browse the collection, one modality or all, in a stable order."""
    if not 0 <= offset <= MAX_BROWSE_OFFSET:
        raise ConfigError(f"offset must be between 0 and {MAX_BROWSE_OFFSET}.")
    page = client.scroll(modality=modality, limit=limit, offset=offset)
    return ItemsPage(items=[ItemOut.of(i) for i in page], total=client.count(modality), offset=offset, limit=limit)


@router.get("/count", response_model=Count)
def count(modality: str = "any", client: Client = Depends(get_client)) -> Count:
    """How many items the collection holds, of one modality or of all."""
    return Count(count=client.count(modality))


@router.post("/retrieve", response_model=ItemList)
def retrieve(request: IdsRequest, client: Client = Depends(get_client)) -> ItemList:
    """Items by id (unknown ids are left out)."""
    return ItemList(items=[ItemOut.of(i) for i in client.retrieve(request.ids)])


@router.post("/delete", response_model=Removed)
def delete(request: PathsRequest, client: Client = Depends(get_client)) -> Removed:
    """Remove the items of these files, or of everything under these folders, from the collection (the
    files themselves are not touched). Paths must be absolute: they name files of the server's machine."""
    relative = [p for p in request.paths if not os.path.isabs(p)]
    if relative:
        raise ConfigError(f"Paths to delete must be absolute, not '{relative[0]}'.")
    return Removed(removed=client.delete(request.paths))


@router.get("/{item_id}", response_model=ItemOut)
def item(item_id: str, client: Client = Depends(get_client)) -> ItemOut:
    """One item's metadata."""
    return ItemOut.of(find_item(client, item_id))


@router.get("/{item_id}/media", response_class=Response)
def media(item_id: str, request: Request, client: Client = Depends(get_client)) -> Response:
    """The item's file (HTTP Range supported, so audio players can seek), only while it still is the
    file that was indexed (else 410), streamed from the checked descriptor."""
    it = find_item(client, item_id)
    name = Path(it.path).name
    kind = mimetypes.guess_type(name)[0] or "application/octet-stream"
    return file_response(open_indexed(it), kind, name, request.headers.get("range"))


@router.get("/{item_id}/thumb", response_class=Response,
            responses={200: {"content": {"image/png": {}}, "description": "A PNG thumbnail."}})
async def thumb(item_id: str, request: Request, size: int = Query(256, ge=THUMB_SIZES[0], le=THUMB_SIZES[1]),
                at: Optional[float] = Query(None, ge=0, le=10**6), client: Client = Depends(get_client)) -> Response:
    """A PNG: images resized, 3D rendered on the server, audio as its waveform, a video's frame at `at`
    seconds (a hit's moment; one seek and one decoded frame, under the indexer's caps)."""
    it = await run_in_threadpool(find_item, client, item_id)
    if it.modality == Modality.TEXT.value:
        raise NotFoundError("Text items have no thumbnail; their caption is in the item's details.")
    await run_in_threadpool(lambda: open_indexed(it).close())     # only while it is what was indexed
    max_file = int(client.settings.max_file_mb * 2**20)
    modality = Modality.parse(it.modality)
    # a video is read where it lies (seeking to one frame), not loaded whole like the other files
    read = None if modality is Modality.VIDEO else (lambda: read_indexed(it, max_file))
    png = await run_in_threadpool(_thumbnails(request, client).png, it.path, modality,
                                  str(it.payload.get("hash", it.id)), size, read, at)
    return Response(png, media_type="image/png", headers={"Cache-Control": "private, max-age=86400"})


@router.get("/{item_id}/geometry", response_model=Geometry)
async def geometry(item_id: str, client: Client = Depends(get_client)) -> Any:
    """A 3D item's points or mesh (centred, unit sphere) for the interactive viewer."""
    it = await run_in_threadpool(find_item, client, item_id)
    if it.modality != Modality.POINTS.value:
        raise NotFoundError(f"Item {item_id} is not a 3D item.")
    from mcrsearch.server.geometry import geometry_payload

    max_file = int(client.settings.max_file_mb * 2**20)
    return await run_in_threadpool(lambda: geometry_payload(it.path, data=read_indexed(it, max_file)))


def _thumbnails(request: Request, client: Client) -> Any:
    """The app's thumbnail cache, made on first use (it imports the renderers)."""
    state = request.app.state
    if getattr(state, "thumbs", None) is None:
        from mcrsearch.server.thumbs import ThumbnailCache

        state.thumbs = ThumbnailCache(client.settings.cache_dir / "thumbs")
    return state.thumbs
