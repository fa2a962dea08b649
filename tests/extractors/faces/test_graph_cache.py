"""The cleaned-graph cache: the cleaning runs once, a corrupt or stale file is redone, an unwritable folder is harmless."""
import os

from biomatch.extractors.faces import graph_cache


def _counting(calls):
    def clean(raw: bytes) -> bytes:
        calls.append(raw)
        return raw[::-1] + b"-clean"
    return clean


def test_cleaning_runs_once_and_the_cache_is_checked(tmp_path, monkeypatch):
    monkeypatch.setenv("BIOMATCH_CACHE", str(tmp_path))
    calls = []
    clean = _counting(calls)
    first = graph_cache.cleaned_graph("g", b"model", "ab" * 32, clean)
    assert first == b"ledom-clean" and len(calls) == 1
    assert graph_cache.cleaned_graph("g", b"model", "ab" * 32, clean) == first and len(calls) == 1
    (cached,) = (tmp_path / "models").iterdir()
    data = bytearray(cached.read_bytes())
    data[-1] ^= 0xFF  # corrupt: cleaned again, never served
    cached.write_bytes(bytes(data))
    assert graph_cache.cleaned_graph("g", b"model", "ab" * 32, clean) == first and len(calls) == 2
    # another source digest is another key; the older file is removed
    assert graph_cache.cleaned_graph("g", b"other", "cd" * 32, clean) == b"rehto-clean" and len(calls) == 3
    assert len(list((tmp_path / "models").iterdir())) == 1


def test_an_unwritable_cache_costs_time_only(tmp_path, monkeypatch):
    blocker = tmp_path / "file"
    blocker.write_bytes(b"not a folder")
    monkeypatch.setenv("BIOMATCH_CACHE", str(blocker))
    calls = []
    clean = _counting(calls)
    assert graph_cache.cleaned_graph("g", b"ab", "ef" * 32, clean) == b"ba-clean"
    assert graph_cache.cleaned_graph("g", b"ab", "ef" * 32, clean) == b"ba-clean" and len(calls) == 2
    assert blocker.read_bytes() == b"not a folder" and os.listdir(tmp_path) == ["file"]


def test_the_packaged_models_load_from_the_cache_with_the_same_embeddings(tmp_path, monkeypatch):
    import numpy as np

    from biomatch.extractors.faces.ort_model import YuNetSFaceOrt

    monkeypatch.setenv("BIOMATCH_CACHE", str(tmp_path))
    crop = np.random.default_rng(0).integers(0, 256, (112, 112, 3), dtype=np.uint8)
    cold = YuNetSFaceOrt()
    assert sorted(p.name.split("-")[0] for p in (tmp_path / "models").iterdir()) == ["sface", "yunet"]
    warm = YuNetSFaceOrt()
    np.testing.assert_array_equal(cold.embed([crop]), warm.embed([crop]))
