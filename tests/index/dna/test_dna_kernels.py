"""Every DNA kernel against its plain-numpy reference, on random and on real data."""
import numpy as np
import pytest

from biomatch.benchmarks.datasets import data_root
from biomatch.extractors.dna import CODIS_CORE_20, SearchParams, StrProfile, read_frequency_csv, read_genotype_table
from biomatch.index.dna import DnaIndex, prepare_probes
from biomatch.index.dna import _kernels_familial as K
from biomatch.index.dna.familial import ki_lookup, prepare_familial
from biomatch.index.dna.reference import codis_reference, familial_reference, prum_reference
from biomatch.index.dna.search import _codis_shard, _n_codes, _prum_shard
from biomatch.index.dna.synthetic import locus_samplers, synthetic_codes

DNA = data_root() / "dna"


@pytest.fixture(scope="module")
def tables():
    t = read_frequency_csv(DNA / "str_allele_frequencies.csv", source="NIST1036")
    return {k: v for k, v in t.items() if not k.endswith("/All")}, t["NIST1036/All"]


def random_index(all_table, n=6000, seed=1):
    # Tiny blocks and a one-hit capacity force the overflow rescan path too.
    index = DnaIndex(SearchParams(block_size=256, hit_capacity=1, min_compared_loci=4, prum_min_loci=4))
    rng = np.random.default_rng(seed)
    samplers = locus_samplers(index.vocab, all_table)
    codes = synthetic_codes(samplers, n, rng, untyped_rate=0.15, wildcard_rate=0.01)
    cats = rng.integers(0, 8, n).astype(np.uint8)  # 0 = deleted rows too
    for a in ("A", "B", "C"):
        index.agency_code(a)
    index.add_codes(np.arange(n) * 3 + 7, codes, cats, rng.integers(0, 3, n))
    # A wide shard too: mixtures and tri-allelic profiles (3 to 5 alleles at some loci).
    extra = ["9", "10", "11", "12", "13", "14", "15", "16", "17", "18", "20", "22"]
    wide = []
    for j in range(400):
        loci = dict(index.decode(index.narrow, j))
        for locus in list(loci)[::3]:
            loci[locus] = tuple(dict.fromkeys(loci[locus] + tuple(rng.choice(extra, 3))))
        wide.append(StrProfile(f"W{j}", loci, category=int(rng.integers(1, 8)), agency="B", mixture=True))
    index.add(np.arange(400) + 10**6, wide)
    assert index.wide.n == 400
    return index, rng


def random_probes(index, rng, q=8):
    """Probes from database rows, degraded: loci dropped, alleles dropped, extra alleles, wildcards."""
    probes = []
    for j in range(q):
        shard = index.wide if (j == 1 and index.wide.n) else index.narrow  # probe 1 copies a wide row
        i = int(rng.integers(shard.n))
        loci = dict(index.decode(shard, i))
        for locus in list(loci) if j >= 2 else ():  # the first two probes are exact copies
            r = rng.random()
            if r < 0.2:
                del loci[locus]
            elif r < 0.3:
                loci[locus] = loci[locus][:1]
            elif r < 0.35 and j % 2:
                loci[locus] = tuple(loci[locus]) + ("11", "12", "30")
            elif r < 0.38:
                loci[locus] = ("*",)
        probes.append(StrProfile(f"P{j}", loci or {"TH01": ("6",)}, category="forensic_unknown", mixture=True))
    return probes


def as_sets(pairs_by_probe):
    return {(q, *map(int, row)) for q, cols in enumerate(pairs_by_probe) for row in zip(*cols)}


@pytest.mark.parametrize("stringency", [0, 1, 2])
def test_codis_kernel_matches_reference_random(tables, stringency):
    index, rng = random_index(tables[1])
    probes = random_probes(index, rng)
    pp = prepare_probes(index, probes)
    cat_ok = np.tile(index.category_filter(None), (len(probes), 1))
    cat_ok[::3, 2] = False
    agency_ok = np.tile(index.agency_filter(None), (len(probes), 1))
    agency_ok[2::4, 1] = False
    for sh, min_loci in ((s, m) for s in index.shards for m in (1, 4, 12)):
        idx, qq, ncmp = _codis_shard(sh, pp, cat_ok, agency_ok, stringency, min_loci, 256, 1, _n_codes(index))
        got = {(int(q), int(i), int(c)) for q, i, c in zip(qq, idx, ncmp)}
        ref = codis_reference(sh.codes, sh.cats, sh.agencies, pp.member, pp.alleles, pp.n, pp.order, pp.n_loci,
                              cat_ok, agency_ok, stringency, min_loci)
        want = {(q, int(i), int(c)) for q, (hit, cmp) in enumerate(ref) for i, c in zip(hit, cmp)}
        assert got == want
        assert len(want) > 0 or min_loci == 12


