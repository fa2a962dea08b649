"""Synthetic profiles drawn from a frequency table, straight into index codes.

Used by the benchmark (millions of profiles, generated in chunks so memory
stays bounded) and by the kernel tests (random data with untyped loci,
wildcards and rare alleles).
"""
from __future__ import annotations

import numpy as np

from .encoding import WILDCARD_CODE

__all__ = ["locus_samplers", "synthetic_codes"]


def locus_samplers(vocab, table) -> list[tuple[np.ndarray, np.ndarray]]:
    """Per index locus, (codes, cumulative probabilities) from ``table`` (codes added to ``vocab``)."""
    out = []
    for k, locus in enumerate(vocab.loci):
        freqs = table.frequencies.get(locus)
        if not freqs:
            raise ValueError(f"table {table.name} has no frequencies for locus {locus!r}")
        alleles = sorted(freqs)
        codes = np.array([vocab.code(k, a) for a in alleles], np.uint8)
        p = np.array([freqs[a] for a in alleles], float)
        out.append((codes, np.cumsum(p / p.sum())))
    return out


def synthetic_codes(samplers, n: int, rng: np.random.Generator, *, untyped_rate: float = 0.0,
                    wildcard_rate: float = 0.0) -> np.ndarray:
    """Draw ``n`` Hardy-Weinberg genotypes per locus as a ``(n_loci, n, 2)`` narrow shard.

    Parameters
    ----------
    samplers : list from :func:`locus_samplers`
    n : int
    rng : numpy Generator
    untyped_rate : float
        Chance that a locus is untyped (both codes 0).
    wildcard_rate : float
        Chance that an allele is replaced by the wildcard code.
    """
    out = np.zeros((len(samplers), n, 2), np.uint8)
    for k, (codes, cdf) in enumerate(samplers):
        draws = codes[np.minimum(np.searchsorted(cdf, rng.random((n, 2))), len(codes) - 1)]
        if wildcard_rate > 0:
            draws[rng.random((n, 2)) < wildcard_rate] = WILDCARD_CODE
        lo, hi = np.minimum(draws[:, 0], draws[:, 1]), np.maximum(draws[:, 0], draws[:, 1])
        hi[hi == lo] = 0
        if untyped_rate > 0:
            gone = rng.random(n) < untyped_rate
            lo[gone] = 0
            hi[gone] = 0
        out[k, :, 0] = lo
        out[k, :, 1] = hi
    return out
