"""The JSON API and the page of `mcrsearch serve` (FastAPI). Every request goes through one `Client`.

Security (docs/SERVER.md, threat model): every /api call but the health check needs the token, on
loopback too; host, origin and token are checked before routing and before any body is read
(`guard.Guard`), and the body is capped as a whole; media is served by item id only, and only while the
file still is what was indexed (`safefile`); every request's cost is bounded (counts, lengths, offsets).
"""

from __future__ import annotations

import asyncio
import json
import math
import mimetypes
import secrets
import time
from contextlib import asynccontextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Optional

from fastapi import FastAPI, File, Form, HTTPException, Query, Request, UploadFile
from fastapi.responses import FileResponse, JSONResponse, RedirectResponse, Response, StreamingResponse
from fastapi.staticfiles import StaticFiles
from pydantic import BaseModel
from starlette.concurrency import run_in_threadpool

import mcrsearch
from mcrsearch.errors import (ConfigError, McrError, MediaError, OfflineError, StoreError, WeightsInvalidError,
                              WeightsMissingError)
from mcrsearch.modality import Modality
from mcrsearch.search import Hit, Item, MediaBytes, parse_weights
from mcrsearch.server.guard import Guard, cookie_name, token_matches
from mcrsearch.server.safefile import FileChanged, file_response, open_indexed, read_indexed

if TYPE_CHECKING:
    from mcrsearch.api import Client

STATIC_DIR = Path(__file__).with_name("static")
MAX_K = 200
MAX_SEARCH_OFFSET = 10_000      # a search ranks offset + k hits
MAX_BROWSE_OFFSET = 100_000     # browsing reads offset + limit records
MAX_QUERY_INPUTS = 16           # texts, likes and files of one search
MAX_QUERY_FILES = 8             # uploaded files of one search (the form parser stops at this many)
MAX_TEXT_CHARS = 1_000          # one query text
THUMB_SIZES = (32, 1024)
EVENT_POLL_S = 0.2
_STATUS = ((ConfigError, 400), (MediaError, 422), (WeightsMissingError, 503), (WeightsInvalidError, 503),
           (OfflineError, 503), (StoreError, 409))


class JobRequest(BaseModel):
    """An index job: an absolute folder on the server's machine, and optionally the space to embed with."""

    path: str
    space: Optional[str] = None


def item_json(item: Item) -> dict[str, Any]:
    """An item (or a hit) as the page shows it: where its media, thumbnail and geometry are served."""
    base = f"/api/items/{item.id}"
    out = {"id": item.id, "modality": item.modality, "name": Path(item.path).name, "path": item.path,
           "details": item.details, "media_url": f"{base}/media",
           "thumb_url": None if item.modality == Modality.TEXT.value else f"{base}/thumb",
           "geometry_url": f"{base}/geometry" if item.modality == Modality.POINTS.value else None}
    if isinstance(item, Hit):
        out.update(score=round(item.score, 4), cosine=round(item.cosine, 4))
    return out


