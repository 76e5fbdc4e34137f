"""The server's front door (pure ASGI, before any route runs and before any body is read).

Threat model (docs/SERVER.md): every local user and every web page the user visits can reach a
loopback port. So, in this order, for every request:
1. the Host header must name the server's own address when it listens on loopback (no DNS rebinding);
2. a browser request that changes state must come from the page's own origin;
3. every /api call except the health check carries the token (Authorization: Bearer, or the page's
   cookie, whose name holds the port so two servers on one host keep separate tokens), checked here,
   so an unauthenticated upload is refused before a byte of it is read or spooled;
4. the whole body is capped: by its Content-Length before a byte is read, and by the bytes actually
   streamed (a chunked upload is cut off at the cap);
5. every response says nosniff, may not be framed (CSP frame-ancestors) and may not be embedded by
   other sites (Cross-Origin-Resource-Policy: same-origin).
"""

from __future__ import annotations

import hmac
import json
from typing import Any
from urllib.parse import urlsplit

from starlette.datastructures import Headers
from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

OPEN_PATHS = frozenset({"/api/health"})      # answers without the token (it proves identity, reveals no data)
SECURITY_HEADERS = [
    (b"x-content-type-options", b"nosniff"),
    (b"content-security-policy", b"frame-ancestors 'none'"),
    (b"x-frame-options", b"DENY"),
    (b"cross-origin-resource-policy", b"same-origin"),
    (b"referrer-policy", b"no-referrer"),
]
TOKEN_HELP = ("This server needs its token: open the address `mcrsearch serve` printed (it sets the page's "
              "cookie), or send 'Authorization: Bearer TOKEN' (the CLI reads it from the server record).")


def cookie_name(scope: Scope) -> str:
    """The page's token cookie for the port this request reached (cookies are per host, not per port)."""
    server = scope.get("server") or ("", 0)
    host = Headers(scope=scope).get("host", "")
    port = urlsplit(f"//{host}").port if host else None
    return f"mcrsearch_token_{port or (server[1] if len(server) > 1 else 0)}"


def token_matches(given: str, token: str) -> bool:
    """Constant-time comparison (no timing oracle on the token)."""
    return hmac.compare_digest(given.encode(), token.encode())


def given_token(scope: Scope) -> str:
    """The token a request carries: its Bearer header, else the page's cookie for this port."""
    headers = Headers(scope=scope)
    auth = headers.get("authorization", "")
    if auth.lower().startswith("bearer "):
        return auth[7:].strip()
    name = cookie_name(scope)
    for part in headers.get("cookie", "").split(";"):
        key, _, value = part.strip().partition("=")
        if key == name:
            return value
    return ""


class BodyTooLarge(HTTPException):
    """A request body past the cap (raised from `receive`, so that FastAPI's body parsing passes it on)."""

    def __init__(self, limit: int) -> None:
        super().__init__(413, f"The request body is over the limit of {limit / 2**20:g} MB (max_upload_mb plus "
                              "1 MB for the form's fields).")

    def __str__(self) -> str:
        return str(self.detail)


class Guard:
    """Host, origin and token checks before the app runs; security headers on every response."""

    def __init__(self, app: ASGIApp, *, token: str | None, allowed_hosts: list[str] | None,
                 max_body: int) -> None:
        self.app = app
        self.token = token
        self.allowed_hosts = allowed_hosts
        self.max_body = max_body

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                message = {**message, "headers": [*message.get("headers", []), *SECURITY_HEADERS]}
            await send(message)

        refusal = self._refusal(scope)
        if refusal is not None:
            status, detail = refusal
            await _answer(send_with_headers, status, detail)
            return
        received = 0
        started = False

        async def capped_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_body:
                    raise BodyTooLarge(self.max_body)
            return message

        async def tracking_send(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send_with_headers(message)

        try:
            await self.app(scope, capped_receive, tracking_send)
        except BodyTooLarge as exc:
            if started:
                raise
            await _answer(send_with_headers, 413, str(exc))

    def _refusal(self, scope: Scope) -> tuple[int, str] | None:
        headers = Headers(scope=scope)
        host = headers.get("host", "")
        if self.allowed_hosts is not None and host not in self.allowed_hosts:
            return 403, "This server answers only on its own address."
        origin = headers.get("origin")
        if scope["method"] not in ("GET", "HEAD", "OPTIONS") and origin and urlsplit(origin).netloc != host:
            return 403, "Requests from other sites are refused."
        path = scope["path"]
        authorised = self.token is None or token_matches(given_token(scope), self.token)
        scope.setdefault("state", {})["authorised"] = authorised
        if (path == "/api" or path.startswith("/api/")) and path not in OPEN_PATHS and not authorised:
            return 401, TOKEN_HELP
        length = headers.get("content-length")
        if length is not None:
            if not length.isdigit():
                return 400, "The Content-Length header is not a number."
            if int(length) > self.max_body:
                return 413, str(BodyTooLarge(self.max_body))
        return None


async def _answer(send: Send, status: int, detail: str) -> None:
    body = json.dumps({"detail": detail}).encode()
    headers: list[Any] = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    if status == 401:
        headers.append((b"www-authenticate", b"Bearer"))
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})
