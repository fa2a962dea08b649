"""The application skeleton: health, problem+json errors, limits, CORS, settings."""
import pytest
from fastapi import APIRouter, HTTPException, Request
from fastapi.testclient import TestClient
from pydantic import BaseModel

from biomatch.api.deps import StoreDep, SettingsDep
from biomatch.api.main import ROUTERS, create_app
from biomatch.api.settings import Settings, get_settings
from biomatch.index.store import SCHEMA_VERSION


@pytest.fixture
def settings(tmp_path):
    return Settings(home=tmp_path / "home", max_upload_bytes=1000)


class Item(BaseModel):
    ref: str
    agency: str


def _app_with_probe_routes(settings):
    app = create_app(settings)
    router = APIRouter(prefix="/probe", tags=["probe"])

    @router.post("/records", status_code=201)
    def add(item: Item, store: StoreDep) -> dict:
        return {"id": store.add_record("face", item.ref, item.agency)}

    @router.get("/records/{record_id}")
    def get(record_id: int, store: StoreDep) -> dict:
        return {"ref": store.get_record(record_id).external_ref}

    @router.get("/boom")
    def boom() -> dict:
        raise RuntimeError("secret internal state /etc/shadow")

    @router.get("/teapot")
    def teapot() -> dict:
        raise HTTPException(418, "short and stout")

    @router.get("/structured")
    def structured() -> dict:
        raise HTTPException(409, detail={"conflict": "N-1"})

    @router.get("/limits")
    def limits(s: SettingsDep) -> dict:
        return {"max_upload_bytes": s.max_upload_bytes}

    @router.post("/upload")
    async def upload(request: Request) -> dict:
        return {"n": len(await request.body())}

    app.include_router(router)
    return app


def test_health_reports_store(settings):
    with TestClient(create_app(settings)) as client:
        r = client.get("/health")
    assert r.status_code == 200
    assert r.json() == {"status": "ok", "backend": "sqlite", "schema_version": SCHEMA_VERSION,
                        "generations": {"fingerprint": 0, "face": 0, "dna": 0, "mark": 0}}
    assert (settings.home / "biomatch.db").exists()
    assert r.headers["x-content-type-options"] == "nosniff"


def test_store_and_errors_as_problem_json(settings):
    client = TestClient(_app_with_probe_routes(settings), raise_server_exceptions=False)
    r = client.post("/probe/records", json={"ref": "N-1", "agency": "FR"})
    assert r.status_code == 201
    rid = r.json()["id"]
    assert client.get(f"/probe/records/{rid}").json() == {"ref": "N-1"}

    dup = client.post("/probe/records", json={"ref": "N-1", "agency": "FR"})
    assert dup.status_code == 409 and dup.headers["content-type"] == "application/problem+json"
    assert dup.json()["detail"] == "face record 'N-1' already exists" and dup.json()["status"] == 409

    bad = client.post("/probe/records", json={"ref": "", "agency": "FR"})
    assert bad.status_code == 422 and bad.json()["detail"] == "external_ref must not be empty"

    missing = client.get("/probe/records/999")
    assert missing.status_code == 404 and missing.json()["detail"] == "no record with id 999"

    schema = client.post("/probe/records", json={"ref": "x"})
    assert schema.status_code == 422 and "agency: Field required" in schema.json()["detail"]

    not_json = client.post("/probe/records", content=b"{nope", headers={"content-type": "application/json"})
    assert not_json.status_code == 400 and not_json.headers["content-type"] == "application/problem+json"
    assert not_json.json()["detail"].startswith("request body is not valid JSON at character 1")

    boom = client.get("/probe/boom")
    assert boom.status_code == 500 and boom.headers["x-content-type-options"] == "nosniff"
    assert "secret" not in boom.text and "Traceback" not in boom.text
    assert boom.json()["detail"].startswith("internal error")

    teapot = client.get("/probe/teapot")
    assert teapot.status_code == 418 and teapot.json()["detail"] == "short and stout"
    structured = client.get("/probe/structured")
    assert structured.status_code == 409 and structured.json()["errors"] == {"conflict": "N-1"}
    nowhere = client.get("/nowhere")
    assert nowhere.status_code == 404 and nowhere.headers["content-type"] == "application/problem+json"


def test_body_limit(settings):
    client = TestClient(_app_with_probe_routes(settings))
    assert client.post("/probe/upload", content=b"x" * 1000).json() == {"n": 1000}
    r = client.post("/probe/upload", content=b"x" * 1001)
    assert r.status_code == 413 and r.json()["detail"] == "request body exceeds the limit of 1000 bytes"
    assert r.headers["content-type"] == "application/problem+json" and r.headers["x-frame-options"] == "DENY"

    def chunks():  # no Content-Length: counted while streaming
        for _ in range(5):
            yield b"y" * 300

    r = client.post("/probe/upload", content=chunks())
    assert r.status_code == 413


