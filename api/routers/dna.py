"""DNA routes: enrol (single, bulk, file import), search, match statistics, familial search, delete.

Translation only: schemas in, :mod:`biomatch.index.dna` / :mod:`biomatch.matcher.dna` calls, schemas out.
Bad profiles raise :class:`~biomatch.extractors.dna.ProfileError` (a ValueError), answered 422.

Every route needs an API key: ``enroller`` to add or delete (profiles are
owned by the key's agency, and only that agency's records can be deleted),
``examiner`` to search, compute statistics or run a familial search (a
restricted record is seen by its owner agency only; another agency's
candidate shows only what :mod:`biomatch.api.sharing` allows until its owner
releases it). Each call is audited
with ids and counts, never with profiles.
"""
from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Request
from pydantic import BaseModel, Field

from biomatch.extractors.dna import StrProfile, parse_cmf, parse_genemapper_csv

from ..audit import AuditDep
from ..auth import EnrollerUser, ExaminerUser, check_owner
from ..deps import SettingsDep, StoreDep, app_resource
from ..limits import SearchLimitDep
from ..sharing import redacted_count, share

router = APIRouter(prefix="/dna", tags=["dna"])


def get_gallery(request: Request, store: StoreDep):
    from biomatch.index.dna.gallery import DnaGallery

    return app_resource(request, "dna_gallery", lambda: DnaGallery.open(store))


def get_tables(request: Request, settings: SettingsDep) -> dict:
    from biomatch.benchmarks.datasets import data_root
    from biomatch.extractors.dna import load_population_tables

    path = data_root(settings.data_dir) / "dna" / "str_allele_frequencies.csv"
    return app_resource(request, "dna_tables", lambda: load_population_tables(path, "NIST1036"))


GalleryDep = Annotated[object, Depends(get_gallery)]
TablesDep = Annotated[dict, Depends(get_tables)]


class ProfileIn(BaseModel):
    """An STR profile: locus -> allele designations, with provenance."""

    specimen_id: str = Field(min_length=1, max_length=200)
    loci: dict[str, list[str | int | float]]
    category: str = "forensic_unknown"
    agency: str = ""
    mixture: bool = False
    tri_allelic: list[str] = []

    def to_profile(self, wildcards: bool = False) -> StrProfile:
        return StrProfile.build(self.specimen_id, self.loci, wildcards=wildcards, category=self.category,
                                agency=self.agency, mixture=self.mixture, tri_allelic=tuple(self.tri_allelic))


class EnrolIn(BaseModel):
    """Profiles to enrol; they are owned by the API key's agency."""

    profiles: list[ProfileIn]
    restricted: bool = False
    wildcards: bool = False


class ImportIn(BaseModel):
    """A GeneMapper-style CSV or CODIS CMF XML document as text."""

    format: Literal["csv", "cmf"]
    content: str
    category: str = "convicted_offender"
    restricted: bool = False
    wildcards: bool = False


class Enrolled(BaseModel):
    profile_ids: list[int]
    searchable: int


class SearchIn(BaseModel):
    profiles: list[ProfileIn]
    rule: Literal["high", "moderate", "low", "prum"] = "moderate"
    categories: list[str] | None = None
    agencies: list[str] | None = None
    limit: int | None = Field(None, ge=1)
    min_loci: int | None = Field(None, ge=1)
    method: Literal["hw", "nrc4.1", "nrc4.10"] = "nrc4.10"
    wildcards: bool = False


class StatsIn(BaseModel):
    profile: ProfileIn
    loci: list[str] | None = None
    method: Literal["hw", "nrc4.1", "nrc4.10"] = "nrc4.10"
    theta: float = Field(0.01, ge=0.0, lt=0.5)


class FamilialIn(BaseModel):
    profile: ProfileIn
    relationship: Literal["parent_child", "full_sib", "half_sib"] = "full_sib"
    top: int | None = Field(None, ge=1)
    min_ki: float = Field(0.0, ge=0.0)
    categories: list[str] | None = None
    agencies: list[str] | None = None


def _check_batch(n: int, settings) -> None:
    if n == 0:
        raise ValueError("no profiles given")
    if n > settings.max_batch:
        raise ValueError(f"{n} profiles exceed the batch limit of {settings.max_batch}")


def _owned(profiles, agency: str):
    """Profiles stamped with the key's agency (a profile naming another agency is refused)."""
    out = []
    for p in profiles:
        if p.agency and p.agency != agency:
            raise ValueError(f"specimen {p.specimen_id!r}: agency {p.agency!r} is not this API key's agency {agency!r}")
        out.append(StrProfile(p.specimen_id, p.loci, p.category, agency, p.mixture, p.tri_allelic))
    return out


@router.post("/profiles", status_code=201, response_model=Enrolled, summary="Enrol profiles (one transaction)")
def enrol(body: EnrolIn, user: EnrollerUser, audit: AuditDep, gallery: GalleryDep, settings: SettingsDep) -> Enrolled:
    """Validate every profile, then store all of them in one transaction (nothing on any error)."""
    _check_batch(len(body.profiles), settings)
    profiles = _owned([p.to_profile(body.wildcards) for p in body.profiles], user.agency)
    ids = gallery.enrol(profiles, agency=user.agency, restricted=body.restricted)
    audit("dna.enrol", subject_ids=[p.specimen_id for p in profiles], result_ids=ids, counts={"profiles": len(ids)})
    return Enrolled(profile_ids=ids, searchable=len(gallery))


