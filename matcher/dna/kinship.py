"""Kinship indices (parent-child, full and half siblings) and identity-by-state counts.

For a pair of single-source genotypes at one locus the kinship index is

    KI = k0 + k1 X1 + k2 X2,

with (k0, k1, k2) the IBD probabilities of the relationship and X1, X2 the
likelihood ratios for sharing one or two alleles identical by descent:

* X1 = P(G2 | G1, one allele IBD) / P(G2): for G2 homozygous a/a it is
  m_a / (2 p_a), for G2 heterozygous a/b it is (m_a/p_a + m_b/p_b) / 4,
  where m_x is the number of copies of x in G1 (0, 1, 2);
* X2 = 1 / P(G2) when G1 = G2 (1/p^2 or 1/(2pq)), else 0.

Both are symmetric in the two genotypes. The combined KI is the product over
loci typed in both profiles.

References
----------
.. [1] Brenner CH, Weir BS (2003). Issues and strategies in the DNA
   identification of World Trade Center victims. Theor Popul Biol 63:173-178.
.. [2] Myers SP et al. (2011). Searching for first-degree familial
   relationships in California's offender DNA database. Forensic Sci Int
   Genet 5:493-500 (KI ranking, minimum over populations).
.. [3] Weir BS, Anderson AD, Hepler AB (2006). Genetic relatedness analysis:
   modern data and new challenges. Nat Rev Genet 7:771-780.
"""
from __future__ import annotations

from dataclasses import dataclass

from biomatch.extractors.dna.alleles import WILDCARD
from biomatch.extractors.dna.loci import AMELOGENIN
from biomatch.extractors.dna.params import StatsParams

from .stats import allele_frequency

__all__ = ["RELATIONSHIPS", "ibd_coefficients", "x1_x2", "kinship_index", "ibs_count", "KinshipResult",
           "compare_kinship"]

#: IBD probabilities (k0, k1, k2) of the supported relationships.
RELATIONSHIPS = {
    "parent_child": (0.0, 1.0, 0.0),
    "full_sib": (0.25, 0.5, 0.25),
    "half_sib": (0.5, 0.5, 0.0),
}
_ALIASES = {"po": "parent_child", "pc": "parent_child", "parent": "parent_child", "fs": "full_sib",
            "sibling": "full_sib", "full_sibling": "full_sib", "hs": "half_sib", "half_sibling": "half_sib"}


def ibd_coefficients(relationship: str) -> tuple[float, float, float]:
    """(k0, k1, k2) of ``parent_child``, ``full_sib`` or ``half_sib`` (aliases PO, FS, HS)."""
    key = str(relationship).strip().lower().replace("-", "_")
    key = _ALIASES.get(key, key)
    if key not in RELATIONSHIPS:
        raise ValueError(f"relationship must be one of {', '.join(RELATIONSHIPS)}, got {relationship!r}")
    return RELATIONSHIPS[key]


def _pair(alleles) -> tuple[str, str]:
    return (alleles[0], alleles[0]) if len(alleles) == 1 else (alleles[0], alleles[1])


def x1_x2(g1, g2, freq) -> tuple[float, float]:
    """X1 and X2 for genotypes ``g1``, ``g2`` (1 or 2 alleles each) and ``freq(allele)``."""
    a1, b1 = _pair(g1)
    a2, b2 = _pair(g2)
    copies = {a1: 0, b1: 0}
    copies[a1] += 1
    copies[b1] += 1
    pa, pb = freq(a2), freq(b2)
    if a2 == b2:
        x1 = copies.get(a2, 0) / (2.0 * pa)
        x2 = 1.0 / (pa * pa) if a1 == b1 == a2 else 0.0
    else:
        x1 = (copies.get(a2, 0) / pa + copies.get(b2, 0) / pb) / 4.0
        x2 = 1.0 / (2.0 * pa * pb) if {a1, b1} == {a2, b2} else 0.0
    return x1, x2


def kinship_index(g1, g2, freq, relationship: str) -> float:
    """Single-locus KI = k0 + k1 X1 + k2 X2."""
    k0, k1, k2 = ibd_coefficients(relationship)
    x1, x2 = x1_x2(g1, g2, freq)
    return k0 + k1 * x1 + k2 * x2


def ibs_count(g1, g2) -> int:
    """Alleles identical by state (0, 1 or 2), counting a homozygote as two copies."""
    a1, b1 = _pair(g1)
    rest = [*_pair(g2)]
    shared = 0
    for a in (a1, b1):
        if a in rest:
            rest.remove(a)
            shared += 1
    return shared


@dataclass(frozen=True)
class KinshipResult:
    """KI per locus and combined for one population, with IBS counts."""

    population: str
    relationship: str
    per_locus: dict
    ibs: dict

    @property
    def combined(self) -> float:
        prod = 1.0
        for v in self.per_locus.values():
            prod *= v
        return prod

    @property
    def ibs_total(self) -> int:
        return sum(self.ibs.values())

    @property
    def identical_loci(self) -> int:
        return sum(1 for v in self.ibs.values() if v == 2)


def _usable(alleles) -> bool:
    return bool(alleles) and len(alleles) <= 2 and WILDCARD not in alleles


def compare_kinship(probe, candidate, table, relationship: str, *, loci=None,
                    params: StatsParams | None = None) -> KinshipResult:
    """KI per locus and combined between two single-source profiles in one population.

    Loci typed in both (two alleles at most, no wildcard) and present in the
    table are used; Amelogenin never is.
    """
    params = params or StatsParams()
    k = ibd_coefficients(relationship)
    wanted = loci if loci is not None else [x for x in probe.loci if x in candidate.loci]
    per_locus, ibs = {}, {}
    for locus in wanted:
        g1, g2 = probe.loci.get(locus), candidate.loci.get(locus)
        if locus == AMELOGENIN or not _usable(g1) or not _usable(g2) or not table.has_locus(locus):
            continue
        x1, x2 = x1_x2(g1, g2, lambda a, _l=locus: allele_frequency(table, _l, a, params))
        per_locus[locus] = k[0] + k[1] * x1 + k[2] * x2
        ibs[locus] = ibs_count(g1, g2)
    return KinshipResult(table.name, relationship, per_locus, ibs)
