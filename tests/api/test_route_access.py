"""Every route of the service, walked from ``app.routes``: 401 without a key, 403 with a key lacking the role.

A route added later without ``require_roles`` fails here: it is neither in
``OPEN`` nor answers 401.
"""
import re

import pytest
from fastapi.routing import APIRoute

from biomatch.api.main import create_app
from biomatch.api.settings import Settings
from biomatch.api.testing import open_api
from biomatch.index.store import ROLES, Store

#: Routes that need no key: liveness and the API description hold no biometric data.
OPEN = {("GET", "/health")}

_APP = create_app(Settings(home="/nonexistent-never-opened"))


def _required_roles(dependant) -> set[frozenset]:
    found = set()
    for dep in dependant.dependencies:
        roles = getattr(dep.call, "required_roles", None)
        if roles is not None:
            found.add(roles)
        found |= _required_roles(dep)
    return found


def _walk(routes):
    """API routes with their effective dependencies, through included routers.

    FastAPI >= 0.16x keeps an included router as one entry of ``app.routes``
    whose ``effective_candidates()`` are its routes; older versions list
    ``APIRoute`` objects directly.
    """
    for route in routes:
        nested = getattr(route, "effective_candidates", None)
        if nested is not None:
            yield from _walk(nested())
        elif isinstance(route, APIRoute) or (hasattr(route, "dependant") and hasattr(route, "methods")):
            yield route


def _routes():
    out = []
    for route in _walk(_APP.routes):
        for method in sorted(route.methods):
            out.append(pytest.param(method, route.path, _required_roles(route.dependant), id=f"{method} {route.path}"))
    return out


def _first_dependencies() -> list:
    return [pytest.param(route.dependant.dependencies, id=f"{','.join(sorted(route.methods))} {route.path}")
            for route in _walk(_APP.routes) if _required_roles(route.dependant)]


ROUTES = _routes()


def _url(path: str) -> str:
    # Path parameters get a well-formed value (an id, a job id, a report format): the key is checked first.
    return re.sub(r"\{(\w+)\}", lambda m: "csv" if m.group(1) == "fmt" else "1", path)


@pytest.fixture(scope="module")
def api(tmp_path_factory):
    with open_api(Settings(home=tmp_path_factory.mktemp("access") / "home")) as under_test:
        yield under_test


def test_the_walk_sees_every_modality():
    prefixes = {p.values[1].split("/")[1] for p in ROUTES}
    assert {"dna", "faces", "afis", "admin", "audit"} <= prefixes, prefixes
    assert len(ROUTES) >= 30


@pytest.mark.parametrize("method, path, required", ROUTES)
def test_route_needs_a_key_and_the_role(api, method, path, required):
    if (method, path) in OPEN:
        assert not required
        return
    assert len(required) == 1, f"{method} {path} must depend on exactly one require_roles(...), found {required}"
    (roles,) = required
    r = api.client.request(method, _url(path))
    assert r.status_code == 401, (r.status_code, r.text)
    assert r.headers["content-type"] == "application/problem+json" and "www-authenticate" in r.headers
    lacking = sorted(set(ROLES) - roles)
    r = api.client.request(method, _url(path), headers=api.auth(*lacking, agency="ZZ"))
    assert r.status_code == 403, (r.status_code, r.text)
    assert r.headers["content-type"] == "application/problem+json"
    detail = r.json()["detail"]
    assert "lacks the role" in detail and all(role in detail.split("lacks the role")[1] for role in roles)


@pytest.mark.parametrize("dependencies", _first_dependencies())
def test_the_key_is_checked_before_anything_else(dependencies):
    """FastAPI resolves dependencies in parameter order: the role check must come first, so a
    request without a valid key never builds a gallery or index (slow, and its errors would leak)."""
    first = dependencies[0].call
    assert getattr(first, "required_roles", None) is not None, \
        f"the first dependency is {getattr(first, '__name__', first)}; put the user (require_roles) parameter first"


def test_denials_are_audited(api):
    assert api.client.get("/audit/entries", headers=api.auth("examiner", agency="ZZ")).status_code == 403
    with Store.open(api.settings.resolved_database_url(), home=api.settings.home) as store:
        denied = [e for e in store.iter_audit() if e.action == "auth.denied"]
        assert store.verify_audit() is None
    assert denied and all(e.agency == "ZZ" and e.counts == {"status": 403} for e in denied)
