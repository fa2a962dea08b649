"""AFIS routes: enrol tenprints, search prints and marks, verify 1:1, export, delete.

Marks, notifications and webhooks are in :mod:`.afis_marks`.

Translation only: images are decoded with :mod:`biomatch.extractors.imageio`
and extracted by :func:`~biomatch.extractors.fingerprint.extract_fingerprint`,
searches run in :class:`biomatch.index.fingerprint.Afis`. Bad input (an
image that does not decode, an unknown finger position, a mark with fewer
than 6 minutiae, a duplicate reference) is answered 4xx problem+json and
nothing is stored.

Every route needs an API key: ``examiner`` to search, verify and read,
``enroller`` to add, change and delete items of the key's own agency. The
agency of an enrolment or mark is the key's; hits on other agencies' items
notify them. Candidates owned by another agency show only what the sharing
policy (:mod:`biomatch.api.sharing`) allows until their owner releases them.
Every call is appended to the audit trail (ids, references and counts only).
"""
from __future__ import annotations

import json
from typing import Annotated

from fastapi import APIRouter, Depends, File, Form, HTTPException, Path, Query, Request, UploadFile
from pydantic import BaseModel

from ..audit import AuditDep
from ..auth import EnrollerUser, ExaminerUser, acting_agency, check_owner
from ..deps import SettingsDep, StoreDep, app_resource
from ..limits import SearchLimitDep
from ..sharing import check_details, share

router = APIRouter(prefix="/afis", tags=["afis"])
_IMAGE_TYPES = ("image/", "application/octet-stream")


def get_afis(request: Request, store: StoreDep, settings: SettingsDep):
    from biomatch.index.fingerprint import Afis

    return app_resource(request, "afis", lambda: Afis.open(store, detector=settings.fingerprint_minutiae))


AfisDep = Annotated[object, Depends(get_afis)]
_MAX_ID = 2**63 - 1
RowId = Annotated[int, Path(ge=1, le=_MAX_ID)]
AfterId = Annotated[int, Query(ge=0, le=_MAX_ID)]
Limit = Annotated[int, Query(ge=1, le=1000)]


class FingerOut(BaseModel):  # details: withheld (null) for another agency's unreleased candidate
    position: int
    row_id: int
    score: float
    fmr: float
    fmr_is_upper_bound: bool
    strength: float
    pairs: list[list[int]]


class CandidateOut(BaseModel):
    rank: int
    kind: str
    id: int
    reference: str
    owner_agency: str
    position: int | None
    score: float
    strength: float
    fmr: float
    fmr_is_upper_bound: bool
    hit: bool
    fingers: list[FingerOut] | None
    details_released: bool = True


class SearchOut(BaseModel):
    threshold: float
    candidates: list[CandidateOut]


class EnrolOut(BaseModel):
    record_id: int
    fingers: int
    reverse_search: list[CandidateOut]


class VerifyOut(BaseModel):
    score: float
    fmr: float
    fmr_is_upper_bound: bool
    strength: float
    pairs: list[list[int]]


def _cand(c) -> dict:
    fingers = [{"position": f.position, "row_id": f.row_id, "score": f.score, "fmr": f.fmr,
                "fmr_is_upper_bound": f.fmr_is_bound, "strength": f.strength, "pairs": f.pairs} for f in c.fingers]
    return {"rank": c.rank, "kind": c.kind, "id": c.id, "reference": c.reference, "owner_agency": c.owner_agency,
            "position": c.position, "score": c.score, "strength": c.strength, "fmr": c.fmr,
            "fmr_is_upper_bound": c.fmr_is_bound, "hit": c.hit, "fingers": fingers}


def candidates_out(cands, store, user) -> list[CandidateOut]:
    """Candidates as the caller may see them (the sharing policy withholds other agencies' details)."""
    return [CandidateOut(**c) for c in share(store, user.agency, [_cand(c) for c in cands], listing="afis")]


def _withheld(out: list[CandidateOut]) -> int:
    return sum(not c.details_released for c in out)


def _bytes(upload: UploadFile, settings, image: bool = True) -> bytes:
    kind = (upload.content_type or "").lower()
    if image and not kind.startswith(_IMAGE_TYPES):
        raise HTTPException(415, f"{upload.filename}: content type {kind or 'none'!r} is not an image")
    data = upload.file.read(settings.max_upload_bytes + 1)
    if len(data) > settings.max_upload_bytes:
        raise HTTPException(413, f"{upload.filename}: over {settings.max_upload_bytes} bytes")
    if not data:
        raise ValueError(f"{upload.filename}: empty file (0 bytes)")
    return data


def _grey(upload: UploadFile, settings):
    from biomatch.extractors.imageio import decode_image

    return decode_image(_bytes(upload, settings), mode="L", max_pixels=settings.max_image_pixels,
                        name=upload.filename or "upload")


