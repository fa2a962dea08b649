"""Background job status (face bulk probes): kept in the store so a restart can report interrupted jobs.

Only the status is stored (counts, error); a job's results stay with the
process that ran it. :meth:`JobsMixin.fail_unfinished_jobs` is called by the
service when it starts using jobs, so a job that was queued or running when
the process died reads as failed, not unknown.
"""
from __future__ import annotations

import datetime as dt

from sqlalchemy import insert, select, update

from . import _checks
from .errors import NotFoundError
from .models import Job
from .schema import AGENCY_LEN, JOB_STATUSES, jobs

__all__ = ["JobsMixin"]

_ERROR_LEN = 2000


def _now() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc)


class JobsMixin:
    """Job status methods of :class:`~.store.Store`."""

    def add_job(self, job_id: str, kind: str, agency: str, files: int) -> None:
        """Record a new job as ``queued``."""
        _checks.text("job_id", job_id, 64)
        _checks.text("kind", kind, 32)
        _checks.text("agency", agency, AGENCY_LEN)
        _checks.integer("files", files, 0, 2**31 - 1)
        now = _now()
        with self._writing() as conn:
            conn.execute(insert(jobs).values(id=job_id, kind=kind, agency=agency, status="queued", files=files,
                                             done=0, error=None, created_at=now, updated_at=now))

    def update_job(self, job_id: str, *, status: str, done: int | None = None, error: str | None = None) -> None:
        """Set a job's status (and progress, error). Raises :class:`NotFoundError` for an unknown job."""
        _checks.choice("status", status, JOB_STATUSES)
        values = {"status": status, "updated_at": _now(), "error": None if error is None else error[:_ERROR_LEN]}
        if done is not None:
            values["done"] = _checks.integer("done", done, 0, 2**31 - 1)
        with self._writing() as conn:
            if not conn.execute(update(jobs).where(jobs.c.id == job_id).values(**values)).rowcount:
                raise NotFoundError(f"no job {job_id!r}")

    def get_job(self, job_id: str) -> Job | None:
        """The job with this id, or None."""
        if not isinstance(job_id, str) or not job_id or len(job_id) > 64:
            return None
        with self._reading() as conn:
            row = conn.execute(select(jobs).where(jobs.c.id == job_id)).one_or_none()
        return None if row is None else Job(**row._mapping)

    def fail_unfinished_jobs(self, kind: str, error: str) -> int:
        """Mark every queued or running job of ``kind`` failed with ``error``; returns how many."""
        with self._writing() as conn:
            return conn.execute(update(jobs).where(jobs.c.kind == kind, jobs.c.status.in_(("queued", "running")))
                                .values(status="failed", error=error[:_ERROR_LEN], updated_at=_now())).rowcount
