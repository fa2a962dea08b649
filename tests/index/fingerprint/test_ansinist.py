"""ANSI/NIST-ITL transactions built with nistitl: Type-4/14/13/9 round trips, import enrols, corrupt refused."""
import numpy as np
import pytest

from afis_helpers import SET
from biomatch.extractors.imageio import load_grey
from biomatch.index.fingerprint import Afis
from biomatch.index.fingerprint.ansinist import read_transaction, tenprint_templates, write_transaction


def _grey(fvc_dir, key):
    return load_grey(fvc_dir / SET / f"{key}.tif")


def test_round_trip_every_record_type(fvc_dir, fvc_template):
    a, b = _grey(fvc_dir, "101_1"), _grey(fvc_dir, "102_1")
    t = fvc_template(SET, "103_1")
    raw = write_transaction(tcn="TCN-1", fingers={1: (a, 500)}, record_type=4, compression="NONE",
                            latents=[(b, 1000)], minutiae={3: t}, name="DOE, JOHN")
    tx = read_transaction(raw)
    assert tx.tcn == "TCN-1" and tx.descriptive[18] == "DOE, JOHN"
    assert tx.fingers[0].record_type == 4 and tx.fingers[0].position == 1
    np.testing.assert_array_equal(tx.fingers[0].image, a)
    assert tx.latents[0].dpi == 1000 and tx.latents[0].image.shape == b.shape
    idc, pos, t9 = tx.minutiae[0]
    assert pos == 3 and len(t9) == len(t)
    np.testing.assert_allclose(t9.x, np.round(t.x), atol=0.5)
    d = np.degrees(np.abs(np.angle(np.exp(1j * (t9.angle - t.angle)))))
    assert d.max() <= 1.0 + 1e-6  # 2-degree units
    np.testing.assert_array_equal(t9.kind, t.kind)
    wsq = read_transaction(write_transaction(fingers={2: (a, 500)}, record_type=14, compression="WSQ"))
    f = wsq.fingers[0]
    assert f.record_type == 14 and f.position == 2 and f.impression == "rolled"
    assert np.abs(f.image.astype(int) - a).mean() < 8  # lossy WSQ


def test_import_enrols_and_bad_transactions_store_nothing(store, fvc_dir, fvc_template):
    afis = Afis.open(store)
    raw = write_transaction(tcn="TP-77", fingers={4: (_grey(fvc_dir, "104_1"), 500), 5: (_grey(fvc_dir, "105_1"), 500)})
    rid, _ = afis.import_transaction(raw, "FR")
    cands, _ = afis.search_tenprint({5: fvc_template(SET, "105_2")})
    assert cands[0].id == rid and cands[0].reference == "TP-77"
    assert len(store.get_fingerprints(rid)) == 2
    before = store.count("fingerprint")
    with pytest.raises(ValueError, match="not a readable ANSI/NIST-ITL"):
        afis.import_transaction(raw[: len(raw) // 2], "FR", reference="TP-78")
    with pytest.raises(ValueError, match="not a readable ANSI/NIST-ITL"):
        afis.import_transaction(b"garbage" * 20, "FR", reference="TP-78")
    slap = write_transaction(tcn="TP-79", fingers={13: (_grey(fvc_dir, "106_1"), 500)})
    with pytest.raises(ValueError, match="finger position 13 is not a single finger"):
        afis.import_transaction(slap, "FR")
    assert store.count("fingerprint") == before and store.find_record("fingerprint", "TP-78") is None


def test_tenprint_templates_fall_back_to_type9(fvc_template):
    t = fvc_template(SET, "107_1")
    tx = read_transaction(write_transaction(minutiae={7: t}))
    got = tenprint_templates(tx)
    assert list(got) == [7] and len(got[7]) == len(t)