def _print(upload: UploadFile, settings, dpi: float, detector: str):
    from biomatch.extractors.fingerprint import detector_params, extract_fingerprint

    return extract_fingerprint(_grey(upload, settings), dpi, params=detector_params(detector))


def _positions(text: str, n: int) -> list[int]:
    try:
        pos = [int(p) for p in text.replace(" ", "").split(",") if p]
    except ValueError:
        raise ValueError(f"positions must be comma-separated integers 1..10, got {text!r}") from None
    if len(pos) != n:
        raise ValueError(f"{n} images but {len(pos)} positions")
    if len(set(pos)) != len(pos):
        raise ValueError(f"finger positions repeat: {pos}")
    bad = [p for p in pos if not 1 <= p <= 10]
    if bad:
        raise ValueError(f"unknown finger position {bad[0]}: ANSI/NIST-ITL positions are 1..10")
    return pos


def _fingers(images, positions, settings, dpi, detector: str):
    pos = _positions(positions, len(images))  # checked before any extraction
    return {p: _print(u, settings, dpi, detector) for p, u in zip(pos, images)}


@router.post("/tenprints", response_model=EnrolOut, status_code=201, summary="Enrol a tenprint record")
def enrol(user: EnrollerUser, audit: AuditDep, afis: AfisDep, settings: SettingsDep,
          images: Annotated[list[UploadFile], File()],
          positions: Annotated[str, Form(description="finger positions 1..10 of the images, comma-separated")],
          reference: Annotated[str, Form(min_length=1, max_length=200)],
          agency: Annotated[str | None, Form(max_length=100, description="default: the key's agency")] = None,
          dpi: Annotated[float, Form(ge=100, le=2000)] = 500, restricted: Annotated[bool, Form()] = False,
          impression: Annotated[str, Form()] = "rolled") -> EnrolOut:
    """Every finger is extracted before anything is stored; then the reverse search runs against unsolved marks."""
    agency = acting_agency(user, agency)
    fingers = _fingers(images, positions, settings, dpi, afis.detector)
    rid, hits = afis.enrol_tenprint(reference, agency, fingers, impression=impression, restricted=restricted)
    out = candidates_out(hits, afis.store, user)
    audit("afis.enrol", subject_ids=[reference], result_ids=[rid] + [f"mark:{c.id}" for c in hits if c.hit],
          counts={"fingers": len(fingers), "reverse_hits": sum(c.hit for c in hits), "withheld": _withheld(out)})
    return EnrolOut(record_id=rid, fingers=len(fingers), reverse_search=out)


@router.post("/tenprints/transaction", response_model=EnrolOut, status_code=201,
             summary="Enrol the tenprint of an ANSI/NIST-ITL transaction (Type-4/14 images, Type-9 minutiae)")
def enrol_transaction(user: EnrollerUser, audit: AuditDep, afis: AfisDep, settings: SettingsDep,
                      transaction: Annotated[UploadFile, File()],
                      agency: Annotated[str | None, Form(max_length=100)] = None,
                      reference: Annotated[str | None, Form(max_length=200)] = None,
                      restricted: Annotated[bool, Form()] = False) -> EnrolOut:
    """The reference defaults to the transaction's TCN (1.009). A transaction that does not parse is 422."""
    agency = acting_agency(user, agency)
    rid, hits = afis.import_transaction(_bytes(transaction, settings, image=False), agency, reference=reference,
                                        restricted=restricted)
    out = candidates_out(hits, afis.store, user)
    audit("afis.import", subject_ids=[afis.store.get_record(rid).external_ref], result_ids=[rid],
          counts={"reverse_hits": sum(c.hit for c in hits), "withheld": _withheld(out)})
    return EnrolOut(record_id=rid, fingers=len(afis.store.get_fingerprints(rid)), reverse_search=out)


@router.get("/records/{record_id}/type9", summary="Export a record's minutiae as an ANSI/NIST-ITL transaction")
def export_type9(user: ExaminerUser, audit: AuditDep, record_id: RowId, store: StoreDep):
    from fastapi.responses import Response

    from biomatch.extractors.fingerprint.template import FingerprintTemplate
    from biomatch.index.fingerprint.ansinist import write_transaction

    rec = store.get_record(record_id)
    if rec.modality != "fingerprint":
        raise ValueError(f"record {record_id} is a {rec.modality} record, not a tenprint")
    if rec.restricted:
        check_owner(user, rec.owner_agency, f"restricted record {record_id}")
    check_details(store, user, "record", record_id, rec.owner_agency)  # the sharing policy: owner or released
    audit("afis.export", subject_ids=[record_id])
    fingers = {f.position: FingerprintTemplate.from_bytes(f.template) for f in store.get_fingerprints(record_id)}
    data = write_transaction(tot="MINEXPORT", tcn=rec.external_ref, minutiae=fingers)
    return Response(data, media_type="application/octet-stream",
                    headers={"Content-Disposition": f'attachment; filename="record-{record_id}.an2"'})


