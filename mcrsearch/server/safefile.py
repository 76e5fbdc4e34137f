"""Open an indexed item's file for the server only while it still is the file that was indexed.

Why: the server reads files with its own rights, and the folders it indexed may be writable by other
users. Between the index run and a request, a file can be replaced by a link to a secret, a FIFO, a
device or another file. So a file is opened without following a link (O_NOFOLLOW), with O_NONBLOCK (a
FIFO cannot stall the open), checked on the opened descriptor to be a regular file with the device,
inode, size and modification time the index recorded, and its path must have no link in it at all
(the index records real paths, so an indexed root cannot have become a link out of itself). Media,
thumbnails and geometry are all read through here, from the checked descriptor.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING, BinaryIO
from urllib.parse import quote

from mcrsearch import media
from mcrsearch.errors import MediaError

if TYPE_CHECKING:
    from mcrsearch.search import Item

IDENTITY_FIELDS = ("dev", "ino", "size", "mtime_ns")


class FileChanged(Exception):
    """The item's file is gone or no longer the file that was indexed (the message is one sentence)."""


def open_indexed(item: "Item") -> BinaryIO:
    """The item's file, opened for reading, when it still is what was indexed.

    Args:
        item: a stored item (its payload holds the path and identity the index recorded).
    Returns:
        A binary file object positioned at 0; the caller closes it.
    Raises:
        FileChanged: missing, replaced, changed, a link, not a regular file, or indexed before identities
            were recorded (re-indexing its folder records them).
    """
    path = item.path
    payload = item.payload
    if any(not isinstance(payload.get(k), int) for k in IDENTITY_FIELDS):
        raise FileChanged(f"Item {item.id} was indexed without its file's identity; re-index its folder "
                          "before the server serves it.")
    if not os.path.isabs(path) or os.path.realpath(path) != os.path.normpath(path):
        raise FileChanged(f"The file of item {item.id} is now reached through a link; re-index its folder.")
    try:
        fh = media.open_regular(path, follow=False, identity=(payload["dev"], payload["ino"]))
    except MediaError as exc:
        if not Path(path).exists() and "not found" in exc.reason:
            raise FileChanged(f"The file of item {item.id} is no longer on disk; re-index its folder.") from exc
        raise FileChanged(f"The file of item {item.id} is not the file that was indexed ({exc.reason}); "
                          "re-index its folder.") from exc
    st = os.fstat(fh.fileno())
    if (st.st_size, st.st_mtime_ns) != (payload["size"], payload["mtime_ns"]):
        fh.close()
        raise FileChanged(f"The file of item {item.id} changed since it was indexed; re-index its folder.")
    return fh


def read_indexed(item: "Item", max_bytes: int) -> bytes:
    """The whole file of an item (see `open_indexed`), refused past `max_bytes` (0: no limit).

    Raises:
        FileChanged: see `open_indexed`.
        MediaError: the file is over the size limit.
    """
    with open_indexed(item) as fh:
        size = os.fstat(fh.fileno()).st_size
        if max_bytes and size > max_bytes:
            raise MediaError(item.path, f"is {size / 2**20:.1f} MB, over the {max_bytes / 2**20:g} MB limit")
        return fh.read()


CHUNK = 1 << 16


class Unsatisfiable(ValueError):
    """A Range the file cannot satisfy (416)."""


def _byte_range(header: str | None, size: int) -> tuple[int, int] | None:
    """(first, last) of a single `bytes=` range, or None for the whole file (no header, several ranges, or
    another unit: a server may ignore Range). Raises Unsatisfiable."""
    if not header or not header.strip().lower().startswith("bytes=") or "," in header:
        return None
    spec = header.strip()[6:].strip()
    first_s, dash, last_s = spec.partition("-")
    try:
        if not dash:
            raise Unsatisfiable(header)
        if first_s == "":                          # the last N bytes
            n = int(last_s)
            if n <= 0:
                raise Unsatisfiable(header)
            return max(0, size - n), size - 1
        first = int(first_s)
        last = int(last_s) if last_s else size - 1
    except ValueError as exc:
        raise Unsatisfiable(header) from exc
    if first < 0 or first >= size or last < first:
        raise Unsatisfiable(header)
    return first, min(last, size - 1)


def file_response(fh: BinaryIO, media_type: str, filename: str, range_header: str | None):
    """A response that streams the already opened, checked file `fh` (HTTP Range: one range, 206; an
    unsatisfiable one, 416). The file is read through its descriptor, never reopened by name, and
    closed when the response ends."""

    from starlette.background import BackgroundTask
    from starlette.responses import Response, StreamingResponse

    size = os.fstat(fh.fileno()).st_size
    base = {"Accept-Ranges": "bytes",
            "Content-Disposition": f"inline; filename*=utf-8''{quote(filename, safe='')}"}
    try:
        wanted = _byte_range(range_header, size)
    except Unsatisfiable:
        fh.close()
        return Response(status_code=416, headers={**base, "Content-Range": f"bytes */{size}"})
    first, last = (0, size - 1) if wanted is None else wanted
    fd = fh.fileno()

    def chunks():
        pos = first
        while pos <= last:
            block = os.pread(fd, min(CHUNK, last - pos + 1), pos)
            if not block:
                return
            pos += len(block)
            yield block

    headers = {**base, "Content-Length": str(max(0, last - first + 1))}
    status = 200
    if wanted is not None:
        headers["Content-Range"] = f"bytes {first}-{last}/{size}"
        status = 206
    return StreamingResponse(chunks(), status_code=status, media_type=media_type, headers=headers,
                             background=BackgroundTask(fh.close))
