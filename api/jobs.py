"""Background jobs of the service: this process's registry, their rows in the store.

A job's status is kept in the store's ``jobs`` table, so a restarted service
can say what became of it; its detailed results live in this process only,
for the last :data:`KEEP_FINISHED_JOBS` finished jobs of each kind.
"""
from __future__ import annotations

from fastapi import Request

from .deps import app_resource

__all__ = ["KEEP_FINISHED_JOBS", "job_registry", "register_job"]

#: Finished jobs (with their results) kept in memory per kind.
KEEP_FINISHED_JOBS = 100


def job_registry(request: Request, store, kind: str, interrupted: str) -> dict:
    """This process's jobs of ``kind`` (id -> job); on first use, the jobs of that kind a
    previous process left queued or running are marked failed with ``interrupted``."""
    def start() -> dict:
        store.fail_unfinished_jobs(kind, interrupted)
        return {}

    return app_resource(request, f"jobs:{kind}", start)


def register_job(jobs: dict, store, job, kind: str, agency: str, items: int) -> None:
    """Record a new ``job`` (with ``id`` and ``status``) in the store and the registry,
    forgetting the oldest finished jobs beyond :data:`KEEP_FINISHED_JOBS`."""
    finished = [k for k, j in jobs.items() if j.status in ("done", "failed")]
    for k in finished[: max(0, len(finished) - KEEP_FINISHED_JOBS + 1)]:  # oldest first (dicts keep order)
        del jobs[k]
    store.add_job(job.id, kind, agency, items)
    jobs[job.id] = job
