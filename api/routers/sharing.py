"""Owner-agency routes: release an item's details to another agency (and revoke), change a record's restriction.

A release lets one named agency see the full details of one record (AFIS
tenprint, face or DNA record) or one AFIS mark in its candidate lists; without
it, that agency sees only what :mod:`biomatch.api.sharing` allows. Only an
``enroller`` key of the item's owner agency may release, revoke, list the
releases or change the ``restricted`` flag; another agency's key gets 403,
which is audited (``auth.agency_denied``). Every change is audited
(``sharing.release``, ``sharing.revoke``, ``record.restricted``).
"""
from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Request, Response
from pydantic import BaseModel, Field

from ..audit import AuditDep
from ..auth import EnrollerUser, check_owner
from ..deps import StoreDep

router = APIRouter(tags=["sharing"])
ItemId = Annotated[int, Path(ge=1, le=2**63 - 1)]
Agency = Annotated[str, Path(min_length=1, max_length=64)]
# kind of item -> its path (records of every modality; AFIS marks)
_PATHS = {"record": "/records/{item_id}", "mark": "/afis/marks/{item_id}"}


class ReleaseIn(BaseModel):
    agency: str = Field(min_length=1, max_length=64, description="the agency that may see the details")


class ReleaseOut(BaseModel):
    kind: str
    item_id: int
    agency: str
    released_by: str
    released_at: str


class RestrictedIn(BaseModel):
    restricted: bool


def _out(r) -> ReleaseOut:
    return ReleaseOut(kind=r.kind, item_id=r.item_id, agency=r.agency, released_by=r.released_by,
                      released_at=r.released_at.isoformat())


def _owned(store, user, kind: str, item_id: int) -> None:
    check_owner(user, store.item_owner(kind, item_id), f"{kind} {item_id}")  # 404 unknown, 403 (audited) not ours


def _add_release_routes(kind: str) -> None:
    base = _PATHS[kind]

    @router.post(f"{base}/releases", response_model=ReleaseOut, status_code=201,
                 summary=f"Release a {kind}'s details to another agency", name=f"release_{kind}")
    def release(user: EnrollerUser, audit: AuditDep, item_id: ItemId, body: ReleaseIn, store: StoreDep) -> ReleaseOut:
        _owned(store, user, kind, item_id)
        r = store.release_details(kind, item_id, body.agency, released_by=user.actor)
        audit("sharing.release", subject_ids=[f"{kind}:{item_id}"], result_ids=[body.agency])
        return _out(r)

    @router.get(f"{base}/releases", response_model=list[ReleaseOut], summary=f"A {kind}'s releases",
                name=f"list_{kind}_releases")
    def releases(user: EnrollerUser, audit: AuditDep, item_id: ItemId, store: StoreDep) -> list[ReleaseOut]:
        _owned(store, user, kind, item_id)
        found = store.list_releases(kind, item_id)
        audit("sharing.list", subject_ids=[f"{kind}:{item_id}"], counts={"releases": len(found)})
        return [_out(r) for r in found]

    @router.delete(f"{base}/releases/{{agency}}", status_code=204, summary=f"Revoke a {kind}'s release",
                   name=f"revoke_{kind}")
    def revoke(user: EnrollerUser, audit: AuditDep, item_id: ItemId, agency: Agency, store: StoreDep) -> Response:
        _owned(store, user, kind, item_id)
        store.revoke_release(kind, item_id, agency)  # 404 when there was none
        audit("sharing.revoke", subject_ids=[f"{kind}:{item_id}"], result_ids=[agency])
        return Response(status_code=204)


for _kind in _PATHS:
    _add_release_routes(_kind)


@router.put("/records/{item_id}/restricted", summary="Make a record searchable by its owner agency only, or not")
def set_restricted(user: EnrollerUser, audit: AuditDep, request: Request, item_id: ItemId, body: RestrictedIn,
                   store: StoreDep) -> dict:
    """Any modality. A running DNA index is updated at once; the AFIS and face indexes see the new flag at their
    next search (the store generation moved, so they resynchronise)."""
    _owned(store, user, "record", item_id)
    record = store.get_record(item_id)
    gallery = request.app.state.resources.get("dna_gallery") if record.modality == "dna" else None
    if gallery is not None:
        gallery.set_restricted(item_id, body.restricted)
    else:
        store.set_restricted(item_id, body.restricted)
    audit("record.restricted", subject_ids=[item_id], counts={"restricted": int(body.restricted)})
    return {"record_id": item_id, "modality": record.modality, "restricted": store.get_record(item_id).restricted}
