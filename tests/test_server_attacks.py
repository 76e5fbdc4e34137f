"""Issue 22: the attacks on `mcrsearch serve`, kept as a suite anyone can rerun (one test per defect).

Each test states the attack and asserts the defence. The engine-level ones (scan, indexer, media, jobs,
discovery) run without a server; the HTTP ones use FastAPI's test client; the local-user ones run a
real `serve` process and attack it as `nobody` (tests run as root; skipped where runuser is missing).
"""

from __future__ import annotations

import hashlib
import http.server
import io
import json
import math
import os
import threading
import time
from pathlib import Path

import numpy as np
import pytest

from helpers import corpus as H
from mcrsearch.api import Client
from mcrsearch.config import load_settings
from mcrsearch.errors import ConfigError, MediaError
from mcrsearch_indexer.scan import scan


# ------------------------------------------------------------------------------------------------
# 1. the scan: no link out of the root, real paths, system roots refused (defects 1 and 8)


def test_scan_does_not_follow_links_out_of_its_root(tmp_path):
    secret = tmp_path / "secret"
    secret.mkdir()
    H.write_item(secret, "image", 0, 0)
    (secret / "loot.txt").write_text("the root-only secret")
    lib = tmp_path / "lib"
    lib.mkdir()
    kept = H.write_item(lib, "image", 1, 0)
    (lib / "loot.txt").symlink_to(secret / "loot.txt")            # a file link out of the root
    (lib / "linked").symlink_to(secret, target_is_directory=True)  # a folder link out of the root
    (lib / "again.png").symlink_to(kept)                           # a second name of a file inside
    found = scan(lib)
    assert [f.path for f in found] == [os.path.realpath(kept)]     # one item, by its real path
    assert found[0].ino == os.stat(kept).st_ino and found[0].dev == os.stat(kept).st_dev


@pytest.mark.parametrize("root", ["/", "/proc", "/proc/self/cwd", "/sys", "/dev"])
def test_system_roots_are_refused(root):
    with pytest.raises(ConfigError, match="Refusing to index"):
        scan(root)


def test_indexing_a_parent_keeps_items_of_a_hidden_child_indexed_on_their_own(tmp_path):
    settings = load_settings(home=tmp_path / "home", device="cpu", space="tiny")
    H.write_corpus(tmp_path / "lib", per_class=1)
    H.write_corpus(tmp_path / "lib" / ".hidden", per_class=1)
    with Client(settings=settings) as client:
        assert client.index(tmp_path / "lib" / ".hidden").indexed == 12
        report = client.index(tmp_path / "lib")
        assert report.indexed == 12 and report.removed == 0
        assert client.count() == 24


def test_index_records_real_paths_and_identities(tmp_path):
    settings = load_settings(home=tmp_path / "home", device="cpu", space="tiny")
    H.write_corpus(tmp_path / "real", per_class=1)
    (tmp_path / "alias").symlink_to(tmp_path / "real", target_is_directory=True)
    with Client(settings=settings) as client:
        client.index(tmp_path / "alias")
        items = client.scroll(limit=50)
    assert items and all(i.path.startswith(os.path.realpath(tmp_path / "real") + os.sep) for i in items)
    for item in items:
        st = os.stat(item.path)
        assert (item.payload["dev"], item.payload["ino"]) == (st.st_dev, st.st_ino)


# ------------------------------------------------------------------------------------------------
# 5. FIFOs and a cancel that interrupts


def test_a_fifo_that_appears_after_the_scan_does_not_hang_the_run(tmp_path, monkeypatch):
    from mcrsearch_indexer import pipeline

    files = H.write_corpus(tmp_path / "lib", per_class=1)
    victim = files["image"][0]
    real_scan = pipeline.scan

    def scan_then_swap(root):
        found = real_scan(root)
        victim.unlink()
        os.mkfifo(victim)                 # nobody ever writes to it: a plain open() would wait forever
        return found

    monkeypatch.setattr(pipeline, "scan", scan_then_swap)
    settings = load_settings(home=tmp_path / "home", device="cpu", space="tiny")
    done: dict = {}

    def run() -> None:
        with Client(settings=settings) as client:
            done["report"] = client.index(tmp_path / "lib")

    worker = threading.Thread(target=run, daemon=True)
    worker.start()
    worker.join(120)
    assert not worker.is_alive(), "the index run hung on a FIFO"
    failed = {f.path: f.reason for f in done["report"].failed}
    assert "not a regular file" in failed[os.path.realpath(victim)]


