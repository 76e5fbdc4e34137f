"""Resumable, checked downloads against a local HTTP server that honours (or ignores) Range and can cut off."""

from __future__ import annotations

import hashlib
import http.server
import threading

import pytest

from mcrsearch.download import Expected, download, part_path, rejected_path
from mcrsearch.errors import OfflineError, WeightsInvalidError, WeightsMissingError

PAYLOAD = bytes(range(256)) * 400          # 102,400 bytes


class Files:
    """What the server serves, and how it misbehaves."""

    def __init__(self) -> None:
        self.data: dict[str, bytes] = {"/w.bin": PAYLOAD}
        self.cut_after: int | None = None          # send the full Content-Length, then stop after N body bytes
        self.honour_range = True
        self.ranges: list[str | None] = []         # the Range header of each request


@pytest.fixture()
def server():
    files = Files()

    class Handler(http.server.BaseHTTPRequestHandler):
        def log_message(self, *args):
            pass

        def do_GET(self):
            files.ranges.append(self.headers.get("Range"))
            body = files.data.get(self.path)
            if body is None:
                self.send_error(404, "Not Found")
                return
            start, status = 0, 200
            rng = self.headers.get("Range")
            if rng and files.honour_range:
                start = int(rng.split("=")[1].split("-")[0])
                if start >= len(body):
                    self.send_response(416)
                    self.send_header("Content-Range", f"bytes */{len(body)}")
                    self.end_headers()
                    return
                status = 206
            chunk = body[start:]
            self.send_response(status)
            self.send_header("Content-Length", str(len(chunk)))
            if status == 206:
                self.send_header("Content-Range", f"bytes {start}-{len(body) - 1}/{len(body)}")
            self.end_headers()
            if files.cut_after is not None:
                chunk = chunk[:files.cut_after]
            self.wfile.write(chunk)
            self.wfile.flush()

    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield files, f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()


def _blob(data: bytes) -> str:
    return hashlib.sha1(f"blob {len(data)}\0".encode() + data).hexdigest()


def test_truncated_transfer_is_kept_as_part_and_resumed_with_range(server, tmp_path):
    files, base = server
    dst = tmp_path / "w" / "w.bin"
    expected = Expected(size=len(PAYLOAD), sha256=hashlib.sha256(PAYLOAD).hexdigest(), git_blob=_blob(PAYLOAD))
    files.cut_after = 30_000
    with pytest.raises(OfflineError, match=r"30000 of 102400 bytes.*resumes"):
        download(base + "/w.bin", dst, expected, timeout=5)
    assert not dst.exists() and part_path(dst).stat().st_size == 30_000      # never filed, kept to resume
    files.cut_after = None
    seen = []
    assert download(base + "/w.bin", dst, expected, timeout=5,
                    progress=lambda name, total: (seen.append(total), lambda n: seen.append(n))[1]) == dst
    assert dst.read_bytes() == PAYLOAD and not part_path(dst).exists()
    assert files.ranges[-1] == "bytes=30000-"                                # the second request resumed
    assert seen[0] == len(PAYLOAD) and sum(seen[1:]) == len(PAYLOAD)          # the bar counts the kept bytes too


def test_server_that_ignores_range_restarts_the_file(server, tmp_path):
    files, base = server
    dst = tmp_path / "w.bin"
    part_path(dst).write_bytes(b"\xff" * 5000)                               # garbage from an earlier try
    files.honour_range = False
    download(base + "/w.bin", dst, Expected(size=len(PAYLOAD), git_blob=_blob(PAYLOAD)), timeout=5)
    assert dst.read_bytes() == PAYLOAD


def test_complete_part_file_is_checked_and_filed_on_416(server, tmp_path):
    files, base = server
    dst = tmp_path / "w.bin"
    part_path(dst).write_bytes(PAYLOAD)
    download(base + "/w.bin", dst, Expected(size=len(PAYLOAD), git_blob=_blob(PAYLOAD)), timeout=5)
    assert dst.read_bytes() == PAYLOAD and files.ranges == [f"bytes={len(PAYLOAD)}-"]


def test_short_file_against_the_catalog_size_is_kept_aside_with_its_reason(server, tmp_path):
    files, base = server
    files.data["/w.bin"] = PAYLOAD[:1000]                                    # the server's whole file is short
    dst = tmp_path / "w.bin"
    with pytest.raises(WeightsInvalidError, match="1000 bytes instead of 102400.*kept aside as w.bin.rejected"):
        download(base + "/w.bin", dst, Expected(size=len(PAYLOAD)), timeout=5)
    assert not dst.exists() and rejected_path(dst).read_bytes() == PAYLOAD[:1000]
    reason = (tmp_path / "w.bin.rejected.txt").read_text()
    assert "1000 bytes instead of 102400" in reason and base + "/w.bin" in reason


def test_wrong_bytes_are_kept_aside_and_404_is_one_sentence(server, tmp_path):
    files, base = server
    dst = tmp_path / "w.bin"
    with pytest.raises(WeightsInvalidError, match="sha256"):
        download(base + "/w.bin", dst, Expected(sha256="0" * 64), timeout=5)
    assert rejected_path(dst).is_file() and not dst.exists()
    with pytest.raises(WeightsMissingError, match=r"HTTP 404 .*absent\.bin\.$"):
        download(base + "/absent.bin", dst, Expected(), timeout=5)
