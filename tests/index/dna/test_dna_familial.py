"""Familial search on the real NIST 1036 genotypes with simulated relatives."""
import math

import numpy as np
import pytest

from biomatch.benchmarks.datasets import data_root
from biomatch.extractors.dna import CODIS_CORE_20, StrProfile, load_population_tables, read_genotype_table
from biomatch.index.dna import DnaIndex
from biomatch.index.dna.familial import familial_search
from biomatch.matcher.dna import compare_kinship

DNA = data_root() / "dna"


def child_of(mother, father, rng, name):
    loci = {}
    for k in CODIS_CORE_20:
        if k in mother.loci and k in father.loci:
            m, f = mother.loci[k], father.loci[k]
            loci[k] = (m[int(rng.integers(len(m)))], f[int(rng.integers(len(f)))])
    return StrProfile(name, loci, category="forensic_unknown")


@pytest.fixture(scope="module")
def setting():
    profiles, _ = read_genotype_table(DNA / "nist1036_genotypes.csv")
    rng = np.random.default_rng(8)
    child = child_of(profiles[10], profiles[600], rng, "CHILD")
    sib = child_of(profiles[10], profiles[600], rng, "SIB")
    sib = StrProfile("SIB", sib.loci, category="convicted_offender")
    index = DnaIndex()
    index.add(np.arange(len(profiles)), profiles)
    index.add([5000], [sib])
    pops = load_population_tables(DNA / "str_allele_frequencies.csv", "NIST1036")
    return index, profiles, child, sib, pops


def test_parents_rank_first_for_parent_child(setting):
    index, profiles, child, _, pops = setting
    ranked = familial_search(index, child, pops, relationship="parent_child", top=10)
    assert {c.id for c in ranked[:2]} == {10, 600} and all(c.ki > 0 for c in ranked)
    assert all(c.ki == min(c.ki_by_population.values()) for c in ranked)
    for c in ranked[:2]:
        for name, table in pops.items():
            want = compare_kinship(child, profiles[c.id], table, "parent_child", loci=CODIS_CORE_20).combined
            assert math.isclose(c.ki_by_population[name], want, rel_tol=1e-12)


def test_sibling_ranks_first_for_full_sib(setting):
    index, _, child, sib, pops = setting
    ranked = familial_search(index, child, pops, relationship="full_sib", top=5)
    assert ranked[0].id == 5000 and ranked[0].ki > 1000 * ranked[2].ki
    assert [c.ki for c in ranked] == sorted((c.ki for c in ranked), reverse=True)
    half = familial_search(index, child, pops, relationship="half_sib", top=3, min_ki=1.0)
    assert all(c.ki >= 1.0 for c in half)
    none = familial_search(index, child, pops, relationship="full_sib", top=5, categories=["arrestee"])
    assert none == []
    with pytest.raises(ValueError, match="relationship"):
        familial_search(index, child, pops, relationship="cousin")
