"""Finding dataset files whose exact folder varies between downloads (stem -> path indexes)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Iterable


def all_files(root: Path, extensions: Iterable[str]) -> list[Path]:
    """Every non-hidden file under `root` with one of `extensions`, in sorted walk order."""
    exts = {e.lower() for e in extensions}
    out: list[Path] = []
    if not root.is_dir():
        return out
    for dirpath, dirnames, filenames in os.walk(root, followlinks=False):
        dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
        out += [Path(dirpath) / n for n in sorted(filenames) if not n.startswith(".") and Path(n).suffix.lower() in exts]
    return out


def index_by_stem(root: Path, extensions: Iterable[str]) -> dict[str, Path]:
    """Every file under `root` with one of `extensions`, keyed by its name without extension.

    Public releases move files between sub-folders (e.g. `audio/test/` vs `test/`); an index by stem
    lets readers find them wherever they are. The first path in sorted order wins on duplicates."""
    exts = {e.lower() for e in extensions}
    out: dict[str, Path] = {}
    if not root.is_dir():
        return out
    for dirpath, dirnames, filenames in os.walk(root, followlinks=False):
        dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
        for name in sorted(filenames):
            path = Path(dirpath) / name
            if path.suffix.lower() in exts and not name.startswith("."):
                out.setdefault(path.stem, path)
    return out


def index_by_name(root: Path) -> dict[str, Path]:
    """Every file under `root` keyed by its file name (with extension)."""
    out: dict[str, Path] = {}
    if not root.is_dir():
        return out
    for dirpath, dirnames, filenames in os.walk(root, followlinks=False):
        dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
        for name in sorted(filenames):
            out.setdefault(name, Path(dirpath) / name)
    return out


def first_existing(root: Path, candidates: Iterable[str]) -> Path | None:
    for rel in candidates:
        path = root / rel
        if path.exists():
            return path
    return None


def find_file(root: Path, names: Iterable[str]) -> Path | None:
    """The first file under `root` (any depth, sorted walk) whose name is one of `names`."""
    wanted = list(names)
    direct = first_existing(root, wanted)
    if direct is not None:
        return direct
    by_name = index_by_name(root)
    for name in wanted:
        if name in by_name:
            return by_name[name]
    return None
