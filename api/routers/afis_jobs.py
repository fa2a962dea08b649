"""AFIS bulk enrolment jobs: start (background), follow.

Split from :mod:`.afis` (same ``/afis`` prefix and tag). ``POST
/afis/jobs/enrol`` (``enroller``) takes several ANSI/NIST-ITL transactions,
one tenprint each, as repeated ``transactions`` files and/or one zip
``archive`` of them, and answers 202 with a job id at once. The job imports
them one by one with :meth:`Afis.import_transaction`, the call behind ``POST
/afis/tenprints/transaction``: each enrolment is atomic and runs the reverse
search against the unsolved marks (notifying their owners of hits). A bad
item (corrupt transaction, duplicate reference) is refused with its reason
and the job goes on with the next; nothing of it is stored.

``GET /afis/jobs/{id}`` (``enroller`` or ``examiner`` of the job's agency;
another agency's key is 403, audited) answers the status, the counts and
the per-item results. The status is kept in the store's ``jobs`` table too:
a job a stopped service left queued or running reads ``failed``
("interrupted") after a restart. Per-item results live in this process only
(the last :data:`..jobs.KEEP_FINISHED_JOBS` finished jobs); a job known only from
the store answers its status and counts without them. The job's deadline is
``Settings.job_timeout_s`` from acceptance, checked before each item; past
it the job ends ``failed`` and the items not reached stay ``pending``.
Limits: at most ``Settings.max_batch`` items, and ``max_upload_bytes`` per
file and for the zip's members together. Audited as ``afis.enrol_job``
(start: job id, SHA-256 of each item) and ``afis.enrol_job_end`` (job id,
record ids and ``mark:<id>`` of reverse-search hits, counts).
"""
from __future__ import annotations

import threading
import uuid
from typing import Annotated

from fastapi import APIRouter, BackgroundTasks, Depends, File, Form, HTTPException, Request, UploadFile
from pydantic import BaseModel

from ..audit import AuditDep, route_of
from ..auth import EnrollerUser, User, acting_agency, check_owner, require_roles
from ..deps import SettingsDep, StoreDep
from ..jobs import job_registry, register_job
from ..limits import Deadline, JobTimeout
from .afis import AfisDep, CandidateOut, candidates_out

router = APIRouter(prefix="/afis", tags=["afis"])
_KIND = "afis.enrol"
INTERRUPTED = "interrupted: the service stopped before the job finished; items not reported were not checked"
JobReader = Annotated[User, Depends(require_roles("enroller", "examiner"))]


def get_jobs(request: Request, store: StoreDep) -> dict:
    """This process's enrolment jobs (see :func:`..jobs.job_registry`)."""
    return job_registry(request, store, _KIND, INTERRUPTED)


JobsDep = Annotated[dict, Depends(get_jobs)]


class ItemOut(BaseModel):
    index: int
    name: str
    reference: str | None
    status: str  # pending, enrolled, refused (bad input, nothing stored), error (unexpected, nothing stored)
    record_id: int | None = None
    fingers: int | None = None
    reason: str | None = None
    http_status: int | None = None  # what the one-transaction route would have answered (409, 422, 500)
    reverse_hits: list[CandidateOut] = []


class EnrolJobOut(BaseModel):
    job_id: str
    status: str
    items: int
    done: int
    enrolled: int | None = None  # None (like results) for a job known only from the store
    refused: int | None = None
    errors: int | None = None
    error: str | None = None
    results: list[ItemOut] | None = None


