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
    from mcrsearch.search import MediaBytes, QueryInput, _decode_input
    from mcrsearch.modality import Modality

    data = _png_of(9000, 9000)
    assert len(data) < 400_000                      # a small upload that declares 81 MP
    settings = load_settings(home=tmp_path, device="cpu")
    started = time.perf_counter()
    with pytest.raises(MediaError, match="pixels"):
        _decode_input(QueryInput(Modality.IMAGE, MediaBytes("big.png", data)), 1024, settings)
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
    from mcrsearch.search import MediaBytes, QueryInput, _decode_input

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
        QueryInput(Modality.IMAGE, MediaBytes("q.png", b"x")), 1024, settings)) for _ in range(12)]
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

    def do_GET(self):  # noqa: N802 - http.server's name
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
