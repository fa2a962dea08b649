"""API keys, the 401/403 dependencies, the admin and audit routes, the audit helper."""
import hashlib
from typing import Annotated

import pytest
from fastapi import APIRouter, Depends, Request
from fastapi.testclient import TestClient

from biomatch.api.audit import MAX_AUDIT_IDS, AuditDep, record_audit
from biomatch.api.auth import (
    CurrentUser, User, authenticate, bootstrap_admin_key, create_key, hash_token, parse_roles, require_roles,
)
from biomatch.api.main import create_app
from biomatch.api.settings import Settings
from biomatch.api.testing import api, bearer  # noqa: F401
from biomatch.index.store import Store


@pytest.fixture
def store(tmp_path):
    with Store.open(f"sqlite:///{tmp_path / 'k.db'}") as s:
        yield s


def test_keys_are_random_prefixed_and_stored_hashed(store):
    a, b = create_key(store, "FR", "examiner, enroller"), create_key(store, "FR", ["examiner"])
    assert a.token.startswith(f"bm_{a.prefix}_") and len(a.token) == 3 + 12 + 1 + 43 and a.token != b.token
    assert a.roles == ("enroller", "examiner") and a.prefix != b.prefix
    stored = store.get_api_key(a.id)
    assert stored.secret_sha256 == hashlib.sha256(a.token.encode()).hexdigest() == hash_token(a.token)
    assert a.token not in repr(store.list_api_keys())
    user = authenticate(store, a.token)
    assert user == User(a.id, a.prefix, "FR", frozenset({"examiner", "enroller"}))
    assert user.actor == f"key:{a.id}:{a.prefix}" and user.has("enroller", "admin") and not user.has("admin")


@pytest.mark.parametrize("mangle, message", [
    (lambda t: None, "an API key is required"),
    (lambda t: "", "an API key is required"),
    (lambda t: t[:-1] + ("A" if t[-1] != "A" else "B"), "not valid"),  # right prefix, wrong secret
    (lambda t: t + "x", "not valid"),
    (lambda t: "bm_000000000000_" + t.split("_", 2)[2], "not valid"),  # unknown prefix
    (lambda t: "hunter2", "not valid"),
])
def test_bad_tokens_are_401(store, mangle, message):
    from fastapi import HTTPException

    token = create_key(store, "FR", ["examiner"]).token
    with pytest.raises(HTTPException) as err:
        authenticate(store, mangle(token))
    assert err.value.status_code == 401 and message in err.value.detail
    assert err.value.headers == {"WWW-Authenticate": 'Bearer realm="biomatch"'}


def test_revoked_key_is_401(store):
    from fastapi import HTTPException

    new = create_key(store, "FR", ["examiner"])
    store.revoke_api_key(new.id)
    with pytest.raises(HTTPException) as err:
        authenticate(store, new.token)
    assert err.value.status_code == 401 and f"{new.prefix} was revoked" in err.value.detail


def test_roles_are_checked():
    assert parse_roles("auditor,,admin ") == ("admin", "auditor")
    with pytest.raises(ValueError, match="role must be one of"):
        parse_roles("examiner,root")
    with pytest.raises(ValueError, match="unknown role 'root'"):
        require_roles("root")
    with pytest.raises(ValueError, match="at least one role"):
        require_roles()


def test_bootstrap_makes_one_admin_key_ever(store):
    first = bootstrap_admin_key(store)
    assert first.roles == ("admin",) and authenticate(store, first.token).has("admin")
    assert bootstrap_admin_key(store) is None
    store.revoke_api_key(first.id)
    assert bootstrap_admin_key(store) is None  # revoking every key does not reopen the service


def _probe_app(settings):
    app = create_app(settings)
    router = APIRouter(prefix="/probe")

    @router.get("/records/{record_id}")
    def view(record_id: int, request: Request, user: Annotated[User, Depends(require_roles("examiner"))],
             audit: AuditDep) -> dict:
        audit("probe.view", subject_ids=[record_id], result_ids=[record_id, "REF-1"], counts={"records": 1})
        return {"agency": user.agency}

    @router.get("/whoami")
    def whoami(user: CurrentUser) -> dict:
        return {"key_id": user.key_id, "roles": sorted(user.roles)}

    app.include_router(router)
    return app


def test_routes_answer_401_403_as_problem_json_and_audit(tmp_path):
    settings = Settings(home=tmp_path / "home")
    with Store.open(settings.resolved_database_url()) as store:
        examiner = create_key(store, "FR", ["examiner"])
        enroller = create_key(store, "DE", ["enroller"])
        revoked = create_key(store, "FR", ["examiner"])
        store.revoke_api_key(revoked.id)
    with TestClient(_probe_app(settings), raise_server_exceptions=False) as client:
        for headers in ({}, bearer("bm_nope"), {"Authorization": f"Basic {examiner.token}"}, bearer(revoked.token),
                        {"X-API-Key": "x" * 10_000}):
            r = client.get("/probe/records/7", headers=headers)
            assert r.status_code == 401 and r.headers["content-type"] == "application/problem+json", headers
            assert r.headers["www-authenticate"] == 'Bearer realm="biomatch"' and r.json()["status"] == 401
            assert examiner.token not in r.text and r.headers["x-content-type-options"] == "nosniff"
        r = client.get("/probe/records/7", headers=bearer(enroller.token))
        assert r.status_code == 403 and r.headers["content-type"] == "application/problem+json"
        assert "lacks the role examiner" in r.json()["detail"] and "agency DE" in r.json()["detail"]
        assert client.get("/probe/records/7", headers=bearer(examiner.token)).json() == {"agency": "FR"}
        assert client.get("/probe/records/8", headers={"X-API-Key": examiner.token}).status_code == 200
        assert client.get("/probe/whoami", headers=bearer(enroller.token)).json() == {"key_id": enroller.id,
                                                                                       "roles": ["enroller"]}
    with Store.open(settings.resolved_database_url()) as store:
        entries = list(store.iter_audit())
        assert store.verify_audit() is None
    assert [(e.action, e.agency, e.route) for e in entries] == [
        ("auth.denied", "DE", "GET /probe/records/{record_id}"),
        ("probe.view", "FR", "GET /probe/records/{record_id}"),
        ("probe.view", "FR", "GET /probe/records/{record_id}")]
    assert entries[1].actor == f"key:{examiner.id}:{examiner.prefix}"
    assert (entries[1].subject_ids, entries[1].result_ids, entries[1].counts) == ([7], [7, "REF-1"], {"records": 1})


