"""`mcrsearch serve`: the collection as a local search server (JSON API + web page), encoders kept warm."""

from __future__ import annotations

import ipaddress
import os
import secrets
import socket
import threading
import time
from typing import Optional

import typer

from mcrsearch.commands.common import COLLECTION, PRECISION, QDRANT_API_KEY, QDRANT_URL
from mcrsearch.errors import ConfigError, McrError

LOOPBACK = ("127.0.0.1", "localhost", "::1")


def serve(
    ctx: typer.Context,
    host: Optional[str] = typer.Option(None, "--host", help="Address to bind (default 127.0.0.1, this machine only)."),
    port: Optional[int] = typer.Option(None, "--port", help="Port (default 8765; 0 lets the system pick a free one)."),
    collection: Optional[str] = COLLECTION,
    space: Optional[str] = typer.Option(None, "--space", help="Default space for index jobs and queries."),
    token: Optional[str] = typer.Option(None, "--token", envvar="MCRSEARCH_SERVER_TOKEN",
                                        help="Token every API call must carry (generated when none is given; "
                                             "the CLI reads it from the owner-only server record)."),
    allow_spaces: bool = typer.Option(False, "--allow-spaces",
                                      help="Let index jobs embed with another space than the server's."),
    qdrant_url: Optional[str] = QDRANT_URL,
    qdrant_api_key: Optional[str] = QDRANT_API_KEY,
    precision: Optional[str] = PRECISION,
    warm: bool = typer.Option(True, "--warm/--lazy", help="Load the collection's encoders at start."),
    watch: bool = typer.Option(False, "--watch", help="Follow the indexed folders: index what appears, changes, "
                                                      "moves or disappears (as index jobs)."),
    poll: bool = typer.Option(False, "--poll", help="With --watch: poll instead of file-system events."),
) -> None:
    """Serve the collection: search page at /, JSON API under /api (OpenAPI at /openapi.json)."""

    from mcrsearch.api import Client
    from mcrsearch.commands.common import console, settings
    from mcrsearch.server import discovery

    cfg = settings(ctx, precision=precision, collection=collection, space=space, server_host=host, server_port=port,
                   server_token=token, qdrant_url=qdrant_url, qdrant_api_key=qdrant_api_key)
    local = is_loopback(cfg.server_host)
    # Always a token, on loopback too: every local user and every web page can reach a loopback port.
    secret = cfg.server_token or secrets.token_urlsafe(24)
    nonce = discovery.new_nonce()
    running = discovery.read_record(cfg)
    if running is not None and discovery.alive(running):
        raise ConfigError(f"Collection '{cfg.collection}' is already served at {running.url} (pid {running.pid}).")

    import uvicorn

    from mcrsearch.server.app import create_app

    sock = bind_socket(cfg.server_host, cfg.server_port)      # port 0: the system picks a free one
    bound = sock.getsockname()[1]
    url = f"http://{_url_host(cfg.server_host)}:{bound}"
    names = dict.fromkeys(("127.0.0.1", "localhost", "[::1]", _url_host(cfg.server_host)))
    allowed = [f"{h}:{bound}" for h in names] + list(names) if local else None
    client = Client(settings=cfg)

    watcher = None

    def stop() -> None:
        if watcher is not None:
            watcher.stop()
        discovery.remove(cfg, os.getpid())
        client.close()

    app = create_app(client, token=secret, allowed_hosts=allowed, on_stop=stop, nonce=nonce,
                     allow_spaces=allow_spaces)
    if watch:
        watcher = app.state.watcher = start_watch(app, client, poll)
        console.print(f"Watching {', '.join(watcher.roots) or 'no folder yet (index one first)'}.")
    if warm:
        threading.Thread(target=_warm, args=(client, console), name="mcr-warm", daemon=True).start()
    # The address actually bound (a wildcard bind is reached on loopback), so the CLI finds this server
    # and no other listener; the nonce lets the CLI check that before it sends the token.
    discovery.write(cfg, discovery.ServerInfo(f"http://{_url_host(_reachable(cfg.server_host))}:{bound}", os.getpid(),
                                              cfg.collection, discovery.location_of(cfg), secret, nonce,
                                              discovery.process_started(os.getpid())))
    console.print(f"Serving collection [bold]{cfg.collection}[/] at {url}/?token={secret}  (Ctrl-C stops; "
                  "open that address once: the page keeps the token in a cookie)")
    try:
        uvicorn.Server(uvicorn.Config(app, log_level="warning", timeout_graceful_shutdown=3)).run(sockets=[sock])
    finally:                      # also when uvicorn never got to start
        stop()


def is_loopback(host: str) -> bool:
    """Whether a bind address is this machine only (127.0.0.0/8, ::1, localhost)."""

    if host in LOOPBACK:
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _reachable(host: str) -> str:
    """The address a client connects to for a bind address: a wildcard bind is reached on loopback."""
    return {"0.0.0.0": "127.0.0.1", "::": "::1", "": "127.0.0.1"}.get(host, host)


def _url_host(host: str) -> str:
    return f"[{host}]" if ":" in host else host


def start_watch(app, client, poll: bool = False):
    """A Watcher over the collection's indexed folders whose batches run as the server's index jobs (one
    writer: jobs run one after another), waiting for each job so that a batch ends when it is searchable."""

    from mcrsearch_indexer.watch import Watcher

    from mcrsearch.server.jobs import FINISHED

    def apply(folder: str):
        job = app.state.jobs.submit(folder)
        while job.state not in FINISHED:
            time.sleep(0.05)
        return job

    return Watcher(client.indexed_folders(), apply, poll=poll or None).start()


def bind_socket(host: str, port: int):
    """The listening socket, bound here so that a taken port is one clear sentence and port 0 works."""


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

    try:
        for space in client.info()["spaces"]:
            client.space(space["name"])
    except McrError as exc:
        console.print(f"[yellow]note:[/] {exc}")
