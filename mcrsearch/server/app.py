"""The JSON API and the page of `mcrsearch serve` (FastAPI). Every request goes through one `Client`.

Security, by default: the server listens on loopback; the Host header must then name loopback (no DNS
rebinding); a browser request that changes state must come from the page's own origin; media is served
by item id only (a request never names a file to read); uploads are capped and decoded by the same
hardened media code as the indexer; CORS is off. Bound to another address, every API call needs the token.
"""

from __future__ import annotations

import asyncio
import hmac
import json
import mimetypes
import time
from contextlib import asynccontextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Optional
from urllib.parse import urlsplit

from fastapi import Depends, FastAPI, File, Form, HTTPException, Query, Request, UploadFile
from fastapi.responses import FileResponse, JSONResponse, Response, StreamingResponse
from fastapi.staticfiles import StaticFiles
from pydantic import BaseModel
from starlette.concurrency import run_in_threadpool

import mcrsearch
from mcrsearch.errors import (ConfigError, McrError, MediaError, OfflineError, StoreError, WeightsInvalidError,
                              WeightsMissingError)
from mcrsearch.modality import Modality
from mcrsearch.search import Hit, Item, MediaBytes, parse_weights

if TYPE_CHECKING:
    from mcrsearch.api import Client

STATIC_DIR = Path(__file__).with_name("static")
TOKEN_COOKIE = "mcrsearch_token"
MAX_K = 200
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
               on_stop: Callable[[], None] | None = None) -> FastAPI:
    """The server application over `client`.

    Args:
        client: the one Client the server answers with (it owns the store and the warm encoders).
        token: when set, every API call must carry it (Authorization: Bearer, or the page's cookie).
        allowed_hosts: Host header values to accept (loopback names for a loopback bind); None accepts any.
        on_stop: called when the server shuts down (uvicorn re-raises a caught SIGTERM after its graceful
            shutdown, so code after `Server.run()` may never run; this always does).
    Returns:
        The FastAPI app; `app.state.jobs` runs index jobs.
    """
    from mcrsearch.server.jobs import FINISHED, JobManager

    @asynccontextmanager
    async def lifespan(_: FastAPI):
        yield
        if on_stop is not None:
            on_stop()

    app = FastAPI(title="mcrsearch", version=mcrsearch.__version__, docs_url=None, redoc_url=None, lifespan=lifespan,
                  description="Any-to-any search over images, text, audio and 3D (C-MCR / Ex-MCR spaces).")
    app.state.client = client
    app.state.jobs = jobs = JobManager(client)
    settings = client.settings
    max_upload = int(settings.max_upload_mb * 2**20)
    thumbs: dict[str, Any] = {}

    @app.middleware("http")
    async def guard(request: Request, call_next):
        host = request.headers.get("host", "")
        if allowed_hosts is not None and host not in allowed_hosts:
            return JSONResponse({"detail": "This server answers only on its own address."}, status_code=403)
        origin = request.headers.get("origin")
        if request.method not in ("GET", "HEAD", "OPTIONS") and origin and urlsplit(origin).netloc != host:
            return JSONResponse({"detail": "Requests from other sites are refused."}, status_code=403)
        return await call_next(request)

    @app.exception_handler(McrError)
    async def mcr_error(_: Request, exc: McrError) -> JSONResponse:
        status = next((code for kind, code in _STATUS if isinstance(exc, kind)), 500)
        return JSONResponse({"detail": str(exc)}, status_code=status)

    def authorised(request: Request) -> None:
        if token is None:
            return
        given = request.headers.get("authorization", "").removeprefix("Bearer ").strip() \
            or request.cookies.get(TOKEN_COOKIE, "")
        if not hmac.compare_digest(given.encode(), token.encode()):
            raise HTTPException(401, "This server needs its token: open the page with ?token=... or send "
                                     "'Authorization: Bearer TOKEN'.")

    api = [Depends(authorised)]

    # -- the page
    @app.get("/", include_in_schema=False)
    def page(request: Request, token_param: Optional[str] = Query(None, alias="token")) -> Response:
        index = STATIC_DIR / "index.html"
        if not index.is_file():
            raise HTTPException(404, "The page is not part of this installation.")
        response = FileResponse(index, media_type="text/html")
        if token is not None and token_param is not None and hmac.compare_digest(token_param.encode(),
                                                                                  token.encode()):
            response.set_cookie(TOKEN_COOKIE, token, httponly=True, samesite="strict")
        return response

    if STATIC_DIR.is_dir():
        app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")

    # -- status
    @app.get("/api/health", dependencies=api, tags=["status"])
    def health() -> dict[str, Any]:
        """Liveness, and which collection this server owns."""
        from mcrsearch.server.discovery import location_of

        try:
            total = client.count()
        except StoreError:
            total = 0
        return {"status": "ok", "version": mcrsearch.__version__, "collection": settings.collection,
                "location": location_of(settings), "total": total, "indexing": jobs.busy()}

    @app.get("/api/info", dependencies=api, tags=["status"])
    def info() -> dict[str, Any]:
        """Collection, spaces, counts per modality and storage size."""
        return client.info()

    # -- search
    def search(texts: list[str], likes: list[str], uploads: dict[str, list[Any]], target: str, k: int,
               offset: int, min_score: float | None, space: str | None, weights: list[str]) -> dict[str, Any]:
        if not 1 <= k <= MAX_K:
            raise ConfigError(f"k must be between 1 and {MAX_K}.")
        started = time.perf_counter()
        hits = client.query(text=[t for t in texts if t.strip()], like=likes, target=target, k=k + 1,
                            offset=offset, min_score=min_score, space=space, weights=parse_weights(weights),
                            **uploads)
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
        found = client.retrieve([item_id])
        if not found:
            raise HTTPException(404, f"No item {item_id} in collection '{settings.collection}'.")
        return found[0]

    def file_of(item: Item) -> Path:
        path = Path(item.path)
        if not path.is_file():
            raise HTTPException(410, f"The file of item {item.id} is no longer on disk; re-index its folder.")
        return path

    @app.get("/api/items", dependencies=api, tags=["items"])
    def items(modality: str = "any", offset: int = 0, limit: int = Query(50, ge=1, le=500)) -> dict[str, Any]:
        """Browse the collection, one modality or all, in a stable order."""
        page = client.scroll(modality=modality, limit=limit, offset=offset)
        return {"items": [item_json(i) for i in page], "total": client.count(modality), "offset": offset,
                "limit": limit}

    @app.get("/api/items/{item_id}", dependencies=api, tags=["items"])
    def item(item_id: str) -> dict[str, Any]:
        """One item's metadata."""
        return item_json(one(item_id))

    @app.get("/api/items/{item_id}/media", dependencies=api, tags=["items"])
    def media(item_id: str) -> FileResponse:
        """The item's file (HTTP Range supported, so audio players can seek)."""
        path = file_of(one(item_id))
        kind = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
        return FileResponse(path, media_type=kind, content_disposition_type="inline", filename=path.name)

    @app.get("/api/items/{item_id}/thumb", dependencies=api, tags=["items"])
    async def thumb(item_id: str, size: int = Query(256, ge=THUMB_SIZES[0], le=THUMB_SIZES[1])) -> Response:
        """A PNG: images resized, 3D rendered on the server, audio as its waveform."""
        it = await run_in_threadpool(one, item_id)
        if it.modality == Modality.TEXT.value:
            raise HTTPException(404, "Text items have no thumbnail; their caption is in the item's details.")
        if "cache" not in thumbs:
            from mcrsearch.server.thumbs import ThumbnailCache

            thumbs["cache"] = ThumbnailCache(settings.cache_dir / "thumbs")
        png = await run_in_threadpool(thumbs["cache"].png, str(file_of(it)), Modality.parse(it.modality),
                                      str(it.payload.get("hash", it.id)), size)
        return Response(png, media_type="image/png", headers={"Cache-Control": "private, max-age=86400"})

    @app.get("/api/items/{item_id}/geometry", dependencies=api, tags=["items"])
    async def geometry(item_id: str) -> dict[str, Any]:
        """A 3D item's points or mesh (centred, unit sphere) for the interactive viewer."""
        it = await run_in_threadpool(one, item_id)
        if it.modality != Modality.POINTS.value:
            raise HTTPException(404, f"Item {item_id} is not a 3D item.")
        from mcrsearch.server.geometry import geometry_payload

        return await run_in_threadpool(geometry_payload, str(file_of(it)))

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