def test_audit_helper_caps_id_lists(store):
    from starlette.requests import Request as StarletteRequest

    user = authenticate(store, create_key(store, "FR", ["operator"]).token)
    request = StarletteRequest({"type": "http", "method": "POST", "path": "/faces/probe", "headers": []})
    record_audit(store, user, request, "face.probe", result_ids=range(MAX_AUDIT_IDS + 5), counts={"images": 3})
    (entry,) = store.iter_audit()
    assert len(entry.result_ids) == MAX_AUDIT_IDS and entry.route == "POST /faces/probe"
    assert entry.counts == {"images": 3, "result_ids_total": MAX_AUDIT_IDS + 5}


def test_admin_routes_create_list_revoke(api):  # noqa: F811
    c = api.client
    assert c.get("/admin/keys").status_code == 401
    assert c.get("/admin/keys", headers=api.auth("examiner", "auditor")).status_code == 403
    admin = api.auth("admin")
    r = c.post("/admin/keys", json={"agency": "NL", "roles": ["examiner"], "label": "desk 4"}, headers=admin)
    assert r.status_code == 201, r.text
    new = r.json()
    assert new["token"].startswith(f"bm_{new['prefix']}_") and new["roles"] == ["examiner"]
    assert c.get("/admin/keys", headers=bearer(new["token"])).status_code == 403  # valid key, not admin
    listed = c.get("/admin/keys", headers=admin).json()
    assert [k["agency"] for k in listed] == ["FR", "FR", "NL"] and "token" not in str(listed)
    assert all(set(k) == {"id", "prefix", "agency", "roles", "label", "created_at", "revoked_at"} for k in listed)
    bad = c.post("/admin/keys", json={"agency": "NL", "roles": ["root"]}, headers=admin)
    assert bad.status_code == 422 and "role must be one of" in bad.json()["detail"]
    assert c.delete(f"/admin/keys/{new['id']}", headers=admin).json()["revoked_at"] is not None
    assert c.get("/admin/keys", headers=bearer(new["token"])).status_code == 401
    assert c.delete("/admin/keys/999", headers=admin).status_code == 404
    active = c.get("/admin/keys", params={"include_revoked": False, "agency": "NL"}, headers=admin).json()
    assert active == []


def test_audit_routes_read_and_verify(api):  # noqa: F811
    c = api.client
    c.post("/admin/keys", json={"agency": "NL", "roles": ["examiner"]}, headers=api.auth("admin"))
    assert c.get("/audit/entries", headers=api.auth("admin")).status_code == 403
    auditor = api.auth("auditor", agency="EU")
    entries = c.get("/audit/entries", headers=auditor).json()
    assert [e["action"] for e in entries] == ["key.create", "auth.denied"]
    assert c.get("/audit/verify", headers=auditor).json() == {"ok": True, "first_broken": None,
                                                             "message": "audit chain intact"}
    later = c.get("/audit/entries", params={"after_id": 2, "limit": 1}, headers=auditor).json()
    assert [(e["id"], e["action"], e["agency"]) for e in later] == [(3, "audit.read", "EU")]
    assert c.get("/audit/entries", params={"limit": 0}, headers=auditor).status_code == 422


def test_acting_agency_and_owner_checks():
    from fastapi import HTTPException

    from biomatch.api.auth import acting_agency, check_owner

    user = User(1, "abc", "FR", frozenset({"enroller"}))
    assert acting_agency(user, None) == acting_agency(user, "") == acting_agency(user, "FR") == "FR"
    with pytest.raises(HTTPException) as err:
        acting_agency(user, "DE", "owner_agency")
    assert err.value.status_code == 403 and "owner_agency 'DE'" in err.value.detail
    check_owner(user, "FR", "record 3")
    with pytest.raises(HTTPException) as err:
        check_owner(user, "DE", "record 3")
    assert err.value.status_code == 403 and "record 3 belongs to agency 'DE'" in err.value.detail


def test_tokens_never_reach_the_log(api, caplog):  # noqa: F811
    import logging

    token = api.token("examiner")
    with caplog.at_level(logging.DEBUG):
        api.client.get("/admin/keys", headers=bearer(token))          # 403
        api.client.get("/admin/keys", headers=bearer(token + "x"))    # 401
        api.client.get("/audit/entries", headers={"X-API-Key": token})
    assert caplog.records and token not in caplog.text and token.split("_", 2)[2] not in caplog.text


def test_audit_entries_refuse_ids_beyond_64_bits(api):  # noqa: F811
    # found by the schema fuzzing: this was an OverflowError (500) in the SQLite driver
    r = api.client.get("/audit/entries", params={"after_id": 2**63}, headers=api.auth("auditor"))
    assert r.status_code == 422 and "after_id" in r.json()["detail"]
    assert api.client.get("/audit/entries", params={"after_id": 2**63 - 1}, headers=api.auth("auditor")).json() == []
