"""An AFIS database keeps to one minutiae detector: LEADER prints and marks in, mates found, mixing refused."""
from __future__ import annotations

import dataclasses
from functools import lru_cache

import pytest

from afis_helpers import SET, rotated_window
from biomatch.extractors.fingerprint import DEFAULT_PARAMS, MinutiaeSource, extract_fingerprint
from biomatch.extractors.fingerprint.formats import read_xyt, write_xyt
from biomatch.index.fingerprint import Afis

LEADER = dataclasses.replace(DEFAULT_PARAMS, minutiae_detector="leader")
FINGERS = (101, 102, 103)


@lru_cache(maxsize=None)
def _leader(path: str):
    return extract_fingerprint(path, 500, params=LEADER)


@pytest.fixture()
def leader_print(fvc_dir):
    return lambda key: _leader(str(fvc_dir / SET / f"{key}.tif"))


def test_leader_database_finds_mates_and_refuses_other_detectors(store, leader_print, fvc_template):
    afis = Afis.open(store, detector="leader")
    assert afis.detector == "leader"
    for i, f in enumerate(FINGERS):
        afis.enrol_tenprint(f"TP-{f}", "DE", {i + 1: leader_print(f"{f}_1")})
    cands, _ = afis.search_tenprint({2: leader_print("102_3")})
    assert cands[0].reference == "TP-102"
    mark = dataclasses.replace(rotated_window(leader_print("103_2")), minutiae_source=MinutiaeSource.LEADER)
    cands, _ = afis.search_mark(mark)
    assert cands[0].reference == "TP-103"
    # a ridge-traced probe or enrolment would be compared across detectors: refused, nothing stored
    with pytest.raises(ValueError, match="ridges detector, but this database's are from the leader detector"):
        afis.search_tenprint({2: fvc_template(SET, "102_3")})
    with pytest.raises(ValueError, match="--minutiae leader"):
        afis.search_mark(rotated_window(fvc_template(SET, "103_2")))
    with pytest.raises(ValueError, match="finger 4 has minutiae from the ridges detector"):
        afis.enrol_tenprint("TP-104", "DE", {4: fvc_template(SET, "104_1")})
    assert len(afis.fingers) == len(FINGERS)
    # imported minutiae (an examiner's) are searched in any database
    imported = read_xyt(write_xyt(leader_print("101_2")), width=388, height=374)
    assert imported.minutiae_source == MinutiaeSource.IMPORTED
    cands, _ = afis.search_tenprint({1: imported})
    assert cands[0].reference == "TP-101"
    afis.close()
    # the detector is the stored templates', whatever a reopening asks for
    again = Afis.open(store, detector="ridges")
    assert again.detector == "leader"
    with pytest.raises(ValueError, match="ridges detector"):
        again.search_tenprint({2: fvc_template(SET, "102_3")})


def test_empty_database_takes_the_configured_detector(store, fvc_template):
    afis = Afis.open(store)
    assert afis.detector == "ridges"
    with pytest.raises(ValueError, match="unknown minutiae detector 'cnn'"):
        Afis.open(store, detector="cnn")
    afis.enrol_tenprint("TP-101", "DE", {1: fvc_template(SET, "101_1")})
    assert Afis.open(store, detector="leader").detector == "ridges"