def create_app(client: "Client", *, token: str | None = None, allowed_hosts: list[str] | None = None,
               on_stop: Callable[[], None] | None = None, nonce: str | None = None,
               allow_spaces: bool = False) -> FastAPI:
    """The server application over `client`.

    Args:
        client: the one Client the server answers with (it owns the store and the warm encoders).
        token: every /api call but the health check must carry it (Authorization: Bearer, or the page's
            cookie); None generates one (`app.state.token`): there is no server without a token.
        allowed_hosts: Host header values to accept (loopback names for a loopback bind); None accepts any.
        on_stop: called when the server shuts down (uvicorn re-raises a caught SIGTERM after its graceful
            shutdown, so code after `Server.run()` may never run; this always does).
        nonce: the server's identity secret from its discovery record (the health check proves it).
        allow_spaces: let index jobs embed with another space than the server's.
    Returns:
        The FastAPI app; `app.state.jobs` runs index jobs, `app.state.token` is the token.
    """
    from mcrsearch.server.jobs import FINISHED, JobManager

    @asynccontextmanager
    async def lifespan(_: FastAPI):
        yield
        if on_stop is not None:
            on_stop()

    settings = client.settings
    max_upload = int(settings.max_upload_mb * 2**20)
    token = token or secrets.token_urlsafe(24)
    # The whole body, by Content-Length and by streamed bytes, and the parts a form may have: checked
    # before a route reads anything (the Guard has already refused requests without the token).
    app = FastAPI(title="mcrsearch", version=mcrsearch.__version__, docs_url=None, redoc_url=None, lifespan=lifespan,
                  description="Any-to-any search over images, text, audio and 3D (C-MCR / Ex-MCR spaces).",
                  form_limits={"max_files": MAX_QUERY_FILES, "max_fields": 4 * MAX_QUERY_INPUTS,
                               "max_part_size": 4 * MAX_TEXT_CHARS})
    app.state.client = client
    app.state.jobs = jobs = JobManager(client, allow_spaces=allow_spaces)
    app.state.token = token
    app.add_middleware(Guard, token=token, allowed_hosts=allowed_hosts, max_body=max_upload + 2**20)
    thumbs: dict[str, Any] = {}

    @app.exception_handler(McrError)
    async def mcr_error(_: Request, exc: McrError) -> JSONResponse:
        status = next((code for kind, code in _STATUS if isinstance(exc, kind)), 500)
        return JSONResponse({"detail": str(exc)}, status_code=status)

    @app.exception_handler(FileChanged)
    async def file_changed(_: Request, exc: FileChanged) -> JSONResponse:
        return JSONResponse({"detail": str(exc)}, status_code=410)

    api: list[Any] = []          # the token is checked by the Guard, before routing

    # -- the page
    @app.get("/", include_in_schema=False)
    def page(request: Request, token_param: Optional[str] = Query(None, alias="token")) -> Response:
        index = STATIC_DIR / "index.html"
        if not index.is_file():
            raise HTTPException(404, "The page is not part of this installation.")
        if token_param is not None:
            # The address `serve` printed: keep the token in this port's cookie and drop it from the
            # address bar (and from history and Referer headers) by a redirect to the bare page.
            if not token_matches(token_param, token):
                raise HTTPException(401, "This token is not this server's; open the address `mcrsearch serve` "
                                         "printed.")
            response: Response = RedirectResponse("/", status_code=303)
            response.set_cookie(cookie_name(request.scope), token, httponly=True, samesite="strict", path="/")
            return response
        return FileResponse(index, media_type="text/html", headers={"Cache-Control": "no-store"})

    if STATIC_DIR.is_dir():
        app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")

    # -- status
    @app.get("/api/health", dependencies=api, tags=["status"])
    def health(request: Request, challenge: Optional[str] = Query(None, max_length=256)) -> dict[str, Any]:
        """Liveness, and the proof of identity (HMAC of `challenge` with the server's nonce) without the
        token; with it also which collection this server owns."""
        from mcrsearch.server.discovery import location_of, proof

        out: dict[str, Any] = {"status": "ok", "version": mcrsearch.__version__}
        if challenge is not None and nonce is not None:
            out["proof"] = proof(nonce, challenge)
        if not request.scope.get("state", {}).get("authorised"):
            return out
        try:
            total = client.count()
        except StoreError:
            total = 0
        return {**out, "collection": settings.collection, "location": location_of(settings), "total": total,
                "indexing": jobs.busy()}

    @app.get("/api/info", dependencies=api, tags=["status"])
    def info() -> dict[str, Any]:
        """Collection, spaces, counts per modality and storage size."""
        return client.info()

    # -- search
    default_space = settings.space if settings.space not in (None, "", "auto") else None

    def fallback_space(error: str) -> str | None:
        """The space a search without one uses when several cover it: exmcr, else the first by name."""
        if not error.startswith("Several spaces cover"):
            return None
        names = sorted(s["name"] for s in client.info().get("spaces", []))
        return "exmcr" if "exmcr" in names else (names[0] if names else None)

    def check_query(texts: list[str], likes: list[str], uploads: dict[str, list[Any]], offset: int,
                    min_score: float | None) -> None:
        """One search's cost is bounded: inputs, text length, offset, a finite floor."""
        files = sum(len(v) for v in uploads.values())
        if len(texts) + len(likes) + files > MAX_QUERY_INPUTS or files > MAX_QUERY_FILES:
            raise ConfigError(f"A search takes at most {MAX_QUERY_INPUTS} inputs, of which {MAX_QUERY_FILES} "
                              "files.")
        if any(len(t) > MAX_TEXT_CHARS for t in texts):
            raise ConfigError(f"A query text may have at most {MAX_TEXT_CHARS} characters.")
        if any(len(v) > 4096 for v in likes):
            raise ConfigError("A `like` value is an item id or a path of at most 4096 characters.")
        if not 0 <= offset <= MAX_SEARCH_OFFSET:
            raise ConfigError(f"offset must be between 0 and {MAX_SEARCH_OFFSET}.")
        if min_score is not None and not math.isfinite(min_score):
            raise ConfigError("min_score must be a finite number.")

    def search(texts: list[str], likes: list[str], uploads: dict[str, list[Any]], target: str, k: int,
               offset: int, min_score: float | None, space: str | None, weights: list[str]) -> dict[str, Any]:
        if not 1 <= k <= MAX_K:
            raise ConfigError(f"k must be between 1 and {MAX_K}.")
        check_query(texts, likes, uploads, offset, min_score)
        started = time.perf_counter()
        texts = [t for t in texts if t.strip()]
        query = dict(text=texts, like=likes, target=target, k=k + 1, offset=offset, min_score=min_score,
                     weights=parse_weights(weights), **uploads)
        try:
            hits = client.query(space=space or default_space, **query)
        except ConfigError as exc:
            # A collection that holds several spaces (indexed from the CLI) still has a defined default.
            fallback = None if space or default_space else fallback_space(str(exc))
            if fallback is None:
                raise
            space = fallback
            hits = client.query(space=space, **query)
        return {"hits": [item_json(h) for h in hits[:k]], "target": target, "k": k, "offset": offset,
                "space": space, "more": len(hits) > k, "took_ms": round((time.perf_counter() - started) * 1e3, 2)}

    @app.get("/api/search", dependencies=api, tags=["search"])
    def search_get(text: list[str] = Query([]), like: list[str] = Query([]), target: str = "any", k: int = 20,
                   offset: int = 0, min_score: Optional[float] = None, space: Optional[str] = None,
                   weight: list[str] = Query([])) -> dict[str, Any]:
        """Search with texts and indexed items (`like`: item ids): a URL that reproduces the search."""
        return search(text, like, {}, target, k, offset, min_score, space, weight)

    @app.post("/api/search", dependencies=api, tags=["search"])
    async def search_post(text: list[str] = Form([]), like: list[str] = Form([]), target: str = Form("any"),
                          k: int = Form(20), offset: int = Form(0), min_score: Optional[float] = Form(None),
                          space: Optional[str] = Form(None), weight: list[str] = Form([]),
                          audio: list[UploadFile] = File([]), image: list[UploadFile] = File([]),
                          points: list[UploadFile] = File([])) -> dict[str, Any]:
        """Search with uploaded files (audio, image, 3D `points`) and/or texts and indexed items."""
        uploads = {name: [await _read_upload(f, max_upload) for f in files]
                   for name, files in (("audio", audio), ("image", image), ("points", points)) if files}
        return await run_in_threadpool(search, text, like, uploads, target, k, offset, min_score, space, weight)

    # -- items
    def one(item_id: str) -> Item:
        from mcrsearch.store import is_item_id

        if not is_item_id(item_id):
            raise HTTPException(404, "No such item: an item id is a UUID, as search and browse return them.")
        found = client.retrieve([item_id])
        if not found:
            raise HTTPException(404, f"No item {item_id} in collection '{settings.collection}'.")
        return found[0]

    max_file = int(settings.max_file_mb * 2**20)

    @app.get("/api/items", dependencies=api, tags=["items"])
    def items(modality: str = "any", offset: int = 0, limit: int = Query(50, ge=1, le=500)) -> dict[str, Any]:
        """Browse the collection, one modality or all, in a stable order."""
        if not 0 <= offset <= MAX_BROWSE_OFFSET:
            raise ConfigError(f"offset must be between 0 and {MAX_BROWSE_OFFSET}.")
        page = client.scroll(modality=modality, limit=limit, offset=offset)
        return {"items": [item_json(i) for i in page], "total": client.count(modality), "offset": offset,
                "limit": limit}

    @app.get("/api/items/{item_id}", dependencies=api, tags=["items"])
    def item(item_id: str) -> dict[str, Any]:
        """One item's metadata."""
        return item_json(one(item_id))

    @app.get("/api/items/{item_id}/media", dependencies=api, tags=["items"])
    def media(item_id: str, request: Request) -> Response:
        """The item's file (HTTP Range supported, so audio players can seek), only while it still is the
        file that was indexed, read from the checked descriptor."""
        it = one(item_id)
        name = Path(it.path).name
        kind = mimetypes.guess_type(name)[0] or "application/octet-stream"
        return file_response(open_indexed(it), kind, name, request.headers.get("range"))

    @app.get("/api/items/{item_id}/thumb", dependencies=api, tags=["items"])
    async def thumb(item_id: str, size: int = Query(256, ge=THUMB_SIZES[0], le=THUMB_SIZES[1])) -> Response:
        """A PNG: images resized, 3D rendered on the server, audio as its waveform."""
        it = await run_in_threadpool(one, item_id)
        if it.modality == Modality.TEXT.value:
            raise HTTPException(404, "Text items have no thumbnail; their caption is in the item's details.")
        if "cache" not in thumbs:
            from mcrsearch.server.thumbs import ThumbnailCache

            thumbs["cache"] = ThumbnailCache(settings.cache_dir / "thumbs")
        await run_in_threadpool(lambda: open_indexed(it).close())     # served only while it is what was indexed
        png = await run_in_threadpool(thumbs["cache"].png, it.path, Modality.parse(it.modality),
                                      str(it.payload.get("hash", it.id)), size, lambda: read_indexed(it, max_file))
        return Response(png, media_type="image/png", headers={"Cache-Control": "private, max-age=86400"})

    @app.get("/api/items/{item_id}/geometry", dependencies=api, tags=["items"])
    async def geometry(item_id: str) -> dict[str, Any]:
        """A 3D item's points or mesh (centred, unit sphere) for the interactive viewer."""
        it = await run_in_threadpool(one, item_id)
        if it.modality != Modality.POINTS.value:
            raise HTTPException(404, f"Item {item_id} is not a 3D item.")
        from mcrsearch.server.geometry import geometry_payload

        return await run_in_threadpool(lambda: geometry_payload(it.path, data=read_indexed(it, max_file)))

    # -- index jobs
    def job_or_404(job_id: str):
        job = jobs.get(job_id)
        if job is None:
            raise HTTPException(404, f"No index job {job_id}.")
        return job

    @app.post("/api/jobs", dependencies=api, tags=["jobs"], status_code=202)
    def start_job(request: JobRequest) -> dict[str, Any]:
        """Start indexing a folder on the server's machine; searching goes on meanwhile."""
        return jobs.submit(request.path, request.space).to_dict()

    @app.get("/api/jobs", dependencies=api, tags=["jobs"])
    def list_jobs() -> dict[str, Any]:
        return {"jobs": [j.to_dict() for j in jobs.list()]}

    @app.get("/api/jobs/{job_id}", dependencies=api, tags=["jobs"])
    def get_job(job_id: str) -> dict[str, Any]:
        return job_or_404(job_id).to_dict()

    @app.delete("/api/jobs/{job_id}", dependencies=api, tags=["jobs"])
    def cancel_job(job_id: str) -> dict[str, Any]:
        """Cancel a job: it stops after writing what it has decoded (whole, searchable items)."""
        job_or_404(job_id)
        return jobs.cancel(job_id).to_dict()

    @app.get("/api/jobs/{job_id}/events", dependencies=api, tags=["jobs"])
    async def job_events(job_id: str, request: Request) -> StreamingResponse:
        """Server-sent events: `progress` whenever the job's counts change, then one `end`."""
        job = job_or_404(job_id)

        async def stream():
            seen = -1
            while True:
                finished = job.state in FINISHED
                if job.version != seen or finished:
                    seen = job.version
                    event = "end" if finished else "progress"
                    yield f"event: {event}\ndata: {json.dumps(job.to_dict())}\n\n"
                if finished or await request.is_disconnected():
                    return
                await asyncio.sleep(EVENT_POLL_S)

        return StreamingResponse(stream(), media_type="text/event-stream",
                                 headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"})

    return app


async def _read_upload(upload: UploadFile, limit: int) -> Any:
    """An uploaded query file as MediaBytes, refused with 413 past the upload cap (read no further)."""
    data = await upload.read(limit + 1)
    if len(data) > limit:
        raise HTTPException(413, f"The file {upload.filename} is over the upload limit of "
                                 f"{limit / 2**20:g} MB (max_upload_mb).")
    return MediaBytes(Path(upload.filename or "upload").name, data)
