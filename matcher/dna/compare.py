"""Locus-by-locus comparison of two profiles: what matched, what differed.

This is the pair-level statement of the search rules (the index kernels are
its fast, batched form) and produces the match report an examiner reads.

Rules (sets of allele designations; the wildcard ``*`` matches any allele):

* high: identical allele sets;
* moderate: one set is a subset of the other (drop-out, mixtures);
* low: at least one shared allele;
* Prüm: alleles compared pairwise (a homozygote is two equal alleles), the
  number of differing alleles counted; full match 0, near match 1.

A locus is compared only when both profiles type it (Prüm: and both hold at
most two alleles). Amelogenin is never compared.
"""
from __future__ import annotations

from dataclasses import dataclass

from biomatch.extractors.dna.alleles import WILDCARD
from biomatch.extractors.dna.loci import AMELOGENIN

__all__ = ["locus_passes", "prum_mismatches", "LocusComparison", "compare_profiles"]


def _inside(x: str, s) -> bool:
    return x == WILDCARD or x in s or WILDCARD in s


def _subset(a, b) -> bool:
    return all(_inside(x, b) for x in a)


def locus_passes(probe_alleles, candidate_alleles, stringency: str) -> bool:
    """Does a locus pass at ``high``, ``moderate`` or ``low`` stringency?"""
    p, c = tuple(probe_alleles), tuple(candidate_alleles)
    if stringency == "high":
        return _subset(c, p) and _subset(p, c)
    if stringency == "moderate":
        return _subset(c, p) or _subset(p, c)
    if stringency == "low":
        return any(_inside(x, p) for x in c)
    raise ValueError(f"unknown stringency {stringency!r}")


def prum_mismatches(probe_alleles, candidate_alleles) -> int:
    """Differing alleles between two genotypes of at most two alleles each (0, 1 or 2)."""
    def pair(a):
        return (a[0], a[0]) if len(a) == 1 else (a[0], a[1])

    def mm(x, y):
        return 0 if (x == y or WILDCARD in (x, y)) else 1

    (a, b), (p, r) = pair(tuple(candidate_alleles)), pair(tuple(probe_alleles))
    return min(mm(a, p) + mm(b, r), mm(a, r) + mm(b, p))


@dataclass(frozen=True)
class LocusComparison:
    """Which loci were compared, matched and differed under one rule."""

    rule: str
    matched: tuple[str, ...]
    differed: tuple[str, ...]
    not_compared: tuple[str, ...]
    mismatches: int = 0
    fully_designated: int = 0

    @property
    def n_compared(self) -> int:
        return len(self.matched) + len(self.differed)


def compare_profiles(probe, candidate, rule: str = "moderate", loci=None) -> LocusComparison:
    """Compare two profiles locus by locus under ``high``/``moderate``/``low`` or ``prum``.

    Parameters
    ----------
    probe, candidate : StrProfile
    rule : str
    loci : sequence of str, optional
        Loci to consider (default: every locus either profile types).
    """
    wanted = loci if loci is not None else list(dict.fromkeys([*probe.loci, *candidate.loci]))
    matched, differed, skipped = [], [], []
    mismatches = full = 0
    for locus in wanted:
        p, c = probe.loci.get(locus), candidate.loci.get(locus)
        if locus == AMELOGENIN or not p or not c or (rule == "prum" and (len(p) > 2 or len(c) > 2)):
            skipped.append(locus)
            continue
        if rule == "prum":
            m = prum_mismatches(p, c)
            mismatches += m
            full += probe.fully_designated(locus) and candidate.fully_designated(locus)
            (differed if m else matched).append(locus)
        else:
            (matched if locus_passes(p, c, rule) else differed).append(locus)
    return LocusComparison(rule, tuple(matched), tuple(differed), tuple(skipped), mismatches, int(full))
