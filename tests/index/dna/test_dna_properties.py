"""Property test: the index's searches equal the pairwise rules of the matcher on random small databases."""
import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from biomatch.extractors.dna import CODIS_CORE_20, SearchParams, StrProfile
from biomatch.index.dna import DnaIndex, search, search_prum
from biomatch.matcher.dna import compare_profiles

LOCI = CODIS_CORE_20[:6]
ALLELES = ["8", "9", "9.3", "10", "11", "<8", "*"]


@st.composite
def profiles(draw, name):
    loci = {}
    for locus in LOCI:
        n = draw(st.integers(0, 4))
        if n:
            loci[locus] = tuple(draw(st.lists(st.sampled_from(ALLELES), min_size=n, max_size=n)))
    if not loci:
        loci[LOCI[0]] = ("9",)
    return StrProfile(name, loci, category="convicted_offender", mixture=True)


@settings(max_examples=60, deadline=None)
@given(st.lists(profiles("C"), min_size=1, max_size=25), profiles("P"), st.integers(1, 4))
def test_search_equals_pairwise_rules(database, probe, min_loci):
    index = DnaIndex(SearchParams(loci=LOCI, min_compared_loci=1, prum_min_loci=1, block_size=256, hit_capacity=1))
    index.add(np.arange(len(database)), database)
    probe = StrProfile("P", probe.loci, category="forensic_unknown", mixture=True)
    for rule in ("high", "moderate", "low"):
        (hits,) = search(index, [probe], stringency=rule, min_loci=min_loci)
        want = set()
        for i, c in enumerate(database):
            cmp = compare_profiles(probe, c, rule, LOCI)
            if not cmp.differed and cmp.n_compared >= min_loci:
                want.add((i, cmp.n_compared))
        assert {(h.id, h.n_compared) for h in hits} == want, rule
    for max_mm in (0, 1):
        (hits,) = search_prum(index, [probe], min_loci=min_loci, max_mismatches=max_mm)
        want = set()
        for i, c in enumerate(database):
            cmp = compare_profiles(probe, c, "prum", LOCI)
            if cmp.mismatches <= max_mm and cmp.fully_designated >= min_loci:
                want.add((i, cmp.mismatches))
        assert {(h.id, h.n_mismatches) for h in hits} == want, max_mm