def test_cancel_interrupts_a_read_that_hangs_and_later_jobs_run(tmp_path, monkeypatch):
    from mcrsearch import media
    from mcrsearch.server.jobs import JobManager

    H.write_corpus(tmp_path / "stuck", per_class=1)
    H.write_corpus(tmp_path / "next", per_class=1)
    release = threading.Event()
    real = media.read_hashed

    def hang_in_stuck(path, identity=None):
        if "/stuck/" in str(path):
            release.wait(120)             # a read that does not return (a hung mount, a FIFO)
        return real(path, identity)

    monkeypatch.setattr(media, "read_hashed", hang_in_stuck)
    settings = load_settings(home=tmp_path / "home", device="cpu", space="tiny")
    client = Client(settings=settings)
    try:
        jobs = JobManager(client)
        stuck = jobs.submit(str(tmp_path / "stuck"))
        after = jobs.submit(str(tmp_path / "next"))
        deadline = time.time() + 60
        while stuck.state != "running" and time.time() < deadline:
            time.sleep(0.05)
        time.sleep(0.5)
        jobs.cancel(stuck.id)
        deadline = time.time() + 60
        while after.state not in ("done", "failed") and time.time() < deadline:
            time.sleep(0.1)
        assert stuck.state == "cancelled", stuck.to_dict()
        assert after.state == "done" and after.progress.indexed == 12, after.to_dict()
    finally:
        release.set()
        client.close()


def test_open_regular_refuses_fifos_devices_and_links(tmp_path):
    from mcrsearch import media

    os.mkfifo(tmp_path / "pipe")
    with pytest.raises(MediaError, match="not a regular file"):
        media.read_hashed(tmp_path / "pipe")
    with pytest.raises(MediaError, match="not a regular file"):
        media.open_regular("/dev/zero")
    (tmp_path / "real.txt").write_text("x")
    (tmp_path / "link.txt").symlink_to(tmp_path / "real.txt")
    with pytest.raises(MediaError, match="symbolic link"):
        media.open_regular(tmp_path / "link.txt", follow=False)
    st = os.stat(tmp_path / "real.txt")
    with pytest.raises(MediaError, match="replaced"):
        media.open_regular(tmp_path / "real.txt", identity=(st.st_dev, st.st_ino + 1))


# ------------------------------------------------------------------------------------------------
# 7. decompression cost of query images, and concurrent decodes


def _png_of(width: int, height: int) -> bytes:
    from PIL import Image

    buf = io.BytesIO()
    Image.new("L", (width, height), 200).save(buf, format="PNG", optimize=True)
    return buf.getvalue()


def test_a_huge_query_png_is_refused_before_it_is_decoded(tmp_path):
    from mcrsearch.search import ContentInput, MediaBytes, _decode_input
    from mcrsearch.modality import Modality

    data = _png_of(9000, 9000)
    assert len(data) < 400_000                      # a small upload that declares 81 MP
    settings = load_settings(home=tmp_path, device="cpu")
    started = time.perf_counter()
    with pytest.raises(MediaError, match="pixels"):
        _decode_input(ContentInput(Modality.IMAGE, MediaBytes("big.png", data)), 1024, settings)
    assert time.perf_counter() - started < 5         # refused from the header, not after a decode


