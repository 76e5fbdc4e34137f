"""The web page at `/` (its script and styles are served from /static)."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

from fastapi import APIRouter, HTTPException, Query, Request
from fastapi.responses import FileResponse, Response

from mcrsearch.server.deps import TOKEN_COOKIE, token_matches

STATIC_DIR = Path(__file__).parent.parent / "static"

router = APIRouter(include_in_schema=False)


@router.get("/")
def page(request: Request, token_param: Optional[str] = Query(None, alias="token")) -> Response:
    """The page; opened with the right `?token=`, it sets the cookie that authorises its own API calls."""
    index = STATIC_DIR / "index.html"
    if not index.is_file():
        raise HTTPException(404, "The page is not part of this installation.")
    response = FileResponse(index, media_type="text/html")
    token = request.app.state.token
    if token is not None and token_param is not None and token_matches(token_param, token):
        response.set_cookie(TOKEN_COOKIE, token, httponly=True, samesite="strict")
    return response
