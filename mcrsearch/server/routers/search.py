"""Search: by URL (texts and indexed items, shareable) or by form with uploaded query files."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any, Optional

from fastapi import APIRouter, Depends, File, Form, HTTPException, Query, UploadFile
from starlette.concurrency import run_in_threadpool

from mcrsearch.api import Client
from mcrsearch.errors import ConfigError
from mcrsearch.search import MediaBytes, parse_weights
from mcrsearch.server.deps import get_client, get_settings, require_token
from mcrsearch.server.schemas import HitOut, SearchOut
from mcrsearch.config import Settings

MAX_K = 200
DEFAULT_K = 20

router = APIRouter(prefix="/api", tags=["search"], dependencies=[Depends(require_token)])


def run_search(client: Client, texts: list[str], likes: list[str], uploads: dict[str, list[Any]], target: str,
               k: int, offset: int, min_score: float | None, space: str | None, weights: list[str]) -> SearchOut:
    """One page of hits, and whether there are more (one extra hit is asked for to know)."""
    if not 1 <= k <= MAX_K:
        raise ConfigError(f"k must be between 1 and {MAX_K}.")
    started = time.perf_counter()
    hits = client.query(text=[t for t in texts if t.strip()], like=likes, target=target, k=k + 1,
                        offset=offset, min_score=min_score, space=space, weights=parse_weights(weights),
                        audio=uploads.get("audio"), image=uploads.get("image"), points=uploads.get("points"))
    return SearchOut(hits=[HitOut.of(h) for h in hits[:k]], target=target, k=k, offset=offset, space=space,
                     more=len(hits) > k, took_ms=round((time.perf_counter() - started) * 1e3, 2))


@router.get("/search", response_model=SearchOut)
def search_get(text: list[str] = Query([]), like: list[str] = Query([]), target: str = "any", k: int = DEFAULT_K,
               offset: int = 0, min_score: Optional[float] = None, space: Optional[str] = None,
               weight: list[str] = Query([]), client: Client = Depends(get_client)) -> SearchOut:
    """Search with texts and indexed items (`like`: item ids): a URL that reproduces the search."""
    return run_search(client, text, like, {}, target, k, offset, min_score, space, weight)


@router.post("/search", response_model=SearchOut)
async def search_post(text: list[str] = Form([]), like: list[str] = Form([]), target: str = Form("any"),
                      k: int = Form(DEFAULT_K), offset: int = Form(0), min_score: Optional[float] = Form(None),
                      space: Optional[str] = Form(None), weight: list[str] = Form([]),
                      audio: list[UploadFile] = File([]), image: list[UploadFile] = File([]),
                      points: list[UploadFile] = File([]), client: Client = Depends(get_client),
                      settings: Settings = Depends(get_settings)) -> SearchOut:
    """Search with uploaded files (audio, image, 3D `points`) and/or texts and indexed items."""
    limit = int(settings.max_upload_mb * 2**20)
    uploads = {name: [await read_upload(f, limit) for f in files]
               for name, files in (("audio", audio), ("image", image), ("points", points)) if files}
    return await run_in_threadpool(run_search, client, text, like, uploads, target, k, offset, min_score, space,
                                   weight)


async def read_upload(upload: UploadFile, limit: int) -> MediaBytes:
    """An uploaded query file as MediaBytes, refused with 413 past the upload cap (read no further)."""
    data = await upload.read(limit + 1)
    if len(data) > limit:
        raise HTTPException(413, f"The file {upload.filename} is over the upload limit of "
                                 f"{limit / 2**20:g} MB (max_upload_mb).")
    return MediaBytes(Path(upload.filename or "upload").name, data)
