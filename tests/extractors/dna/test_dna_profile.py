"""StrProfile: locus names, alleles, validation with precise errors, versioned bytes."""
from pathlib import Path

import pytest

from biomatch.extractors.dna import (
    CODIS_CORE_20, ESS_12, PRUM_7, ProfileCategory, ProfileError, ProfileRules, StrProfile, kit_loci,
    normalise_locus, parse_allele,
)
from biomatch.extractors.dna.profile import ProfileVersionError

GOLDEN = Path(__file__).parent / "golden" / "str_profile_v1.bin"
FULL = {"CSF1PO": "12", "D3S1358": ["17", "18"], "D5S818": "12", "D7S820": ["8", "11"], "D8S1179": ["14", "15"],
        "D13S317": ["9", "11"], "D16S539": ["9", "13"], "D18S51": ["16", "18"], "D21S11": ["29", "31.2"],
        "FGA": ["20", "23"], "THO1": ["6", "9.3"], "TPOX": "11", "VWA": ["16", "19"], "AMEL": ["X", "Y"]}


def golden_profile():
    return StrProfile.build("2800M-golden", FULL, category="Forensic, Unknown", agency="NCB-LYON",
                            tri_allelic=("D21S11",))


def test_locus_aliases_and_kits():
    assert normalise_locus("THO1") == "TH01" and normalise_locus("VWA") == "vWA"
    assert normalise_locus("Penta_D") == "Penta D" and normalise_locus("amelogenin") == "AMEL"
    assert len(CODIS_CORE_20) == 20 and len(ESS_12) == 12 and len(PRUM_7) == 7
    assert set(PRUM_7) <= set(ESS_12) <= set(CODIS_CORE_20)
    assert kit_loci("Prum7") == PRUM_7
    with pytest.raises(ValueError, match="unknown locus 'D99S999'"):
        normalise_locus("D99S999")


@pytest.mark.parametrize("raw, expected", [("12", "12"), ("09", "9"), ("9.3", "9.3"), ("12.0", "12"),
                                           ("<8", "<8"), ("> 27", ">27"), ("*", "*"), (13, "13")])
def test_allele_forms(raw, expected):
    assert parse_allele(raw) == expected


@pytest.mark.parametrize("raw", ["abc", "OL", "F", "0", "1", "99", "x"])
def test_prum_wildcards(raw):
    assert parse_allele(raw, wildcards=True) == "*"
    with pytest.raises(ValueError):
        parse_allele(raw)


def test_profile_normalises_and_keeps_amelogenin():
    p = golden_profile()
    assert p.loci["TH01"] == ("6", "9.3") and p.loci["vWA"] == ("16", "19") and p.loci["CSF1PO"] == ("12",)
    assert p.loci["AMEL"] == ("X", "Y") and "AMEL" not in p.searchable_loci
    assert len(p.searchable_loci) == 13 and p.category is ProfileCategory.FORENSIC_UNKNOWN


@pytest.mark.parametrize("loci, kwargs, pattern", [
    ({**FULL, "D99S1": ["1"]}, {}, r"specimen 'S1': unknown locus 'D99S1'"),
    ({**FULL, "FGA": ["20", "abc"]}, {}, r"specimen 'S1', locus 'FGA': invalid allele 'abc'"),
    ({**FULL, "FGA": ["20", "21", "22"]}, {}, r"specimen 'S1', locus 'FGA': 3 alleles on a single-source profile.*'20,21,22'"),
    ({**FULL, "FGA": [str(a) for a in range(18, 27)]}, {"mixture": True}, r"locus 'FGA': 9 alleles on a mixture"),
    ({k: FULL[k] for k in list(FULL)[:5]}, {}, r"specimen 'S1': 5 typed loci, fewer than the minimum 8"),
    ({**FULL, "AMEL": ["Z"]}, {}, r"locus 'AMEL': invalid Amelogenin allele 'Z'"),
    ({**FULL, "FGA": []}, {}, r"locus 'FGA': no alleles"),
    (FULL, {"category": "suspect"}, r"specimen 'S1': unknown profile category 'suspect'"),
])
def test_bad_profiles_name_specimen_locus_value(loci, kwargs, pattern):
    with pytest.raises(ProfileError, match=pattern):
        StrProfile.build("S1", loci, **kwargs)


def test_tri_allelic_and_mixture_allowed_when_declared():
    tri = StrProfile.build("T", {**FULL, "FGA": ["20", "21", "22"]}, tri_allelic=("FGA",))
    assert tri.loci["FGA"] == ("20", "21", "22")
    mix = StrProfile.build("M", {**FULL, "FGA": [str(a) for a in range(18, 26)]}, category="forensic_mixture")
    assert mix.mixture and len(mix.loci["FGA"]) == 8
    with pytest.raises(ProfileError, match="fewer than the minimum 20"):
        StrProfile.build("S", FULL, rules=ProfileRules(min_loci=20))


def test_wildcard_profile():
    p = StrProfile.build("W", {**FULL, "FGA": ["20", "F"]}, wildcards=True)
    assert p.loci["FGA"] == ("20", "*") and not p.fully_designated("FGA") and p.fully_designated("TH01")


def test_bytes_round_trip_and_golden_file():
    p = golden_profile()
    assert StrProfile.from_bytes(p.to_bytes()) == p
    assert StrProfile.from_bytes(GOLDEN.read_bytes()) == p
    assert p.to_bytes() == GOLDEN.read_bytes()


def test_bytes_errors():
    data = golden_profile().to_bytes()
    with pytest.raises(ProfileVersionError):
        StrProfile.from_bytes(data[:4] + (99).to_bytes(2, "little") + data[6:])
    with pytest.raises(ValueError, match="bad magic"):
        StrProfile.from_bytes(b"XXXX" + data[4:])
    with pytest.raises(ValueError, match="corrupt"):
        StrProfile.from_bytes(data[:-3])
