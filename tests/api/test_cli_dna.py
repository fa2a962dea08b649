"""``biomatch dna import|search|stats|kinship`` and the DNA demo, end to end on a temporary store."""
import json

import pytest

from biomatch.api.cli import main
from biomatch.benchmarks.datasets import data_root
from biomatch.extractors.dna import CODIS_CORE_20, format_cmf, format_genemapper_csv, read_genotype_table

DNA = data_root() / "dna"


@pytest.fixture(scope="module")
def nist():
    return read_genotype_table(DNA / "nist1036_genotypes.csv", agency="NIST")[0]


@pytest.fixture
def db(tmp_path, monkeypatch):
    monkeypatch.setenv("BIOMATCH_HOME", str(tmp_path / "home"))
    return ["--database-url", f"sqlite:///{tmp_path / 'dna.db'}"]


def test_import_search_stats_kinship(tmp_path, db, nist, capsys):
    gallery_csv = tmp_path / "offenders.csv"
    gallery_csv.write_text(format_genemapper_csv(nist[:40]))
    assert main(["dna", "import", str(gallery_csv), *db]) == 0
    assert "imported 40 profiles" in capsys.readouterr().out

    probe = nist[7].restrict(CODIS_CORE_20[:9])
    probe_xml = tmp_path / "probe.xml"
    probe_xml.write_bytes(format_cmf([probe.__class__("CS-7", probe.loci, "forensic_unknown", "LAB")]))
    out_json = tmp_path / "hits.json"
    assert main(["dna", "search", str(probe_xml), "--stringency", "high", "--json", str(out_json), *db]) == 0
    text = capsys.readouterr().out
    assert "CS-7: 1 candidate(s)" in text and nist[7].specimen_id in text
    hits = json.loads(out_json.read_text())["CS-7"]
    assert hits[0]["specimen_id"] == nist[7].specimen_id and len(hits[0]["matched"]) == 9

    assert main(["dna", "stats", str(probe_xml), "--method", "hw"]) == 0
    assert "NIST1036/Cauc" in capsys.readouterr().out

    assert main(["dna", "kinship", str(probe_xml), "--relationship", "parent_child", "--top", "3", *db]) == 0
    assert nist[7].specimen_id in capsys.readouterr().out.splitlines()[1]
    assert main(["dna", "kinship", str(probe_xml), "--against", str(gallery_csv), "--relationship", "full_sib"]) == 0
    assert "IBS 18/18" in capsys.readouterr().out


def test_bad_import_exits_2_and_stores_nothing(tmp_path, db, nist, capsys):
    good = tmp_path / "good.csv"
    good.write_text(format_genemapper_csv(nist[:3]))
    assert main(["dna", "import", str(good), *db]) == 0
    bad = tmp_path / "bad.csv"
    bad.write_text(format_genemapper_csv(nist[3:9]).replace(",TH01,", ",THXX,", 1))
    assert main(["dna", "import", str(bad), *db]) == 2
    assert "error: specimen" in capsys.readouterr().err
    bad.write_text(format_genemapper_csv(nist[3:9]).replace(f"{nist[5].specimen_id},convicted_offender,NIST,no,no,FGA,",
                                                            f"{nist[5].specimen_id},convicted_offender,NIST,no,no,FGA,abc,", 1))
    assert main(["dna", "import", str(bad), *db]) == 2
    assert f"specimen '{nist[5].specimen_id}', locus 'FGA': invalid allele 'abc'" in capsys.readouterr().err
    dup = tmp_path / "dup.csv"
    dup.write_text(format_genemapper_csv(nist[2:6]))
    assert main(["dna", "import", str(dup), *db]) == 2
    assert "already exist" in capsys.readouterr().err
    probe = tmp_path / "p.csv"
    probe.write_text(format_genemapper_csv([nist[4]]))
    assert main(["dna", "search", str(probe), "--stringency", "high", *db]) == 0
    assert ": 0 candidate(s)" in capsys.readouterr().out  # nothing of the failed batches was stored


def test_demo_dna_part(capsys):
    assert main(["demo", "--only", "dna"]) == 0
    out = capsys.readouterr().out
    assert "Moderate stringency: 1 candidate(s)" in out and "HIT" in out and "RMP NIST1036/Cauc" in out


def test_stats_with_a_familias_table(tmp_path, nist, capsys):
    from biomatch.extractors.dna import format_familias, read_frequency_csv

    table = read_frequency_csv(DNA / "str_allele_frequencies.csv", source="norSTR", population="Norway")["norSTR/Norway"]
    fam = tmp_path / "norway.txt"
    fam.write_text(format_familias(table))
    probe = tmp_path / "p.csv"
    probe.write_text(format_genemapper_csv([nist[0]]))
    out = tmp_path / "stats.json"
    assert main(["dna", "stats", str(probe), "--source", "", "--familias", str(fam), "--method", "hw",
                 "--loci", "ess12", "--json", str(out)]) == 0
    assert "norway" in capsys.readouterr().out
    result = json.loads(out.read_text())[nist[0].specimen_id]["norway"]
    assert len(result["per_locus"]) == 12 and 0 < result["rmp"] < 1e-8
