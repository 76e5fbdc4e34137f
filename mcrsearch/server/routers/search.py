"""Search: by URL (texts and indexed items, shareable) or by form with uploaded query files.

The input fields are `query`'s input parameters (mcrsearch.surface.QUERY_INPUTS): texts and indexed items
as repeatable fields, query files as uploads; any input can be negative (`not_text`, `not_like`, uploads
`not_audio` / `not_image` / `not_points` / `not_video`). Weights are `KEY=NUMBER` fields with `not-` keys;
filters (`under`, `type`, `modified_after`, ...) restrict the hits exactly: a filter is a condition on stored
payload values, the server reads no file it names. `vectors` (form only) is an uploaded JSON object
{modality: [numbers]}.
"""

from __future__ import annotations

import json
import math
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
MAX_SEARCH_OFFSET = 10_000      # a search ranks offset + k hits
MAX_QUERY_INPUTS = 16           # texts, likes and files of one search
MAX_QUERY_FILES = 8             # uploaded files of one search (the form parser stops at this many)
MAX_TEXT_CHARS = 1_000          # one query text
MAX_LIKE_CHARS = 4_096          # an item id or a path
DEFAULT_K = 20

router = APIRouter(prefix="/api", tags=["search"], dependencies=[Depends(require_token)])


def _where(under: list[str], type: list[str], modified_after: Optional[str], modified_before: Optional[str],
           min_duration: Optional[float], max_duration: Optional[float], min_points: Optional[int],
           max_points: Optional[int], min_width: Optional[int], min_height: Optional[int]) -> dict[str, Any]:
    return {"under": under, "types": type, "modified_after": modified_after, "modified_before": modified_before,
            "min_duration": min_duration, "max_duration": max_duration, "min_points": min_points,
            "max_points": max_points, "min_width": min_width, "min_height": min_height}


def where_query(under: list[str] = Query([]), type: list[str] = Query([]), modified_after: Optional[str] = None,
                modified_before: Optional[str] = None, min_duration: Optional[float] = None,
                max_duration: Optional[float] = None, min_points: Optional[int] = None,
                max_points: Optional[int] = None, min_width: Optional[int] = None,
                min_height: Optional[int] = None) -> dict[str, Any]:
    """The filters of a search given by URL."""
    return _where(under, type, modified_after, modified_before, min_duration, max_duration, min_points,
                  max_points, min_width, min_height)


def where_form(under: list[str] = Form([]), type: list[str] = Form([]), modified_after: Optional[str] = Form(None),
               modified_before: Optional[str] = Form(None), min_duration: Optional[float] = Form(None),
               max_duration: Optional[float] = Form(None), min_points: Optional[int] = Form(None),
               max_points: Optional[int] = Form(None), min_width: Optional[int] = Form(None),
               min_height: Optional[int] = Form(None)) -> dict[str, Any]:
    """The filters of a search given by form."""
    return _where(under, type, modified_after, modified_before, min_duration, max_duration, min_points,
                  max_points, min_width, min_height)


def run_search(client: Client, inputs: dict[str, list[Any]], target: str, k: int, offset: int,
               min_score: float | None, space: str | None, weights: list[str], where: dict[str, Any] | None = None,
               vectors: str | None = None) -> SearchOut:
    """One page of hits, and whether there are more (one extra hit is asked for to know).

    Args:
        inputs: values by `query` input parameter (texts, item ids or paths, MediaBytes uploads); blank texts
            are left out.
        where: the filters, as `Client.query` reads them.
        vectors: a JSON object as sent.
    """
    if not 1 <= k <= MAX_K:
        raise ConfigError(f"k must be between 1 and {MAX_K}.")
    texts = [str(v) for name, kind in QUERY_INPUTS.items() if not kind.is_file and not kind.is_like
             for v in inputs.get(name, [])]
    likes = [str(v) for name, kind in QUERY_INPUTS.items() if kind.is_like for v in inputs.get(name, [])]
    uploads = {name: inputs.get(name, []) for name, kind in QUERY_INPUTS.items() if kind.is_file}
    check_query(texts, likes, uploads, offset, min_score)
    started = time.perf_counter()
    w = parse_weights(weights)
    given = {name: [v for v in values if not (isinstance(v, str) and not v.strip())]
             for name, values in inputs.items() if name in QUERY_INPUTS}
    vecs = _json_object(vectors, "vectors")

    def ask(in_space: str | None) -> list[Any]:
        return client.query(target=target, k=k + 1, offset=offset, min_score=min_score, space=in_space, weights=w,
                            where=where, vectors=vecs, **given)

    space = space or default_space(client)
    try:
        hits = ask(space)
    except ConfigError as exc:
        # a collection that holds several spaces (indexed from the CLI) still has a defined default
        fallback = None if space else fallback_space(client, str(exc))
        if fallback is None:
            raise
        space = fallback
        hits = ask(space)
    return SearchOut(hits=[HitOut.of(h) for h in hits[:k]], target=target, k=k, offset=offset, space=space,
                     more=len(hits) > k, took_ms=round((time.perf_counter() - started) * 1e3, 2))


