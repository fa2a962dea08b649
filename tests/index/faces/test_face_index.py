import numpy as np
import pytest

from biomatch.index.faces import FaceIndex, ShortlistIndex, load_index, save_index


def unit(n, d=128, seed=0):
    x = np.random.default_rng(seed).standard_normal((n, d)).astype(np.float32)
    return x / np.linalg.norm(x, axis=1, keepdims=True)


def brute_force(gallery_ids, gallery, queries, k):
    s = queries @ gallery.T
    order = np.argsort(-s, axis=1, kind="stable")[:, :k]
    return np.take_along_axis(s, order, axis=1), gallery_ids[order]


@pytest.mark.parametrize("n_queries", [1, 7, 64])
def test_flat_search_equals_brute_force(n_queries):
    g, q = unit(500), unit(n_queries, seed=1)
    ids = np.arange(1000, 1500)
    index = FaceIndex(128, "flat")
    index.add(ids, g)
    scores, got = index.search(q, 10)
    ref_s, ref_i = brute_force(ids, g, q, 10)
    np.testing.assert_allclose(scores, ref_s, atol=1e-5)
    assert np.array_equal(got, ref_i)


def test_search_config_forces_the_blas_path():
    import faiss

    index = FaceIndex(128, "flat", threads=1)
    index.add([1], unit(1))
    index.search(unit(1), 1)
    assert faiss.cvar.distance_compute_blas_threshold == 0


@pytest.mark.parametrize("kind, tol", [("fp16", 2e-3), ("sq8", 2e-2)])
def test_compressed_exact_scan_is_close_to_flat(kind, tol):
    g, q = unit(2000), unit(20, seed=1)
    ids = np.arange(2000)
    index = FaceIndex(128, kind)
    index.train(g)
    index.add(ids, g)
    scores, got = index.search(q, 1)
    ref_s, ref_i = brute_force(ids, g, q, 1)
    np.testing.assert_allclose(scores, ref_s, atol=tol)
    assert index.memory_bytes() < 2000 * (4 * 128 + 8) * (0.6 if kind == "fp16" else 0.35)


def test_add_delete_update_by_id():
    g = unit(5)
    index = FaceIndex(128)
    index.add([10, 11, 12], g[:3])
    assert len(index) == 3 and index.contains([11, 99]).tolist() == [True, False]
    with pytest.raises(ValueError, match="already in the index"):
        index.add([11], g[3])
    assert index.remove([11, 99]) == 1
    _, ids = index.search(g[1], 3)
    assert 11 not in ids and ids[0, -1] == -1  # padded with -1 when fewer than k
    index.update([10], g[4])
    s, ids = index.search(g[4], 1)
    assert ids[0, 0] == 10 and s[0, 0] == pytest.approx(1.0, abs=1e-5)


@pytest.mark.parametrize("vectors, ids, match", [
    (np.zeros((1, 128)), [1], "zero vector"),
    (np.full((1, 128), np.nan), [1], "non-finite"),
    (np.ones((1, 64)), [1], "shape"),
    (np.ones((2, 128)), [1, 1], "unique"),
    (np.ones((1, 128)), [-3], "non-negative"),
])
def test_bad_vectors_and_ids_are_refused(vectors, ids, match):
    index = FaceIndex(128)
    with pytest.raises(ValueError, match=match):
        index.add(ids, vectors)
    assert len(index) == 0


def test_sq8_must_be_trained_and_kind_is_checked():
    with pytest.raises(ValueError, match="train"):
        FaceIndex(128, "sq8").add([1], unit(1))
    with pytest.raises(ValueError, match="kind"):
        FaceIndex(128, "hnsw")


def test_shortlist_rescored_exactly_matches_exact_when_it_visits_every_cell():
    g, q = unit(3000), unit(30, seed=2)
    exact = FaceIndex(128)
    exact.add(np.arange(3000), g)
    sl = ShortlistIndex(exact, nlist=16, nprobe=16, shortlist=50)
    s_ref, i_ref = exact.search(q, 5)
    s, i = sl.search(q, 5)
    assert np.array_equal(i, i_ref)
    np.testing.assert_allclose(s, s_ref, atol=1e-5)  # exact scores, not the SQ8 codes' approximations


def test_save_load_and_staleness(tmp_path):
    index = FaceIndex(128)
    index.add(np.arange(50), unit(50))
    path = tmp_path / "faces.idx"
    rmap = np.stack([np.arange(50), np.arange(50) // 2 + 1], axis=1)
    save_index(index, path, model_id="m", generation=7, record_map=rmap)
    loaded, got_map = load_index(path, generation=7, model_id="m", kind="flat", dim=128)
    assert np.array_equal(loaded.ids(), index.ids()) and np.array_equal(got_map, rmap)
    np.testing.assert_array_equal(loaded.search(unit(3, seed=5), 4)[1], index.search(unit(3, seed=5), 4)[1])
    assert load_index(path, generation=8, model_id="m", kind="flat", dim=128) is None  # stale
    assert load_index(path, generation=7, model_id="other", kind="flat", dim=128) is None  # other model
    assert load_index(tmp_path / "missing.idx", generation=7, model_id="m", kind="flat", dim=128) is None
    data = bytearray(path.read_bytes())
    data[-10] ^= 0xFF
    path.write_bytes(bytes(data))
    assert load_index(path, generation=7, model_id="m", kind="flat", dim=128) is None  # corrupt
