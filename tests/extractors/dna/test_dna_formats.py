"""GeneMapper CSV, CODIS CMF XML and frequency-table readers on the shared real data."""
import pytest

from biomatch.benchmarks.datasets import data_root
from biomatch.extractors.dna import (
    ProfileError, format_cmf, format_familias, format_genemapper_csv, parse_cmf, parse_familias,
    parse_genemapper_csv, read_cmf, read_control_profiles, read_frequency_csv, read_genotype_table, write_cmf,
)

DNA = data_root() / "dna"


@pytest.fixture(scope="module")
def nist():
    return read_genotype_table(DNA / "nist1036_genotypes.csv")


def test_nist_genotypes(nist):
    profiles, pops = nist
    assert len(profiles) == 1036 and len(set(pops.values())) == 4
    untyped = {p.specimen_id: p for p in profiles}
    assert "TPOX" not in untyped["OT05588"].loci and len(untyped["OT05588"].loci) == 28
    assert all(len(p.loci) >= 28 for p in profiles)


def test_cmf_round_trip_all_nist(nist, tmp_path):
    profiles, _ = nist
    path = tmp_path / "nist.xml"
    write_cmf(profiles, path, source_lab="NIST")
    back = read_cmf(path)
    assert back == [p.__class__(p.specimen_id, p.loci, p.category, "NIST") for p in profiles]


def test_cmf_round_trip_controls_with_tri_alleles_and_mixture():
    controls = list(read_control_profiles(DNA / "control_dna_profiles.csv").values())
    assert parse_cmf(format_cmf(controls)) == controls
    mix = parse_genemapper_csv(
        "Sample Name,Marker,Allele 1,Allele 2,Allele 3,Allele 4\n"
        + "".join(f"MIX1,{m},10,11,12,13\n" for m in ("D3S1358", "vWA", "FGA", "TH01", "D8S1179", "D21S11",
                                                     "D18S51", "D5S818")), category="forensic_mixture")
    assert parse_cmf(format_cmf(mix)) == mix and mix[0].mixture


def test_cmf_attribute_alleles_and_category_labels():
    xml = b"""<?xml version="1.0"?><CODISImportFile xmlns="urn:CODISImportFile-schema"><SOURCELAB>ORI1</SOURCELAB>
    <SPECIMEN><SPECIMENID>X1</SPECIMENID><SPECIMENCATEGORY>Convicted Offender</SPECIMENCATEGORY>""" + b"".join(
        b'<LOCUS><LOCUSNAME>' + m + b'</LOCUSNAME><ALLELE ALLELEVALUE="12"/><ALLELE ALLELEVALUE="9.3"/></LOCUS>'
        for m in (b"VWA", b"THO1", b"FGA", b"D8S1179", b"D21S11", b"D18S51", b"D3S1358", b"CSF1PO")) + b"</SPECIMEN></CODISImportFile>"
    (p,) = parse_cmf(xml)
    assert p.agency == "ORI1" and p.category.slug == "convicted_offender" and p.loci["TH01"] == ("9.3", "12")


def test_cmf_rejects_bombs_and_bad_documents():
    bomb = b"""<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;">]>
    <CODISImportFile xmlns="urn:CODISImportFile-schema">&lol2;</CODISImportFile>"""
    with pytest.raises(ValueError, match="unsafe XML"):
        parse_cmf(bomb)
    with pytest.raises(ValueError, match="malformed"):
        parse_cmf(b"<CODISImportFile")
    with pytest.raises(ValueError, match="not a CMF file"):
        parse_cmf(b"<CODISImportFile/>")
    bad = format_cmf(read_genotype_table(DNA / "nist1036_genotypes.csv")[0][:3]).replace(b">9.3<", b">abc<", 1)
    with pytest.raises(ProfileError, match=r"specimen '\w+', locus '\w+': invalid allele 'abc'"):
        parse_cmf(bad)


def test_genemapper_csv_round_trip_and_errors(nist):
    profiles = nist[0][:20]
    text = format_genemapper_csv(profiles)
    assert parse_genemapper_csv(text) == profiles
    tabbed = text.replace(",", "\t")
    assert parse_genemapper_csv(tabbed) == profiles
    with pytest.raises(ProfileError, match="specimen 'GT37019', locus 'FGA': invalid allele 'abc'"):
        parse_genemapper_csv(text.replace("GT37019,convicted_offender,,no,no,FGA,23,24",
                                          "GT37019,convicted_offender,,no,no,FGA,23,abc"))
    with pytest.raises(ValueError, match="'Sample Name' and 'Marker'"):
        parse_genemapper_csv("Name,Allele 1\nA,12\n")
    wild = parse_genemapper_csv(text.replace(",FGA,23,24", ",FGA,23,F"), wildcards=True)
    assert wild[0].loci["FGA"] == ("23", "*")


def test_frequency_tables_csv_and_familias():
    tables = read_frequency_csv(DNA / "str_allele_frequencies.csv", source="NIST1036")
    cauc = tables["NIST1036/Cauc"]
    assert cauc.n_alleles["CSF1PO"] == 722 and cauc.frequencies["CSF1PO"]["12"] == 0.360111
    assert set(tables) == {"NIST1036/AfAm", "NIST1036/Cauc", "NIST1036/Hisp", "NIST1036/Asian", "NIST1036/All"}
    fbi = read_frequency_csv(DNA / "str_allele_frequencies.csv", source="FBI2015", population="SE Hispanic")
    assert ">27" in fbi["FBI2015/SE Hispanic"].frequencies["D18S51"]
    nor = read_frequency_csv(DNA / "str_allele_frequencies.csv", source="norSTR", population="Norway")["norSTR/Norway"]
    assert not nor.n_alleles and len(nor.loci) == 50
    back = parse_familias(format_familias(nor), "norSTR/Norway")
    assert back == nor
    with pytest.raises(ValueError, match="line 2, locus 'TH01': invalid allele 'abc'"):
        parse_familias("TH01\nabc\t0.5\n", "x")
    with pytest.raises(ValueError, match="frequency 1.5 not in"):
        parse_familias("TH01\n6\t1.5\n", "x")
