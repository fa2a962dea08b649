"""Fuzzing the parsers that take untrusted uploads: they answer or raise ValueError, nothing else.

Images (``decode_image``), STR profiles (GeneMapper CSV, CODIS CMF XML) and
ANSI/NIST-ITL transactions get random bytes and random mutations of valid
files (bit flips, cuts, splices). A ValueError becomes a 422 in the service;
any other exception would be a 500. The fingerprint template formats (xyt,
ISO 19794-2, JSON) have their own property tests beside them.
"""
from __future__ import annotations

import io
import os

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

#: Fixed examples in the suite (repeatable); ``BIOMATCH_FUZZ_EXAMPLES=2000`` runs a deeper, random search.
FUZZ = settings(max_examples=int(os.environ.get("BIOMATCH_FUZZ_EXAMPLES", 120)), deadline=None,
                derandomize="BIOMATCH_FUZZ_EXAMPLES" not in os.environ, suppress_health_check=[HealthCheck.too_slow])


def _png(rows=24, cols=20) -> bytes:
    from PIL import Image

    buf = io.BytesIO()
    Image.fromarray((np.arange(rows * cols) % 251).astype(np.uint8).reshape(rows, cols)).save(buf, "PNG")
    return buf.getvalue()


def _tiff() -> bytes:
    from PIL import Image

    buf = io.BytesIO()
    Image.fromarray(np.full((16, 18), 128, np.uint8)).save(buf, "TIFF")
    return buf.getvalue()


def _jpeg() -> bytes:
    from PIL import Image

    buf = io.BytesIO()
    Image.fromarray(np.full((16, 16, 3), 90, np.uint8)).save(buf, "JPEG")
    return buf.getvalue()


_CSV = ("Sample Name,Marker,Allele 1,Allele 2\n"
        "S-1,D3S1358,15,16\nS-1,vWA,17,18\nS-1,FGA,21,24\nS-1,D8S1179,13,14\nS-1,D21S11,29,30\n"
        "S-1,D18S51,14,15\nS-1,D5S818,11,12\nS-1,D13S317,11,12\nS-1,D7S820,10,11\nS-1,TH01,6,9.3\n")


def _mutated(valid: bytes):
    """Valid bytes with a few flips, a cut or a splice of random bytes."""
    n = len(valid)
    flips = st.lists(st.tuples(st.integers(0, n - 1), st.integers(1, 255)), min_size=1, max_size=8)

    def flip(changes):
        data = bytearray(valid)
        for at, x in changes:
            data[at] ^= x
        return bytes(data)

    cut = st.integers(0, n - 1).map(lambda k: valid[:k])
    splice = st.tuples(st.integers(0, n), st.binary(min_size=1, max_size=64)).map(
        lambda t: valid[:t[0]] + t[1] + valid[t[0]:])
    return st.one_of(flips.map(flip), cut, splice)


def _answers_or_value_error(call, data) -> None:
    try:
        call(data)
    except ValueError:
        pass


@pytest.mark.parametrize("make", [_png, _tiff, _jpeg], ids=["png", "tiff", "jpeg"])
def test_decode_image_mutations(make):
    from biomatch.extractors.imageio import decode_image

    valid = make()
    assert decode_image(valid, mode="L").ndim == 2

    @FUZZ
    @given(_mutated(valid), st.sampled_from(["L", "RGB"]))
    def check(data, mode):
        _answers_or_value_error(lambda d: decode_image(d, mode=mode, max_pixels=1_000_000), data)

    check()


@FUZZ
@given(st.binary(max_size=512))
def test_decode_image_random_bytes(data):
    from biomatch.extractors.imageio import decode_image

    _answers_or_value_error(decode_image, data)


@FUZZ
@given(st.one_of(st.text(max_size=400), _mutated(_CSV.encode()).map(lambda b: b.decode("latin-1"))))
def test_genemapper_csv(text):
    from biomatch.extractors.dna import parse_genemapper_csv

    _answers_or_value_error(lambda t: parse_genemapper_csv(t, agency="FR"), text)


def test_genemapper_csv_stray_carriage_return():
    from biomatch.extractors.dna import parse_genemapper_csv

    _answers_or_value_error(lambda t: parse_genemapper_csv(t, agency="FR"), "Sample Name,Marker,Allele1\n\rS")


def test_genemapper_csv_valid_sample_parses():
    from biomatch.extractors.dna import parse_genemapper_csv

    (profile,) = parse_genemapper_csv(_CSV, agency="FR")
    assert profile.specimen_id == "S-1" and len(profile.loci) == 10


@pytest.fixture(scope="module")
def cmf_bytes(data_dir):
    from biomatch.extractors.dna import format_cmf, read_genotype_table

    return format_cmf(read_genotype_table(data_dir / "dna" / "nist1036_genotypes.csv", agency="NIST")[0][:2])


def test_cmf_xml(cmf_bytes):
    from biomatch.extractors.dna import parse_cmf

    assert len(parse_cmf(cmf_bytes)) == 2

    @FUZZ
    @given(st.one_of(_mutated(cmf_bytes), st.binary(max_size=300)))
    def check(data):
        _answers_or_value_error(parse_cmf, data)

    check()


def test_cmf_unknown_encoding():
    from biomatch.extractors.dna import parse_cmf

    _answers_or_value_error(parse_cmf, b"<?xml version='1.0' encoding='Autf-8'?><CODISImportFile/>")


def test_ansi_nist_transaction():
    from biomatch.index.fingerprint.ansinist import read_transaction, write_transaction

    rng = np.random.default_rng(3)
    valid = write_transaction(tcn="TP-FUZZ", fingers={2: (rng.integers(0, 255, (64, 60), dtype=np.uint8), 500)})
    assert read_transaction(valid).tcn == "TP-FUZZ"

    @FUZZ
    @given(st.one_of(_mutated(valid), st.binary(max_size=300)))
    def check(data):
        _answers_or_value_error(read_transaction, data)

    check()
