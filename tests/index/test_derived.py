"""Derived index files: atomic save, and None for missing, corrupt or stale files."""
import os

import pytest

from biomatch.index.derived import load_derived, save_derived


def test_round_trip_and_replace(tmp_path):
    path = tmp_path / "sub" / "faces.idx"
    save_derived(path, 7, b"payload-1")
    assert load_derived(path, 7) == b"payload-1"
    save_derived(path, 8, bytearray(b"payload-2"))
    assert load_derived(path, 8) == b"payload-2"
    assert sorted(os.listdir(path.parent)) == ["faces.idx"]  # no temp files left


def test_missing_stale_and_corrupt_files_return_none(tmp_path):
    path = tmp_path / "dna.idx"
    assert load_derived(path, 0) is None
    save_derived(path, 3, b"x" * 1000)
    assert load_derived(path, 4) is None  # stale
    data = bytearray(path.read_bytes())
    data[-10] ^= 0xFF
    path.write_bytes(bytes(data))
    assert load_derived(path, 3) is None  # checksum
    save_derived(path, 3, b"x" * 1000)
    path.write_bytes(path.read_bytes()[:-1])
    assert load_derived(path, 3) is None  # truncated payload
    path.write_bytes(b"BMDERI")
    assert load_derived(path, 3) is None  # truncated header
    path.write_bytes(b"NOTMAGIC" + bytes(48) + b"x")
    assert load_derived(path, 0) is None  # foreign file


def test_empty_payload_is_allowed_and_checked(tmp_path):
    path = tmp_path / "empty.idx"
    save_derived(path, 0, b"")
    assert load_derived(path, 0) == b""


@pytest.mark.parametrize("generation, payload", [(-1, b"x"), (1.5, b"x"), (True, b"x"), (1, "text")])
def test_bad_arguments(tmp_path, generation, payload):
    with pytest.raises(ValueError):
        save_derived(tmp_path / "x", generation, payload)
    assert not (tmp_path / "x").exists()


def test_failed_write_keeps_the_old_file(tmp_path, monkeypatch):
    path = tmp_path / "fp.idx"
    save_derived(path, 1, b"old")

    def boom(*a):
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", boom)
    with pytest.raises(OSError):
        save_derived(path, 2, b"new")
    monkeypatch.undo()
    assert load_derived(path, 1) == b"old"
    assert sorted(os.listdir(tmp_path)) == ["fp.idx"]


def test_write_atomic_joins_parts(tmp_path):
    from biomatch.index.derived import write_atomic

    path = tmp_path / "new" / "raw.bin"
    write_atomic(path, b"head", memoryview(b"-body"))
    assert path.read_bytes() == b"head-body"
    write_atomic(path, b"x")
    assert path.read_bytes() == b"x" and sorted(os.listdir(path.parent)) == ["raw.bin"]


def test_streamed_payload_round_trip_checks_and_atomicity(tmp_path, monkeypatch):
    """A payload written straight to the file (``save_derived_stream``) reads back, corrupt and stale are refused."""
    import numpy as np

    from biomatch.index import derived

    monkeypatch.setattr(derived, "_CHUNK", 7)  # the checksum is read in many chunks
    path = tmp_path / "big.idx"
    derived.save_derived_stream(path, 5, lambda f: np.savez(f, a=np.arange(1000), b=np.eye(3)))
    with derived.open_derived(path, 5) as f:
        z = np.load(f, allow_pickle=False)
        assert z["a"].sum() == 499500 and z["b"].trace() == 3
    assert load_derived(path, 5)[:2] == b"PK"  # the same file through the bytes API
    with derived.open_derived(path, 6) as f:
        assert f is None  # stale
    data = bytearray(path.read_bytes())
    data[100] ^= 0x01
    path.write_bytes(bytes(data))
    with derived.open_derived(path, 5) as f:
        assert f is None  # corrupt

    derived.save_derived_stream(path, 5, lambda f: f.write(b"old"))

    def half_written(f):
        f.write(b"partial")
        raise OSError("disk full")

    with pytest.raises(OSError):
        derived.save_derived_stream(path, 6, half_written)
    assert load_derived(path, 5) == b"old" and sorted(os.listdir(tmp_path)) == ["big.idx"]
    with pytest.raises(ValueError):
        derived.save_derived_stream(path, -1, lambda f: None)