def test_large_query_jpegs_are_decoded_small(tmp_path):
    from PIL import Image

    from mcrsearch import media

    buf = io.BytesIO()
    Image.fromarray(np.random.default_rng(0).integers(0, 255, (3000, 4000, 3), dtype=np.uint8)).save(
        buf, format="JPEG", quality=80)
    img = media.load_image("big.jpg", data=buf.getvalue(), side=512)
    assert min(img.size) < 1000 and abs(img.size[0] / img.size[1] - 4 / 3) < 0.02
    assert media.load_image("big.jpg", data=buf.getvalue()).size == (4000, 3000)   # indexing: full size


def test_query_decodes_are_bounded(tmp_path, monkeypatch):
    from mcrsearch import media
    from mcrsearch.modality import Modality
    from mcrsearch.search import ContentInput, MediaBytes, _decode_input

    settings = load_settings(home=tmp_path, device="cpu")
    now, peak, lock = [0], [0], threading.Lock()

    def slow_decode(*args, **kwargs):
        with lock:
            now[0] += 1
            peak[0] = max(peak[0], now[0])
        time.sleep(0.2)
        with lock:
            now[0] -= 1
        return Modality.IMAGE, None

    monkeypatch.setattr(media, "decode", slow_decode)
    threads = [threading.Thread(target=_decode_input, args=(
        ContentInput(Modality.IMAGE, MediaBytes("q.png", b"x")), 1024, settings)) for _ in range(12)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert peak[0] == settings.max_query_decodes


# ------------------------------------------------------------------------------------------------
# 12. NaN / inf weights


@pytest.mark.parametrize("value", ["nan", "inf", "-inf"])
def test_non_finite_weights_are_refused(value):
    from mcrsearch.search import parse_weights

    with pytest.raises(ConfigError, match="finite"):
        parse_weights([f"text={value}"])


def test_client_refuses_non_finite_weights(tmp_path):
    settings = load_settings(home=tmp_path / "home", device="cpu", space="tiny")
    with Client(settings=settings) as client:
        with pytest.raises(ConfigError, match="finite"):
            client.query(text="red", weights={"text": math.inf})


# ------------------------------------------------------------------------------------------------
# 2. the discovery record: the token goes only to a server that proves it holds the record's nonce


class _Impostor(http.server.BaseHTTPRequestHandler):
    """Answers /api/health like a server of the collection would, and remembers what it was sent."""

    seen: list = []
    answer: dict = {}

    def do_GET(self):
        type(self).seen.append(dict(self.headers))
        body = json.dumps(self.answer).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


def test_cli_sends_its_token_only_to_a_server_that_proves_its_identity(tmp_path):
    from mcrsearch.server import discovery

    settings = load_settings(home=tmp_path / "home")
    _Impostor.seen = []
    _Impostor.answer = {"status": "ok", "collection": settings.collection,
                        "location": discovery.location_of(settings), "proof": "0" * 64}
    impostor = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Impostor)
    threading.Thread(target=impostor.serve_forever, daemon=True).start()
    try:
        url = f"http://127.0.0.1:{impostor.server_address[1]}"
        live = discovery.ServerInfo(url, os.getpid(), settings.collection, discovery.location_of(settings),
                                    "the-token", discovery.new_nonce(), discovery.process_started(os.getpid()))
        record = discovery.write(settings, live)
        assert oct(record.stat().st_mode & 0o777) == "0o600"
        assert discovery.find_server(settings) is None          # no proof: not our server
        assert _Impostor.seen and all("the-token" not in json.dumps(h) for h in _Impostor.seen)
        assert record.exists(), "a record whose process is alive is never deleted"
    finally:
        impostor.shutdown()


def test_a_record_of_a_dead_or_reused_pid_is_removed(tmp_path):
    from mcrsearch.server import discovery

    settings = load_settings(home=tmp_path / "home")
    started = discovery.process_started(os.getpid())
    if started is None:
        pytest.skip("no /proc here")
    record = discovery.write(settings, discovery.ServerInfo(
        "http://127.0.0.1:9", os.getpid(), settings.collection, discovery.location_of(settings), "t",
        discovery.new_nonce(), started + 1))                    # our pid, another process's start time
    assert discovery.find_server(settings) is None and not record.exists()


