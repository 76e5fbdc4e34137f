"""Cost of the attacks of issue 22 on `mcrsearch serve`, before and after the defences; writes the
`serve-attacks` section of docs/BENCHMARKS.md.

One command:  python benchmarks/attack_serve.py [--out docs/BENCHMARKS.md]

Measured (each decode in its own child process, its peak RSS growth read from /proc as hostile.py does):
- a 9000 x 9000 PNG of a few hundred KB and a 6000 x 4000 JPEG, decoded as the indexer decodes a file
  (full size, Pillow's pixel cap) and as a query is decoded now (lower pixel cap, JPEG draft / reduce);
- against a real loopback `serve`: how long an unauthenticated 300 MB upload (headers only) and an
  authenticated one over the body cap take to be refused, and a GET with 6,000 `text=` fields.
The pass/fail side of the same attacks is tests/test_server_attacks.py.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import socket
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parents[1]
TESTS = ROOT / "tests"
MB = 2**20

_RSS = ("def _status(key):\n"
        "    for line in open('/proc/self/status'):\n"
        "        if line.startswith(key):\n"
        "            return int(line.split()[1]) * 1024\n")

_DECODE_CHILD = textwrap.dedent("""
    import json, sys, time
    from mcrsearch.config import load_settings
    from mcrsearch import media
    from mcrsearch.modality import Modality
    from mcrsearch.search import ContentInput, MediaBytes, _decode_input
    import PIL.Image, numpy
    {rss}
    data = open({path!r}, "rb").read()
    settings = load_settings(device="cpu")
    open('/proc/self/clear_refs', 'w').write('5')
    base = _status('VmRSS:')
    t0 = time.perf_counter()
    try:
        if {as_query!r}:
            _, img = _decode_input(ContentInput(Modality.IMAGE, MediaBytes({name!r}, data)), 1024, settings)
        else:
            _, img = media.decode({name!r}, "image", data=data, limits=media.Limits.from_settings(settings))
        outcome = "decoded %dx%d" % img.size
    except Exception as exc:
        outcome = "refused: " + str(exc)
    print(json.dumps({{"grown": _status('VmHWM:') - base, "seconds": time.perf_counter() - t0, "outcome": outcome}}))
""")


def make_images(work: Path) -> dict[str, Path]:
    import numpy as np
    from PIL import Image

    work.mkdir(parents=True, exist_ok=True)
    png = work / "wide.png"
    Image.new("L", (9000, 9000), 200).save(png, format="PNG", optimize=True)
    jpg = work / "photo.jpg"
    rng = np.random.default_rng(0)
    small = rng.integers(0, 255, (400, 600, 3), dtype=np.uint8)
    Image.fromarray(small).resize((6000, 4000), Image.Resampling.BILINEAR).save(jpg, format="JPEG", quality=85)
    return {"png": png, "jpg": jpg}


def decode_costs(images: dict[str, Path]) -> list[dict]:
    rows = []
    for kind, path in images.items():
        for as_query in (False, True):
            code = _DECODE_CHILD.format(rss=_RSS, path=str(path), name=path.name, as_query=as_query)
            child = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=600,
                                   env={**os.environ, "PYTHONPATH": str(ROOT)})
            try:
                got = json.loads(child.stdout.strip().splitlines()[-1])
            except (IndexError, ValueError):
                got = {"grown": -1, "seconds": 0, "outcome": f"child failed: {child.stderr[-300:]}"}
            rows.append({"file": path.name, "kb": path.stat().st_size / 1024, "as": "query" if as_query else "index",
                         **got})
            print(rows[-1], file=sys.stderr, flush=True)
    return rows


def serve_costs(work: Path) -> dict:
    """Refusal times against a real `serve` (an empty collection is enough: nothing gets to run)."""
    import httpx

    from mcrsearch.config import load_settings
    from mcrsearch.server.discovery import find_server

    home = work / "home"
    proc = subprocess.Popen([sys.executable, "-m", "mcrsearch.cli", "--home", str(home), "--device", "cpu", "serve",
                             "--port", "0", "--lazy"], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
                            env={**os.environ, "PYTHONPATH": str(ROOT)})
    try:
        settings = load_settings(home=home)
        deadline = time.time() + 180
        while (info := find_server(settings)) is None:
            if proc.poll() is not None or time.time() > deadline:
                raise RuntimeError(f"the server did not start: {proc.stderr.read() if proc.stderr else ''}")
            time.sleep(0.2)
        where = urlsplit(info.url)

        def refused(headers: str) -> tuple[str, float]:
            t0 = time.perf_counter()
            with socket.create_connection((where.hostname, where.port), timeout=60) as sock:
                sock.sendall(headers.encode())
                status = sock.recv(4096).decode("latin-1").split("\r\n", 1)[0]
            return status, time.perf_counter() - t0

        form = "Content-Type: multipart/form-data; boundary=x\r\n"
        anon = refused(f"POST /api/search HTTP/1.1\r\nHost: {where.netloc}\r\n{form}"
                       f"Content-Length: {300 * MB}\r\n\r\n")
        big = refused(f"POST /api/search HTTP/1.1\r\nHost: {where.netloc}\r\nAuthorization: Bearer {info.token}\r\n"
                      f"{form}Content-Length: {300 * MB}\r\n\r\n")
        with httpx.Client(base_url=info.url, headers={"Authorization": f"Bearer {info.token}"}, timeout=120) as http:
            t0 = time.perf_counter()
            r = http.get("/api/search", params=[("text", "red")] * 6000)
            texts = (f"HTTP {r.status_code}", time.perf_counter() - t0)
        return {"anon_300mb": anon, "auth_300mb": big, "texts_6000": texts}
    finally:
        proc.terminate()
        proc.wait(30)


def render(argv: list[str], rows: list[dict], serve: dict) -> str:
    lines = ["## Attacks on `mcrsearch serve` (issue 22): what they cost now", "",
             f"Generated by `{' '.join(['python benchmarks/attack_serve.py', *argv])}` on "
             f"{time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())} ({platform.machine()}, {os.cpu_count()} cores, "
             "shared machine: times are indicative, memory is per child process). The pass/fail side is "
             "`tests/test_server_attacks.py`.", "",
             "| image | size | decoded as | peak RSS growth | seconds | outcome |", "|---|---|---|---|---|---|"]
    for r in rows:
        lines.append(f"| {r['file']} | {r['kb']:.0f} KB | {r['as']} | {r['grown'] / MB:.0f} MB | {r['seconds']:.2f} | "
                     f"{r['outcome'][:90]} |")
    lines += ["", "| request to a running server | answer | seconds |", "|---|---|---|"]
    names = {"anon_300mb": "POST with `Content-Length: 300 MB`, no token, no body sent",
             "auth_300mb": "the same with the token (over the body cap)",
             "texts_6000": "GET /api/search with 6,000 `text=` fields"}
    for key, (status, seconds) in serve.items():
        lines.append(f"| {names[key]} | {status} | {seconds:.3f} |")
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--out", default=str(ROOT / "docs" / "BENCHMARKS.md"))
    args = p.parse_args(argv)
    sys.path.insert(0, str(ROOT))
    work = Path(tempfile.mkdtemp(prefix="mcr-attack-bench-"))
    try:
        rows = decode_costs(make_images(work / "images"))
        serve = serve_costs(work)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    text = render(argv, rows, serve)
    from mcrsearch.benchmark.report import write_section

    write_section(args.out, "serve-attacks", text)
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
