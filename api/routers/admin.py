"""Administration routes: create, list and revoke API keys (role ``admin``).

A created key's token is in the response once and never again; lists show
the public prefix, agency, roles and dates only, never a hash. Every change
is appended to the audit trail.
"""
from __future__ import annotations

import datetime as dt

from fastapi import APIRouter
from pydantic import BaseModel, Field

from ..audit import AuditDep
from ..auth import AdminUser, create_key
from ..deps import StoreDep

router = APIRouter(prefix="/admin", tags=["admin"])


class KeyIn(BaseModel):
    agency: str = Field(min_length=1, max_length=64, description="Agency the key acts for (an NCB or ORI code).")
    roles: list[str] = Field(min_length=1, description="examiner, enroller, operator, auditor, admin")
    label: str | None = Field(None, max_length=200, description="Who holds the key (a note for administrators).")


class KeyOut(BaseModel):
    id: int
    prefix: str
    agency: str
    roles: list[str]
    label: str | None
    created_at: dt.datetime
    revoked_at: dt.datetime | None


class NewKeyOut(KeyOut):
    token: str = Field(description="The API key. Shown once: only its SHA-256 is stored.")


def _out(key) -> dict:
    return dict(id=key.id, prefix=key.prefix, agency=key.agency, roles=list(key.roles), label=key.label,
                created_at=key.created_at, revoked_at=key.revoked_at)


@router.post("/keys", response_model=NewKeyOut, status_code=201, summary="Create an API key (token shown once)")
def create(body: KeyIn, user: AdminUser, store: StoreDep, audit: AuditDep) -> NewKeyOut:
    new = create_key(store, body.agency, body.roles, label=body.label)
    audit("key.create", subject_ids=[new.id], counts={"roles": len(new.roles)})
    return NewKeyOut(**_out(store.get_api_key(new.id)), token=new.token)


@router.get("/keys", response_model=list[KeyOut], summary="List API keys (no secrets)")
def list_keys(user: AdminUser, store: StoreDep, agency: str | None = None,
              include_revoked: bool = True) -> list[KeyOut]:
    return [KeyOut(**_out(k)) for k in store.list_api_keys(agency=agency, include_revoked=include_revoked)]


@router.delete("/keys/{key_id}", response_model=KeyOut, summary="Revoke an API key (it stays listed)")
def revoke(key_id: int, user: AdminUser, store: StoreDep, audit: AuditDep) -> KeyOut:
    key = store.revoke_api_key(key_id)
    audit("key.revoke", subject_ids=[key_id])
    return KeyOut(**_out(key))
