"""The 1:N flow on a :class:`~.gallery.DnaGallery`: shortlist, then the matcher's report.

The index kernels give the exact shortlist; for each reported candidate the
stored profile is read back, compared locus by locus
(:func:`~biomatch.matcher.dna.compare.compare_profiles`) and, when frequency
tables are given, the probe's random match probability on the loci that
matched is computed per population.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from biomatch.extractors.dna.params import StatsParams
from biomatch.matcher.dna.compare import compare_profiles
from biomatch.matcher.dna.kinship import compare_kinship
from biomatch.matcher.dna.stats import combined_probability_of_inclusion, match_statistics

from .familial import familial_search
from .search import search, search_prum

__all__ = ["MatchReport", "KinshipReport", "search_gallery", "familial_gallery"]


@dataclass(frozen=True)
class MatchReport:
    """One candidate of a search, with what matched and, optionally, the statistics."""

    profile_id: int
    record_id: int
    specimen_id: str
    category: str
    agency: str
    rule: str
    n_compared: int
    n_mismatches: int
    matched: tuple[str, ...]
    differed: tuple[str, ...]
    rmp: dict = field(default_factory=dict)   # population -> RMP (CPI for a mixture probe) on the matched loci
    lr: dict = field(default_factory=dict)    # population -> 1 / RMP
    statistic: str = "rmp"                    # "rmp" (single-source probe) or "cpi" (mixture probe)

    def to_dict(self) -> dict:
        return dict(self.__dict__)


@dataclass(frozen=True)
class KinshipReport:
    """One familial-search candidate: KI per population, per locus (most conservative population), IBS."""

    profile_id: int
    record_id: int
    specimen_id: str
    relationship: str
    ki: float
    ki_by_population: dict
    min_population: str
    ki_per_locus: dict
    ibs_per_locus: dict

    @property
    def ibs_total(self) -> int:
        return sum(self.ibs_per_locus.values())

    def to_dict(self) -> dict:
        return {**self.__dict__, "ibs_total": self.ibs_total}


def search_gallery(gallery, probes, *, rule: str = "moderate", categories=None, agencies=None,
                   requester_agency: str | None = None, limit: int = 20, tables=None, method: str = "nrc4.10",
                   stats: StatsParams | None = None, min_loci: int | None = None) -> list[list[MatchReport]]:
    """Search probes under ``high``/``moderate``/``low`` or ``prum`` and build reports for the top ``limit``.

    Restricted profiles of other agencies are dropped when ``requester_agency`` is given.
    """
    if limit < 1:
        raise ValueError("limit must be >= 1")
    with gallery._lock:
        if rule == "prum":
            shortlists = search_prum(gallery.index, probes, categories=categories, agencies=agencies,
                                     min_loci=min_loci)
        else:
            shortlists = search(gallery.index, probes, stringency=rule, categories=categories, agencies=agencies,
                                min_loci=min_loci)
        out = []
        for probe, hits in zip(probes, shortlists):
            hits = [h for h in hits if gallery.visible(h.id, requester_agency)][:limit]
            out.append([_report(gallery, probe, h, rule, tables, method, stats) for h in hits])
    return out


def _report(gallery, probe, hit, rule, tables, method, stats) -> MatchReport:
    record_id, candidate = gallery.profile(hit.id)
    comparison = compare_profiles(probe, candidate, rule, gallery.params.loci)
    rmp, lr = {}, {}
    statistic = "cpi" if probe.mixture or any(len(probe.loci[k]) > 2 for k in comparison.matched) else "rmp"
    if tables and comparison.matched:
        if statistic == "cpi":
            found = {name: combined_probability_of_inclusion(probe, t, loci=comparison.matched, params=stats)
                     for name, t in (tables.items() if isinstance(tables, dict) else ((t.name, t) for t in tables))}
        else:
            # A single probe allele where the candidate is heterozygous: possible drop-out, so 2p.
            two_p = [k for k in comparison.matched if len(probe.loci[k]) == 1 and len(candidate.loci.get(k, ())) == 2]
            found = match_statistics(probe, tables, method=method, loci=comparison.matched, params=stats, two_p=two_p)
        for name, s in found.items():
            if s.loci:
                rmp[name], lr[name] = s.rmp, s.lr
    return MatchReport(hit.id, record_id, candidate.specimen_id, candidate.category.slug, candidate.agency, rule,
                       hit.n_compared, hit.n_mismatches, comparison.matched, comparison.differed, rmp, lr, statistic)


def familial_gallery(gallery, probe, tables, *, relationship: str = "full_sib", top: int = 20,
                     min_ki: float = 0.0, categories=None, agencies=None, requester_agency: str | None = None,
                     stats: StatsParams | None = None) -> list[KinshipReport]:
    """Familial search with per-locus KI and IBS for each candidate (minimum-KI population)."""
    tables = dict(tables) if isinstance(tables, dict) else {t.name: t for t in tables}
    with gallery._lock:
        # Ask for more than ``top`` when restricted profiles may be dropped.
        extra = len(gallery.restricted) if requester_agency is not None else 0
        ranked = familial_search(gallery.index, probe, tables, relationship=relationship, top=top + extra,
                                 min_ki=min_ki, categories=categories, agencies=agencies, params=stats)
        ranked = [c for c in ranked if gallery.visible(c.id, requester_agency)][:top]
        out = []
        for c in ranked:
            record_id, candidate = gallery.profile(c.id)
            worst = min(c.ki_by_population, key=c.ki_by_population.get)
            detail = compare_kinship(probe, candidate, tables[worst], relationship, loci=gallery.params.loci,
                                     params=stats)
            out.append(KinshipReport(c.id, record_id, candidate.specimen_id, relationship, c.ki, c.ki_by_population,
                                     worst, detail.per_locus, detail.ibs))
    return out
