"""Serving benchmark: `mcrsearch serve` over the mini-world; writes the `serve` section of docs/BENCHMARKS.md.

One command:  python benchmarks/serve.py [--scale small|default] [--home DIR] [--out docs/BENCHMARKS.md]

Measured against a real server process on loopback (bounded request loops, nothing leaves the machine):
- warm audio -> 3D query through the HTTP API, end to end (upload, decode, encode, search, JSON);
- `mcrsearch query` as a whole process while the server runs (it finds the server and asks it);
- queries answered while an index job of the whole mini-world runs in the same server (errors, p50/p95);
- load: concurrent clients sending mixed queries (text, audio upload, image upload, more-like-this).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import httpx
import numpy as np

from mcrsearch.benchmark.report import write_section

ROOT = Path(__file__).resolve().parents[1]


def _ms(values: list[float], q: float) -> float:
    return float(np.percentile(np.asarray(values) * 1e3, q)) if values else float("nan")


def _cli(home: Path, *args: str, check: bool = True) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "mcrsearch.cli", "--home", str(home), "--device", "cpu", *args],
                          capture_output=True, text=True, check=check)


AUTH: dict[str, str] = {}        # the running server's token header (read from its owner-only record)


class Server:
    """`mcrsearch serve` in a child process, stopped on exit."""

    def __init__(self, home: Path, collection: str) -> None:
        from mcrsearch.config import load_settings
        from mcrsearch.server.discovery import find_server

        self.proc = subprocess.Popen([sys.executable, "-m", "mcrsearch.cli", "--home", str(home), "--device", "cpu",
                                      "serve", "--collection", collection, "--port", "0"],
                                     stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        settings = load_settings(home=home, collection=collection)
        deadline = time.time() + 180
        while (found := find_server(settings)) is None:
            if self.proc.poll() is not None or time.time() > deadline:
                raise RuntimeError(f"the server did not start: {self.proc.stderr.read()}")
            time.sleep(0.2)
        self.url = found.url
        AUTH["Authorization"] = f"Bearer {found.token}"      # every API call carries the server's token

    def stop(self) -> None:
        self.proc.terminate()
        self.proc.wait(30)


class Mix:
    """The mixed query load: texts, audio and image uploads, more-like-this by id."""

    def __init__(self, world: Path, ids: list[str]) -> None:
        test = world / "test"
        self.audio = sorted(test.rglob("*.wav"))[:20]
        self.images = sorted(p for p in test.rglob("*.png"))[:20]
        self.texts = [p.read_text() for p in sorted(test.rglob("*.txt"))[:20]]
        self.ids = ids
        self._bytes = {p: p.read_bytes() for p in self.audio + self.images}

    def audio_to_3d(self, http: httpx.Client, i: int) -> httpx.Response:
        p = self.audio[i % len(self.audio)]
        return http.post("/api/search", data={"target": "3d", "k": "10"},
                         files=[("audio", (p.name, self._bytes[p], "audio/wav"))])

    def request(self, http: httpx.Client, i: int) -> httpx.Response:
        kind = i % 4
        if kind == 0:
            return http.get("/api/search", params={"text": self.texts[i % len(self.texts)], "target": "image",
                                                   "k": 10})
        if kind == 1:
            return self.audio_to_3d(http, i)
        if kind == 2:
            p = self.images[i % len(self.images)]
            return http.post("/api/search", data={"target": "audio", "k": "10"},
                             files=[("image", (p.name, self._bytes[p], "image/png"))])
        return http.get("/api/search", params={"like": self.ids[i % len(self.ids)], "target": "any", "k": 10})


def timed(fn, *args) -> tuple[float, int]:
    t0 = time.perf_counter()
    r = fn(*args)
    return time.perf_counter() - t0, r.status_code


def warm_queries(url: str, mix: Mix, n: int) -> dict:
    with httpx.Client(base_url=url, headers=AUTH, timeout=60) as http:
        for i in range(10):
            mix.audio_to_3d(http, i)
        results = [timed(mix.audio_to_3d, http, i) for i in range(n)]
    times = [t for t, _ in results]
    return {"queries": n, "errors": sum(code != 200 for _, code in results), "p50_ms": _ms(times, 50),
            "p95_ms": _ms(times, 95)}


def cli_queries(home: Path, collection: str, audio: Path, n: int) -> dict:
    times, errors = [], 0
    for _ in range(n):
        t0 = time.perf_counter()
        done = _cli(home, "query", "--collection", collection, "--audio", str(audio), "--target", "3d", "--json",
                    check=False)
        times.append(time.perf_counter() - t0)
        errors += done.returncode != 0           # counted, not raised: the table's errors cell is measured
    return {"runs": n, "errors": errors, "p50_s": float(np.median(times)), "p95_s": float(np.percentile(times, 95))}


def during_index(url: str, mix: Mix, folder: Path) -> dict:
    with httpx.Client(base_url=url, headers=AUTH, timeout=120) as http:
        job = http.post("/api/jobs", json={"path": str(folder)}).json()
        results, i = [], 0
        while http.get(f"/api/jobs/{job['id']}").json()["state"] in ("queued", "running"):
            results.append(timed(mix.request, http, i))
            i += 1
        final = http.get(f"/api/jobs/{job['id']}").json()
    times = [t for t, _ in results]
    return {"queries": len(results), "errors": sum(code != 200 for _, code in results), "p50_ms": _ms(times, 50),
            "p95_ms": _ms(times, 95), "job_state": final["state"], "job_files": final["total"],
            "job_indexed": final["indexed"], "job_s": (final["finished"] or time.time()) - final["started"]}


def load(url: str, mix: Mix, clients: int, total: int) -> dict:
    times: list[float] = []
    errors = [0]
    lock = threading.Lock()
    counter = iter(range(total))

    def worker() -> None:
        with httpx.Client(base_url=url, headers=AUTH, timeout=120) as http:
            while True:
                with lock:
                    i = next(counter, None)
                if i is None:
                    return
                t, code = timed(mix.request, http, i)
                with lock:
                    times.append(t)
                    errors[0] += code != 200

    started = time.perf_counter()
    threads = [threading.Thread(target=worker) for _ in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    wall = time.perf_counter() - started
    return {"clients": clients, "queries": len(times), "errors": errors[0], "qps": len(times) / wall,
            "p50_ms": _ms(times, 50), "p95_ms": _ms(times, 95)}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--scale", default="small", choices=["small", "default"])
    ap.add_argument("--home", default=None, help="MCRSEARCH_HOME to use (default: a temporary one)")
    ap.add_argument("--warm", type=int, default=200, help="warm audio->3D queries")
    ap.add_argument("--cli-runs", type=int, default=10)
    ap.add_argument("--clients", type=int, default=8)
    ap.add_argument("--load", type=int, default=2000, help="queries of the load test")
    ap.add_argument("--out", default=str(ROOT / "docs" / "BENCHMARKS.md"))
    args = ap.parse_args(argv)
    tmp = tempfile.TemporaryDirectory()
    home = Path(args.home or tmp.name)
    demo = json.loads(_cli(home, "demo", "--scale", args.scale, "--json").stdout)
    world = Path(demo["world"]["root"])
    # a fresh collection of the held-out split, so the index job below starts from the same state every run
    collection = f"serve-bench-{os.getpid()}"
    _cli(home, "index", str(world / "test"), "--collection", collection, "--space", "miniworld", "--json")
    random.seed(0)
    server = Server(home, collection)
    try:
        with httpx.Client(base_url=server.url, headers=AUTH, timeout=60) as http:
            ids = [i["id"] for i in http.get("/api/items", params={"limit": 200}).json()["items"]]
            counts = http.get("/api/info").json()["counts"]
        mix = Mix(world, ids)
        warm = warm_queries(server.url, mix, args.warm)
        cli = cli_queries(home, collection, mix.audio[0], args.cli_runs)
        busy = during_index(server.url, mix, world)
        heavy = load(server.url, mix, args.clients, args.load)
    finally:
        server.stop()
        shutil.rmtree(Path(home) / "index" / collection, ignore_errors=True)
        tmp.cleanup()
    command = "python benchmarks/serve.py " + " ".join(sys.argv[1:] if argv is None else argv)
    lines = ["## `mcrsearch serve`", "",
             f"Generated by `{command.strip()}` on {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())} "
             f"({platform.machine()}, {os.cpu_count()} cores, CPU only; server and clients share the machine). "
             f"Collection: the mini-world's held-out split ({args.scale} scale; {sum(counts.values())} items: "
             + ", ".join(f"{n} {m}" for m, n in counts.items()) + "), served by one `mcrsearch serve` process.", "",
             "| measurement | queries | errors | p50 | p95 | other |", "|---|---|---|---|---|---|",
             f"| warm audio -> 3D over HTTP (upload, decode, encode, search, JSON) | {warm['queries']} | "
             f"{warm['errors']} | {warm['p50_ms']:.1f} ms | {warm['p95_ms']:.1f} ms | target p50 <= 30 ms |",
             f"| `mcrsearch query --audio F --target 3d` as a whole process, server running | {cli['runs']} | {cli['errors']} | "
             f"{cli['p50_s']:.2f} s | {cli['p95_s']:.2f} s | target p50 <= 1 s |",
             f"| mixed queries while an index job of the whole world runs | {busy['queries']} | {busy['errors']} | "
             f"{busy['p50_ms']:.1f} ms | {busy['p95_ms']:.1f} ms | job: {busy['job_files']} files, "
             f"{busy['job_indexed']} embedded in {busy['job_s']:.1f} s, {busy['job_state']} |",
             f"| load: {heavy['clients']} concurrent clients, mixed queries | {heavy['queries']} | {heavy['errors']} | "
             f"{heavy['p50_ms']:.1f} ms | {heavy['p95_ms']:.1f} ms | {heavy['qps']:.1f} queries/s |", "",
             "Mixed queries cycle through text -> image (GET), audio upload -> 3D, image upload -> audio, and "
             "more-like-this by item id -> any modality."]
    write_section(args.out, "serve", "\n".join(lines))
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    sys.exit(main())
