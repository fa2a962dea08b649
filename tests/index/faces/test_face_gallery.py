import numpy as np
import pytest

from biomatch.extractors.faces import extract_faces
from biomatch.index.faces import FaceGallery
from biomatch.index.store import Store
from shared_data import LFW, require

PEOPLE = ["Aaron_Sorkin", "Abdullah_Gul", "Aaron_Pena", "Abbas_Kiarostami"]


@pytest.fixture(scope="module")
def faces():
    out = {}
    for name in PEOPLE:
        imgs = sorted(require(LFW / name, "shared face data").glob("*.jpg"))
        out[name] = [extract_faces(p).accepted[0] for p in imgs[:2]]
    return out


def _open(tmp_path):
    return Store.open(f"sqlite:///{tmp_path / 'biomatch.db'}")


def test_enrol_search_restart_delete(tmp_path, faces, monkeypatch):
    store = _open(tmp_path)
    gallery = FaceGallery.open(store)
    ids = {name: gallery.enrol(f"N-{name}", "FR", [faces[name][0]])[0] for name in PEOPLE}
    probe = faces["Aaron_Sorkin"][1].embedding
    top = gallery.search(probe, top=3)[0]
    assert top[0].external_ref == "N-Aaron_Sorkin" and top[0].score > top[1].score
    assert top[0].fmr < 1e-4 and top[0].owner_agency == "FR"
    gallery.close()
    store.close()

    store = _open(tmp_path)  # restart: the derived file is current, loaded as is (no rebuild)
    with monkeypatch.context() as m:
        m.setattr(FaceGallery, "_rebuild", staticmethod(lambda *a: pytest.fail("rebuilt a current index")))
        gallery = FaceGallery.open(store)
    assert len(gallery) == len(PEOPLE)
    assert gallery.search(probe, top=1)[0][0].record_id == ids["Aaron_Sorkin"]
    assert gallery.delete(ids["Aaron_Sorkin"]) == 1
    after = gallery.search(probe, top=10)[0]
    assert all(c.record_id != ids["Aaron_Sorkin"] for c in after) and len(after) == len(PEOPLE) - 1
    store.close()  # no save: the index file is now stale and must be rebuilt

    store = _open(tmp_path)
    rebuilt = []
    original = FaceGallery._rebuild
    monkeypatch.setattr(FaceGallery, "_rebuild", staticmethod(lambda *a: rebuilt.append(1) or original(*a)))
    gallery = FaceGallery.open(store)
    assert rebuilt == [1]  # the stale file was not trusted
    assert len(gallery) == len(PEOPLE) - 1
    assert all(c.record_id != ids["Aaron_Sorkin"] for c in gallery.search(probe, top=10)[0])
    store.close()


def test_threshold_filters_and_bad_enrolment_stores_nothing(tmp_path, faces):
    store = _open(tmp_path)
    gallery = FaceGallery.open(store)
    gallery.enrol("N-1", "FR", [faces["Abdullah_Gul"][0]])
    t, within = gallery.threshold()
    assert within
    with pytest.raises(ValueError, match="below the calibrated range.*lowest FPIR"):
        gallery.threshold(1e-9)  # needs an FMR far below any calibration
    t_clamped, within = gallery.threshold(1e-9, clamp=True)
    assert not within and t_clamped >= t
    hits = gallery.search(np.stack([faces["Abdullah_Gul"][1].embedding, faces["Aaron_Pena"][0].embedding]),
                          threshold=t)
    assert [c.external_ref for c in hits[0]] == ["N-1"] and hits[1] == []
    with pytest.raises(ValueError, match="no face"):
        gallery.enrol("N-2", "FR", [])
    from dataclasses import replace

    with pytest.raises(ValueError):
        gallery.enrol("N-3", "FR", [replace(faces["Aaron_Pena"][0], model_id="other")])
    with pytest.raises(ValueError):
        gallery.enrol("N-1", "FR", [faces["Aaron_Pena"][0]])  # duplicate reference
    assert store.count("face") == 1 and len(gallery) == 1
    store.close()


def test_a_second_process_writing_the_store_is_seen_by_search(tmp_path, faces):
    store_a, store_b = _open(tmp_path), _open(tmp_path)  # two processes on one database
    server = FaceGallery.open(store_a)
    cli = FaceGallery.open(store_b)
    cli.enrol("N-new", "FR", [faces["Aaron_Sorkin"][0]])
    hits = server.search(faces["Aaron_Sorkin"][1].embedding, top=1)[0]
    assert [c.external_ref for c in hits] == ["N-new"] and len(server) == 1
    cli.delete(hits[0].record_id)
    assert server.search(faces["Aaron_Sorkin"][1].embedding, top=1)[0] == []
    store_a.close()
    store_b.close()
