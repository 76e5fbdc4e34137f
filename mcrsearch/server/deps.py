"""What routes depend on, as FastAPI dependencies: the Client, the settings, the job manager, the token
check, and an item looked up by id. Everything lives on `app.state`, set once by `create_app`."""

from __future__ import annotations

from typing import TYPE_CHECKING

from fastapi import HTTPException, Request

from mcrsearch.errors import NotFoundError
from mcrsearch.server.guard import TOKEN_HELP, given_token, token_matches

if TYPE_CHECKING:
    from mcrsearch.api import Client
    from mcrsearch.config import Settings
    from mcrsearch.search import Item
    from mcrsearch.server.jobs import JobManager


def get_client(request: Request) -> "Client":
    """The one Client the server answers with (it owns the store and the warm encoders)."""
    return request.app.state.client


def get_settings(request: Request) -> "Settings":
    return request.app.state.client.settings


def get_jobs(request: Request) -> "JobManager":
    return request.app.state.jobs


def require_token(request: Request) -> None:
    """Every API call but the health check carries the server's token (Bearer header, or the page's
    cookie for this port). The Guard middleware has checked it already, before any body was read; this
    says so again on each router, so a route cannot be mounted without it."""
    token = request.app.state.token
    if token is None or not token_matches(given_token(request.scope), token):
        raise HTTPException(401, TOKEN_HELP)


def find_item(client: "Client", item_id: str) -> "Item":
    """The stored item with this id, else a NotFoundError (404; also for a string that is no item id at all)."""
    from mcrsearch.store import is_item_id

    if not is_item_id(item_id):
        raise NotFoundError("No such item: an item id is a UUID, as search and browse return them.")
    found = client.retrieve([item_id])
    if not found:
        raise NotFoundError(f"No item {item_id} in collection '{client.settings.collection}'.")
    return found[0]
