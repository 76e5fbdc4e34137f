"""Whether the browser tests can run, and what happens when they cannot: a skip on a workstation, a
failure under CI (CI=true), where a missing Chromium or Playwright must never pass as "skipped"."""

from __future__ import annotations

import importlib.util
import os
import socket
import threading
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Iterator

import pytest

CHROMIUM = Path(os.environ.get("MCRSEARCH_CHROMIUM", "/usr/lib/chromium/chromium"))


def in_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() not in ("", "0", "false", "no")


def unavailable(chromium: Path = CHROMIUM) -> str | None:
    """Why the browser tests cannot run here, or None."""
    if importlib.util.find_spec("playwright") is None:
        return "playwright is not installed (pip install playwright)"
    if not chromium.is_file():
        return (f"no Chromium at {chromium}: install Debian's (apt-get install -y --no-install-recommends "
                "chromium) or set MCRSEARCH_CHROMIUM; Playwright must not download a browser of its own")
    return None


def require_browser(chromium: Path = CHROMIUM):
    """A module's `pytestmark`: skip without a browser, except under CI, where the module fails to collect."""
    reason = unavailable(chromium)
    if reason and in_ci():
        pytest.fail(f"CI runs the browser tests, but {reason}", pytrace=False)
    return pytest.mark.skipif(reason is not None, reason=reason or "")


@contextmanager
def serve_in_thread(client: Any, token: str, **app_options: Any) -> Iterator[str]:
    """`create_app(client)` served by uvicorn on a free loopback port in a daemon thread; yields its base URL.

    The page's tests drive a real server (the guard checks Host, so both loopback spellings are allowed)."""
    import uvicorn

    from mcrsearch.server.app import create_app

    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    app = create_app(client, allowed_hosts=[f"127.0.0.1:{port}", f"localhost:{port}"], token=token, **app_options)
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", timeout_graceful_shutdown=1))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        assert thread.is_alive() and time.monotonic() < deadline, "the server did not start"
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(10)
        sock.close()


def viewer_pixels_js(width: int, height: int) -> str:
    """JS returning the 3D viewer's canvas scaled to width x height as a flat RGBA list: what a test
    compares to tell a drawn, turned or repainted object."""
    return f"""() => {{
  const src = document.querySelector('#viewer-canvas');
  const c = document.createElement('canvas');
  c.width = {width}; c.height = {height};
  const g = c.getContext('2d');
  g.drawImage(src, 0, 0, c.width, c.height);
  return Array.from(g.getImageData(0, 0, c.width, c.height).data);
}}"""


def image_pixels_at(page: Any, selector: str, xs: tuple[float, ...]) -> list[list[int]]:
    """RGBA of a loaded <img> at mid-height, at each fraction of its width: the "where?" overlays are read
    this way (warm where the query is, cool elsewhere)."""
    return page.evaluate("""([selector, xs]) => {
        const img = document.querySelector(selector);
        const c = document.createElement('canvas'); c.width = img.naturalWidth; c.height = img.naturalHeight;
        const g = c.getContext('2d'); g.drawImage(img, 0, 0);
        return xs.map(x => Array.from(g.getImageData(Math.floor(c.width * x), Math.floor(c.height / 2), 1, 1).data));
    }""", [selector, list(xs)])
