"""Finding dataset files whose exact folder varies between downloads.

Annotation and split files are looked up by name at any depth, but never guessed: two files of the
same name under one root (two copies of a dataset, say) are refused with a message listing both, so
that the names of one copy are never read with the media of another. Media files are indexed by stem
or name; a name found more than once is counted, and the reader says so in its notes.
"""

from __future__ import annotations

import os
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterable

from mcrsearch.errors import ConfigError


def _walk(root: Path):
    """(folder, sorted file names) for every non-hidden folder under `root`, in sorted order."""
    if not root.is_dir():
        return
    for dirpath, dirnames, filenames in os.walk(root, followlinks=False):
        dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
        yield Path(dirpath), sorted(n for n in filenames if not n.startswith("."))


def nfc(name: str) -> str:
    """Unicode NFC form: macOS archives store decomposed names, CSVs usually composed ones."""
    return unicodedata.normalize("NFC", name)


def all_files(root: Path, extensions: Iterable[str]) -> list[Path]:
    """Every non-hidden file under `root` with one of `extensions`, in sorted walk order."""
    exts = {e.lower() for e in extensions}
    return [folder / n for folder, names in _walk(root) for n in names if Path(n).suffix.lower() in exts]


@dataclass
class FileIndex:
    """Files keyed by a name function; the first path in sorted walk order wins, repeats are kept."""

    paths: dict[str, Path] = field(default_factory=dict)
    repeats: dict[str, list[Path]] = field(default_factory=dict)

    def get(self, key: str) -> Path | None:
        return self.paths.get(key)

    def __contains__(self, key: str) -> bool:
        return key in self.paths

    def __getitem__(self, key: str) -> Path:
        return self.paths[key]

    def note(self, what: str) -> str | None:
        """One sentence about names found more than once (None when every name is unique)."""
        if not self.repeats:
            return None
        key = next(iter(self.repeats))
        copies = [self.paths[key], *self.repeats[key]]
        return (f"{len(self.repeats)} {what} names occur more than once under the root (e.g. "
                f"{' and '.join(str(p) for p in copies[:2])}); the first in sorted order was used for each")


def _index(root: Path, extensions: Iterable[str] | None, key: Callable[[Path], str]) -> FileIndex:
    exts = {e.lower() for e in extensions} if extensions is not None else None
    out = FileIndex()
    for folder, names in _walk(root):
        for name in names:
            path = folder / name
            if exts is not None and path.suffix.lower() not in exts:
                continue
            k = key(path)
            if k in out.paths:
                out.repeats.setdefault(k, []).append(path)
            else:
                out.paths[k] = path
    return out


def index_by_stem(root: Path, extensions: Iterable[str]) -> FileIndex:
    """Every file under `root` with one of `extensions`, keyed by its NFC name without extension.

    Public releases move files between sub-folders (e.g. `audio/test/` vs `test/`); an index by stem
    lets readers find them wherever they are."""
    return _index(root, extensions, lambda p: nfc(p.stem))


def index_by_name(root: Path, extensions: Iterable[str] | None = None) -> FileIndex:
    """Every file under `root` keyed by its NFC file name (with extension)."""
    return _index(root, extensions, lambda p: nfc(p.name))


def locate(root: Path, names: Iterable[str]) -> dict[str, list[Path]]:
    """Every file under `root` (any depth) named as one of `names`, by name, in the order given."""
    found: dict[str, list[Path]] = {n.rsplit("/", 1)[-1]: [] for n in names}
    for folder, files in _walk(root):
        for name in files:
            if name in found:
                found[name].append(folder / name)
    return found


def find_one(root: Path, names: Iterable[str], what: str,
             accept: Callable[[Path], bool] | None = None) -> Path | None:
    """The one file under `root` (any depth) named like the first of `names` that exists there.

    Names are tried in order (a preference: the usual file before its alternatives). Files of that
    name that `accept` rejects (e.g. a `test.csv` without the expected columns) are ignored.

    Raises:
        ConfigError: two or more acceptable files share the name, listing them.
    """
    found = locate(root, names)
    for name in found:
        matches = [p for p in found[name] if accept is None or accept(p)]
        if len(matches) == 1:
            return matches[0]
        if len(matches) > 1:
            listed = ", ".join(str(p) for p in matches[:6]) + (" ..." if len(matches) > 6 else "")
            raise ConfigError(f"Found {len(matches)} candidate {what} files named {name} under {root} ({listed}); "
                              "give --root the folder of one copy so that files of two copies are not mixed.")
    return None


def tried(names: Iterable[str]) -> str:
    """'a, b or c' for messages that say which file names were looked for."""
    items = list(dict.fromkeys(names))
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " or " + items[-1]
