"""The web page's first load in Chromium: bytes of HTML + JS + CSS and time to load; writes its section of
docs/BENCHMARKS.md.

One command:  python benchmarks/page_load.py [--runs 15] [--chromium /usr/lib/chromium/chromium]
It serves an empty collection with the real app (uvicorn on a free loopback port), opens the page `runs`
times, each in a fresh browser context (empty cache), and reads the browser's own Navigation and Resource
Timing entries. three.js is not part of the first load (it is imported on the first click on a 3D result);
its size is reported on its own line.
"""

from __future__ import annotations

import argparse
import platform
import socket
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
STATIC = ROOT / "mcrsearch" / "server" / "static"
ARGS = ["--no-sandbox", "--enable-unsafe-swiftshader"]

TIMING = """() => {
  const nav = performance.getEntriesByType('navigation')[0];
  const paint = performance.getEntriesByName('first-contentful-paint')[0];
  const res = performance.getEntriesByType('resource').map(r => ({name: r.name, bytes: r.encodedBodySize,
    type: r.initiatorType}));
  return {dcl: nav.domContentLoadedEventEnd, load: nav.loadEventEnd, fcp: paint ? paint.startTime : null,
          html: nav.encodedBodySize, resources: res};
}"""


TOKEN = "page-load-benchmark"


def serve(home: Path):
    """The real app over an empty collection in a thread; returns (base URL, stop function)."""
    import uvicorn

    from mcrsearch.api import Client
    from mcrsearch.config import load_settings
    from mcrsearch.server.app import create_app

    client = Client(settings=load_settings(home=home, device="cpu"))
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(create_app(client, allowed_hosts=[f"127.0.0.1:{port}"], token=TOKEN),
                                           log_level="warning", timeout_graceful_shutdown=1))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    while not server.started:
        if not thread.is_alive():
            raise SystemExit("the server did not start")
        time.sleep(0.05)

    def stop() -> None:
        server.should_exit = True
        thread.join(10)
        client.close()
        sock.close()

    return f"http://127.0.0.1:{port}", stop


def measure(base: str, chromium: str, runs: int) -> dict:
    from playwright.sync_api import sync_playwright

    samples = []
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=chromium, args=ARGS)
        version = browser.version
        for _ in range(runs + 1):                      # the first is a warm-up for the server and the browser
            context = browser.new_context(viewport={"width": 1280, "height": 900})
            # the cookie the address `serve` prints would set (its redirect is not part of the page's load)
            context.add_cookies([{"name": f"mcrsearch_token_{base.rsplit(':', 1)[1]}", "value": TOKEN,
                                  "url": base}])
            page = context.new_page()
            page.goto(base + "/", wait_until="load")
            page.wait_for_load_state("networkidle")
            samples.append(page.evaluate(TIMING))
            context.close()
        browser.close()
    samples = samples[1:]
    first = samples[0]
    files = {"index.html": first["html"]}
    for r in first["resources"]:
        name = r["name"].split("/static/", 1)[-1]
        if name.endswith((".js", ".css")):
            files[name] = r["bytes"]
    return {"version": version, "files": files, "samples": samples}


def _stats(values: list[float]) -> str:
    values = sorted(values)
    p95 = values[min(len(values) - 1, round(0.95 * (len(values) - 1)))]
    return f"{statistics.median(values):.0f} ms (p95 {p95:.0f} ms)"


def report(result: dict, runs: int) -> str:
    files = result["files"]
    total = sum(files.values())
    three = (STATIC / "vendor" / "viewer-three.js").stat().st_size
    samples = result["samples"]
    lines = [
        "## Web page first load",
        "",
        f"`python benchmarks/page_load.py --runs {runs}`: the page of `mcrsearch serve` opened {runs} times in "
        f"Chromium {result['version']} (headless, each in a fresh context with an empty cache), served from "
        f"127.0.0.1 by the real app on {platform.machine()} with {_cpus()} CPU cores; times are the browser's "
        "Navigation Timing entries from navigation start. Bytes are as sent (no compression).",
        "",
        "| file | bytes |",
        "|---|---:|",
        *[f"| {name} | {size:,} |" for name, size in sorted(files.items())],
        f"| **first load total (HTML + JS + CSS)** | **{total:,}** |",
        f"| vendor/viewer-three.js (three.js, loaded on the first 3D click, not on first load) | {three:,} |",
        "",
        "| measure | median (p95) |",
        "|---|---|",
        f"| DOMContentLoaded | {_stats([s['dcl'] for s in samples])} |",
        f"| first contentful paint | {_stats([s['fcp'] for s in samples if s['fcp'] is not None])} |",
        f"| load event end | {_stats([s['load'] for s in samples])} |",
    ]
    return "\n".join(lines)


def _cpus() -> int:
    import os

    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=15)
    parser.add_argument("--chromium", default="/usr/lib/chromium/chromium")
    parser.add_argument("--out", default=str(ROOT / "docs" / "BENCHMARKS.md"))
    args = parser.parse_args(argv)
    if not Path(args.chromium).is_file():
        print(f"No Chromium at {args.chromium}; install Debian's chromium or pass --chromium.", file=sys.stderr)
        return 2
    sys.path.insert(0, str(ROOT))
    from mcrsearch.benchmark.report import write_section

    with tempfile.TemporaryDirectory() as home:
        base, stop = serve(Path(home))
        try:
            result = measure(base, args.chromium, args.runs)
        finally:
            stop()
    body = report(result, args.runs)
    write_section(args.out, "page-load", body)
    print(body)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
