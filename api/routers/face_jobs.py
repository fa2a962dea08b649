"""Face bulk probe jobs: start (background), follow, download the report.

Split from :mod:`.faces` (same ``/faces`` prefix and tag). Needs the
``operator`` role; a job is visible to its own agency only (another agency's
job id answers 404). Each job has a deadline (``Settings.job_timeout_s``,
queueing included) checked before it starts and between batches; past it
the job ends as ``failed`` with a "timed out" error.

The job's status is kept in the store as well as in memory (its results
only in memory, the last :data:`..jobs.KEEP_FINISHED_JOBS` finished jobs). When the
service starts using jobs, every job the store still lists as queued or
running is marked failed ("interrupted"), since the process that ran it is
gone; a status request for it then answers ``failed``, not 404. This assumes
one service process per store runs face jobs.
"""
from __future__ import annotations

import threading
import uuid
from typing import Annotated

from fastapi import APIRouter, BackgroundTasks, Depends, File, Form, HTTPException, Request, UploadFile
from fastapi.responses import Response
from pydantic import BaseModel

from ..audit import AuditDep
from ..auth import OperatorUser
from ..deps import SettingsDep, StoreDep
from ..jobs import job_registry, register_job
from ..limits import Deadline, JobTimeout
from .faces import GalleryDep, _read, _threshold

router = APIRouter(prefix="/faces", tags=["faces"])
_KIND = "face.probe"
INTERRUPTED = "interrupted: the service stopped before the job finished; start it again"


def get_jobs(request: Request, store: StoreDep) -> dict:
    """This process's probe jobs (see :func:`..jobs.job_registry`)."""
    return job_registry(request, store, _KIND, INTERRUPTED)


JobsDep = Annotated[dict, Depends(get_jobs)]


class JobOut(BaseModel):
    job_id: str
    status: str
    files: int
    done: int
    error: str | None = None
    reports: list[str] = []


class _Job:
    def __init__(self, files: int, agency: str, deadline: Deadline, store):
        self.id, self.status, self.files, self.done = uuid.uuid4().hex, "queued", files, 0
        self.agency, self.deadline, self.store = agency, deadline, store
        self.error: str | None = None
        self.result = None
        self.lock = threading.Lock()

    def set(self, status: str, error: str | None = None) -> None:
        self.status, self.error = status, error
        self.store.update_job(self.id, status=status, done=self.done, error=error)

    def out(self) -> JobOut:
        reports = ["csv", "json", "html"] if self.status == "done" else []
        return JobOut(job_id=self.id, status=self.status, files=self.files, done=self.done, error=self.error,
                      reports=reports)


def _run_job(job: _Job, folder, gallery, top, threshold, cluster_threshold, requester_agency) -> None:
    import shutil

    from biomatch.index.faces.probe import run_probe

    def tick(n):
        with job.lock:
            job.done += n
        job.deadline.check()  # JobTimeout between batches once job_timeout_s has passed

    try:
        job.set("running")
        job.deadline.check()
        job.result = run_probe([folder], gallery, top=top, threshold=threshold, keep_crops=True,
                               cluster_threshold=cluster_threshold, progress=tick, requester_agency=requester_agency)
        job.set("done")
    except JobTimeout as exc:
        job.set("failed", str(exc))
    except Exception as exc:  # reported through the job status, never lost
        job.set("failed", f"{type(exc).__name__}: {exc}")
    finally:
        shutil.rmtree(folder, ignore_errors=True)


@router.post("/probe", response_model=JobOut, status_code=202, summary="Start a bulk probe job")
def probe(user: OperatorUser, audit: AuditDep, background: BackgroundTasks, gallery: GalleryDep, jobs: JobsDep,
          settings: SettingsDep, store: StoreDep, images: Annotated[list[UploadFile], File()],
          top: Annotated[int, Form(ge=1)] = 10, threshold: Annotated[float | None, Form()] = None,
          fpir: Annotated[float | None, Form(gt=0, lt=1)] = None, cluster: Annotated[bool, Form()] = False) -> JobOut:
    """Files are checked for an image content type now and decoded in the job (bad ones are skipped and listed)."""
    import tempfile
    from pathlib import Path

    from biomatch.index.store import sha256_hex
    from biomatch.matcher.faces import DEFAULT_CLUSTER_FMR, load_calibration

    if len(images) > settings.max_batch:
        raise ValueError(f"{len(images)} images; the limit is {settings.max_batch}")
    t = _threshold(gallery, threshold, fpir)
    blobs = [(_read(u, settings), u.filename or f"image{i}") for i, u in enumerate(images)]
    job = _Job(len(blobs), user.agency, Deadline(settings.job_timeout_s), store)
    folder = Path(tempfile.mkdtemp(prefix="face-probe-"))
    for i, (data, name) in enumerate(blobs):
        (folder / f"{i:06d}-{Path(name).name or 'image'}").write_bytes(data)
    register_job(jobs, store, job, _KIND, user.agency, len(blobs))
    cluster_t = load_calibration(gallery.model_id).threshold_at_fmr(DEFAULT_CLUSTER_FMR) if cluster else None
    background.add_task(_run_job, job, folder, gallery, min(top, settings.max_candidates), t, cluster_t,
                        user.agency)
    audit("face.probe", subject_ids=[job.id, *(sha256_hex(d) for d, _ in blobs)], counts={"files": len(blobs)})
    return job.out()


def _job(jobs: dict, job_id: str, user, store) -> _Job | JobOut:
    """The job in memory, else its stored status (a job of a previous process, or one dropped from memory)."""
    job = jobs.get(job_id)
    if job is not None and job.agency == user.agency:
        return job
    row = store.get_job(job_id) if job is None else None
    if row is None or row.agency != user.agency or row.kind != _KIND:  # another agency's job does not exist here
        raise HTTPException(404, f"no face probe job {job_id!r}")
    return JobOut(job_id=row.id, status=row.status, files=row.files, done=row.done, error=row.error)


@router.get("/probe/{job_id}", response_model=JobOut, summary="Status of a bulk probe job")
def probe_status(job_id: str, user: OperatorUser, jobs: JobsDep, store: StoreDep) -> JobOut:
    job = _job(jobs, job_id, user, store)
    return job if isinstance(job, JobOut) else job.out()


@router.get("/probe/{job_id}/report.{fmt}", summary="Download a finished job's report (csv, json or html)")
def probe_report(job_id: str, fmt: str, user: OperatorUser, audit: AuditDep, jobs: JobsDep,
                 store: StoreDep) -> Response:
    from biomatch.api.face_report import render_report

    job = _job(jobs, job_id, user, store)
    if isinstance(job, JobOut):
        raise HTTPException(410 if job.status == "done" else 409,
                            f"job {job_id} is {job.status}; its report is not held by this service process")
    if job.status != "done":
        raise HTTPException(409, f"job {job_id} is {job.status}; no report yet")
    media = {"csv": "text/csv", "json": "application/json", "html": "text/html"}
    if fmt not in media:
        raise HTTPException(404, f"report format {fmt!r}: use csv, json or html")
    audit("face.probe_report", subject_ids=[job.id], result_ids=sorted({c.record_id for f in job.result.faces
                                                                          for c in f.candidates}),
          counts={"faces": len(job.result.faces)})
    return Response(render_report(job.result, f".{fmt}"), media_type=media[fmt],
                    headers={"Content-Disposition": f'attachment; filename="face-probe-{job_id}.{fmt}"'})
