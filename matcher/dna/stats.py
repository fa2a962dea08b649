"""Random match probability and likelihood ratio of a single-source STR match.

Formulas (p, q allele frequencies, floored at 5/2N; theta the coancestry):

=========================  ===============================  ====================================================
method                     heterozygote                     homozygote
=========================  ===============================  ====================================================
``hw`` (product rule)      2pq                              p^2
``nrc4.1``                 2pq                              p^2 + p(1-p)theta
``nrc4.10`` (B-N)          2[theta+(1-theta)p][theta+       [2theta+(1-theta)p][3theta+(1-theta)p]
                           (1-theta)q] / [(1+theta)(1+2t)]  / [(1+theta)(1+2theta)]
=========================  ===============================  ====================================================

The profile RMP is the product over loci; the single-source LR is 1/RMP. A
single allele that may have lost its partner to drop-out is given 2p (the
NRC II "2p rule") when the caller names its locus in ``two_p``.

References
----------
.. [1] National Research Council (1996). The Evaluation of Forensic DNA
   Evidence (NRC II). National Academy Press. Recommendations 4.1, 4.10 and
   the 5/2N minimum allele frequency (section 4, "Alleles with low frequency").
.. [2] Balding DJ, Nichols RA (1994). DNA profile match probability
   calculation: how to allow for population stratification, relatedness,
   database selection and single bands. Forensic Sci Int 64:125-140.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from biomatch.extractors.dna.alleles import WILDCARD
from biomatch.extractors.dna.loci import AMELOGENIN
from biomatch.extractors.dna.params import StatsParams

__all__ = ["METHODS", "allele_frequency", "genotype_probability", "LocusStatistic", "ProfileStatistics",
           "random_match_probability", "match_statistics", "combined_probability_of_inclusion"]

#: RMP methods: product rule, NRC II 4.1, NRC II 4.10 (Balding-Nichols).
METHODS = ("hw", "nrc4.1", "nrc4.10")


def allele_frequency(table, locus: str, allele: str, params: StatsParams | None = None) -> float:
    """Frequency of an allele with the NRC II floor: max(p, 5/2N); absent alleles get the floor.

    Tables without a published N (norSTR) use ``params.fallback_min_frequency``.

    Raises
    ------
    ValueError
        If the table has no frequencies for the locus.
    """
    params = params or StatsParams()
    freqs = table.frequencies.get(locus)
    if freqs is None:
        raise ValueError(f"table {table.name}: no frequencies for locus {locus!r}")
    n = table.n_alleles.get(locus)
    floor = params.min_allele_count / n if n else params.fallback_min_frequency
    return max(freqs.get(allele, 0.0), floor)


def genotype_probability(p: float, q: float | None, method: str = "hw", theta: float = 0.0) -> float:
    """Match probability of one genotype: ``q`` is None for a homozygote.

    Examples
    --------
    >>> round(genotype_probability(0.1, None, "nrc4.1", 0.01), 6)
    0.0109
    """
    if method not in METHODS:
        raise ValueError(f"method must be one of {METHODS}, got {method!r}")
    if method == "hw" or (method == "nrc4.1" and q is not None):
        return p * p if q is None else 2.0 * p * q
    if method == "nrc4.1":
        return p * p + p * (1.0 - p) * theta
    t = theta
    denominator = (1.0 + t) * (1.0 + 2.0 * t)
    if q is None:
        return (2.0 * t + (1.0 - t) * p) * (3.0 * t + (1.0 - t) * p) / denominator
    return 2.0 * (t + (1.0 - t) * p) * (t + (1.0 - t) * q) / denominator


@dataclass(frozen=True)
class LocusStatistic:
    locus: str
    genotype: tuple[str, ...]
    frequencies: tuple[float, ...]
    probability: float


@dataclass(frozen=True)
class ProfileStatistics:
    """RMP of a profile in one population: per locus, combined, and the LR."""

    population: str
    method: str
    theta: float
    loci: tuple[LocusStatistic, ...]
    skipped: dict = field(default_factory=dict)

    @property
    def rmp(self) -> float:
        prob = 1.0
        for s in self.loci:
            prob *= s.probability
        return prob

    @property
    def lr(self) -> float:
        """Single-source likelihood ratio, 1/RMP."""
        return 1.0 / self.rmp


def random_match_probability(profile, table, *, method: str = "hw", loci=None,
                             params: StatsParams | None = None, theta: float | None = None,
                             two_p=()) -> ProfileStatistics:
    """RMP of a single-source profile against one population table.

    Parameters
    ----------
    profile : StrProfile
    table : FrequencyTable
    method : {"hw", "nrc4.1", "nrc4.10"}
    loci : sequence of str, optional
        Loci to use (default: every typed locus). Amelogenin, loci the table
        lacks, wildcard loci and loci with more than two alleles are skipped
        and listed in ``skipped`` with the reason.
    params : StatsParams, optional
    theta : float, optional
        Overrides ``params.theta``.
    two_p : iterable of str
        Loci where a single allele may hide a dropped-out partner: their
        probability is 2p (the NRC II "2p rule"), not the homozygote's.
    """
    params = params or StatsParams()
    theta = params.theta if theta is None else float(theta)
    if not 0.0 <= theta < 0.5:
        raise ValueError(f"theta must be in [0, 0.5), got {theta}")
    wanted = profile.loci if loci is None else loci
    out, skipped = [], {}
    for locus in wanted:
        alleles = profile.loci.get(locus)
        reason = None
        if locus == AMELOGENIN:
            reason = "sex marker"
        elif not alleles:
            reason = "not typed"
        elif WILDCARD in alleles:
            reason = "wildcard"
        elif len(alleles) > 2:
            reason = f"{len(alleles)} alleles (not a single-source genotype)"
        elif not table.has_locus(locus):
            reason = f"not in table {table.name}"
        if reason:
            skipped[locus] = reason
            continue
        freqs = tuple(allele_frequency(table, locus, a, params) for a in alleles)
        if len(freqs) == 1 and locus in two_p:
            prob = min(1.0, 2.0 * freqs[0])
        else:
            prob = genotype_probability(freqs[0], freqs[1] if len(freqs) == 2 else None, method, theta)
        out.append(LocusStatistic(locus, tuple(alleles), freqs, prob))
    return ProfileStatistics(table.name, method, theta, tuple(out), skipped)


def match_statistics(profile, tables, *, method: str = "nrc4.10", loci=None,
                     params: StatsParams | None = None, theta: float | None = None,
                     two_p=()) -> dict[str, ProfileStatistics]:
    """RMP and LR per population (a dict keyed by table name); see :func:`random_match_probability`."""
    tables = dict(tables) if isinstance(tables, dict) else {t.name: t for t in tables}
    if not tables:
        raise ValueError("no frequency tables given")
    return {name: random_match_probability(profile, t, method=method, loci=loci, params=params, theta=theta,
                                           two_p=tuple(two_p))
            for name, t in tables.items()}


def combined_probability_of_inclusion(profile, table, *, loci=None,
                                      params: StatsParams | None = None) -> ProfileStatistics:
    """CPI of a mixture: per locus (sum of the frequencies of the alleles seen)^2, multiplied over loci.

    The chance that a random person would be included as a possible
    contributor (NRC II section 5; SWGDAM 2010 interpretation guidelines).
    Loci with a wildcard, Amelogenin and loci missing from the table are skipped.
    The result's ``rmp`` is the CPI and ``lr`` its inverse (the CPE odds).
    """
    params = params or StatsParams()
    out, skipped = [], {}
    for locus in (profile.loci if loci is None else loci):
        alleles = profile.loci.get(locus)
        if locus == AMELOGENIN or not alleles or WILDCARD in alleles or not table.has_locus(locus):
            skipped[locus] = "sex marker, untyped, wildcard or not in table"
            continue
        freqs = tuple(allele_frequency(table, locus, a, params) for a in alleles)
        out.append(LocusStatistic(locus, tuple(alleles), freqs, min(1.0, sum(freqs)) ** 2))
    return ProfileStatistics(table.name, "cpi", 0.0, tuple(out), skipped)
