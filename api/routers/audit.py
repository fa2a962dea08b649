"""Audit trail routes: read the entries and verify the hash chain (role ``auditor``).

Reading the trail is itself recorded (``audit.read``, ``audit.verify``), so
who looked at whose searches is traceable too.
"""
from __future__ import annotations

import datetime as dt
from itertools import islice

from fastapi import APIRouter, Query
from pydantic import BaseModel

from ..audit import AuditDep
from ..auth import AuditorUser
from ..deps import StoreDep

router = APIRouter(prefix="/audit", tags=["audit"])


class EntryOut(BaseModel):
    id: int
    at: dt.datetime
    actor: str
    agency: str
    action: str
    route: str | None
    subject_ids: list
    result_ids: list
    counts: dict
    prev_hash: str
    hash: str


class VerifyOut(BaseModel):
    ok: bool
    first_broken: int | None
    message: str


@router.get("/entries", response_model=list[EntryOut], summary="Audit entries by ascending id")
def entries(user: AuditorUser, store: StoreDep, audit: AuditDep, after_id: int = Query(0, ge=0, le=2**63 - 1),
            limit: int = Query(100, ge=1, le=1000)) -> list[EntryOut]:
    rows = list(islice(store.iter_audit(after_id=after_id, batch=limit), limit))
    audit("audit.read", result_ids=[e.id for e in rows], counts={"entries": len(rows)})
    return [EntryOut(**{name: getattr(e, name) for name in EntryOut.model_fields}) for e in rows]


@router.get("/verify", response_model=VerifyOut, summary="Check the audit hash chain")
def verify(user: AuditorUser, store: StoreDep, audit: AuditDep) -> VerifyOut:
    broken = store.verify_audit()
    audit("audit.verify", counts={"broken": 0 if broken is None else 1})
    message = "audit chain intact" if broken is None else f"audit chain broken at entry {broken}"
    return VerifyOut(ok=broken is None, first_broken=broken, message=message)