def test_proof_is_an_hmac_of_the_challenge():
    from mcrsearch.server import discovery

    import hmac as _hmac

    assert discovery.proof("n", "c") == _hmac.new(b"n", b"c", hashlib.sha256).hexdigest()
    assert discovery.proof("n", "c") != discovery.proof("m", "c")


# ------------------------------------------------------------------------------------------------
# 4 and 6. job endpoints: names that are not UTF-8, and the server's space


def test_job_json_carries_names_that_are_not_utf8(tmp_path):
    from mcrsearch.server.jobs import Job

    bad = os.fsdecode(b"/lib/bad\xff.png")
    job = Job("j1", bad, None, error=f"cannot read {bad}",
              report={"failed": [{"path": bad, "reason": "x"}]})
    text = json.dumps(job.to_dict())           # strict UTF-8 JSON, as the server encodes it
    text.encode("utf-8")
    assert "bad\\\\xff.png" in text


def test_jobs_keep_the_servers_space_unless_allowed(tmp_path):
    from mcrsearch.server.jobs import JobManager

    H.write_corpus(tmp_path / "lib", per_class=1)
    settings = load_settings(home=tmp_path / "home", device="cpu", space="tiny")
    with Client(settings=settings) as client:
        with pytest.raises(ConfigError, match="--allow-spaces"):
            JobManager(client).submit(str(tmp_path / "lib"), "tiny-other")
        assert JobManager(client, allow_spaces=True).submit(str(tmp_path / "lib"), "tiny").space == "tiny"


@pytest.mark.parametrize("path", ["/", "/proc", "/sys/kernel", "relative/path", "/x" * 3000])
def test_job_roots_that_are_refused(tmp_path, path):
    from mcrsearch.server.jobs import JobManager

    settings = load_settings(home=tmp_path / "home", device="cpu", space="tiny")
    with Client(settings=settings) as client:
        with pytest.raises(ConfigError):
            JobManager(client).submit(path)


# ------------------------------------------------------------------------------------------------
# A real `serve` process bound to 127.0.0.2, attacked over sockets and as another local user


NOBODY_PY = "/usr/bin/python3"
SECRET = "TOP SECRET: the root-only file"


def _nobody_can_run() -> bool:
    import shutil
    import subprocess

    if os.geteuid() != 0 or not shutil.which("runuser") or not os.path.exists(NOBODY_PY):
        return False
    try:
        return subprocess.run(["runuser", "-u", "nobody", "--", NOBODY_PY, "-I", "-S", "-c", "pass"],
                              timeout=30).returncode == 0
    except (OSError, subprocess.SubprocessError):
        return False


