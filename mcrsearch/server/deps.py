"""What routes depend on, as FastAPI dependencies: the Client, the settings, the job manager, the token
check, and an item looked up by id. Everything lives on `app.state`, set once by `create_app`."""

from __future__ import annotations

import hmac
from pathlib import Path
from typing import TYPE_CHECKING

from fastapi import HTTPException, Request

if TYPE_CHECKING:
    from mcrsearch.api import Client
    from mcrsearch.config import Settings
    from mcrsearch.search import Item
    from mcrsearch.server.jobs import JobManager

TOKEN_COOKIE = "mcrsearch_token"


def get_client(request: Request) -> "Client":
    """The one Client the server answers with (it owns the store and the warm encoders)."""
    return request.app.state.client


def get_settings(request: Request) -> "Settings":
    return request.app.state.client.settings


def get_jobs(request: Request) -> "JobManager":
    return request.app.state.jobs


def token_matches(given: str, token: str) -> bool:
    return hmac.compare_digest(given.encode(), token.encode())


def require_token(request: Request) -> None:
    """Every API call carries the server's token when it has one (Bearer header, or the page's cookie)."""
    token = request.app.state.token
    if token is None:
        return
    given = request.headers.get("authorization", "").removeprefix("Bearer ").strip() \
        or request.cookies.get(TOKEN_COOKIE, "")
    if not token_matches(given, token):
        raise HTTPException(401, "This server needs its token: open the page with ?token=... or send "
                                 "'Authorization: Bearer TOKEN'.")


def find_item(client: "Client", item_id: str) -> "Item":
    """The stored item with this id, else 404."""
    found = client.retrieve([item_id])
    if not found:
        raise HTTPException(404, f"No item {item_id} in collection '{client.settings.collection}'.")
    return found[0]


def file_of(item: "Item") -> Path:
    """The item's file on disk, else 410 (it was moved or removed since indexing)."""
    path = Path(item.path)
    if not path.is_file():
        raise HTTPException(410, f"The file of item {item.id} is no longer on disk; re-index its folder.")
    return path
