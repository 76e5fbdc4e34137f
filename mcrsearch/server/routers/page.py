"""The web page at `/` (its script and styles are served from /static)."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

from fastapi import APIRouter, HTTPException, Query, Request
from fastapi.responses import FileResponse, RedirectResponse, Response

from mcrsearch.server.guard import cookie_name, token_matches

STATIC_DIR = Path(__file__).parent.parent / "static"

router = APIRouter(include_in_schema=False)


@router.get("/")
def page(request: Request, token_param: Optional[str] = Query(None, alias="token")) -> Response:
    """The page. Opened with the right `?token=` (the address `serve` prints), it sets this port's cookie,
    which authorises the page's own API calls, and redirects to the bare page, so the token leaves the
    address bar, the history and any Referer."""
    index = STATIC_DIR / "index.html"
    if not index.is_file():
        raise HTTPException(404, "The page is not part of this installation.")
    if token_param is not None:
        token = request.app.state.token
        if token is None or not token_matches(token_param, token):
            raise HTTPException(401, "This token is not this server's; open the address `mcrsearch serve` printed.")
        response: Response = RedirectResponse("/", status_code=303)
        response.set_cookie(cookie_name(request.scope), token, httponly=True, samesite="strict", path="/")
        return response
    return FileResponse(index, media_type="text/html", headers={"Cache-Control": "no-store"})
