"""Every value of dna/worked_examples.csv reproduced from the shared tables and profiles."""
import csv
import math

import numpy as np
import pytest

from biomatch.benchmarks.datasets import data_root
from biomatch.extractors.dna import (CODIS_CORE_20, StatsParams, StrProfile, read_control_profiles,
                                     read_frequency_csv, read_genotype_table)
from biomatch.index.dna import DnaIndex
from biomatch.matcher.dna import compare_kinship, ibs_count, kinship_index, random_match_probability

DNA = data_root() / "dna"
ROWS = list(csv.DictReader((DNA / "worked_examples.csv").read_text(encoding="utf-8").splitlines()))
METHOD = {"RMP_HW": ("hw", 0.0), "RMP_NRC4.1_theta0.01": ("nrc4.1", 0.01),
          "CMP_NRC4.10_theta0.01": ("nrc4.10", 0.01), "CMP_NRC4.10_theta0.03": ("nrc4.10", 0.03)}
KI = {"KI_PO": "parent_child", "KI_FS": "full_sib", "KI_HS": "half_sib"}


def agrees(value: float, printed: str) -> bool:
    """Equal to rel. error 1e-9, or, where the file prints fewer digits than that, to its last printed digit."""
    expected = float(printed)
    if expected == 0:
        return value == 0
    if abs(value - expected) <= 1e-9 * abs(expected):
        return True
    digits = len(printed.lower().split("e")[0].replace(".", "").replace("-", "").lstrip("0"))
    return float(f"{value:.{digits}g}") == expected


@pytest.fixture(scope="module")
def cauc():
    return read_frequency_csv(DNA / "str_allele_frequencies.csv", source="NIST1036", population="Cauc")["NIST1036/Cauc"]


@pytest.fixture(scope="module")
def m2800():
    return read_control_profiles(DNA / "control_dna_profiles.csv")["2800M"]


@pytest.mark.parametrize("row", [r for r in ROWS if r["example"].startswith("2800M")],
                         ids=lambda r: f"{r['locus']}-{r['quantity']}")
def test_rmp_rows(row, cauc, m2800):
    method, theta = METHOD[row["quantity"]]
    loci = CODIS_CORE_20 if row["locus"] == "ALL_20_CODIS" else [row["locus"]]
    stats = random_match_probability(m2800, cauc, method=method, theta=theta, loci=loci)
    assert len(stats.loci) == len(loci) and not stats.skipped
    if row["genotype"]:
        assert "/".join(stats.loci[0].genotype) == row["genotype"]
    assert agrees(stats.rmp, row["value"]), (stats.rmp, row["value"])
    assert math.isclose(stats.lr, 1 / stats.rmp)


@pytest.mark.parametrize("row", [r for r in ROWS if r["example"].startswith("KI_TH01")],
                         ids=lambda r: f"{r['genotype']}-{r['quantity']}")
def test_kinship_rows(row, cauc, m2800):
    other = StrProfile("X", {"TH01": row["genotype"].split("/")})
    result = compare_kinship(m2800, other, cauc, KI[row["quantity"]], loci=["TH01"])
    assert agrees(result.combined, row["value"])
    # symmetric in the two genotypes
    back = compare_kinship(other, m2800, cauc, KI[row["quantity"]], loci=["TH01"])
    assert math.isclose(back.combined, result.combined, rel_tol=1e-12)


def test_forrel_paternity_row():
    (row,) = [r for r in ROWS if r["example"].startswith("forrel")]
    ki = kinship_index(("A",), ("A",), lambda a: 0.05, "parent_child")
    assert agrees(ki, row["value"])


def test_pairwise_identical_loci_distribution_and_ibs():
    profiles, _ = read_genotype_table(DNA / "nist1036_genotypes.csv")
    index = DnaIndex()
    index.add(np.arange(len(profiles)), profiles)
    codes = index.narrow.codes.astype(np.int16)  # (20, 1036, 2)
    n = codes.shape[1]
    iu = np.triu_indices(n, 1)
    identical = np.zeros(len(iu[0]), np.int64)
    for k in range(codes.shape[0]):
        pair = codes[k, :, 0] * 256 + codes[k, :, 1]
        typed = codes[k, :, 0] != 0
        identical += (pair[iu[0]] == pair[iu[1]]) & typed[iu[0]] & typed[iu[1]]
    rows = {r["quantity"]: r for r in ROWS if r["example"] == "NIST1036_all_pairs_20CODIS"}
    assert len(identical) == int(rows["pairs_total"]["value"])
    spec = dict(item.split(":") for item in rows["pairs_with_0..10_identical_genotype_loci"]["value"].split(";"))
    for key, count in spec.items():
        got = int((identical > 10).sum()) if key == ">10" else int((identical == int(key)).sum())
        assert got == int(count), key
    by_id = {p.specimen_id: p for p in profiles}
    for row in (r for r in ROWS if r["quantity"] == "identical_loci/IBS_of_40"):
        a, b = (by_id[s] for s in row["genotype"].split("~"))
        ibs = {k: ibs_count(a.loci[k], b.loci[k]) for k in CODIS_CORE_20}
        same = sum(a.loci[k] == b.loci[k] for k in CODIS_CORE_20)
        assert f"{same}/{sum(ibs.values())}" == row["value"]


def test_frequency_floor_and_absent_alleles(cauc):
    p = StrProfile("R", {"TH01": ["5", "13.3"]})  # 5 seen once in 722; 13.3 absent
    stats = random_match_probability(p, cauc, method="hw", loci=["TH01"])
    floor = 5 / 722
    assert stats.loci[0].frequencies == (floor, floor)
    assert math.isclose(stats.rmp, 2 * floor * floor, rel_tol=1e-15)
    common = StrProfile("C", {"TH01": ["6", "13.3"]})
    lower = random_match_probability(common, cauc, method="hw", params=StatsParams(min_allele_count=1))
    assert lower.loci[0].frequencies == (0.235457, 1 / 722)
    skipped = random_match_probability(StrProfile("S", {"TH01": ["6", "*"], "AMEL": ["X"]}), cauc)
    assert set(skipped.skipped) == {"TH01", "AMEL"} and skipped.rmp == 1.0


def test_two_p_rule_for_possible_dropout(cauc):
    p = StrProfile("D", {"TH01": ["6"], "FGA": ["20", "23"]})
    plain = random_match_probability(p, cauc, method="nrc4.10", loci=["TH01"])
    two_p = random_match_probability(p, cauc, method="nrc4.10", loci=["TH01", "FGA"], two_p=["TH01"])
    assert two_p.loci[0].probability == 2 * 0.235457 and plain.loci[0].probability < two_p.loci[0].probability
    assert two_p.loci[1].probability == random_match_probability(p, cauc, method="nrc4.10", loci=["FGA"]).rmp


def test_cpi_for_mixtures(cauc):
    from biomatch.matcher.dna import combined_probability_of_inclusion

    mix = StrProfile("MIX", {"TH01": ["6", "7", "9.3"], "CSF1PO": ["12"]}, mixture=True)
    cpi = combined_probability_of_inclusion(mix, cauc)
    by_locus = {s.locus: s.probability for s in cpi.loci}
    assert math.isclose(by_locus["TH01"], (0.235457 + 0.193906 + 0.344875) ** 2, rel_tol=1e-15)
    assert math.isclose(by_locus["CSF1PO"], 0.360111 ** 2, rel_tol=1e-15)
    assert math.isclose(cpi.rmp, by_locus["TH01"] * by_locus["CSF1PO"], rel_tol=1e-15)
