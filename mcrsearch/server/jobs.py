"""Index jobs inside the server: one folder at a time on a worker thread, so searches go on meanwhile.

A job runs `Client.index` with a progress callback (the job's counts) and a cancel flag (polled by the
indexer between files). Whatever a job has written is whole and searchable at any moment: the indexer
upserts complete points, and a cancelled or failed job leaves the collection as a rerun would continue it.
"""

from __future__ import annotations

import queue
import threading
import time
import uuid
from dataclasses import asdict, dataclass, field
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mcrsearch.errors import ConfigError, McrError
from mcrsearch_indexer.report import IndexProgress

if TYPE_CHECKING:
    from mcrsearch.api import Client

ACTIVE = ("queued", "running")
FINISHED = ("done", "failed", "cancelled")
KEEP_FINISHED = 50          # finished jobs kept for listing
MAX_PATH_CHARS = 4096       # PATH_MAX on Linux: a longer job path is refused before it reaches the OS


def printable(value: Any) -> Any:
    """`value` with every string made valid UTF-8 (a file name is any bytes on Linux: Python keeps the
    bytes that are not UTF-8 as lone surrogates, which JSON cannot carry): such bytes show as \\xNN."""
    if isinstance(value, str):
        try:
            value.encode("utf-8")
            return value
        except UnicodeEncodeError:
            try:
                return value.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")
            except UnicodeEncodeError:
                return value.encode("utf-8", "surrogatepass").decode("utf-8", "replace")
    if isinstance(value, dict):
        return {printable(k): printable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [printable(v) for v in value]
    return value


@dataclass
class Job:
    """One index job and its live counts."""

    id: str
    path: str
    space: str | None
    state: str = "queued"
    progress: IndexProgress = IndexProgress(0, 0, 0, 0, 0, 0)
    error: str | None = None
    error_type: str | None = None          # the McrError class of `error` (RemoteClient raises it again)
    started: float = field(default_factory=time.time)
    finished: float | None = None
    report: dict[str, Any] | None = None
    version: int = 0                       # bumped on every change (the event stream sends on change)
    cancel_requested: threading.Event = field(default_factory=threading.Event, repr=False)

    def to_dict(self) -> dict[str, Any]:
        """The job as JSON can carry it (names that are not UTF-8 are escaped, see `printable`)."""
        return printable({"id": self.id, "path": self.path, "space": self.space, "state": self.state,
                          **asdict(self.progress), "error": self.error, "started": self.started,
                          "finished": self.finished, "report": self.report})


class JobManager:
    """Runs index jobs one after another on a daemon thread.

    Jobs embed with the server's space (`settings.space`, or the collection's own for 'auto'); another
    space only when the operator allowed it (`allow_spaces`): a second space in the collection would
    leave queries without one ambiguous.
    """

    def __init__(self, client: "Client", allow_spaces: bool = False) -> None:
        self.client = client
        self.allow_spaces = allow_spaces
        self._jobs: dict[str, Job] = {}
        self._queue: "queue.Queue[Job]" = queue.Queue()
        self._lock = threading.Lock()
        self._thread = threading.Thread(target=self._work, name="mcr-index-jobs", daemon=True)
        self._thread.start()

    def submit(self, path: str, space: str | None = None) -> Job:
        """Queue a folder (an absolute path that exists on the server's machine, not / or a system
        pseudo file system), with the server's space unless others are allowed."""
        from mcrsearch_indexer.scan import resolve_root

        if len(path) > MAX_PATH_CHARS or "\0" in path:
            raise ConfigError(f"The folder to index must be a path of at most {MAX_PATH_CHARS} characters "
                              "without NUL bytes.")
        p = Path(path)
        if not p.is_absolute():
            raise ConfigError(f"The folder to index must be an absolute path, not '{printable(path)}'.")
        try:
            exists = p.exists()
        except (OSError, ValueError):
            exists = False
        if not exists:
            raise ConfigError(f"The path {printable(path)} does not exist on the server's machine.")
        resolve_root(p)
        own = self.client.settings.space
        if space and not self.allow_spaces and own not in ("auto", None) and space != own:
            raise ConfigError(f"This server indexes with space '{own}'; start it with --allow-spaces to "
                              f"let jobs use '{space}'.")
        if space and not self.allow_spaces and own in ("auto", None):
            known = self._spaces()
            if known and space not in known:
                raise ConfigError(f"This collection is indexed with {', '.join(known)}; start the server "
                                  f"with --allow-spaces to let jobs add space '{space}'.")
        job = Job(uuid.uuid4().hex[:12], str(p), space)
        with self._lock:
            self._jobs[job.id] = job
            self._forget_old()
        self._queue.put(job)
        return job

    def _spaces(self) -> list[str]:
        try:
            return sorted(s["name"] for s in self.client.info().get("spaces", []))
        except McrError:
            return []

    def get(self, job_id: str) -> Job | None:
        return self._jobs.get(job_id)

    def list(self) -> list[Job]:
        return sorted(self._jobs.values(), key=lambda j: j.started, reverse=True)

    def cancel(self, job_id: str) -> Job | None:
        job = self._jobs.get(job_id)
        if job is not None and job.state not in FINISHED:
            job.cancel_requested.set()
            if job.state == "queued":
                self._finish(job, "cancelled")
        return job

    def busy(self) -> bool:
        return any(j.state in ACTIVE for j in self._jobs.values())

    # -- worker
    def _work(self) -> None:
        while True:
            job = self._queue.get()
            if job.state != "queued":
                continue
            job.state = "running"
            job.version += 1
            try:
                report = self.client.index(job.path, space=job.space, progress=partial(self._progress, job),
                                           cancel=job.cancel_requested.is_set)
            except McrError as exc:
                job.error, job.error_type = str(exc), type(exc).__name__
                self._finish(job, "failed")
                continue
            except Exception as exc:  # noqa: BLE001 - a job must never kill the worker
                job.error = f"{type(exc).__name__}: {exc}"
                self._finish(job, "failed")
                continue
            job.report = {**report.to_dict(), "collection": report.collection, "space": report.space,
                          "location": report.location, "seconds": report.seconds,
                          "stage_seconds": report.stage_seconds, "cancelled": report.cancelled}
            job.progress = report.progress(job.progress.total)
            self._finish(job, "cancelled" if report.cancelled else "done")

    @staticmethod
    def _progress(job: Job, p: IndexProgress) -> None:
        job.progress = p
        job.version += 1

    @staticmethod
    def _finish(job: Job, state: str) -> None:
        job.state = state
        job.finished = time.time()
        job.version += 1

    def _forget_old(self) -> None:
        finished = sorted((j for j in self._jobs.values() if j.state in FINISHED), key=lambda j: j.started)
        for j in finished[:max(0, len(finished) - KEEP_FINISHED)]:
            del self._jobs[j.id]
