"""Append-only, hash-chained audit trail.

Each entry's ``hash`` is the SHA-256 of a canonical JSON form of its fields
(id included) and of the previous entry's hash; ``meta.audit_head`` holds the
newest hash. Changing, deleting, inserting or reordering any entry, or cutting
entries off the end, breaks the chain at a point :meth:`verify_audit` names.
Database triggers refuse UPDATE and DELETE on the table as a second line.

References
----------
.. [1] S. Haber, W. S. Stornetta, "How to time-stamp a digital document",
   Journal of Cryptology 3(2), 1991 (linked hash chains).
"""
from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Iterator, Sequence

from sqlalchemy import Connection, func, insert, select, update

from . import _checks
from .models import AuditEntry
from .schema import AGENCY_LEN, audit, meta

GENESIS = "0" * 64
_MAX_IDS = 10_000

_SQLITE_GUARD = (
    "CREATE TRIGGER IF NOT EXISTS audit_no_update BEFORE UPDATE ON audit "
    "BEGIN SELECT RAISE(ABORT, 'audit trail is append-only'); END",
    "CREATE TRIGGER IF NOT EXISTS audit_no_delete BEFORE DELETE ON audit "
    "BEGIN SELECT RAISE(ABORT, 'audit trail is append-only'); END",
)
_PG_GUARD = (
    "CREATE OR REPLACE FUNCTION biomatch_audit_append_only() RETURNS trigger LANGUAGE plpgsql AS "
    "$$ BEGIN RAISE EXCEPTION 'audit trail is append-only'; END $$",
    "DROP TRIGGER IF EXISTS audit_append_only ON audit",
    "CREATE TRIGGER audit_append_only BEFORE UPDATE OR DELETE ON audit "
    "FOR EACH ROW EXECUTE FUNCTION biomatch_audit_append_only()",
    "DROP TRIGGER IF EXISTS audit_no_truncate ON audit",
    "CREATE TRIGGER audit_no_truncate BEFORE TRUNCATE ON audit "
    "FOR EACH STATEMENT EXECUTE FUNCTION biomatch_audit_append_only()",
)


_PG_GUARD_PRESENT = (
    "SELECT count(*) FROM pg_trigger WHERE tgrelid = 'audit'::regclass "
    "AND tgenabled <> 'D' AND tgname IN ('audit_append_only', 'audit_no_truncate')"
)


def install_append_only_guard(conn: Connection) -> None:
    """Create the triggers that refuse UPDATE/DELETE on ``audit`` (constant DDL, idempotent).

    On PostgreSQL they are only created when missing, so opening a store
    never takes a lock on ``audit`` that a running server's appends would wait on.
    """
    if conn.dialect.name == "postgresql":
        if conn.exec_driver_sql(_PG_GUARD_PRESENT).scalar() == 2:
            return
        ddl = _PG_GUARD
    else:
        ddl = _SQLITE_GUARD
    for statement in ddl:
        conn.exec_driver_sql(statement)


def entry_hash(fields: dict) -> str:
    """SHA-256 over the canonical JSON of an entry's fields (``hash`` excluded)."""
    data = dict(fields)
    data.pop("hash", None)
    data["at"] = data["at"].astimezone(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    text = json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=True, allow_nan=False)
    return hashlib.sha256(text.encode("ascii")).hexdigest()


def _ids(name: str, values) -> list:
    values = list(values or ())
    if len(values) > _MAX_IDS:
        raise ValueError(f"{name} holds {len(values)} ids; the limit is {_MAX_IDS}")
    for v in values:
        if isinstance(v, bool) or not isinstance(v, (int, str)):
            raise ValueError(f"{name} must hold integers or strings, got {v!r}")
    return values


def _counts(counts) -> dict:
    counts = dict(counts or {})
    for k, v in counts.items():
        if not isinstance(k, str) or isinstance(v, bool) or not isinstance(v, int):
            raise ValueError(f"audit counts must map names to integers, got {k!r}: {v!r}")
    return counts


class AuditMixin:
    """Audit methods of :class:`~.store.Store`."""

    def append_audit(self, actor: str, agency: str, action: str, *, route: str | None = None,
                     subject_ids: Sequence[int | str] = (), result_ids: Sequence[int | str] = (),
                     counts: dict[str, int] | None = None) -> int:
        """Append one audit entry and return its id.

        Parameters
        ----------
        actor : str
            Who acted (a user or API key id).
        agency : str
            The actor's agency.
        action : str
            What was done, e.g. ``"face.search"``.
        route : str, optional
            The API route or CLI command.
        subject_ids, result_ids : sequence of int or str
            Ids or references of what was read or written and what came back.
            Never image bytes or templates.
        counts : dict of str to int, optional
            Sizes, e.g. ``{"candidates": 20}``.

        Notes
        -----
        Appends are serialised by locking the ``audit_head`` meta row, so the
        chain never forks. Inside :meth:`transaction` the entry commits (or rolls
        back) with the surrounding writes.
        """
        fields = dict(
            actor=_checks.text("actor", actor, 128),
            agency=_checks.text("agency", agency, AGENCY_LEN),
            action=_checks.text("action", action, 64),
            route=None if route is None else _checks.text("route", route, 256),
            subject_ids=_ids("subject_ids", subject_ids),
            result_ids=_ids("result_ids", result_ids),
            counts=_counts(counts),
        )
        with self._writing() as conn:
            head = conn.execute(select(meta.c.value).where(meta.c.key == "audit_head").with_for_update()).scalar_one()
            last_id = conn.execute(select(func.max(audit.c.id))).scalar() or 0
            fields.update(id=last_id + 1, at=dt.datetime.now(dt.timezone.utc), prev_hash=head)
            # Store the timestamp at the precision every backend keeps (microseconds).
            fields["hash"] = entry_hash(fields)
            conn.execute(insert(audit).values(**fields))
            conn.execute(update(meta).where(meta.c.key == "audit_head").values(value=fields["hash"]))
            return fields["id"]

    def iter_audit(self, *, after_id: int = 0, batch: int = 1000) -> Iterator[AuditEntry]:
        """Yield audit entries by ascending id."""
        _checks.integer("batch", batch, 1, 100_000)
        last = after_id
        while True:
            with self._reading() as conn:
                rows = conn.execute(select(audit).where(audit.c.id > last).order_by(audit.c.id).limit(batch)).all()
            for row in rows:
                yield AuditEntry(**row._mapping)
            if len(rows) < batch:
                return
            last = rows[-1].id

    def verify_audit(self) -> int | None:
        """Check the whole chain and return the id of the first broken entry, or None.

        An entry is broken when its id is not the previous id + 1, its
        ``prev_hash`` is not the previous entry's hash, or its own hash does not
        match its content. When the entries are intact but the newest ones were
        cut off (``meta.audit_head`` is not the last hash), the id after the
        last surviving entry is returned.
        """
        prev_id, prev_hash = 0, GENESIS
        for entry in self.iter_audit():
            fields = {name: getattr(entry, name) for name in AuditEntry.__slots__}
            if entry.id != prev_id + 1 or entry.prev_hash != prev_hash or entry_hash(fields) != entry.hash:
                return entry.id
            prev_id, prev_hash = entry.id, entry.hash
        with self._reading() as conn:
            head = conn.execute(select(meta.c.value).where(meta.c.key == "audit_head")).scalar_one()
        return None if head == prev_hash else prev_id + 1
