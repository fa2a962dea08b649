"""Searches on the real NIST 1036 genotypes: self matches, degraded partials, mixtures, Prüm, filters."""
import numpy as np
import pytest

from biomatch.benchmarks.datasets import data_root
from biomatch.extractors.dna import CODIS_CORE_20, StrProfile, read_genotype_table
from biomatch.index.dna import DnaIndex, search, search_prum
from biomatch.matcher.dna import compare_profiles

DNA = data_root() / "dna"


@pytest.fixture(scope="module")
def nist():
    profiles, _ = read_genotype_table(DNA / "nist1036_genotypes.csv", agency="NIST")
    index = DnaIndex()
    index.add(np.arange(len(profiles)) + 100, profiles)
    return index, profiles


def degrade(profile, rng, keep_loci=10, drop_alleles=3, specimen="CS"):
    loci = rng.choice([k for k in CODIS_CORE_20 if k in profile.loci], keep_loci, replace=False)
    kept = {k: profile.loci[k] for k in loci}
    hets = [k for k, v in kept.items() if len(v) == 2]
    for k in rng.choice(hets, min(drop_alleles, len(hets)), replace=False):
        kept[k] = (kept[k][int(rng.integers(2))],)
    return StrProfile(specimen, kept, category="forensic_unknown")


def test_every_genotype_finds_itself_and_no_other_at_high(nist):
    index, profiles = nist
    results = search(index, profiles, stringency="high", categories=["convicted_offender"])
    assert [[h.id for h in r] for r in results] == [[i + 100] for i in range(len(profiles))]
    assert all(r[0].n_compared == (19 if p.specimen_id == "OT05588" else 20) for r, p in zip(results, profiles))


def test_degraded_partials_found_at_moderate(nist):
    index, profiles = nist
    rng = np.random.default_rng(11)
    picks = rng.choice(len(profiles), 60, replace=False)
    probes = [degrade(profiles[i], rng) for i in picks]
    results = search(index, probes, stringency="moderate")
    for i, r in zip(picks, results):
        assert i + 100 in [h.id for h in r]
    # Dropped alleles make the degraded probe fail at high stringency.
    high = search(index, probes, stringency="high")
    assert all(i + 100 not in [h.id for h in r] for i, r in zip(picks, high))


def test_two_person_mixture_finds_both_contributors(nist):
    index, profiles = nist
    for a, b in ((3, 700), (10, 20), (500, 1001)):
        loci = {k: tuple(set(profiles[a].loci[k]) | set(profiles[b].loci[k]))
                for k in CODIS_CORE_20 if k in profiles[a].loci and k in profiles[b].loci}
        mixture = StrProfile(f"MIX{a}-{b}", loci, category="forensic_mixture").validate()
        (hits,) = search(index, [mixture], stringency="moderate")
        ids = {h.id for h in hits}
        assert {a + 100, b + 100} <= ids
        # every hit really satisfies the rule, locus by locus
        for h in hits:
            c = compare_profiles(mixture, profiles[h.id - 100], "moderate", CODIS_CORE_20)
            assert not c.differed and c.n_compared == h.n_compared


def test_kernel_hits_equal_pairwise_rule_on_real_data(nist):
    index, profiles = nist
    rng = np.random.default_rng(3)
    probes = [degrade(profiles[i], rng, keep_loci=8, drop_alleles=2, specimen=f"P{i}") for i in range(0, 1036, 150)]
    for rule in ("high", "moderate", "low"):
        results = search(index, probes, stringency=rule, min_loci=8)
        for probe, r in zip(probes, results):
            brute = {i + 100 for i, p in enumerate(profiles)
                     if (c := compare_profiles(probe, p, rule, CODIS_CORE_20)).n_compared >= 8 and not c.differed}
            assert {h.id for h in r} == brute


def test_prum_full_and_near_matches(nist):
    index, profiles = nist
    p = profiles[42]
    loci = {k: p.loci[k] for k in CODIS_CORE_20[:8]}
    het = next(k for k, v in loci.items() if len(v) == 2)
    near = dict(loci)
    near[het] = (near[het][0], "99.1" if near[het][0] != "99.1" else "98.1")  # one allele differs
    wild = dict(loci)
    wild[het] = (wild[het][0], "*")
    full, one_off, with_wild = search_prum(index, [StrProfile("A", loci), StrProfile("B", near), StrProfile("C", wild)])
    assert (full[0].id, full[0].n_mismatches, full[0].n_compared) == (142, 0, 8)
    assert [(h.id, h.n_mismatches) for h in one_off if h.id == 142] == [(142, 1)]
    assert (with_wild[0].id, with_wild[0].n_mismatches, with_wild[0].n_compared) == (142, 0, 7)
    none = search_prum(index, [StrProfile("B", near)], max_mismatches=0)[0]
    assert 142 not in [h.id for h in none]
    c = compare_profiles(StrProfile("B", near), p, "prum")
    assert c.differed == (het,) and c.mismatches == 1


def test_category_agency_filters_and_removal(nist):
    index, profiles = nist
    probe = profiles[7]
    assert search(index, [probe], stringency="high", categories=["arrestee"]) == [[]]
    assert search(index, [probe], stringency="high", agencies=["OTHER"]) == [[]]
    assert [h.id for h in search(index, [probe], stringency="high", agencies=["NIST"])[0]] == [107]
    with pytest.raises(ValueError, match="stringency"):
        search(index, [probe], stringency="medium")
    local = DnaIndex()
    local.add([1, 2], profiles[:2])
    assert local.remove([1]) == 1 and len(local) == 1
    assert search(local, [profiles[0]], stringency="high") == [[]]


def test_ids_implicit_then_explicit(nist):
    _, profiles = nist
    index = DnaIndex(capacity=2)
    index.add([5, 6, 7], profiles[:3])
    assert index.narrow._ids is None and index.nbytes() == 3 * 43
    index.add([10, 11], profiles[3:5])  # a gap: ids become explicit
    assert index.narrow.ids.tolist() == [5, 6, 7, 10, 11] and index.nbytes() == 5 * 47
    assert [h.id for r in search(index, profiles[:5], stringency="high") for h in r] == [5, 6, 7, 10, 11]
    assert index.remove([10]) == 1 and search(index, [profiles[3]], stringency="high") == [[]]
    with pytest.raises(ValueError, match="profile ids must be in"):
        index.add([-1], profiles[:1])
