"""API keys and role checks: who is calling, for which agency, allowed to do what.

Keys
----
A key is ``bm_<prefix>_<secret>``: ``prefix`` is 12 random hex digits, public,
and finds the stored row; ``secret`` is :func:`secrets.token_urlsafe` (32
bytes, 256 bits of entropy). The store keeps only the SHA-256 of the whole
token. A plain (unsalted, fast) hash is adequate here because the tokens are
random with 256 bits of entropy: there is no dictionary to try and no
brute-force shortcut, unlike passwords, which need a slow salted hash. The
comparison is constant-time (:func:`hmac.compare_digest`).

Clients send the key as ``Authorization: Bearer <key>`` or ``X-API-Key:
<key>``. A missing, unknown, malformed or revoked key is 401 problem+json with
``WWW-Authenticate: Bearer``; a valid key without the role a route needs is
403. There is no open mode: every biometric route depends on
:func:`require_roles`.

Roles (``biomatch.index.store.ROLES``): ``examiner`` (search, verify, view),
``enroller`` (add, update, delete records of the key's agency), ``operator``
(bulk face probes), ``auditor`` (read the audit trail), ``admin`` (manage
keys). Roles do not imply each other: an admin key cannot search unless it
also holds ``examiner`` (separation of duties).
"""
from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, HTTPException, Request

from biomatch.index.store import ROLES, ApiKey, Store
from biomatch.index.store._keys import check_roles

from .deps import StoreDep

__all__ = [
    "User", "NewKey", "create_key", "hash_token", "authenticate", "bootstrap_admin_key", "parse_roles",
    "get_current_user", "CurrentUser", "require_roles", "ROLES", "acting_agency", "check_owner", "AgencyDenied",
    "ExaminerUser", "EnrollerUser", "OperatorUser", "AuditorUser", "AdminUser",
]

_TOKEN = re.compile(r"bm_([0-9a-f]{12})_([A-Za-z0-9_-]{43})")
_CHALLENGE = {"WWW-Authenticate": 'Bearer realm="biomatch"'}


@dataclass(frozen=True, slots=True)
class User:
    """The authenticated caller: one API key, its agency and roles."""

    key_id: int
    prefix: str
    agency: str
    roles: frozenset[str]

    @property
    def actor(self) -> str:
        """How the audit trail names this caller (the key id and its public prefix)."""
        return f"key:{self.key_id}:{self.prefix}"

    def has(self, *roles: str) -> bool:
        """True when the key holds at least one of ``roles``."""
        return not self.roles.isdisjoint(roles)


@dataclass(frozen=True, slots=True)
class NewKey:
    """A key just created: ``token`` is shown once and never stored."""

    id: int
    token: str
    prefix: str
    agency: str
    roles: tuple[str, ...]


