"""The JSON API and the page of `mcrsearch serve` (FastAPI). Every request goes through one `Client`.

Security, by default: the server listens on loopback; the Host header must then name loopback (no DNS
rebinding); a browser request that changes state must come from the page's own origin; media is served
by item id only (a request never names a file to read); uploads are capped and decoded by the same
hardened media code as the indexer; CORS is off. Bound to another address, every API call needs the token.

The routes live in `mcrsearch.server.routers` (one router per resource), their JSON shapes in
`mcrsearch.server.schemas`, and what they depend on (client, settings, jobs, token) in `mcrsearch.server.deps`.
"""

from __future__ import annotations

from contextlib import asynccontextmanager
from typing import TYPE_CHECKING, Callable
from urllib.parse import urlsplit

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from fastapi.staticfiles import StaticFiles

import mcrsearch
from mcrsearch.errors import ConfigError, McrError, MediaError, OfflineError, StoreError, WeightsInvalidError, \
    WeightsMissingError
from mcrsearch.server.routers import constants, health, items, jobs, page, search

if TYPE_CHECKING:
    from mcrsearch.api import Client

STATIC_DIR = page.STATIC_DIR
_STATUS = ((ConfigError, 400), (MediaError, 422), (WeightsMissingError, 503), (WeightsInvalidError, 503),
           (OfflineError, 503), (StoreError, 409))


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
        The FastAPI app; `app.state` holds `client`, `jobs` (runs index jobs) and `token`.
    """
    from mcrsearch.server.jobs import JobManager

    @asynccontextmanager
    async def lifespan(_: FastAPI):
        yield
        if on_stop is not None:
            on_stop()

    app = FastAPI(title="mcrsearch", version=mcrsearch.__version__, docs_url=None, redoc_url=None, lifespan=lifespan,
                  description="Any-to-any search over images, text, audio and 3D (C-MCR / Ex-MCR spaces).")
    app.state.client = client
    app.state.jobs = JobManager(client)
    app.state.token = token
    app.state.thumbs = None

    @app.middleware("http")
    async def guard(request: Request, call_next):
        host = request.headers.get("host", "")
        if allowed_hosts is not None and host not in allowed_hosts:
            return JSONResponse({"detail": "This server answers only on its own address."}, status_code=403)
        origin = request.headers.get("origin")
        if request.method not in ("GET", "HEAD", "OPTIONS") and origin and urlsplit(origin).netloc != host:
            return JSONResponse({"detail": "Requests from other sites are refused."}, status_code=403)
        return await call_next(request)

    app.add_exception_handler(McrError, _mcr_error)       # type: ignore[arg-type]
    for router in (page.router, health.router, constants.router, search.router, items.router, jobs.router):
        app.include_router(router)
    if STATIC_DIR.is_dir():
        app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
    return app


async def _mcr_error(_: Request, exc: McrError) -> JSONResponse:
    """A library error as its one sentence, with the HTTP status of its kind."""
    status = next((code for kind, code in _STATUS if isinstance(exc, kind)), 500)
    return JSONResponse({"detail": str(exc)}, status_code=status)
