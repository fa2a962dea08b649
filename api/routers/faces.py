"""Face routes: enrol, verify, search and delete; bulk probe jobs are in :mod:`.face_jobs`.

Translation only: uploads are decoded and embedded by
:mod:`biomatch.extractors.faces`, searches run in
:class:`~biomatch.index.faces.FaceGallery`, reports are rendered by
:mod:`biomatch.api.face_report`. Images arrive as multipart uploads; a part
whose content type is not an image is refused with 415, bytes that do not
decode (corrupt, empty, decompression bomb, not an image) with 422 naming
the problem, and nothing is stored.

Every route needs an API key: ``enroller`` to enrol or delete (records are
owned by the key's agency, and only that agency's records can be deleted),
``examiner`` to verify or search. A restricted record is seen by its owner
agency only. Each call is audited with references, SHA-256 of the uploads,
ids and counts, never with images or templates.
"""
from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, File, Form, HTTPException, Request, UploadFile
from pydantic import BaseModel

from ..audit import AuditDep
from ..auth import EnrollerUser, ExaminerUser, check_owner
from ..deps import SettingsDep, StoreDep, app_resource
from ..limits import SearchLimitDep
from ..sharing import redacted_count, share

router = APIRouter(prefix="/faces", tags=["faces"])
_IMAGE_TYPES = ("image/", "application/octet-stream")


def get_gallery(request: Request, store: StoreDep):
    from biomatch.index.faces import FaceGallery

    return app_resource(request, "face_gallery", lambda: FaceGallery.open(store))


GalleryDep = Annotated[object, Depends(get_gallery)]


class FaceOut(BaseModel):
    box: list[float]
    detection_score: float
    below_quality_floor: list[str]


class CandidateOut(BaseModel):
    rank: int
    record_id: int
    face_id: int | None  # null: another agency's candidate not released to the caller (biomatch.api.sharing)
    external_ref: str
    owner_agency: str
    score: float
    fmr: float
    fmr_is_upper_bound: bool
    details_released: bool = True


class EnrolOut(BaseModel):
    record_id: int
    face_ids: list[int]
    gallery_size: int


class VerifyOut(BaseModel):
    score: float
    fmr: float
    threshold: float
    match: bool


class SearchFaceOut(FaceOut):
    candidates: list[CandidateOut]


class SearchOut(BaseModel):
    message: str
    threshold: float | None
    faces: list[SearchFaceOut]


def _read(upload: UploadFile, settings) -> bytes:
    kind = (upload.content_type or "").lower()
    if not kind.startswith(_IMAGE_TYPES):
        raise HTTPException(415, f"{upload.filename}: content type {kind or 'none'!r} is not an image")
    data = upload.file.read(settings.max_upload_bytes + 1)
    if len(data) > settings.max_upload_bytes:
        raise HTTPException(413, f"{upload.filename}: over {settings.max_upload_bytes} bytes")
    return data


def _extract(upload: UploadFile, settings, keep_crops: bool = False):
    """``(extraction, sha256 of the upload)``."""
    from biomatch.extractors.faces import extract_faces
    from biomatch.extractors.imageio import decode_image
    from biomatch.index.store import sha256_hex

    data = _read(upload, settings)
    if not data:
        raise ValueError(f"{upload.filename}: empty file (0 bytes)")
    image = decode_image(data, mode="RGB", max_pixels=settings.max_image_pixels, name=upload.filename or "upload")
    return extract_faces(image, keep_crops=keep_crops), sha256_hex(data)


def _face_out(f) -> dict:
    return {"box": [round(float(v), 2) for v in f.template.box], "detection_score": f.template.detection_score,
            "below_quality_floor": list(f.below_floor)}


@router.post("/enrol", response_model=EnrolOut, status_code=201, summary="Enrol a record from face images")
def enrol(user: EnrollerUser, audit: AuditDep, gallery: GalleryDep, settings: SettingsDep,
          images: Annotated[list[UploadFile], File()],
          external_ref: Annotated[str, Form(min_length=1, max_length=200)],
          restricted: Annotated[bool, Form()] = False) -> EnrolOut:
    """One record of the key's agency from the largest face above the quality floor in each image.

    An image without such a face answers 422 and nothing is enrolled.
    """
    if len(images) > settings.max_batch:
        raise ValueError(f"{len(images)} images; the limit is {settings.max_batch}")
    templates, hashes = [], []
    for upload in images:
        result, sha = _extract(upload, settings)
        if not result.accepted:
            raise ValueError(f"{upload.filename}: {result.message}; nothing enrolled")
        templates.append(result.accepted[0])
        hashes.append(sha)
    rid, ids = gallery.enrol(external_ref, user.agency, templates, restricted=restricted)
    audit("face.enrol", subject_ids=[external_ref, *hashes], result_ids=[rid, *ids], counts={"faces": len(ids)})
    return EnrolOut(record_id=rid, face_ids=ids, gallery_size=len(gallery))


