"""The JSON API and the page of `mcrsearch serve` (FastAPI). Every request goes through one `Client`.

Security (docs/SERVER.md, threat model): every /api call but the health check needs the token, on
loopback too; host, origin and token are checked before routing and before any body is read, and the
body is capped as a whole (`guard.Guard`); media is served by item id only, and only while the file
still is what was indexed (`safefile`); every request's cost is bounded (counts, lengths, offsets).

The routes live in `mcrsearch.server.routers` (one router per resource), their JSON shapes in
`mcrsearch.server.schemas`, and what they depend on (client, settings, jobs, token) in `mcrsearch.server.deps`.
"""

from __future__ import annotations

import secrets
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING, Callable

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.staticfiles import StaticFiles

import mcrsearch
from mcrsearch.errors import ConfigError, FileGoneError, McrError, to_wire
from mcrsearch.server.guard import Guard
from mcrsearch.server.routers import constants, explain, health, items, jobs, library, page, search
from mcrsearch.server.safefile import FileChanged

if TYPE_CHECKING:
    from mcrsearch.api import Client

STATIC_DIR = page.STATIC_DIR


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
        The FastAPI app; `app.state` holds `client`, `jobs` (runs index jobs), `token` and `nonce`.
    """
    from mcrsearch.server.jobs import JobManager

    @asynccontextmanager
    async def lifespan(_: FastAPI):
        yield
        if on_stop is not None:
            on_stop()

    token = token or secrets.token_urlsafe(24)
    # The parts a form may have, checked while it is parsed (the Guard has refused requests without the
    # token, and caps the whole body, before this).
    app = FastAPI(title="mcrsearch", version=mcrsearch.__version__, docs_url=None, redoc_url=None, lifespan=lifespan,
                  description="Any-to-any search over images, text, audio and 3D (C-MCR / Ex-MCR spaces).",
                  form_limits={"max_files": search.MAX_QUERY_FILES, "max_fields": 4 * search.MAX_QUERY_INPUTS,
                               "max_part_size": 4 * search.MAX_TEXT_CHARS})
    app.state.client = client
    app.state.jobs = JobManager(client, allow_spaces=allow_spaces)
    app.state.token = token
    app.state.nonce = nonce
    app.state.thumbs = None
    app.state.watcher = None              # set by `serve --watch` (mcrsearch_indexer.watch.Watcher)
    app.add_middleware(Guard, token=token, allowed_hosts=allowed_hosts,
                       max_body=int(client.settings.max_upload_mb * 2**20) + 2**20)

    app.add_exception_handler(McrError, _mcr_error)       # type: ignore[arg-type]
    app.add_exception_handler(RequestValidationError, _bad_request)  # type: ignore[arg-type]
    app.add_exception_handler(FileChanged, _file_changed)  # type: ignore[arg-type]
    for router in (page.router, health.router, constants.router, search.router, items.router, jobs.router,
                   library.router, explain.router):
        app.include_router(router)
    if STATIC_DIR.is_dir():
        app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
    return app


async def _file_changed(request: Request, exc: FileChanged) -> JSONResponse:
    """An item whose file is gone or no longer the indexed one: a FileGoneError (410) with its sentence."""
    return await _mcr_error(request, FileGoneError(str(exc)))


async def _mcr_error(_: Request, exc: McrError) -> JSONResponse:
    """A library error as its one sentence and its class (RemoteClient raises the same class again), with
    the class's HTTP status (mcrsearch.errors is the one table of them)."""
    return JSONResponse(to_wire(exc), status_code=exc.http_status)


async def _bad_request(request: Request, exc: RequestValidationError) -> JSONResponse:
    """A parameter FastAPI could not read (a word where a number goes, a value out of range) is a bad value
    like any other: one sentence, answered as a ConfigError."""
    first = exc.errors()[0] if exc.errors() else {}
    where = ".".join(str(p) for p in first.get("loc", ()) if p not in ("query", "body", "path"))
    reason = str(first.get("msg", "invalid")).rstrip(".")
    return await _mcr_error(request, ConfigError(f"Bad value for '{where}': {reason.lower()}."))
