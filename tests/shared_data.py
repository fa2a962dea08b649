"""The shared real data, for tests: present, or the test cannot run.

Under CI (``$CI`` set) missing data is a failure, since the suite must not
pass by skipping; on a developer machine without the data it is a skip.
"""
from __future__ import annotations

import os
from pathlib import Path

import pytest

from biomatch.benchmarks.datasets import data_root

__all__ = ["LFW", "require", "lfw", "lfw_upload"]

#: The LFW development folder (one folder per person).
LFW = data_root() / "faces" / "lfw_dev"


def require(path: Path, what: str = "shared data") -> Path:
    """``path`` if it exists; otherwise fail under CI and skip elsewhere."""
    if not Path(path).exists():
        if os.environ.get("CI"):
            pytest.fail(f"{what} missing at {path} (set BIOMATCH_DATA)")
        pytest.skip(f"{what} missing at {path}")
    return Path(path)


def lfw(rel: str) -> Path:
    """An LFW image by its path relative to the folder (``"Name/Name_0001.jpg"``)."""
    return require(LFW / rel, "shared face data")


def lfw_upload(rel: str) -> tuple[str, bytes, str]:
    """An LFW image as a multipart upload ``(file name, bytes, content type)``."""
    path = lfw(rel)
    return path.name, path.read_bytes(), "image/jpeg"
