"""Find the files to index: supported types only, no hidden files or folders, no link out of the root.

Why real paths and no followed links: an index run may be started by a server for whoever holds its
token, with the server's rights. A link inside the folder must not make it read (and later serve) a
file outside the folder, and a file reached by two names must be one item. So the root is resolved
once, folder links are not descended, a file link counts only when its target is a visible file
inside the root, and every file is recorded by its real path with its device and inode (what the
server checks before it serves the file again).
"""

from __future__ import annotations

import os
import stat
from dataclasses import dataclass
from pathlib import Path

from mcrsearch.errors import ConfigError
from mcrsearch.modality import Modality, detect_modality

# Pseudo file systems: their "files" are processes, devices and kernel state, never a library.
SYSTEM_ROOTS = ("/proc", "/sys", "/dev")


@dataclass(frozen=True)
class ScannedFile:
    path: str            # absolute real path (no link anywhere in it)
    modality: Modality   # by extension; the decoder may still find the content is something else
    size: int
    mtime_ns: int
    dev: int = 0         # device and inode at scan time: the identity the server checks before serving
    ino: int = 0


def resolve_root(root: str | Path) -> Path:
    """The real path of a folder (or file) to index, refused when it is `/` or a system pseudo file system.

    Raises:
        ConfigError: the root is `/`, or lies in /proc, /sys or /dev.
    """
    given = os.path.abspath(Path(root).expanduser())
    real = Path(os.path.realpath(given))
    for text in (given, str(real)):          # /proc/self/cwd is a link: neither name may be a system path
        if text == os.sep:
            raise ConfigError("Refusing to index the whole file system (/); give the folder of your library.")
        for system in SYSTEM_ROOTS:
            if text == system or text.startswith(system + os.sep):
                raise ConfigError(f"Refusing to index {text}: {system} holds system state, not media files.")
    return real


def considered(path: str, root: str | Path) -> bool:
    """Whether a scan of `root` would look at a file at `path` by its own rules (inside the root, no
    hidden part below it, a supported type): only such stored items may be deleted by that scan."""
    base = str(root).rstrip(os.sep)
    if path != base and not path.startswith(base + os.sep):
        return False
    rel = path[len(base):].lstrip(os.sep)
    if any(part.startswith(".") for part in rel.split(os.sep) if part):
        return False
    return detect_modality(path) is not None


def scan(root: str | Path) -> list[ScannedFile]:
    """All indexable files under `root` (or `root` itself when it is a file), sorted by real path.

    Raises:
        ConfigError: the root is refused (see `resolve_root`).
    """
    base = resolve_root(root)
    if base.is_file():
        found = _entry(str(base))
        return [found] if found else []
    out: dict[str, ScannedFile] = {}
    for dirpath, dirnames, filenames in os.walk(base, followlinks=False):
        dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
        for name in filenames:
            if name.startswith("."):
                continue
            found = _entry(os.path.join(dirpath, name), base)
            if found is not None:
                out.setdefault(found.path, found)        # one item per real file, whatever names reach it
    return sorted(out.values(), key=lambda f: f.path)


def _entry(path: str, root: Path | None = None) -> ScannedFile | None:
    try:
        st = os.lstat(path)
    except OSError:
        return None
    if stat.S_ISLNK(st.st_mode):
        real = os.path.realpath(path)
        if root is None or not considered(real, root):    # a link out of the root, or to a hidden file
            return None
        path = real
        try:
            st = os.lstat(path)
        except OSError:
            return None
    if not stat.S_ISREG(st.st_mode):
        return None
    modality = detect_modality(path)
    if modality is None:
        return None
    return ScannedFile(path, modality, st.st_size, st.st_mtime_ns, st.st_dev, st.st_ino)