def hash_token(token: str) -> str:
    """Hex SHA-256 of a token (adequate for 256-bit random tokens; see the module notes)."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def parse_roles(text: str | list[str] | tuple[str, ...]) -> tuple[str, ...]:
    """``"examiner,enroller"`` (or a list) -> sorted role tuple; ValueError names an unknown role."""
    items = [r.strip() for r in text.split(",")] if isinstance(text, str) else list(text)
    return check_roles([r for r in items if r])


def _new_token() -> tuple[str, str]:
    prefix = secrets.token_hex(6)
    return prefix, f"bm_{prefix}_{secrets.token_urlsafe(32)}"


def create_key(store: Store, agency: str, roles, *, label: str | None = None) -> NewKey:
    """Create a key for ``agency`` with ``roles`` and return it with its token (shown once).

    Raises
    ------
    ValueError
        For an empty agency or an unknown role.
    """
    names = parse_roles(roles)
    prefix, token = _new_token()
    key_id = store.add_api_key(prefix, hash_token(token), agency, names, label=label)
    return NewKey(key_id, token, prefix, agency, names)


def bootstrap_admin_key(store: Store, agency: str = "ADMIN") -> NewKey | None:
    """Create an admin key when the store has never had one; None when keys exist.

    Only a store with no key at all (revoked ones count) gets one, so revoking
    every key does not reopen the service at the next start.
    """
    prefix, token = _new_token()
    key_id = store.add_api_key(prefix, hash_token(token), agency, ("admin",), label="first start",
                               only_if_none=True)
    return None if key_id is None else NewKey(key_id, token, prefix, agency, ("admin",))


def authenticate(store: Store, token: str | None) -> User:
    """Return the :class:`User` of a token, or raise 401 (missing, malformed, unknown or revoked)."""
    if not token:
        raise HTTPException(401, "an API key is required: send 'Authorization: Bearer <key>' or 'X-API-Key: <key>'",
                            headers=_CHALLENGE)
    match = _TOKEN.fullmatch(token)
    key: ApiKey | None = store.find_api_key(match.group(1)) if match else None
    if key is None or not hmac.compare_digest(key.secret_sha256, hash_token(token)):
        raise HTTPException(401, "the API key is not valid", headers=_CHALLENGE)
    if key.revoked_at is not None:
        raise HTTPException(401, f"the API key {key.prefix} was revoked on {key.revoked_at:%Y-%m-%d %H:%M} UTC",
                            headers=_CHALLENGE)
    return User(key.id, key.prefix, key.agency, frozenset(key.roles))


def _token_of(request: Request) -> str | None:
    header = request.headers.get("authorization")
    if header:
        scheme, _, value = header.partition(" ")
        if scheme.lower() != "bearer":
            raise HTTPException(401, f"unsupported authorization scheme {scheme!r}; use 'Bearer <key>'",
                                headers=_CHALLENGE)
        return value.strip()
    return (request.headers.get("x-api-key") or "").strip() or None


def get_current_user(request: Request, store: StoreDep) -> User:
    """The caller, from ``Authorization: Bearer`` or ``X-API-Key`` (401 problem+json otherwise)."""
    return authenticate(store, _token_of(request))


CurrentUser = Annotated[User, Depends(get_current_user)]


def require_roles(*roles: str):
    """Return a dependency giving the :class:`User` when it holds one of ``roles``, else 403.

    The denial is appended to the audit trail (who, which route), since a
    refused attempt on biometric data is worth tracing too.

    Examples
    --------
    >>> @router.post("/search")                                   # doctest: +SKIP
    ... def search(user: Annotated[User, Depends(require_roles("examiner"))]): ...
    """
    if not roles:
        raise ValueError("require_roles needs at least one role")
    for role in roles:
        if role not in ROLES:
            raise ValueError(f"unknown role {role!r}; roles are {', '.join(ROLES)}")

    def dependency(request: Request, user: CurrentUser, store: StoreDep) -> User:
        if not user.has(*roles):
            from .audit import route_of

            store.append_audit(user.actor, user.agency, "auth.denied", route=route_of(request),
                               counts={"status": 403})
            raise HTTPException(403, f"this API key (agency {user.agency}, roles {', '.join(sorted(user.roles))}) "
                                     f"lacks the role {' or '.join(roles)} that this route needs")
        return user

    dependency.required_roles = frozenset(roles)  # read by the route-coverage test
    dependency.__name__ = f"require_{'_or_'.join(roles)}"
    return dependency


class AgencyDenied(HTTPException):
    """403: the key acts for another agency than the item or request names.

    The application's handler (:func:`biomatch.api.problems.install_problem_handlers`)
    appends an ``auth.agency_denied`` audit entry naming the caller, the route
    and ``subject``, then answers 403 problem+json.
    """

    def __init__(self, user: User, subject: str, detail: str):
        super().__init__(403, detail)
        self.user, self.subject = user, subject

    def audit(self, request: Request) -> None:
        """Append the refusal to the audit trail (called by the exception handler)."""
        from .audit import route_of
        from .deps import get_store

        get_store(request).append_audit(self.user.actor, self.user.agency, "auth.agency_denied",
                                        route=route_of(request), subject_ids=[self.subject[:200]],
                                        counts={"status": 403})


def acting_agency(user: User, agency: str | None, field: str = "agency") -> str:
    """The agency a request acts for: ``user.agency``; a different one named in the request is 403 (audited).

    An empty or missing ``agency`` means the key's own agency.
    """
    if agency and agency != user.agency:
        raise AgencyDenied(user, f"{field} {agency}",
                           f"{field} {agency!r}: this API key acts for agency {user.agency!r} only")
    return user.agency


def check_owner(user: User, owner_agency: str, what: str) -> None:
    """403 (audited) unless ``what`` (a record, mark, job) belongs to the key's agency."""
    if owner_agency != user.agency:
        raise AgencyDenied(user, what, f"{what} belongs to agency {owner_agency!r}; this API key acts for "
                                       f"agency {user.agency!r}")


ExaminerUser = Annotated[User, Depends(require_roles("examiner"))]
EnrollerUser = Annotated[User, Depends(require_roles("enroller"))]
OperatorUser = Annotated[User, Depends(require_roles("operator"))]
AuditorUser = Annotated[User, Depends(require_roles("auditor"))]
AdminUser = Annotated[User, Depends(require_roles("admin"))]
