"""AFIS case routes: register, list and update marks; an agency's notifications and webhook.

Split from :mod:`.afis` (same ``/afis`` prefix and tag). ``enroller`` adds
and changes the marks of the key's agency, ``examiner`` reads; notifications
and webhooks are the key's own agency's only. The candidates a new mark is
linked to (other unsolved marks) pass through the sharing policy
(:mod:`biomatch.api.sharing`). Every call is audited.
"""
from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, File, Form, UploadFile
from pydantic import BaseModel

from ..audit import AuditDep
from ..auth import EnrollerUser, ExaminerUser, acting_agency, check_owner
from ..deps import SettingsDep, StoreDep
from .afis import AfisDep, AfterId, CandidateOut, Limit, RowId, candidates_out, mark_template

router = APIRouter(prefix="/afis", tags=["afis"])


class MarkOut(BaseModel):
    id: int
    case_ref: str
    owner_agency: str
    status: str
    minutiae: int
    linked: list[CandidateOut] = []


class MarkStatusIn(BaseModel):
    status: str


class NotificationOut(BaseModel):
    id: int
    agency: str
    kind: str
    subject_type: str
    subject_id: int
    payload: dict
    created_at: str
    read: bool


class WebhookIn(BaseModel):
    url: str | None


def _mark_out(m) -> MarkOut:
    from biomatch.extractors.fingerprint.template import FingerprintTemplate

    return MarkOut(id=m.id, case_ref=m.case_ref, owner_agency=m.owner_agency, status=m.status,
                   minutiae=len(FingerprintTemplate.from_bytes(m.template)))


@router.post("/marks", response_model=MarkOut, status_code=201, summary="Register an unsolved mark")
def add_mark(user: EnrollerUser, audit: AuditDep, afis: AfisDep, settings: SettingsDep,
             case_ref: Annotated[str, Form(min_length=1, max_length=200)],
             agency: Annotated[str | None, Form(max_length=100)] = None,
             image: Annotated[UploadFile | None, File()] = None, minutiae: Annotated[UploadFile | None, File()] = None,
             dpi: Annotated[float, Form(ge=100, le=2000)] = 500, roi: Annotated[str | None, Form()] = None) -> MarkOut:
    """The mark is linked against the other unsolved marks (LT->LT); ``linked`` lists the candidates."""
    agency = acting_agency(user, agency)
    t = mark_template(settings, image, minutiae, dpi, roi, afis.detector)
    mid, linked = afis.add_mark(case_ref, agency, t)
    out = candidates_out(linked, afis.store, user)
    audit("afis.mark_add", subject_ids=[case_ref], result_ids=[mid] + [f"mark:{c.id}" for c in linked],
          counts={"minutiae": len(t), "linked": len(linked), "withheld": sum(not c.details_released for c in out)})
    return MarkOut(id=mid, case_ref=case_ref, owner_agency=agency, status="unsolved", minutiae=len(t), linked=out)


@router.get("/marks", response_model=list[MarkOut], summary="List marks")
def list_marks(user: ExaminerUser, audit: AuditDep, store: StoreDep, agency: str | None = None,
               status: str | None = None, after_id: AfterId = 0, limit: Limit = 100) -> list[MarkOut]:
    marks = store.list_marks(owner_agency=agency, status=status, after_id=after_id, limit=limit)
    audit("afis.mark_list", result_ids=[m.id for m in marks], counts={"limit": limit, "marks": len(marks)})
    return [_mark_out(m) for m in marks]


@router.patch("/marks/{mark_id}", response_model=MarkOut, summary="Change a mark's status")
def update_mark(user: EnrollerUser, audit: AuditDep, mark_id: RowId, body: MarkStatusIn, afis: AfisDep,
                store: StoreDep) -> MarkOut:
    check_owner(user, store.get_mark(mark_id).owner_agency, f"mark {mark_id}")
    afis.update_mark_status(mark_id, body.status)
    audit("afis.mark_status", subject_ids=[mark_id])
    return _mark_out(store.get_mark(mark_id))


@router.get("/notifications/{agency}", response_model=list[NotificationOut], summary="An agency's notifications")
def notifications(user: ExaminerUser, audit: AuditDep, agency: str, store: StoreDep, unread_only: bool = False,
                  after_id: AfterId = 0, limit: Limit = 100) -> list[NotificationOut]:
    """Only the key's own agency's notifications."""
    agency = acting_agency(user, agency)
    audit("afis.notifications", counts={"limit": limit})
    return [NotificationOut(id=n.id, agency=n.agency, kind=n.kind, subject_type=n.subject_type,
                            subject_id=n.subject_id, payload=n.payload, created_at=n.created_at.isoformat(),
                            read=n.read_at is not None)
            for n in store.list_notifications(agency, unread_only=unread_only, after_id=after_id, limit=limit)]


@router.put("/webhooks/{agency}", summary="Set or remove (url null) an agency's notification webhook")
def set_webhook(user: EnrollerUser, audit: AuditDep, agency: str, body: WebhookIn, store: StoreDep) -> dict:
    agency = acting_agency(user, agency)
    store.set_webhook(agency, body.url)
    audit("afis.webhook", subject_ids=[agency])
    return {"agency": agency, "url": store.get_webhook(agency)}
