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
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mcrsearch.errors import ConfigError, McrError
from mcrsearch_indexer.report import IndexProgress

if TYPE_CHECKING:
    from mcrsearch.api import Client

ACTIVE = ("queued", "running")
FINISHED = ("done", "failed", "cancelled")
KEEP_FINISHED = 50          # finished jobs kept for listing


@dataclass
class Job:
    """One index job and its live counts."""

    id: str
    path: str
    space: str | None
    state: str = "queued"
    progress: IndexProgress = IndexProgress(0, 0, 0, 0, 0, 0)
    error: str | None = None
    started: float = field(default_factory=time.time)
    finished: float | None = None
    report: dict[str, Any] | None = None
    version: int = 0                       # bumped on every change (the event stream sends on change)
    cancel_requested: threading.Event = field(default_factory=threading.Event, repr=False)

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.id, "path": self.path, "space": self.space, "state": self.state,
                **asdict(self.progress), "error": self.error, "started": self.started, "finished": self.finished,
                "report": self.report}


class JobManager:
    """Runs index jobs one after another on a daemon thread."""

    def __init__(self, client: "Client") -> None:
        self.client = client
        self._jobs: dict[str, Job] = {}
        self._queue: "queue.Queue[Job]" = queue.Queue()
        self._lock = threading.Lock()
        self._thread = threading.Thread(target=self._work, name="mcr-index-jobs", daemon=True)
        self._thread.start()

    def submit(self, path: str, space: str | None = None) -> Job:
        """Queue a folder (an absolute path that exists on the server's machine)."""
        p = Path(path)
        if not p.is_absolute():
            raise ConfigError(f"The folder to index must be an absolute path, not '{path}'.")
        if not p.exists():
            raise ConfigError(f"The path {path} does not exist on the server's machine.")
        job = Job(uuid.uuid4().hex[:12], str(p), space)
        with self._lock:
            self._jobs[job.id] = job
            self._forget_old()
        self._queue.put(job)
        return job

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
                report = self.client.index(job.path, space=job.space, progress=lambda p, j=job: self._progress(j, p),
                                           cancel=job.cancel_requested.is_set)
            except McrError as exc:
                job.error = str(exc)
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
