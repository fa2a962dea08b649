"""Compact per-locus allele codes for the DNA index.

Layout
------
Every searchable locus has its own vocabulary: allele designation -> code
``1..253`` (assigned on first sight, never reused). Code ``0`` is "no
allele" (padding, or the whole locus untyped), ``254`` is the wildcard and
``255`` (probes only) an allele the database has never seen.
A shard of ``n`` profiles of width ``W`` is a ``(n_loci, n, W)`` uint8 array
(locus-major, so a scan that exits early reads one locus column at a time):

* the narrow shard (``W = 2``, 40 bytes a profile on the CODIS 20) holds every
  profile with at most two alleles per locus: a heterozygote as ``(a, b)``
  with ``a < b``, a homozygote as ``(a, 0)``, an untyped locus as ``(0, 0)``;
* the wide shard (``W = 8``) holds tri-allelic profiles and mixtures, sorted
  codes followed by zeros.
"""
from __future__ import annotations

import numpy as np

from biomatch.extractors.dna.alleles import WILDCARD

__all__ = ["WILDCARD_CODE", "UNSEEN_CODE", "MAX_CODE", "NARROW", "WIDE", "LocusVocabulary", "encode_profiles", "width_of"]

WILDCARD_CODE = 254
#: A probe allele the database has never seen: matches nothing.
UNSEEN_CODE = 255
MAX_CODE = 253
NARROW, WIDE = 2, 8


class LocusVocabulary:
    """Allele designation <-> uint8 code, one table per searchable locus.

    Parameters
    ----------
    loci : sequence of str
        The index panel (canonical names), in index order.
    """

    def __init__(self, loci):
        self.loci = tuple(loci)
        self.position = {name: i for i, name in enumerate(self.loci)}
        self._codes: list[dict[str, int]] = [{} for _ in self.loci]
        self._alleles: list[list[str]] = [[""] for _ in self.loci]

    def code(self, k: int, allele: str, *, add: bool = True) -> int:
        """Code of ``allele`` at locus number ``k``; 255 when unknown and ``add`` is false."""
        if allele == WILDCARD:
            return WILDCARD_CODE
        table = self._codes[k]
        c = table.get(allele)
        if c is None:
            if not add:
                return UNSEEN_CODE
            c = len(self._alleles[k])
            if c > MAX_CODE:
                raise ValueError(f"locus {self.loci[k]!r}: more than {MAX_CODE} distinct alleles")
            table[allele] = c
            self._alleles[k].append(allele)
        return c

    def allele(self, k: int, code: int) -> str:
        """Designation of ``code`` at locus number ``k``."""
        return WILDCARD if code == WILDCARD_CODE else self._alleles[k][code]

    def n_codes(self, k: int) -> int:
        return len(self._alleles[k])

    def to_dict(self) -> dict:
        return {"loci": list(self.loci), "alleles": [a[1:] for a in self._alleles]}

    @classmethod
    def from_dict(cls, d) -> "LocusVocabulary":
        vocab = cls(d["loci"])
        for k, alleles in enumerate(d["alleles"]):
            for a in alleles:
                vocab.code(k, a)
        return vocab


def width_of(profile, loci) -> int:
    """Shard width a profile needs: 2, or 8 for tri-allelic loci and mixtures."""
    return NARROW if all(len(profile.loci.get(k, ())) <= NARROW for k in loci) else WIDE


def encode_profiles(profiles, vocab: LocusVocabulary, width: int, *, add: bool = True) -> np.ndarray:
    """Encode profiles into a ``(n_loci, n, width)`` uint8 shard.

    Parameters
    ----------
    profiles : sequence of StrProfile
    vocab : LocusVocabulary
        Extended with new alleles when ``add`` (enrolment); for probes use
        ``add=False``: an allele never seen in the database gets code 255
        and so matches nothing (it still counts as an allele).
    width : int
        2 or 8.

    Returns
    -------
    codes : (n_loci, n, width) uint8

    Raises
    ------
    ValueError
        If a profile has more alleles at a locus than ``width``.
    """
    n_loci = len(vocab.loci)
    out = np.zeros((n_loci, len(profiles), width), np.uint8)
    for i, p in enumerate(profiles):
        for k, locus in enumerate(vocab.loci):
            alleles = p.loci.get(locus)
            if not alleles:
                continue
            if len(alleles) > width:
                raise ValueError(f"specimen {p.specimen_id!r}, locus {locus!r}: {len(alleles)} alleles exceed width {width}")
            codes = sorted(vocab.code(k, a, add=add) for a in alleles)
            out[k, i, :len(codes)] = codes
    return out
