"""Search: by URL (texts and indexed items, shareable) or by form with uploaded query files.

The input fields are `query`'s input parameters (mcrsearch.surface.QUERY_INPUTS): texts and indexed items
as repeatable fields, query files as uploads. `weight` is `KEY=NUMBER` (repeatable), `where` a JSON object of
filters and `vectors` (form only) a JSON object {modality: [numbers]}.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any, Optional

from fastapi import APIRouter, Depends, File, Form, Query, UploadFile
from starlette.concurrency import run_in_threadpool

from mcrsearch.api import Client
from mcrsearch.config import Settings
from mcrsearch.errors import ConfigError, UploadTooLargeError
from mcrsearch.search import MediaBytes, parse_weights
from mcrsearch.server.deps import get_client, get_settings, require_token
from mcrsearch.server.schemas import HitOut, SearchOut
from mcrsearch.surface import QUERY_INPUTS

MAX_K = 200

router = APIRouter(prefix="/api", tags=["search"], dependencies=[Depends(require_token)])


def run_search(client: Client, inputs: dict[str, list[Any]], target: str, k: int, offset: int,
               min_score: float | None, space: str | None, weights: list[str], where: str | None = None,
               vectors: str | None = None) -> SearchOut:
    """One page of hits, and whether there are more (one extra hit is asked for to know).

    Args:
        inputs: values by `query` input parameter (texts, item ids or paths, MediaBytes uploads).
        where, vectors: JSON objects as sent.
    """
    if not 1 <= k <= MAX_K:
        raise ConfigError(f"k must be between 1 and {MAX_K}.")
    started = time.perf_counter()
    given = {name: [v for v in values if not (isinstance(v, str) and not v.strip())]
             for name, values in inputs.items() if name in QUERY_INPUTS}
    hits = client.query(target=target, k=k + 1, offset=offset, min_score=min_score, space=space,
                        weights=parse_weights(weights), where=_json_object(where, "where"),
                        vectors=_json_object(vectors, "vectors"), **given)
    return SearchOut(hits=[HitOut.of(h) for h in hits[:k]], target=target, k=k, offset=offset, space=space,
                     more=len(hits) > k, took_ms=round((time.perf_counter() - started) * 1e3, 2))


@router.get("/search", response_model=SearchOut)
def search_get(text: list[str] = Query([]), like: list[str] = Query([]), not_text: list[str] = Query([]),
               not_like: list[str] = Query([]), target: str = "any", k: int = 20, offset: int = 0,
               min_score: Optional[float] = None, space: Optional[str] = None, weight: list[str] = Query([]),
               where: Optional[str] = None, client: Client = Depends(get_client)) -> SearchOut:
    """Search with texts and indexed items (`like`: item ids; `not_*`: less like these): a URL that
    reproduces the search."""
    return run_search(client, {"text": text, "like": like, "not_text": not_text, "not_like": not_like}, target, k,
                      offset, min_score, space, weight, where)


@router.post("/search", response_model=SearchOut)
async def search_post(text: list[str] = Form([]), like: list[str] = Form([]), not_text: list[str] = Form([]),
                      not_like: list[str] = Form([]), target: str = Form("any"), k: int = Form(20),
                      offset: int = Form(0), min_score: Optional[float] = Form(None),
                      space: Optional[str] = Form(None), weight: list[str] = Form([]),
                      where: Optional[str] = Form(None), vectors: Optional[str] = Form(None),
                      audio: list[UploadFile] = File([]), image: list[UploadFile] = File([]),
                      points: list[UploadFile] = File([]), not_audio: list[UploadFile] = File([]),
                      not_image: list[UploadFile] = File([]), not_points: list[UploadFile] = File([]),
                      client: Client = Depends(get_client), settings: Settings = Depends(get_settings)) -> SearchOut:
    """Search with uploaded files (audio, image, 3D `points`, and their `not_` negatives) and/or texts,
    indexed items and vectors."""
    limit = int(settings.max_upload_mb * 2**20)
    files = {"audio": audio, "image": image, "points": points, "not_audio": not_audio, "not_image": not_image,
             "not_points": not_points}
    inputs: dict[str, list[Any]] = {name: [await read_upload(f, limit) for f in uploads]
                                    for name, uploads in files.items()}
    inputs.update(text=text, like=like, not_text=not_text, not_like=not_like)
    return await run_in_threadpool(run_search, client, inputs, target, k, offset, min_score, space, weight, where,
                                   vectors)


async def read_upload(upload: UploadFile, limit: int) -> MediaBytes:
    """An uploaded query file as MediaBytes, refused past the upload cap (read no further)."""
    name = Path(upload.filename or "upload").name
    data = await upload.read(limit + 1)
    if len(data) > limit:
        raise UploadTooLargeError(name, f"over the upload limit of {limit / 2**20:g} MB (max_upload_mb)")
    return MediaBytes(name, data)


def _json_object(text: str | None, field: str) -> dict[str, Any] | None:
    """A JSON object field (`where`, `vectors`), or one sentence saying it is not one."""
    if text is None or not text.strip():
        return None
    try:
        value = json.loads(text)
    except ValueError:
        value = None
    if not isinstance(value, dict):
        raise ConfigError(f"The {field} field must be a JSON object.")
    return value
