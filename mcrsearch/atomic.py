"""Atomic file writes: a reader (or a crash) sees the old file or the new one, never half of one.

Every writer of caches, records, checkpoints and sidecars goes through `atomic_path`: it hands out a temporary
name beside the destination (so the final rename stays on one file system); when the block ends without an
error the file is fsynced and renamed over the destination, and on any error it is removed, the destination
untouched.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Iterator


@contextmanager
def atomic_path(dst: str | Path, mode: int | None = None, suffix: str = "") -> Iterator[Path]:
    """Yield a temporary path beside `dst` to write; it replaces `dst` when the block ends without an error.

    Args:
        dst: the file to write (its folder is created).
        mode: permission bits for the new file (default: mkstemp's 0o600 is widened to the umask's default).
        suffix: kept at the end of the temporary name, for writers that insist on one.
    """
    dst = Path(dst)
    dst.parent.mkdir(parents=True, exist_ok=True)
    fd, name = tempfile.mkstemp(dir=dst.parent, prefix=f".{dst.name}.", suffix=f".tmp{suffix}")
    os.close(fd)
    tmp = Path(name)
    try:
        yield tmp
        with tmp.open("rb+") as fh:
            os.fsync(fh.fileno())
        os.chmod(tmp, mode if mode is not None else 0o666 & ~_umask())
        os.replace(tmp, dst)
    finally:
        tmp.unlink(missing_ok=True)


def _umask() -> int:
    current = os.umask(0)
    os.umask(current)
    return current


def write_bytes_atomic(path: str | Path, data: bytes, mode: int | None = None) -> None:
    """Write `data` to `path` atomically (fsynced before the rename)."""
    with atomic_path(path, mode) as tmp:
        tmp.write_bytes(data)


def write_text_atomic(path: str | Path, text: str, mode: int | None = None) -> None:
    """Write UTF-8 `text` to `path` atomically."""
    write_bytes_atomic(path, text.encode("utf-8"), mode)


def write_json_atomic(path: str | Path, obj: Any, **dumps: Any) -> Path:
    """Write `obj` as JSON to `path` atomically (`dumps` go to `json.dumps`); returns the path."""
    write_text_atomic(path, json.dumps(obj, **dumps))
    return Path(path)


def copy_atomic(src: str | Path, dst: str | Path) -> Path:
    """Copy `src` to `dst` atomically; returns `dst`."""
    with atomic_path(dst) as tmp:
        shutil.copyfile(src, tmp)
    return Path(dst)


__all__ = ["atomic_path", "write_bytes_atomic", "write_text_atomic", "write_json_atomic", "copy_atomic"]
