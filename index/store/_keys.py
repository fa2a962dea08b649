"""API keys of the service: hashed secrets, owner agency, roles, revocation.

The store keeps what :mod:`biomatch.api.auth` gives it: a public prefix (to
find the row) and the SHA-256 of the whole token. The token itself is never
stored, so a copy of the database does not give access to the service.
"""
from __future__ import annotations

import datetime as dt

from sqlalchemy import func, insert, select, update

from . import _checks
from .errors import NotFoundError
from .models import ApiKey
from .schema import AGENCY_LEN, REF_LEN, ROLES, api_keys, meta

__all__ = ["KeysMixin", "check_roles"]

_PREFIX_LEN = 32


def check_roles(roles) -> tuple[str, ...]:
    """Return ``roles`` as a sorted tuple of known role names, or raise ValueError naming the bad one."""
    if isinstance(roles, str) or not roles:
        raise ValueError(f"roles must be a non-empty list of {', '.join(ROLES)}; got {roles!r}")
    for role in roles:
        _checks.choice("role", role, ROLES)
    return tuple(sorted(set(roles)))


def _key(row) -> ApiKey:
    data = dict(row._mapping)
    data["roles"] = tuple(data["roles"].split(","))
    return ApiKey(**data)


class KeysMixin:
    """API key methods of :class:`~.store.Store`."""

    def add_api_key(self, prefix: str, secret_sha256: str, agency: str, roles, *, label: str | None = None,
                    only_if_none: bool = False) -> int | None:
        """Store a new API key and return its id.

        Parameters
        ----------
        prefix : str
            Public, unique part of the token used to find the key.
        secret_sha256 : str
            Hex SHA-256 of the whole token (never the token itself).
        agency : str
            The agency the key acts for.
        roles : sequence of str
            Names from :data:`~.schema.ROLES`.
        label : str, optional
            A note for administrators (who holds the key).
        only_if_none : bool
            Store it only when the table holds no key at all (first start of
            the service); returns None otherwise. Two processes starting at
            once cannot both add one: the check and the insert run under the
            schema-version row lock.
        """
        prefix = _checks.text("prefix", prefix, _PREFIX_LEN)
        digest = _checks.sha256_hex("secret_sha256", secret_sha256)
        if digest is None:
            raise ValueError("secret_sha256 is required")
        agency = _checks.text("agency", agency, AGENCY_LEN)
        names = check_roles(roles)
        label = None if label is None else _checks.text("label", label, REF_LEN)
        with self._writing() as conn:
            if only_if_none:
                conn.execute(select(meta.c.value).where(meta.c.key == "schema_version").with_for_update()).scalar_one()
                if conn.execute(select(func.count()).select_from(api_keys)).scalar_one():
                    return None
            return conn.execute(insert(api_keys).values(
                prefix=prefix, secret_sha256=digest, agency=agency, roles=",".join(names), label=label,
                created_at=dt.datetime.now(dt.timezone.utc), revoked_at=None,
            ).returning(api_keys.c.id)).scalar_one()

    def find_api_key(self, prefix: str) -> ApiKey | None:
        """Return the key with this public prefix (revoked or not), or None."""
        if not isinstance(prefix, str) or not prefix or len(prefix) > _PREFIX_LEN:
            return None
        with self._reading() as conn:
            row = conn.execute(select(api_keys).where(api_keys.c.prefix == prefix)).one_or_none()
        return None if row is None else _key(row)

    def get_api_key(self, key_id: int) -> ApiKey:
        """Return a key by id. Raises :class:`NotFoundError` if there is none."""
        _checks.row_id("key_id", key_id)
        with self._reading() as conn:
            row = conn.execute(select(api_keys).where(api_keys.c.id == key_id)).one_or_none()
        if row is None:
            raise NotFoundError(f"no API key with id {key_id}")
        return _key(row)

    def list_api_keys(self, *, agency: str | None = None, include_revoked: bool = True) -> list[ApiKey]:
        """Return the keys by ascending id (their hashes included; callers show what they need)."""
        query = select(api_keys).order_by(api_keys.c.id)
        if agency is not None:
            query = query.where(api_keys.c.agency == _checks.text("agency", agency, AGENCY_LEN))
        if not include_revoked:
            query = query.where(api_keys.c.revoked_at.is_(None))
        with self._reading() as conn:
            return [_key(row) for row in conn.execute(query)]

    def revoke_api_key(self, key_id: int) -> ApiKey:
        """Revoke a key now (a revoked key stays listed; revoking twice keeps the first time)."""
        _checks.row_id("key_id", key_id)
        with self._writing() as conn:
            found = conn.execute(update(api_keys).where(api_keys.c.id == key_id, api_keys.c.revoked_at.is_(None))
                                 .values(revoked_at=dt.datetime.now(dt.timezone.utc))).rowcount
            if not found:
                self.get_api_key(key_id)  # NotFoundError when there is no such key
        return self.get_api_key(key_id)
