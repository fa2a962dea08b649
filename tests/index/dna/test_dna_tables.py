"""The first-pass lookup tables (CODIS pass, Prüm mismatch, familial KI) against the numpy references.

Each table is checked on every genotype (a, b) the vocabulary allows, wildcards
included, by scanning a synthetic shard that holds exactly those genotypes at
the table's locus with the plain-numpy reference.
"""
import numpy as np
import pytest

from biomatch.benchmarks.datasets import data_root
from biomatch.extractors.dna import StrProfile, load_population_tables, read_genotype_table
from biomatch.index.dna import DnaIndex, prepare_probes
from biomatch.index.dna import _kernels as K
from biomatch.index.dna.encoding import WILDCARD_CODE
from biomatch.index.dna.familial import ki_lookup, prepare_familial
from biomatch.index.dna.reference import codis_reference, familial_reference, prum_reference
from biomatch.index.dna.search import _n_codes

DNA = data_root() / "dna"


@pytest.fixture(scope="module")
def setting():
    profiles, _ = read_genotype_table(DNA / "nist1036_genotypes.csv")
    index = DnaIndex()
    index.add(np.arange(300), profiles[:300])
    p = profiles[400]
    probes = [p, StrProfile("H", {k: v[:1] for k, v in p.loci.items()}),
              StrProfile("M", {k: tuple(set(v) | {"11", "13"}) for k, v in p.loci.items()}, mixture=True),
              StrProfile("W", {k: (v[0], "*") for k, v in p.loci.items()}),
              StrProfile("U", {k: ("99.3", v[0]) for k, v in p.loci.items()})]
    return index, probes


def all_pairs(index, k):
    """A (L, n, 2) shard holding every genotype of locus k once (other loci untyped), and the pair16 values."""
    codes = list(range(1, index.vocab.n_codes(k))) + [WILDCARD_CODE]
    pairs = [(a, 0) for a in codes] + [(a, b) for a in codes for b in codes if a < b]
    shard = np.zeros((len(index.params.loci), len(pairs), 2), np.uint8)
    shard[k, :, :] = pairs
    return shard, np.array([a | (b << 8) for a, b in pairs])


@pytest.mark.parametrize("stringency", [0, 1, 2])
def test_codis_pass_tables(setting, stringency):
    index, probes = setting
    pp = prepare_probes(index, probes, ("high", "moderate", "low")[stringency])
    tables = np.zeros((len(probes), 2, 65536), np.uint8)
    K.codis_pass_tables(pp.member, pp.alleles, pp.n, pp.order, pp.n_loci, _n_codes(index), stringency, tables)
    for q in range(len(probes)):
        for t in range(2):
            k = pp.order[q, t]
            shard, v = all_pairs(index, k)
            n = shard.shape[1]
            order = np.zeros_like(pp.order[q:q + 1])
            order[0, 0] = k
            (hit, _), = codis_reference(shard, np.ones(n, np.uint8), np.zeros(n, np.uint16), pp.member[q:q + 1],
                                        pp.alleles[q:q + 1], pp.n[q:q + 1], order, np.array([1]),
                                        np.ones((1, 256), bool), np.ones((1, 1), bool), stringency, 1)
            passes = np.zeros(n, bool)
            passes[hit] = True
            assert np.array_equal(tables[q, t, v] == 0, passes)


def test_prum_mismatch_tables(setting):
    index, probes = setting
    probes = [p for p in probes if p.specimen_id != "M"]
    pp = prepare_probes(index, probes, "prum")
    tables = np.zeros((len(probes), 3, 65536), np.uint8)
    K.prum_mismatch_tables(pp.pair, pp.order, pp.n_loci, _n_codes(index), tables)
    for q in range(len(probes)):
        for t in range(3):
            k = pp.order[q, t]
            shard, v = all_pairs(index, k)
            n = shard.shape[1]
            order = np.zeros_like(pp.order[q:q + 1])
            order[0, 0] = k
            (hit, _, mism), = prum_reference(shard, np.ones(n, np.uint8), np.zeros(n, np.uint16), pp.pair[q:q + 1],
                                             pp.full[q:q + 1], order, np.array([1]), np.ones((1, 256), bool),
                                             np.ones((1, 1), bool), 0, 2)
            assert hit.tolist() == list(range(n))
            assert np.array_equal(tables[q, t, v], mism)


@pytest.mark.parametrize("relationship", ["parent_child", "full_sib", "half_sib"])
def test_ki_tables(setting, relationship):
    index, probes = setting
    pops = load_population_tables(DNA / "str_allele_frequencies.csv", "NIST1036")
    for probe in (probes[0], probes[1], probes[4]):
        fp = prepare_familial(index, probe, pops, relationship)
        tables, offsets, limits, _ = ki_lookup(fp, _n_codes(index))
        for t, k in enumerate(fp.loci[:4]):
            shard, v = all_pairs(index, k)
            n = shard.shape[1]
            scores, idx = familial_reference(shard, np.ones(n, np.uint8), np.zeros(n, np.uint16),
                                             np.ones(256, bool), np.ones(1, bool), np.array([k]), fp.pair, fp.g[:1],
                                             *fp.k, 0.0, n)
            want = np.empty(n)
            want[idx] = scores
            got = tables[offsets[t] + np.minimum(v, limits[t])]
            assert np.array_equal(got, want)
