"""`mcrsearch serve`: the collection as a local search server (JSON API + web page), encoders kept warm."""

from __future__ import annotations

from typing import Optional

import typer

from mcrsearch.commands.common import COLLECTION, PRECISION, QDRANT_API_KEY, QDRANT_URL

LOOPBACK = ("127.0.0.1", "localhost", "::1")


def serve(
    ctx: typer.Context,
    host: Optional[str] = typer.Option(None, "--host", help="Address to bind (default 127.0.0.1, this machine only)."),
    port: Optional[int] = typer.Option(None, "--port", help="Port (default 8765; 0 lets the system pick a free one)."),
    collection: Optional[str] = COLLECTION,
    space: Optional[str] = typer.Option(None, "--space", help="Default space for index jobs and queries."),
    token: Optional[str] = typer.Option(None, "--token", envvar="MCRSEARCH_SERVER_TOKEN",
                                        help="Token every API call must carry (generated when binding beyond "
                                             "loopback and none is given)."),
    qdrant_url: Optional[str] = QDRANT_URL,
    qdrant_api_key: Optional[str] = QDRANT_API_KEY,
    precision: Optional[str] = PRECISION,
    warm: bool = typer.Option(True, "--warm/--lazy", help="Load the collection's encoders at start."),
) -> None:
    """Serve the collection: search page at /, JSON API under /api (OpenAPI at /openapi.json)."""
    import os
    import secrets
    import threading

    from mcrsearch.api import Client
    from mcrsearch.commands.common import console, settings
    from mcrsearch.errors import ConfigError
    from mcrsearch.server import discovery

    cfg = settings(ctx, precision=precision, collection=collection, space=space, server_host=host, server_port=port,
                   server_token=token, qdrant_url=qdrant_url, qdrant_api_key=qdrant_api_key)
    local = cfg.server_host in LOOPBACK
    secret = cfg.server_token or (None if local else secrets.token_urlsafe(24))
    running = discovery.find_server(cfg)
    if running is not None:
        raise ConfigError(f"Collection '{cfg.collection}' is already served at {running.url} (pid {running.pid}).")

    import uvicorn

    from mcrsearch.server.app import create_app

    sock = bind_socket(cfg.server_host, cfg.server_port)      # port 0: the system picks a free one
    bound = sock.getsockname()[1]
    shown_host = f"[{cfg.server_host}]" if ":" in cfg.server_host else cfg.server_host
    url = f"http://{shown_host}:{bound}"
    allowed = [f"{h}:{bound}" for h in ("127.0.0.1", "localhost", "[::1]")] + list(LOOPBACK[:2]) if local else None
    client = Client(settings=cfg)

    def stop() -> None:
        discovery.remove(cfg, os.getpid())
        client.close()

    app = create_app(client, token=secret, allowed_hosts=allowed, on_stop=stop)
    if warm:
        threading.Thread(target=_warm, args=(client, console), name="mcr-warm", daemon=True).start()
    discovery.write(cfg, discovery.ServerInfo(url if local else f"http://127.0.0.1:{bound}", os.getpid(),
                                              cfg.collection, discovery.location_of(cfg), secret))
    console.print(f"Serving collection [bold]{cfg.collection}[/] at {url}/"
                  + (f"?token={secret}" if secret else "") + "  (Ctrl-C stops)")
    try:
        uvicorn.Server(uvicorn.Config(app, log_level="warning", timeout_graceful_shutdown=3)).run(sockets=[sock])
    finally:                      # also when uvicorn never got to start
        stop()


def bind_socket(host: str, port: int):
    """The listening socket, bound here so that a taken port is one clear sentence and port 0 works."""
    import socket

    from mcrsearch.errors import ConfigError

    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    # Accepted connections inherit this: without it every response waits out the client's delayed ACK
    # (~40 ms a request); uvicorn sets it itself only on sockets it binds.
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    try:
        sock.bind((host, port))
    except OSError as exc:
        sock.close()
        raise ConfigError(f"Cannot listen on {host}:{port} ({exc.strerror}); choose another --port.") from exc
    sock.listen(128)
    sock.set_inheritable(True)
    return sock


def _warm(client, console) -> None:
    """Open the store and build the collection's spaces now, so the first query pays no load time."""
    from mcrsearch.errors import McrError

    try:
        for space in client.info()["spaces"]:
            client.space(space["name"])
    except McrError as exc:
        console.print(f"[yellow]note:[/] {exc}")