class _Job:
    def __init__(self, user: User, route: str, items: list[ItemOut], deadline: Deadline, store):
        self.id, self.status, self.user, self.route = uuid.uuid4().hex, "queued", user, route
        self.items, self.deadline, self.store = items, deadline, store
        self.error: str | None = None
        self.lock = threading.Lock()

    def count(self, status: str) -> int:
        return sum(i.status == status for i in self.items)

    def set(self, status: str, error: str | None = None) -> None:
        with self.lock:
            self.status, self.error = status, error
        self.store.update_job(self.id, status=status, done=len(self.items) - self.count("pending"), error=error)

    def out(self) -> EnrolJobOut:
        with self.lock:
            items = [i.model_copy() for i in self.items]
            status, error = self.status, self.error
        n = {s: sum(i.status == s for i in items) for s in ("pending", "enrolled", "refused", "error")}
        return EnrolJobOut(job_id=self.id, status=status, items=len(items), done=len(items) - n["pending"],
                           enrolled=n["enrolled"], refused=n["refused"], errors=n["error"], error=error, results=items)


def _enrol_one(afis, item: ItemOut, data: bytes, user: User, restricted: bool) -> dict:
    """Import one transaction; the item's new fields (the store's and the library's errors become reasons)."""
    from biomatch.index.store import DuplicateRefError

    if not data:
        return {"status": "refused", "reason": f"{item.name}: empty file (0 bytes)", "http_status": 422}
    try:
        rid, hits = afis.import_transaction(data, user.agency, reference=item.reference, restricted=restricted)
    except DuplicateRefError as exc:
        return {"status": "refused", "reason": f"duplicate reference: {exc}", "http_status": 409}
    except ValueError as exc:
        return {"status": "refused", "reason": str(exc), "http_status": 422}
    except Exception as exc:  # an unexpected failure of this item; the next items still run
        return {"status": "error", "reason": f"{type(exc).__name__}: {exc}", "http_status": 500}
    hit = candidates_out([c for c in hits if c.hit], afis.store, user)
    rec = afis.store.get_record(rid)
    return {"status": "enrolled", "record_id": rid, "reference": rec.external_ref,
            "fingers": len(afis.store.get_fingerprints(rid)), "reverse_hits": hit}


def _run_job(job: _Job, blobs: list[bytes], afis, restricted: bool) -> None:
    try:
        job.set("running")
        for item, data in zip(job.items, blobs):
            job.deadline.check()  # JobTimeout before each item once job_timeout_s has passed
            new = _enrol_one(afis, item, data, job.user, restricted)
            with job.lock:
                for key, value in new.items():
                    setattr(item, key, value)
            job.store.update_job(job.id, status="running", done=item.index + 1)
        job.set("done")
    except JobTimeout as exc:
        job.set("failed", str(exc))
    except Exception as exc:  # reported through the job status, never lost
        job.set("failed", f"{type(exc).__name__}: {exc}")
    finally:
        blobs.clear()
        _audit_end(job)


def _audit_end(job: _Job) -> None:
    ids = [i.record_id for i in job.items if i.record_id is not None]
    marks = [f"mark:{c.id}" for i in job.items for c in i.reverse_hits]  # as the one-item route lists its hits
    job.store.append_audit(job.user.actor, job.user.agency, "afis.enrol_job_end", route=job.route,
                           subject_ids=[job.id], result_ids=ids + marks,
                           counts={"items": len(job.items), "enrolled": job.count("enrolled"),
                                   "refused": job.count("refused"), "errors": job.count("error"),
                                   "pending": job.count("pending"), "reverse_hits": len(marks)})


def _read(upload: UploadFile, limit: int) -> bytes:
    data = upload.file.read(limit + 1)
    if len(data) > limit:
        raise HTTPException(413, f"{upload.filename}: over {limit} bytes")
    return data


def _unzip(upload: UploadFile, limit: int, max_items: int) -> list[tuple[str, bytes]]:
    """The zip's files in name order (folders and ``__MACOSX/`` skipped); their sizes together at most ``limit``."""
    import io
    import zipfile
    import zlib

    name = upload.filename or "archive"
    try:
        with zipfile.ZipFile(io.BytesIO(_read(upload, limit))) as zf:
            members = sorted((m for m in zf.infolist() if not m.is_dir() and not m.filename.startswith("__MACOSX/")),
                             key=lambda m: m.filename)
            if len(members) > max_items:
                raise ValueError(f"{name}: {len(members)} files; the limit is {max_items} items per job")
            out, left = [], limit
            for m in members:
                with zf.open(m) as f:
                    data = f.read(left + 1)  # the header's size is not trusted
                if len(data) > left:
                    raise HTTPException(413, f"{name}: its files unpack to over {limit} bytes")
                left -= len(data)
                out.append((f"{name}:{m.filename}", data))
    except (zipfile.BadZipFile, zlib.error, RuntimeError, NotImplementedError, EOFError, OSError) as exc:
        raise ValueError(f"{name}: not a readable zip archive: {exc}") from None
    return out


