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
# headless WebGL through SwiftShader; a fake microphone and autoplay for the page's recording and players
CHROMIUM_ARGS = ["--no-sandbox", "--enable-unsafe-swiftshader", "--use-fake-ui-for-media-stream",
                 "--use-fake-device-for-media-stream", "--autoplay-policy=no-user-gesture-required"]
TIMEOUT_MS = 20_000


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


class Page:
    """A browser page on the site that logs its requests and refuses any that leave the server."""

    def __init__(self, browser: Any, base: str, token: str) -> None:
        self.base = base
        self.context = browser.new_context(viewport={"width": 1280, "height": 900}, permissions=["microphone"])
        self.requests: list[str] = []
        self.outside: list[str] = []
        self.errors: list[str] = []
        self.context.route("**/*", self._route)
        self.page = self.context.new_page()
        self.page.set_default_timeout(TIMEOUT_MS)
        self.page.on("pageerror", lambda exc: self.errors.append(str(exc)))
        self.page.on("console", lambda msg: self.errors.append(msg.text) if msg.type == "error" else None)
        self.page.goto(f"{base}/?token={token}")     # the address `serve` prints: it sets the page's cookie
        self.page.wait_for_load_state("networkidle")
        assert "token" not in self.page.url, "the token must leave the address bar"

    def _route(self, route: Any) -> None:
        url = route.request.url
        self.requests.append(url)
        if url.startswith(self.base + "/") or url.startswith("data:") or url.startswith("blob:"):
            route.continue_()
        else:
            self.outside.append(url)
            route.abort()

    def open(self, path: str = "/") -> None:
        self.page.goto(self.base + path)
        self.page.wait_for_load_state("networkidle")

    def search(self, text: str, target: str) -> None:
        self.page.check(f"#target input[value='{target}']")
        self.page.fill("#q", text)
        self.page.press("#q", "Enter")
        self.wait_results()

    def drop_file(self, path: Path, mime: str) -> None:
        """Drop a file on the page as a user drags one from their desktop (the page's drop handler)."""
        self.page.evaluate("""([bytes, name, mime]) => {
            const file = new File([new Uint8Array(bytes)], name, {type: mime});
            const dt = new DataTransfer();
            dt.items.add(file);
            window.dispatchEvent(new DragEvent("drop", {dataTransfer: dt, bubbles: true, cancelable: true}));
        }""", [list(path.read_bytes()), path.name, mime])

    def wait_results(self) -> None:
        self.page.wait_for_selector("#results .card")
        self.page.wait_for_function("!document.body.classList.contains('busy')")

    def names(self, selector: str = "#results .card") -> list[str]:
        return self.page.locator(f"{selector} .name").all_inner_texts()

    def images_loaded(self, selector: str) -> int:
        """Wait until every image matched has loaded; returns how many there are (each decoded, not broken)."""
        self.page.wait_for_function(
            "sel => [...document.querySelectorAll(sel)].every(i => i.complete)", arg=selector)
        sizes = self.page.eval_on_selector_all(selector, "els => els.map(i => i.naturalWidth)")
        assert sizes and all(w > 0 for w in sizes), f"a thumbnail did not load: {sizes}"
        return len(sizes)

    def shot(self, folder: Path, name: str) -> None:
        self.page.screenshot(path=str(folder / f"{name}.png"))

    def close(self) -> None:
        self.context.close()


@contextmanager
def checked_page(browser: Any, base: str, token: str) -> Iterator[Page]:
    """A `Page` for one test that fails it afterwards if the page reached outside the server or logged a
    JavaScript error (every browser test module's `page` fixture)."""
    p = Page(browser, base, token)
    yield p
    p.close()
    assert not p.outside, f"the page asked for something outside the server: {p.outside}"
    assert not p.errors, f"JavaScript errors on the page: {p.errors}"