def test_prum_kernel_matches_reference_random(tables):
    index, rng = random_index(tables[1], seed=2)
    probes = random_probes(index, rng)
    pp = prepare_probes(index, probes)
    cat_ok = np.tile(index.category_filter(None), (len(probes), 1))
    agency_ok = np.tile(index.agency_filter(None), (len(probes), 1))
    for sh, (min_loci, max_mm) in ((s, m) for s in index.shards for m in ((2, 1), (4, 0), (6, 1))):
        got = _prum_shard(sh, pp, cat_ok, agency_ok, min_loci, max_mm, 256, 1, _n_codes(index))
        got = {(int(q), int(i), int(c), int(m)) for i, q, c, m in zip(*got)}
        ref = prum_reference(sh.codes, sh.cats, sh.agencies, pp.pair, pp.full, pp.order, pp.n_loci, cat_ok,
                             agency_ok, min_loci, max_mm)
        want = {(q, int(i), int(c), int(m)) for q, r in enumerate(ref) for i, c, m in zip(*r)}
        assert got == want and (len(want) > 0 or sh is index.wide)


@pytest.mark.parametrize("relationship", ["parent_child", "full_sib", "half_sib"])
def test_familial_kernel_matches_reference_random(tables, relationship):
    index, rng = random_index(tables[1], seed=3)
    probe = StrProfile("F", index.decode(index.narrow, 17))
    fp = prepare_familial(index, probe, tables[0], relationship)
    cat_ok, agency_ok = index.category_filter(None), index.agency_filter(["A", "B"])
    for sh, top, min_ki, n_chunks, narrow_kernel in (
            (s, t, m, c, nk) for s in index.shards for t, m in ((25, 0.0), (5, 1.0)) for c in (1, 7)
            for nk in ((False, True) if s is index.narrow else (False,))):
        scores = np.full((n_chunks, top), -1.0)
        idx = np.full((n_chunks, top), -1, np.int64)
        counts = np.zeros(n_chunks, np.int64)
        if narrow_kernel:
            codes, pair16, cats, agencies = sh.kernel_arrays()
            tables, offsets, limits, bound = ki_lookup(fp, _n_codes(index))
            first_check = 0 if n_chunks == 7 else len(fp.loci)  # with and without pruning
            K.familial_narrow_scan(codes, pair16, cats, agencies, sh.n, cat_ok, agency_ok, fp.loci, fp.pair, fp.g,
                                   *fp.k, tables, offsets, limits, bound, first_check, min_ki, n_chunks, 300, scores,
                                   idx, counts)
        else:
            K.familial_scan(sh.codes, sh.cats, sh.agencies, cat_ok, agency_ok, fp.loci, fp.pair, fp.g, *fp.k,
                            min_ki, n_chunks, scores, idx, counts)
        got = sorted(((-s, i) for c in range(n_chunks) for s, i in zip(scores[c, :counts[c]], idx[c, :counts[c]])))
        got = got[:top]
        ref_s, ref_i = familial_reference(sh.codes, sh.cats, sh.agencies, cat_ok, agency_ok, fp.loci, fp.pair,
                                          fp.g, *fp.k, min_ki, top)
        assert [i for _, i in got] == ref_i.tolist()
        assert [-s for s, _ in got] == ref_s.tolist()  # bit-identical arithmetic
        assert len(got) > 0


@pytest.fixture(scope="module")
def nist_index():
    profiles, _ = read_genotype_table(DNA / "nist1036_genotypes.csv")
    index = DnaIndex()
    index.add(np.arange(len(profiles)), profiles)
    return index, profiles


def test_kernels_match_reference_on_real_profiles(nist_index):
    index, profiles = nist_index
    rng = np.random.default_rng(5)
    probes = [profiles[i].restrict(rng.choice(CODIS_CORE_20, 9, replace=False)) for i in range(0, 1036, 97)]
    pp = prepare_probes(index, probes)
    cat_ok = np.tile(index.category_filter(None), (len(probes), 1))
    agency_ok = np.tile(index.agency_filter(None), (len(probes), 1))
    sh = index.narrow
    for stringency in (0, 1, 2):
        got = _codis_shard(sh, pp, cat_ok, agency_ok, stringency, 5, 128, 1, _n_codes(index))
        ref = codis_reference(sh.codes, sh.cats, sh.agencies, pp.member, pp.alleles, pp.n, pp.order, pp.n_loci,
                              cat_ok, agency_ok, stringency, 5)
        assert {(int(q), int(i)) for i, q, _ in zip(*got)} == {(q, int(i)) for q, (h, _) in enumerate(ref) for i in h}
    got = _prum_shard(sh, pp, cat_ok, agency_ok, 6, 1, 128, 1, _n_codes(index))
    ref = prum_reference(sh.codes, sh.cats, sh.agencies, pp.pair, pp.full, pp.order, pp.n_loci, cat_ok, agency_ok, 6, 1)
    assert {(int(q), int(i), int(m)) for i, q, _, m in zip(*got)} == {
        (q, int(i), int(m)) for q, (h, _, mm) in enumerate(ref) for i, m in zip(h, mm)}
