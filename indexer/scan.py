"""Find the files to index: supported types only, no hidden files or folders, no symlink loops."""

from __future__ import annotations

import os
import stat
from dataclasses import dataclass
from pathlib import Path

from mcrsearch.modality import Modality, detect_modality


@dataclass(frozen=True)
class ScannedFile:
    path: str            # absolute, as the user sees it (symlinks inside the tree are not resolved)
    modality: Modality   # by extension; the decoder may still find the content is something else
    size: int
    mtime_ns: int


def scan(root: str | Path) -> list[ScannedFile]:
    """All indexable files under `root` (or `root` itself when it is a file), sorted by path.

    Symlinked folders are followed once: a folder already visited (same device and inode) is skipped,
    which breaks loops and avoids indexing one folder twice.
    """
    root = Path(os.path.abspath(Path(root).expanduser()))
    if root.is_file():
        found = _entry(str(root))
        return [found] if found else []
    out: list[ScannedFile] = []
    seen: set[tuple[int, int]] = set()
    for dirpath, dirnames, filenames in os.walk(root, followlinks=True):
        try:
            st = os.stat(dirpath)
        except OSError:
            dirnames[:] = []
            continue
        key = (st.st_dev, st.st_ino)
        if key in seen:
            dirnames[:] = []
            continue
        seen.add(key)
        dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
        for name in filenames:
            if name.startswith("."):
                continue
            found = _entry(os.path.join(dirpath, name))
            if found:
                out.append(found)
    out.sort(key=lambda f: f.path)
    return out


def _entry(path: str) -> ScannedFile | None:
    modality = detect_modality(path)
    if modality is None:
        return None
    try:
        st = os.stat(path)          # follows a file symlink; a dangling one is skipped
    except OSError:
        return None
    if not stat.S_ISREG(st.st_mode):
        return None
    return ScannedFile(path, modality, st.st_size, st.st_mtime_ns)