@router.post("/verify", response_model=VerifyOut, summary="Compare the largest faces of two images (1:1)")
def verify(user: ExaminerUser, audit: AuditDep, settings: SettingsDep, image_a: Annotated[UploadFile, File()],
           image_b: Annotated[UploadFile, File()], threshold: Annotated[float | None, Form()] = None) -> VerifyOut:
    from biomatch.matcher.faces import load_calibration, prepare, score
    from biomatch.matcher.faces.thresholds import verify_threshold

    faces, hashes = [], []
    for upload in (image_a, image_b):
        result, sha = _extract(upload, settings)
        if not result.accepted:
            raise ValueError(f"{upload.filename}: {result.message}")
        faces.append(result.accepted[0])
        hashes.append(sha)
    cal = load_calibration(faces[0].model_id)
    t = verify_threshold(cal) if threshold is None else threshold
    s = score(prepare(faces[0]), faces[1])
    audit("face.verify", subject_ids=hashes, counts={"match": int(s >= t)})
    return VerifyOut(score=s, fmr=cal.fmr_at(s), threshold=t, match=s >= t)


def _threshold(gallery, threshold: float | None, fpir: float | None) -> float | None:
    if threshold is not None and fpir is not None:
        raise ValueError("give threshold or fpir, not both")
    return gallery.threshold(fpir)[0] if fpir is not None else threshold


@router.post("/search", response_model=SearchOut, summary="Search every face of an image (1:N)")
def search(user: ExaminerUser, audit: AuditDep, gallery: GalleryDep, settings: SettingsDep, timed: SearchLimitDep,
           image: Annotated[UploadFile, File()], top: Annotated[int | None, Form(ge=1)] = None,
           threshold: Annotated[float | None, Form()] = None,
           fpir: Annotated[float | None, Form(gt=0, lt=1)] = None) -> SearchOut:
    """No face in the image is a normal answer: ``faces`` is empty and ``message`` says "no face found"."""
    top = min(top or settings.default_candidates, settings.max_candidates)
    t = _threshold(gallery, threshold, fpir)
    result, sha = _extract(image, settings)
    hits = timed("face search", gallery.search, [f.template.embedding for f in result.faces], top=top, threshold=t,
                 requester_agency=user.agency) if result.faces else []
    shown = [share(gallery.store, user.agency, [dict(
        rank=c.rank, record_id=c.record_id, face_id=c.face_id, external_ref=c.external_ref,
        owner_agency=c.owner_agency, score=c.score, fmr=c.fmr, fmr_is_upper_bound=c.fmr_is_bound) for c in cands],
        listing="face") for cands in hits]
    audit("face.search", subject_ids=[sha], result_ids=[c.record_id for cands in hits for c in cands],
          counts={"faces": len(result.faces), "candidates": sum(len(c) for c in hits),
                  "withheld": sum(redacted_count(c) for c in shown)})
    faces = [SearchFaceOut(**_face_out(f), candidates=[CandidateOut(**c) for c in cands])
             for f, cands in zip(result.faces, shown)]
    return SearchOut(message=result.message, threshold=t, faces=faces)


@router.delete("/records/{record_id}", summary="Delete a face record of the key's agency and its faces")
def delete(record_id: int, user: EnrollerUser, audit: AuditDep, gallery: GalleryDep, store: StoreDep) -> dict:
    from biomatch.index.store import NotFoundError

    record = store.get_record(record_id)  # NotFoundError -> 404
    if record.modality != "face":
        raise NotFoundError(f"no face record with id {record_id}")
    check_owner(user, record.owner_agency, f"record {record_id}")  # 403, audited
    removed = gallery.delete(record_id)
    audit("face.delete", subject_ids=[record_id], counts={"faces": removed})
    return {"record_id": record_id, "faces_removed": removed}
