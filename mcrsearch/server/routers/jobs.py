"""Index jobs: start one on a folder of the server's machine, follow it (also as server-sent events),
cancel it. Searching goes on while a job runs."""

from __future__ import annotations

import asyncio
import json
from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import StreamingResponse

from mcrsearch.errors import NotFoundError
from mcrsearch.server.deps import get_jobs, require_token
from mcrsearch.server.jobs import FINISHED, Job, JobManager
from mcrsearch.server.schemas import JobList, JobOut, JobRequest

EVENT_POLL_S = 0.2

router = APIRouter(prefix="/api/jobs", tags=["jobs"], dependencies=[Depends(require_token)])


def job_or_404(job_id: str, jobs: JobManager = Depends(get_jobs)) -> Job:
    job = jobs.get(job_id)
    if job is None:
        raise NotFoundError(f"No index job {job_id}.")
    return job


@router.post("", response_model=JobOut, status_code=202)
def start_job(request: JobRequest, jobs: JobManager = Depends(get_jobs)) -> dict[str, Any]:
    """Start indexing a folder on the server's machine; searching goes on meanwhile."""
    return jobs.submit(request.path, request.space).to_dict()


@router.get("", response_model=JobList)
def list_jobs(jobs: JobManager = Depends(get_jobs)) -> dict[str, Any]:
    return {"jobs": [j.to_dict() for j in jobs.list()]}


@router.get("/{job_id}", response_model=JobOut)
def get_job(job: Job = Depends(job_or_404)) -> dict[str, Any]:
    return job.to_dict()


@router.delete("/{job_id}", response_model=JobOut)
def cancel_job(job: Job = Depends(job_or_404), jobs: JobManager = Depends(get_jobs)) -> dict[str, Any]:
    """Cancel a job: it stops after writing what it has decoded (whole, searchable items)."""
    cancelled = jobs.cancel(job.id)
    return (cancelled or job).to_dict()


@router.get("/{job_id}/events", response_class=StreamingResponse,
            responses={200: {"content": {"text/event-stream": {}}, "description": "Job dicts as events."}})
async def job_events(request: Request, job: Job = Depends(job_or_404)) -> StreamingResponse:
    """Server-sent events: `progress` whenever the job's counts change, then one `end`."""

    async def stream():
        seen = -1
        while True:
            finished = job.state in FINISHED
            if job.version != seen or finished:
                seen = job.version
                event = "end" if finished else "progress"
                yield f"event: {event}\ndata: {json.dumps(job.to_dict())}\n\n"
            if finished or await request.is_disconnected():
                return
            await asyncio.sleep(EVENT_POLL_S)

    return StreamingResponse(stream(), media_type="text/event-stream",
                             headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"})