def _references(text: str | None, n: int) -> list[str | None]:
    if not text:
        return [None] * n
    refs = [r.strip() for r in text.split(",")]
    if len(refs) != n:
        raise ValueError(f"{n} items but {len(refs)} references (give one per item, empty for the TCN)")
    if any(len(r) > 200 for r in refs):
        raise ValueError("a reference is over 200 characters")
    return [r or None for r in refs]


@router.post("/jobs/enrol", response_model=EnrolJobOut, status_code=202,
             summary="Start a bulk enrolment job of ANSI/NIST-ITL transactions (one tenprint each)")
def start_enrol_job(user: EnrollerUser, audit: AuditDep, request: Request, background: BackgroundTasks,
                    afis: AfisDep, jobs: JobsDep, settings: SettingsDep, store: StoreDep,
                    transactions: Annotated[list[UploadFile] | None, File(description="one transaction each")] = None,
                    archive: Annotated[UploadFile | None, File(description="a zip of transactions")] = None,
                    references: Annotated[str | None, Form(description="comma-separated, one per item (files, then "
                                                           "the zip's in name order); empty: the TCN")] = None,
                    agency: Annotated[str | None, Form(max_length=100)] = None,
                    restricted: Annotated[bool, Form()] = False) -> EnrolJobOut:
    """Uploads are read and counted now; each transaction is parsed, extracted and enrolled in the job."""
    from biomatch.index.store import sha256_hex

    acting_agency(user, agency)
    files = [(u.filename or f"transaction{i}", _read(u, settings.max_upload_bytes))
             for i, u in enumerate(transactions or [])]
    if len(files) > settings.max_batch:
        raise ValueError(f"{len(files)} transactions; the limit is {settings.max_batch} items per job")
    if archive is not None:
        files += _unzip(archive, settings.max_upload_bytes, settings.max_batch)
    if not files:
        raise ValueError("no transaction: give 'transactions' files and/or a zip 'archive'")
    if len(files) > settings.max_batch:
        raise ValueError(f"{len(files)} items; the limit is {settings.max_batch} items per job")
    refs = _references(references, len(files))
    items = [ItemOut(index=i, name=name[:300], reference=ref, status="pending")
             for i, ((name, _), ref) in enumerate(zip(files, refs))]
    job = _Job(user, route_of(request), items, Deadline(settings.job_timeout_s), store)
    register_job(jobs, store, job, _KIND, user.agency, len(items))
    background.add_task(_run_job, job, [data for _, data in files], afis, restricted)
    audit("afis.enrol_job", subject_ids=[job.id, *(sha256_hex(d) for _, d in files)], counts={"items": len(files)})
    return job.out()


@router.get("/jobs/{job_id}", response_model=EnrolJobOut, summary="Status and per-item results of an enrolment job")
def enrol_job_status(user: JobReader, job_id: str, jobs: JobsDep, store: StoreDep) -> EnrolJobOut:
    job = jobs.get(job_id)
    if job is not None:
        check_owner(user, job.user.agency, f"job {job_id}")
        return job.out()
    row = store.get_job(job_id)  # a job of a previous process, or one dropped from memory
    if row is None or row.kind != _KIND:
        raise HTTPException(404, f"no AFIS enrolment job {job_id!r}")
    check_owner(user, row.agency, f"job {job_id}")
    return EnrolJobOut(job_id=row.id, status=row.status, items=row.files, done=row.done, error=row.error)