@router.post("/import", status_code=201, response_model=Enrolled, summary="Bulk import a CSV or CMF document")
def import_file(body: ImportIn, user: EnrollerUser, audit: AuditDep, gallery: GalleryDep,
                settings: SettingsDep) -> Enrolled:
    if body.format == "cmf":
        profiles = parse_cmf(body.content, wildcards=body.wildcards, agency=user.agency)
    else:
        profiles = parse_genemapper_csv(body.content, category=body.category, agency=user.agency,
                                        wildcards=body.wildcards)
    _check_batch(len(profiles), settings)
    profiles = _owned(profiles, user.agency)
    ids = gallery.enrol(profiles, agency=user.agency, restricted=body.restricted)
    audit("dna.import", subject_ids=[p.specimen_id for p in profiles], result_ids=ids, counts={"profiles": len(ids)})
    return Enrolled(profile_ids=ids, searchable=len(gallery))


@router.post("/search", summary="Search profiles at a CODIS stringency or under the Prüm rules")
def search(body: SearchIn, user: ExaminerUser, audit: AuditDep, gallery: GalleryDep, tables: TablesDep,
           settings: SettingsDep, store: StoreDep, timed: SearchLimitDep) -> dict:
    """Candidates of other agencies show only what the sharing policy allows (:mod:`biomatch.api.sharing`)."""
    from biomatch.index.dna.flow import search_gallery

    _check_batch(len(body.profiles), settings)
    limit = min(body.limit or settings.default_candidates, settings.max_candidates)
    probes = [p.to_profile(body.wildcards) for p in body.profiles]
    results = timed("DNA search", search_gallery, gallery, probes, rule=body.rule, categories=body.categories,
                    agencies=body.agencies, requester_agency=user.agency, limit=limit, tables=tables,
                    method=body.method, min_loci=body.min_loci)
    shown = [share(store, user.agency, [r.to_dict() for r in rs], listing="dna") for rs in results]
    audit("dna.search", subject_ids=[p.specimen_id for p in probes],
          result_ids=[r.profile_id for rs in results for r in rs],
          counts={"probes": len(probes), "candidates": sum(len(rs) for rs in results),
                  "withheld": sum(redacted_count(c) for c in shown)})
    return {"results": [{"specimen_id": p.specimen_id, "candidates": c} for p, c in zip(probes, shown)]}


@router.post("/stats", summary="Random match probability and LR per population")
def stats(body: StatsIn, user: ExaminerUser, audit: AuditDep, tables: TablesDep) -> dict:
    from biomatch.extractors.dna import normalise_locus
    from biomatch.extractors.dna.params import StatsParams
    from biomatch.matcher.dna import match_statistics

    loci = [normalise_locus(x) for x in body.loci] if body.loci else None
    out = match_statistics(body.profile.to_profile(), tables, method=body.method, loci=loci,
                           params=StatsParams(theta=body.theta))
    audit("dna.stats", subject_ids=[body.profile.specimen_id], counts={"populations": len(out)})
    return {"method": body.method, "theta": body.theta,
            "populations": {name: {"rmp": s.rmp, "lr": s.lr, "per_locus": {x.locus: x.probability for x in s.loci},
                                   "skipped": s.skipped} for name, s in out.items()}}


@router.post("/familial", summary="Rank the database by kinship index (minimum over populations)")
def familial(body: FamilialIn, user: ExaminerUser, audit: AuditDep, gallery: GalleryDep, tables: TablesDep,
             settings: SettingsDep, store: StoreDep, timed: SearchLimitDep) -> dict:
    from biomatch.index.dna.flow import familial_gallery

    top = min(body.top or settings.default_candidates, settings.max_candidates)
    ranked = timed("familial search", familial_gallery, gallery, body.profile.to_profile(), tables,
                   relationship=body.relationship, top=top, min_ki=body.min_ki, categories=body.categories,
                   agencies=body.agencies, requester_agency=user.agency)
    shown = share(store, user.agency, [r.to_dict() for r in ranked], listing="familial")
    audit("dna.familial", subject_ids=[body.profile.specimen_id], result_ids=[r.profile_id for r in ranked],
          counts={"candidates": len(ranked), "withheld": redacted_count(shown)})
    return {"relationship": body.relationship, "candidates": shown}


@router.delete("/records/{record_id}", status_code=204, summary="Delete a DNA record and its profiles")
def delete(record_id: int, user: EnrollerUser, audit: AuditDep, gallery: GalleryDep, store: StoreDep) -> None:
    record = store.get_record(record_id)  # NotFoundError -> 404
    check_owner(user, record.owner_agency, f"record {record_id}")  # 403, audited
    removed = gallery.delete_record(record_id)
    audit("dna.delete", subject_ids=[record_id], counts={"profiles": removed})
