"""Schema-driven fuzzing (schemathesis) of every operation in the OpenAPI document: never a 500.

Schemathesis generates requests from the service's own OpenAPI document
(bodies, forms, uploads, path and query values), valid and invalid, and
sends them in-process (ASGI) with a key holding every role. Every answer
must be below 500. Afterwards the store must hold nothing half-stored: the
audit chain verifies and every record has its templates. The examples per
operation are few (6) and fixed (derandomized), so the suite stays bounded
and repeatable; ``BIOMATCH_FUZZ_EXAMPLES=200 python -m pytest
tests/api/test_schema_fuzz.py`` runs a deeper, random search.
"""
import os
import tempfile
from pathlib import Path

import pytest
import schemathesis
from hypothesis import HealthCheck, settings

from biomatch.api.auth import create_key
from biomatch.api.main import create_app
from biomatch.api.settings import Settings
from biomatch.index.store import MODALITIES, ROLES, Store

_HOME = Path(tempfile.mkdtemp(prefix="biomatch-schema-fuzz-")) / "home"
_SETTINGS = Settings(home=_HOME, max_upload_bytes=2_000_000)
_APP = create_app(_SETTINGS)
with Store.open(_SETTINGS.resolved_database_url(), home=_HOME) as _store:
    _KEY = create_key(_store, "FR", ROLES, label="schema fuzz")
_HEADERS = {"Authorization": f"Bearer {_KEY.token}"}

schema = schemathesis.openapi.from_asgi("/openapi.json", _APP)


@schema.parametrize()
@settings(max_examples=int(os.environ.get("BIOMATCH_FUZZ_EXAMPLES", 6)), deadline=None,
          derandomize="BIOMATCH_FUZZ_EXAMPLES" not in os.environ, suppress_health_check=list(HealthCheck))
def test_no_operation_answers_500(case):
    if case.path == "/admin/keys/{key_id}" and case.path_parameters.get("key_id") == _KEY.id:
        case.path_parameters["key_id"] = _KEY.id + 1_000_000  # keep the fuzzing key itself alive
    response = case.call(headers=_HEADERS)
    assert response.status_code < 500, (case.method, case.formatted_path, response.status_code, response.text[:500])
    if response.status_code >= 400:
        kind = response.headers.get("content-type") or [""]
        kind = kind[0] if isinstance(kind, list) else kind
        assert kind.startswith("application/problem+json"), (case.method, case.formatted_path, response.headers)


def test_nothing_half_stored():
    """Runs after the fuzzing above (same module, file order): the store is consistent."""
    with Store.open(_SETTINGS.resolved_database_url(), home=_HOME) as store:
        assert store.verify_audit() is None
        for modality in MODALITIES:
            records = store.list_records(modality, limit=10_000)
            ids = store.template_ids(modality, [r.id for r in records]) if records else {}
            empty = [r.external_ref for r in records if not ids.get(r.id)]
            assert not empty, f"{modality} records without templates: {empty[:5]}"
        assert store.get_api_key(_KEY.id).revoked_at is None


@pytest.fixture(scope="module", autouse=True)
def _close_app():
    yield
    from biomatch.api.deps import close_resources

    close_resources(_APP)