def test_cors_closed_by_default_and_opt_in(settings, tmp_path):
    pre = {"Origin": "https://evil.example", "Access-Control-Request-Method": "POST"}
    closed = TestClient(create_app(settings)).options("/health", headers=pre)
    assert "access-control-allow-origin" not in closed.headers
    opened = TestClient(create_app(Settings(home=tmp_path / "h2", cors_origins=("https://ok.example",))))
    r = opened.options("/health", headers={**pre, "Origin": "https://ok.example"})
    assert r.headers["access-control-allow-origin"] == "https://ok.example"
    r = opened.options("/health", headers=pre)
    assert "access-control-allow-origin" not in r.headers


def test_settings_from_environment_and_override(monkeypatch, tmp_path):
    monkeypatch.setenv("BIOMATCH_HOME", str(tmp_path / "envhome"))
    monkeypatch.setenv("BIOMATCH_MAX_CANDIDATES", "50")
    monkeypatch.setenv("BIOMATCH_DATA", str(tmp_path / "data"))
    get_settings.cache_clear()
    try:
        s = get_settings()
        assert s.home == tmp_path / "envhome" and s.max_candidates == 50 and s.data_dir == tmp_path / "data"
        assert s.resolved_database_url() == f"sqlite:///{tmp_path / 'envhome' / 'biomatch.db'}"
        app = _app_with_probe_routes(None)
        app.dependency_overrides[get_settings] = lambda: Settings(home=tmp_path / "o", max_upload_bytes=7)
        assert TestClient(app).get("/probe/limits").json() == {"max_upload_bytes": 7}
    finally:
        get_settings.cache_clear()
    with pytest.raises(ValueError):
        Settings(max_candidates=0)


def test_store_survives_app_restart(settings):
    app = _app_with_probe_routes(settings)
    with TestClient(app) as client:
        rid = client.post("/probe/records", json={"ref": "N-7", "agency": "DE"}).json()["id"]
    with TestClient(_app_with_probe_routes(settings)) as client:
        assert client.get(f"/probe/records/{rid}").json() == {"ref": "N-7"}


def test_routers_tuple_and_openapi(settings):
    assert ROUTERS[0] == "biomatch.api.routers.system"
    schema = TestClient(_app_with_probe_routes(settings)).get("/openapi.json").json()
    assert "/health" in schema["paths"]
    post = schema["paths"]["/probe/records"]["post"]["responses"]
    for status in ("400", "404", "409", "413", "422", "500"):  # what the handlers really send
        body = post[status]["content"]["application/problem+json"]["schema"]
        assert {"type", "title", "status", "detail"} <= set(body["properties"])
    assert "HTTPValidationError" not in str(schema)


def test_security_headers_and_docs_page(settings):
    client = TestClient(create_app(settings))
    health = client.get("/health")
    assert health.headers["content-security-policy"].startswith("default-src 'none'")
    assert health.headers["x-frame-options"] == "DENY"
    docs = client.get("/docs")
    assert docs.status_code == 200 and "content-security-policy" not in docs.headers


def test_app_resources_built_once_per_name_and_closed(settings):
    import threading

    from biomatch.api.deps import app_resource, close_resources

    app = create_app(settings)
    built, closed, failures, results = [], [], [], []
    started, release = threading.Event(), threading.Event()

    class Thing:
        def __init__(self, name):
            built.append(name)
            self.name = name

        def close(self):
            closed.append(self.name)
            if self.name == "bad":
                raise RuntimeError("close failed")

    def slow():
        started.set()
        if not release.wait(20):  # released only once "outer" was built meanwhile
            failures.append("another resource waited for this one")
        return Thing("slow")

    threads = [threading.Thread(target=lambda: results.append(app_resource(app, "slow", slow))) for _ in range(4)]
    for t in threads:
        t.start()
    assert started.wait(20)
    nested = app_resource(app, "outer", lambda: (app_resource(app, "bad", lambda: Thing("bad")), Thing("outer"))[1])
    release.set()
    for t in threads:
        t.join(30)
    assert not failures and nested.name == "outer"
    assert built.count("slow") == 1 and len(results) == 4 and len({id(r) for r in results}) == 1
    close_resources(app)  # "bad" raises on close: logged, the others still closed
    assert sorted(closed) == ["bad", "outer", "slow"] and app.state.resources == {}