@router.post("/search/print", response_model=SearchOut, summary="TP->TP search")
def search_print(user: ExaminerUser, audit: AuditDep, afis: AfisDep, settings: SettingsDep, timed: SearchLimitDep,
                 images: Annotated[list[UploadFile], File()],
                 positions: Annotated[str, Form()], dpi: Annotated[float, Form(ge=100, le=2000)] = 500,
                 top: Annotated[int | None, Form(ge=1)] = None,
                 fpir: Annotated[float, Form(gt=0, lt=1)] = 0.01) -> SearchOut:
    """Hits on other agencies' records notify them; restricted records of other agencies are hidden."""
    top = min(top or settings.default_candidates, settings.max_candidates)
    fingers = _fingers(images, positions, settings, dpi, afis.detector)
    cands, thr = timed("print search", afis.search_tenprint, fingers, top=top, fpir=fpir, requester=user.agency)
    afis.notify_hits(cands, agency=user.agency, subject=("search", 0, "print search"))
    out = candidates_out(cands, afis.store, user)
    audit("afis.search_print", result_ids=[c.id for c in cands],
          counts={"candidates": len(cands), "hits": sum(c.hit for c in cands), "withheld": _withheld(out)})
    return SearchOut(threshold=thr, candidates=out)


def mark_template(settings, image, minutiae, dpi, roi, detector: str = "ridges"):
    from biomatch.index.fingerprint import mark_template

    poly = None
    if roi:
        try:
            poly = json.loads(roi)
        except json.JSONDecodeError:
            raise ValueError("roi must be a JSON list of [x, y] points") from None
    return mark_template(None if image is None else _grey(image, settings), dpi=dpi, roi=poly, detector=detector,
                         minutiae=None if minutiae is None else _bytes(minutiae, settings, image=False))


@router.post("/search/mark", response_model=SearchOut, summary="LT->TP search of a mark")
def search_mark(user: ExaminerUser, audit: AuditDep, afis: AfisDep, settings: SettingsDep, timed: SearchLimitDep,
                image: Annotated[UploadFile | None, File()] = None,
                minutiae: Annotated[UploadFile | None, File(description="examiner minutiae: JSON, xyt, ISO 19794-2")] = None,
                dpi: Annotated[float, Form(ge=100, le=2000)] = 500, roi: Annotated[str | None, Form()] = None,
                position_hint: Annotated[str | None, Form()] = None, top: Annotated[int | None, Form(ge=1)] = None,
                fpir: Annotated[float, Form(gt=0, lt=1)] = 0.01) -> SearchOut:
    top = min(top or settings.default_candidates, settings.max_candidates)
    hint = None if not position_hint else _positions(position_hint, len(position_hint.split(",")))
    mark = mark_template(settings, image, minutiae, dpi, roi, afis.detector)
    cands, thr = timed("mark search", afis.search_mark, mark, top=top, position_hint=hint, fpir=fpir,
                       requester=user.agency)
    afis.notify_hits(cands, agency=user.agency, subject=("search", 0, "mark search"))
    out = candidates_out(cands, afis.store, user)
    audit("afis.search_mark", result_ids=[c.id for c in cands],
          counts={"candidates": len(cands), "hits": sum(c.hit for c in cands), "withheld": _withheld(out)})
    return SearchOut(threshold=thr, candidates=out)


@router.post("/verify", response_model=VerifyOut, summary="Compare two fingerprint images (1:1)")
def verify(user: ExaminerUser, audit: AuditDep, afis: AfisDep, settings: SettingsDep,
           image_a: Annotated[UploadFile, File()],
           image_b: Annotated[UploadFile, File()], dpi: Annotated[float, Form(ge=100, le=2000)] = 500,
           any_rotation: Annotated[bool, Form()] = False) -> VerifyOut:
    r = afis.verify(_print(image_a, settings, dpi, afis.detector), _print(image_b, settings, dpi, afis.detector),
                    any_rotation=any_rotation)
    audit("afis.verify", counts={"pairs": len(r["pairs"])})
    return VerifyOut(score=r["score"], fmr=r["fmr"], fmr_is_upper_bound=r["fmr_is_bound"], strength=r["strength"],
                     pairs=r["pairs"])


@router.delete("/records/{record_id}", summary="Delete a tenprint record and its fingers")
def delete_record(user: EnrollerUser, audit: AuditDep, record_id: RowId, afis: AfisDep, store: StoreDep) -> dict:
    check_owner(user, store.get_record(record_id).owner_agency, f"record {record_id}")
    n = afis.delete_record(record_id)
    audit("afis.delete", subject_ids=[record_id], counts={"fingers": n})
    return {"record_id": record_id, "fingers_removed": n}
