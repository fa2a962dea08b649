"""Every tuned DNA constant, in one place (profile rules, search, statistics).

Changing a default here changes results: bump :data:`DNA_ALGORITHM_VERSION`
with it, so that stored search results and reports say which rules made them.
"""
from __future__ import annotations

from dataclasses import dataclass

from .loci import CODIS_CORE_20

__all__ = ["DNA_ALGORITHM_VERSION", "ProfileRules", "SearchParams", "StatsParams", "STRINGENCIES"]

#: Version of the matching rules and statistics defined by the defaults below.
DNA_ALGORITHM_VERSION = 1

#: CODIS search stringencies, strictest first.
STRINGENCIES = ("high", "moderate", "low")


@dataclass(frozen=True)
class ProfileRules:
    """What makes a profile acceptable for enrolment or search.

    Parameters
    ----------
    min_loci : int
        Fewest typed autosomal loci (Amelogenin never counts). 8 is the NDIS
        minimum for a forensic unknown (8 of the original CODIS 13).
    max_alleles_single : int
        Most alleles at a locus of a single-source profile (2; a third needs the
        locus to be declared tri-allelic).
    max_alleles_tri : int
        Most alleles at a declared tri-allelic locus.
    max_alleles_mixture : int
        Most alleles at a locus of a profile flagged as a mixture.
    """

    min_loci: int = 8
    max_alleles_single: int = 2
    max_alleles_tri: int = 3
    max_alleles_mixture: int = 8

    def __post_init__(self):
        if not 1 <= self.min_loci <= 60:
            raise ValueError(f"min_loci must be 1..60, got {self.min_loci}")
        if not (2 <= self.max_alleles_single <= self.max_alleles_tri <= self.max_alleles_mixture <= 8):
            raise ValueError("allele limits must satisfy 2 <= single <= tri <= mixture <= 8")


@dataclass(frozen=True)
class SearchParams:
    """How database searches compare profiles.

    Parameters
    ----------
    loci : tuple of str
        The searchable panel held by the index (default the CODIS 20). Loci of a
        profile outside it are stored but not searched.
    min_compared_loci : int
        CODIS rules: fewest loci typed in both profiles for a candidate to be
        reported (a locus one side lacks is not compared).
    prum_min_loci : int
        Prüm rules: fewest common *fully designated* loci (no wildcard, at most
        two alleles) for a comparison to count; 6 in Council Decision 2008/616/JHA.
    prum_max_mismatches : int
        Prüm rules: 0 reports full matches only, 1 adds near matches (exactly
        one allele differs).
    block_size : int
        Profiles per block of the parallel scan (a block of every locus fits in L2).
    hit_capacity : int
        Hits a block keeps on the first pass; fuller blocks are rescanned alone.
    """

    loci: tuple[str, ...] = CODIS_CORE_20
    min_compared_loci: int = 8
    prum_min_loci: int = 6
    prum_max_mismatches: int = 1
    block_size: int = 16384
    hit_capacity: int = 32

    def __post_init__(self):
        if not self.loci or len(set(self.loci)) != len(self.loci):
            raise ValueError("search loci must be a non-empty list without repeats")
        if not 1 <= self.min_compared_loci <= len(self.loci):
            raise ValueError(f"min_compared_loci must be 1..{len(self.loci)}, got {self.min_compared_loci}")
        if not 1 <= self.prum_min_loci <= len(self.loci):
            raise ValueError(f"prum_min_loci must be 1..{len(self.loci)}, got {self.prum_min_loci}")
        if self.prum_max_mismatches not in (0, 1):
            raise ValueError("prum_max_mismatches must be 0 (full matches) or 1 (full and near matches)")
        if self.block_size < 256 or self.hit_capacity < 1:
            raise ValueError("block_size must be >= 256 and hit_capacity >= 1")


@dataclass(frozen=True)
class StatsParams:
    """Match statistics and kinship.

    Parameters
    ----------
    theta : float
        Coancestry coefficient (F_ST) for NRC II 4.1 and 4.10; 0.01 is the NRC II
        value for most U.S. populations, 0.03 for small isolated ones.
    min_allele_count : float
        Allele frequency floor as a count: p >= min_allele_count / (2N)
        (NRC II: 5/2N). Also used for alleles absent from the table.
    fallback_min_frequency : float
        Floor for tables that do not publish N (norSTR floors at 0.001).
    """

    theta: float = 0.01
    min_allele_count: float = 5.0
    fallback_min_frequency: float = 0.001

    def __post_init__(self):
        if not 0.0 <= self.theta < 0.5:
            raise ValueError(f"theta must be in [0, 0.5), got {self.theta}")
        if not self.min_allele_count > 0 or not 0 < self.fallback_min_frequency < 1:
            raise ValueError("frequency floors must be positive")