@pytest.fixture(scope="module")
def live():
    """`mcrsearch serve --host 127.0.0.2` over a library folder that `nobody` owns, next to a root-only
    secret; yields (base folder, settings, record info, library items by file name)."""
    import shutil
    import subprocess
    import sys
    import tempfile

    from mcrsearch.server.discovery import find_server

    tests = Path(__file__).parent
    base = Path(tempfile.mkdtemp(prefix="mcr-attack-", dir="/tmp"))
    os.chmod(base, 0o755)
    lib = base / "lib"
    files = H.write_corpus(lib, per_class=1)
    (lib / "text" / "note.txt").write_text("a harmless caption about a red chair")
    (base / "secret.txt").write_text(SECRET)
    os.chmod(base / "secret.txt", 0o600)
    if os.geteuid() == 0:
        for path in [lib, *lib.rglob("*")]:
            os.chown(path, 65534, 65534)                 # the library belongs to another local user
    home = base / "home"
    home.mkdir(mode=0o700)
    settings = load_settings(home=home, device="cpu", space="tiny")
    with Client(settings=settings) as client:
        assert client.index(lib).indexed == 13
    env = {**os.environ, "MCRSEARCH_HOME": str(home), "MCRSEARCH_DEVICE": "cpu", "MCRSEARCH_SPACE": "tiny",
           "MCRSEARCH_MAX_UPLOAD_MB": "2", "PYTHONPATH": os.pathsep.join([str(tests), os.getcwd()])}
    code = ("import sys; from helpers.corpus import register_tiny; register_tiny(); from mcrsearch.cli import main; "
            "sys.exit(main(['serve', '--host', '127.0.0.2', '--port', '0', '--lazy']))")
    proc = subprocess.Popen([sys.executable, "-c", code], env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    deadline = time.time() + 180
    try:
        while (info := find_server(settings)) is None:
            assert proc.poll() is None, proc.stdout.read().decode()
            assert time.time() < deadline, "the server did not come up"
            time.sleep(0.2)
        import httpx

        with httpx.Client(base_url=info.url, headers={"Authorization": f"Bearer {info.token}"}) as http:
            items = http.get("/api/items", params={"limit": 100}).json()["items"]
        yield base, settings, info, {Path(i["path"]).name: i for i in items}, files
    finally:
        proc.terminate()
        proc.wait(20)
        shutil.rmtree(base, ignore_errors=True)


def _http(info, token: bool = True):
    import httpx

    headers = {"Authorization": f"Bearer {info.token}"} if token else {}
    return httpx.Client(base_url=info.url, headers=headers, timeout=30)


def test_record_holds_the_bound_address_and_the_cli_uses_it(live, capsys):
    from mcrsearch.cli import main

    base, settings, info, _, _ = live
    assert info.url.startswith("http://127.0.0.2:") and info.nonce and info.token
    assert main(["--home", str(settings.home), "query", "--text", "red", "--target", "image", "-k", "1",
                 "--json"]) == 0
    assert json.loads(capsys.readouterr().out)[0]["path"].endswith(".png")
    # a second server of the same collection is refused while the first lives (no broken twin)
    assert main(["--home", str(settings.home), "serve", "--port", "0"]) != 0
    assert "already served" in capsys.readouterr().err


def test_every_api_call_needs_the_token_on_loopback_too(live):
    _, _, info, items, _ = live
    some = next(iter(items.values()))
    with _http(info, token=False) as anon:
        for method, path in [("GET", "/api/info"), ("GET", "/api/items"), ("GET", some["media_url"]),
                             ("GET", f"/api/items/{some['id']}/thumb"), ("GET", "/api/jobs"),
                             ("GET", "/api/search?text=red")]:
            assert anon.request(method, path).status_code == 401, path
        assert anon.post("/api/jobs", json={"path": "/etc"}).status_code == 401
        health = anon.get("/api/health").json()
        assert health["status"] == "ok" and "collection" not in health and "location" not in health


def test_bodies_are_refused_before_they_are_read(live):
    """An unauthenticated 300 MB upload is answered 401 from its headers; an authenticated one over the
    cap is answered 413 from Content-Length; a chunked one is stopped when its streamed bytes pass the cap."""
    import socket
    from urllib.parse import urlsplit

    _, _, info, _, _ = live
    where = urlsplit(info.url)

    def exchange(headers: str, body_bytes: int = 0) -> str:
        with socket.create_connection((where.hostname, where.port), timeout=20) as sock:
            sock.sendall(headers.encode())
            sent = 0
            part = (b'--x\r\nContent-Disposition: form-data; name="image"; filename="a.png"\r\n'
                    b"Content-Type: image/png\r\n\r\n")
            try:
                while sent < body_bytes:
                    chunk = (part if sent == 0 else b"") + b"0" * 65536
                    sock.sendall(b"%x\r\n" % len(chunk) + chunk + b"\r\n")
                    sent += len(chunk)
            except OSError:
                pass                              # the server closed the connection: the point
            return sock.recv(4096).decode("latin-1")

    host = f"Host: {where.netloc}\r\n"
    started = time.perf_counter()
    anon = exchange(f"POST /api/search HTTP/1.1\r\n{host}Content-Type: multipart/form-data; boundary=x\r\n"
                    f"Content-Length: {300 * 2**20}\r\n\r\n")
    assert anon.startswith("HTTP/1.1 401"), anon
    auth = f"Authorization: Bearer {info.token}\r\n"
    big = exchange(f"POST /api/search HTTP/1.1\r\n{host}{auth}Content-Type: multipart/form-data; boundary=x\r\n"
                   f"Content-Length: {300 * 2**20}\r\n\r\n")
    assert big.startswith("HTTP/1.1 413"), big
    assert time.perf_counter() - started < 10, "the server waited for bodies it should refuse"
    streamed = exchange(f"POST /api/search HTTP/1.1\r\n{host}{auth}Content-Type: multipart/form-data; boundary=x\r\n"
                        "Transfer-Encoding: chunked\r\n\r\n", body_bytes=8 * 2**20)
    assert streamed.startswith("HTTP/1.1 413"), streamed


def test_a_search_takes_few_files(live):
    _, _, info, _, files = live
    png = Path(files["image"][0]).read_bytes()
    with _http(info) as http:
        r = http.post("/api/search", data={"target": "3d"}, files=[("image", (f"{i}.png", png)) for i in range(9)])
    assert r.status_code == 400 and "files" in r.json()["detail"], r.text


def test_local_user_cannot_read_a_root_only_file_through_the_server(live):
    """Issue 22 #1, as reproduced: another local user plants a link in a folder the server indexed (and
    would index again), and tries to start jobs and read media. Run as `nobody` against the root server."""
    import subprocess

    if not _nobody_can_run():
        pytest.skip("needs root, runuser and a python that user nobody can run")
    base, settings, info, items, _ = live
    from mcrsearch.server.discovery import discovery_file

    record = discovery_file(settings)
    attack = f"""
import json, os, urllib.request, urllib.error, glob
out = {{}}
try:
    out["record"] = open({str(record)!r}).read()
except OSError as exc:
    out["record"] = type(exc).__name__
def call(method, path, body=None):
    req = urllib.request.Request({info.url!r} + path, method=method, data=body,
                                 headers={{"Content-Type": "application/json"}})
    try:
        with urllib.request.urlopen(req, timeout=30) as r:
            return r.status, r.read().decode("latin-1")
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode("latin-1")
out["job"] = call("POST", "/api/jobs", json.dumps({{"path": "/"}}).encode())
out["items"] = call("GET", "/api/items")
note = {str(base / "lib" / "text" / "note.txt")!r}
os.unlink(note)
os.symlink({str(base / "secret.txt")!r}, note)     # the indexed file becomes a link to the secret
out["media"] = call("GET", {items["note.txt"]["media_url"]!r})
print(json.dumps(out))
"""
    done = subprocess.run(["runuser", "-u", "nobody", "--", NOBODY_PY, "-I", "-S", "-c", attack],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    seen = json.loads(done.stdout)
    assert seen["record"] == "PermissionError"
    assert seen["job"][0] == 401 and seen["items"][0] == 401 and seen["media"][0] == 401
    assert SECRET not in done.stdout
    # the owner (with the token) asking for the item now gets a refusal, not the secret
    with _http(info) as http:
        r = http.get(items["note.txt"]["media_url"])
        assert r.status_code == 410 and SECRET not in r.text
        job = http.post("/api/jobs", json={"path": str(base / "lib")}).json()
        while (state := http.get(f"/api/jobs/{job['id']}").json())["state"] not in ("done", "failed", "cancelled"):
            time.sleep(0.2)
        assert state["state"] == "done" and state["removed"] >= 1, state   # the link out is not indexed
        everything = http.get("/api/items", params={"limit": 100}).json()["items"]
        assert all("secret" not in i["path"] and not i["path"].endswith("note.txt") for i in everything)


def test_media_is_served_only_while_the_file_is_what_was_indexed(live, tmp_path):
    base, _, info, items, _ = live
    with _http(info) as http:
        image = next(i for name, i in items.items() if name.endswith(".png"))
        ok = http.get(image["media_url"])
        assert ok.status_code == 200 and ok.content == Path(image["path"]).read_bytes()
        part = http.get(image["media_url"], headers={"Range": "bytes=2-9"})
        assert part.status_code == 206 and part.content == ok.content[2:10]
        assert http.get(image["media_url"], headers={"Range": "bytes=99999999-"}).status_code == 416
        for header in ("x-content-type-options", "content-security-policy", "cross-origin-resource-policy"):
            assert header in ok.headers
        assert ok.headers["x-content-type-options"] == "nosniff"
        assert "frame-ancestors 'none'" in ok.headers["content-security-policy"]
        assert ok.headers["cross-origin-resource-policy"] == "same-origin"

        wav = next(i for name, i in items.items() if name.endswith(".wav"))
        os.unlink(wav["path"])
        os.mkfifo(wav["path"])                             # a FIFO where the file was: no hang, a refusal
        started = time.perf_counter()
        for url in (wav["media_url"], f"/api/items/{wav['id']}/thumb?size=64"):
            assert http.get(url).status_code == 410
        assert time.perf_counter() - started < 10

        shape = next(i for i in items.values() if i["geometry_url"])
        with open(shape["path"], "ab") as fh:
            fh.write(b"\n")                                # changed since indexing
        assert http.get(shape["geometry_url"]).status_code == 410
        assert http.get(shape["media_url"]).status_code == 410


def test_malformed_requests_are_one_sentence_4xx(live):
    _, _, info, items, _ = live
    with _http(info) as http:
        cases = [http.get("/api/items/not-an-id"), http.get("/api/items/../../etc/passwd/media"),
                 http.get("/api/items/%00/thumb"),
                 http.get("/api/items", params={"offset": 10**30}), http.get("/api/items", params={"offset": -1}),
                 http.get("/api/search", params={"text": "red", "offset": 10**12}),
                 http.get("/api/search", params={"text": "red", "weight": "text=nan"}),
                 http.get("/api/search", params={"text": "red", "weight": "text=inf"}),
                 http.get("/api/search", params={"text": "red", "min_score": "nan"}),
                 http.get("/api/search", params={"text": "x" * 5000}),
                 http.get("/api/search", params=[("text", "red")] * 6000),
                 http.post("/api/jobs", json={"path": "/" + "a" * 100_000}),
                 http.post("/api/jobs", json={"path": "/proc"}),
                 http.post("/api/jobs", content=b'{"path": "/tmp/\\udcff"}',
                           headers={"Content-Type": "application/json"}),
                 http.post("/api/jobs", json={"path": str(Path(info.location).parent), "space": "exmcr"}),
                 http.get("/api/jobs/../../x")]
        for r in cases:
            assert 400 <= r.status_code < 500, (r.request.url, r.status_code, r.text[:300])
            detail = r.json()["detail"]
            assert "Traceback" not in r.text and (isinstance(detail, str) or isinstance(detail, list)), r.text


def test_job_endpoints_survive_file_names_that_are_not_utf8(live):
    base, _, info, _, _ = live
    odd = base / "odd"
    odd.mkdir()
    H.write_item(odd, "image", 0, 7).rename(os.fsdecode(bytes(odd) + b"/bad\xff.png"))
    with _http(info) as http:
        job = http.post("/api/jobs", json={"path": str(odd)}).json()
        while (state := http.get(f"/api/jobs/{job['id']}").json())["state"] not in ("done", "failed", "cancelled"):
            time.sleep(0.2)
        listing = http.get("/api/jobs")
        assert listing.status_code == 200 and state["state"] == "done"
        assert "bad\\xff.png" in json.dumps(state["report"]["failed"]) or "xff" in listing.text
        assert http.delete(f"/api/jobs/{job['id']}").status_code == 200


def test_token_cookie_is_specific_to_the_port(live):
    _, _, info, _, _ = live
    with _http(info, token=False) as http:
        r = http.get("/", params={"token": info.token}, follow_redirects=False)
    port = info.url.rsplit(":", 1)[1]
    assert r.status_code == 303 and f"mcrsearch_token_{port}=" in r.headers["set-cookie"]
    assert "samesite=strict" in r.headers["set-cookie"].lower()
