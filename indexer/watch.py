"""Folders that stay in step: follow indexed folders and index what appears, changes, moves or disappears.

Why batches of folders rather than single files: an index run over a folder is already incremental (one stat
per unchanged file) and removes what left disk, so a burst of changes (a copy of 500 files, a renamed folder)
becomes one run per affected folder once the burst has been quiet for `quiet_s`, instead of 500 runs. Events
come from `watchfiles` (inotify, FSEvents, ReadDirectoryChangesW); `poll=True` (or a platform without events,
e.g. some network mounts) makes it poll.
"""

from __future__ import annotations

import os
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterable

from mcrsearch.modality import detect_modality


@dataclass
class WatchBatch:
    """One batch: the folders re-indexed for it and the changed paths they cover."""

    folders: list[str]
    paths: list[str]
    started: float
    results: list[Any] = field(default_factory=list)     # what `apply` returned per folder
    errors: list[str] = field(default_factory=list)


def affected_folders(paths: Iterable[str], roots: Iterable[str]) -> list[str]:
    """The fewest existing folders whose index runs cover every changed path: each path's nearest existing
    folder inside its root (a deleted folder's parent), without folders already under another."""
    roots = [str(Path(r)) for r in roots]
    found: set[str] = set()
    for p in paths:
        root = next((r for r in roots if p == r or p.startswith(r.rstrip(os.sep) + os.sep)), None)
        if root is None:
            continue
        folder = Path(p).parent if p != root else Path(root)
        while str(folder) != root and not folder.is_dir():
            folder = folder.parent
        found.add(str(folder))
    keep = sorted(found, key=len)
    out: list[str] = []
    for f in keep:
        if not any(f == o or f.startswith(o.rstrip(os.sep) + os.sep) for o in out):
            out.append(f)
    return sorted(out)


def _relevant(path: str) -> bool:
    """Indexable files and folders (a folder moved or deleted takes its files with it); no hidden names."""
    name = os.path.basename(path)
    if name.startswith("."):
        return False
    return detect_modality(path) is not None or "." not in name or os.path.isdir(path)


class Watcher:
    """Follows `roots` and calls `apply(folder)` for each folder a quiet burst of changes touched.

    Args:
        roots: folders to follow (already indexed: the first run is the caller's).
        apply: re-indexes one folder (e.g. `lambda f: client.index(f)`); its return value lands in the batch.
        quiet_s: a burst is applied once no change came for this long.
        poll: force polling instead of file-system events (None: events where the platform has them).
        on_batch: called with each finished WatchBatch (progress lines, the server's job list).
    """

    def __init__(self, roots: Iterable[str | Path], apply: Callable[[str], Any], quiet_s: float = 0.5,
                 poll: bool | None = None, on_batch: Callable[[WatchBatch], None] | None = None) -> None:
        self.roots = [os.path.abspath(Path(r).expanduser()) for r in roots]
        for r in self.roots:
            if not os.path.isdir(r):
                from mcrsearch.errors import ConfigError

                raise ConfigError(f"The folder {r} does not exist; only folders can be watched.")
        self.apply = apply
        self.quiet_s = quiet_s
        self.poll = poll
        self.on_batch = on_batch
        self.stop_event = threading.Event()
        self._pending: dict[str, float] = {}       # changed path -> when it was seen
        self._lock = threading.Lock()
        self.batches = 0
        self._thread: threading.Thread | None = None

    def pending(self) -> list[dict[str, Any]]:
        """Changes seen but not yet searchable: path and seconds since it was seen."""
        now = time.time()
        with self._lock:
            return [{"path": p, "waiting_s": round(now - t, 2)} for p, t in sorted(self._pending.items())]

    def start(self) -> "Watcher":
        """Follow the folders in a daemon thread; `stop()` ends it."""
        self._thread = threading.Thread(target=self.run, name="mcr-watch", daemon=True)
        self._thread.start()
        return self

    def stop(self, timeout: float = 10.0) -> None:
        self.stop_event.set()
        if self._thread is not None:
            self._thread.join(timeout)

    def run(self) -> None:
        """Follow the folders until `stop()` (blocking)."""
        import watchfiles

        if not self.roots:
            return
        step_ms = max(int(self.quiet_s * 1000), 50)
        for changes in watchfiles.watch(*self.roots, watch_filter=lambda _c, p: _relevant(p), step=step_ms,
                                        debounce=max(step_ms * 20, 2000), stop_event=self.stop_event,
                                        force_polling=self.poll, poll_delay_ms=max(step_ms, 300),
                                        raise_interrupt=False, yield_on_timeout=False):
            now = time.time()
            with self._lock:
                for _change, path in changes:
                    self._pending.setdefault(path, now)
            self._apply_pending()

    def _apply_pending(self) -> None:
        with self._lock:
            paths = sorted(self._pending)
        if not paths:
            return
        batch = WatchBatch(affected_folders(paths, self.roots), paths, time.time())
        for folder in batch.folders:
            try:
                batch.results.append(self.apply(folder))
            except Exception as exc:  # noqa: BLE001 - a failed run is reported; the watch goes on
                batch.errors.append(f"{folder}: {exc}")
        with self._lock:
            for p in paths:
                self._pending.pop(p, None)
        self.batches += 1
        if self.on_batch is not None:
            self.on_batch(batch)
