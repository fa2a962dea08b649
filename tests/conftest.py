"""Shared fixtures: the real data folder and a few cached fingerprint templates."""
from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import pytest

from biomatch.benchmarks.datasets import data_root
from shared_data import require


@pytest.fixture(scope="session")
def data_dir() -> Path:
    return require(data_root())


@pytest.fixture(scope="session")
def fvc_dir(data_dir) -> Path:
    return data_dir / "fingerprints"


@lru_cache(maxsize=None)
def _template(path: str, dpi: int):
    from biomatch.extractors.fingerprint import extract_fingerprint

    return extract_fingerprint(path, dpi)


@pytest.fixture(scope="session")
def fvc_template(fvc_dir):
    """``fvc_template(set_name, "101_1", dpi=500)``: an extracted template, cached for the session."""
    def get(set_name: str, key: str, dpi: int = 500):
        return _template(str(fvc_dir / set_name / f"{key}.tif"), dpi)
    return get
