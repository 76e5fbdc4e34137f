"""Atomic file writes: a file is either its old content or its complete new content, never half of one.

Every writer of caches, records, checkpoints and sidecars goes through `atomic_path`: it hands out a temporary
name in the destination's folder (so the final `os.replace` stays on one file system), and on success moves
it over the destination; on any error the temporary file is removed and the destination is untouched.
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
def atomic_path(dst: str | Path, suffix: str = "") -> Iterator[Path]:
    """Yield a temporary path beside `dst`; it replaces `dst` when the block ends without an error.

    Args:
        dst: the file to write.
        suffix: kept at the end of the temporary name, for writers that insist on one (`np.save` adds `.npy`).
    """
    dst = Path(dst)
    dst.parent.mkdir(parents=True, exist_ok=True)
    fd, name = tempfile.mkstemp(dir=dst.parent, prefix=f".{dst.name}.", suffix=f".part{suffix}")
    os.close(fd)
    tmp = Path(name)
    try:
        yield tmp
        os.replace(tmp, dst)
    finally:
        tmp.unlink(missing_ok=True)


def atomic_write_bytes(path: str | Path, data: bytes) -> Path:
    """Write `data` to `path` atomically; returns the path."""
    with atomic_path(path) as tmp:
        tmp.write_bytes(data)
    return Path(path)


def atomic_write_text(path: str | Path, text: str) -> Path:
    """Write UTF-8 `text` to `path` atomically; returns the path."""
    return atomic_write_bytes(path, text.encode("utf-8"))


def atomic_write_json(path: str | Path, obj: Any, **dumps: Any) -> Path:
    """Write `obj` as JSON to `path` atomically (`dumps` go to `json.dumps`); returns the path."""
    return atomic_write_text(path, json.dumps(obj, **dumps))


def atomic_copy(src: str | Path, dst: str | Path) -> Path:
    """Copy `src` to `dst` atomically; returns `dst`."""
    with atomic_path(dst) as tmp:
        shutil.copyfile(src, tmp)
    return Path(dst)


__all__ = ["atomic_path", "atomic_write_bytes", "atomic_write_text", "atomic_write_json", "atomic_copy"]
