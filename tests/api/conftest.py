import pytest

from biomatch.api.settings import get_settings


@pytest.fixture
def home(tmp_path, monkeypatch):
    """A fresh ``BIOMATCH_HOME`` (embedded store) for CLI commands, with the cached settings cleared around it."""
    monkeypatch.setenv("BIOMATCH_HOME", str(tmp_path / "home"))
    monkeypatch.delenv("BIOMATCH_DATABASE_URL", raising=False)
    get_settings.cache_clear()
    yield tmp_path
    get_settings.cache_clear()