def default_space(client: Client) -> str | None:
    """The space a search without one uses: the server's own (`--space`), else None (the collection's
    only space covering the query; see `fallback_space` when there are several)."""
    name = client.settings.space
    return name if name and name != "auto" else None


def fallback_space(client: Client, error: str) -> str | None:
    """When several spaces cover a query that named none: exmcr, else the first by name."""
    if not error.startswith("Several spaces cover"):
        return None
    names = sorted(s["name"] for s in client.info().get("spaces", []))
    return "exmcr" if "exmcr" in names else (names[0] if names else None)


def check_query(texts: list[str], likes: list[str], uploads: dict[str, list[Any]], offset: int,
                min_score: float | None) -> None:
    """One search's cost is bounded before any work: inputs, text length, offset, a finite floor."""
    files = sum(len(v) for v in uploads.values())
    if len(texts) + len(likes) + files > MAX_QUERY_INPUTS or files > MAX_QUERY_FILES:
        raise ConfigError(f"A search takes at most {MAX_QUERY_INPUTS} inputs, of which {MAX_QUERY_FILES} files.")
    if any(len(t) > MAX_TEXT_CHARS for t in texts):
        raise ConfigError(f"A query text may have at most {MAX_TEXT_CHARS} characters.")
    if any(len(v) > MAX_LIKE_CHARS for v in likes):
        raise ConfigError(f"A `like` value is an item id or a path of at most {MAX_LIKE_CHARS} characters.")
    if not 0 <= offset <= MAX_SEARCH_OFFSET:
        raise ConfigError(f"offset must be between 0 and {MAX_SEARCH_OFFSET}.")
    if min_score is not None and not math.isfinite(min_score):
        raise ConfigError("min_score must be a finite number.")


@router.get("/search", response_model=SearchOut)
def search_get(text: list[str] = Query([]), like: list[str] = Query([]), target: str = "any", k: int = DEFAULT_K,
               offset: int = 0, min_score: Optional[float] = None, space: Optional[str] = None,
               weight: list[str] = Query([]), not_text: list[str] = Query([]), not_like: list[str] = Query([]),
               where: dict[str, Any] = Depends(where_query), client: Client = Depends(get_client)) -> SearchOut:
    """Search with texts and indexed items (`like`: item ids), positive and negative (`not_text`,
    `not_like`), filtered (`under`, `type`, `modified_after`, ...): a URL that reproduces the search."""
    return run_search(client, {"text": text, "like": like, "not_text": not_text, "not_like": not_like}, target, k,
                      offset, min_score, space, weight, where)


@router.post("/search", response_model=SearchOut)
async def search_post(text: list[str] = Form([]), like: list[str] = Form([]), target: str = Form("any"),
                      k: int = Form(DEFAULT_K), offset: int = Form(0), min_score: Optional[float] = Form(None),
                      space: Optional[str] = Form(None), weight: list[str] = Form([]),
                      not_text: list[str] = Form([]), not_like: list[str] = Form([]),
                      vectors: Optional[UploadFile] = File(None),
                      audio: list[UploadFile] = File([]), image: list[UploadFile] = File([]),
                      points: list[UploadFile] = File([]), video: list[UploadFile] = File([]),
                      not_audio: list[UploadFile] = File([]), not_image: list[UploadFile] = File([]),
                      not_points: list[UploadFile] = File([]), not_video: list[UploadFile] = File([]),
                      where: dict[str, Any] = Depends(where_form), client: Client = Depends(get_client),
                      settings: Settings = Depends(get_settings)) -> SearchOut:
    """Search with uploaded files (audio, image, 3D `points`, video, and their `not_` negatives) and/or
    texts and indexed items, positive and negative, filtered; `vectors`, a JSON file {modality: [numbers]},
    adds query vectors already in the searched space (it counts as one of the files)."""
    limit = int(settings.max_upload_mb * 2**20)
    files = {"audio": audio, "image": image, "points": points, "video": video, "not_audio": not_audio,
             "not_image": not_image, "not_points": not_points, "not_video": not_video}
    inputs: dict[str, list[Any]] = {name: [await read_upload(f, limit) for f in uploads]
                                    for name, uploads in files.items()}
    inputs.update(text=text, like=like, not_text=not_text, not_like=not_like)
    vector_json = None if vectors is None else (await read_upload(vectors, limit)).data.decode("utf-8", "replace")
    return await run_in_threadpool(run_search, client, inputs, target, k, offset, min_score, space, weight, where,
                                   vector_json)


async def read_upload(upload: UploadFile, limit: int) -> MediaBytes:
    """An uploaded query file as MediaBytes, refused past the upload cap (read no further)."""
    name = Path(upload.filename or "upload").name
    data = await upload.read(limit + 1)
    if len(data) > limit:
        raise UploadTooLargeError(name, f"over the upload limit of {limit / 2**20:g} MB (max_upload_mb)")
    return MediaBytes(name, data)


def _json_object(text: str | None, field: str) -> dict[str, Any] | None:
    """A JSON object field (`vectors`), or one sentence saying it is not one."""
    if text is None or not text.strip():
        return None
    try:
        value = json.loads(text)
    except ValueError:
        value = None
    if not isinstance(value, dict):
        raise ConfigError(f"The {field} field must be a JSON object.")
    return value
