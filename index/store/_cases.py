"""Crime-scene marks, hit notifications and per-agency webhooks."""
from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterable
from urllib.parse import urlsplit

from sqlalchemy import LargeBinary, delete, insert, null, select, type_coerce, update

from . import _checks
from .errors import NotFoundError
from .models import Mark, Notification
from .schema import AGENCY_LEN, MARK_STATUSES, REF_LEN, marks, notifications, webhooks

_MAX_PAYLOAD_BYTES = 64 * 1024


def _now() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc)


class CasesMixin:
    """Mark, notification and webhook methods of :class:`~.store.Store`."""

    # -- marks -----------------------------------------------------------------
    def add_mark(self, case_ref: str, owner_agency: str, template_bytes: bytes, template_version: int,
                 image_bytes: bytes | None = None, status: str = "unsolved") -> int:
        """Register a crime-scene mark and return its id (bumps the ``mark`` generation)."""
        now = _now()
        values = dict(
            case_ref=_checks.text("case_ref", case_ref, REF_LEN),
            owner_agency=_checks.text("owner_agency", owner_agency, AGENCY_LEN),
            template=_checks.blob("template", template_bytes),
            template_version=_checks.version("template_version", template_version),
            image=None if image_bytes is None else _checks.blob("image", image_bytes),
            status=_checks.choice("mark status", status, MARK_STATUSES),
            created_at=now, updated_at=now,
        )
        with self._writing("mark") as conn:
            return conn.execute(insert(marks).values(**values).returning(marks.c.id)).scalar_one()

    def get_mark(self, mark_id: int, *, with_image: bool = False) -> Mark:
        """Return a mark (``image`` is None unless ``with_image``). Raises :class:`NotFoundError`."""
        _checks.row_id("mark_id", mark_id)
        with self._reading() as conn:
            row = conn.execute(self._mark_query(with_image).where(marks.c.id == mark_id)).one_or_none()
        if row is None:
            raise NotFoundError(f"no mark with id {mark_id}")
        return Mark(**row._mapping)

    def list_marks(self, *, owner_agency: str | None = None, status: str | None = None,
                   after_id: int = 0, limit: int = 100) -> list[Mark]:
        """Return marks by ascending id, without images, optionally filtered."""
        _checks.integer("limit", limit, 1, 10_000)
        _checks.integer("after_id", after_id, 0, 2**63 - 1)
        query = self._mark_query(False).where(marks.c.id > after_id)
        if owner_agency is not None:
            query = query.where(marks.c.owner_agency == _checks.text("owner_agency", owner_agency, AGENCY_LEN))
        if status is not None:
            query = query.where(marks.c.status == _checks.choice("mark status", status, MARK_STATUSES))
        with self._reading() as conn:
            rows = conn.execute(query.order_by(marks.c.id).limit(limit)).all()
        return [Mark(**r._mapping) for r in rows]

    @staticmethod
    def _mark_query(with_image: bool):
        columns = [c for c in marks.c if c.name != "image"]
        return select(*columns, marks.c.image if with_image else _none("image"))

    def update_mark_status(self, mark_id: int, status: str) -> None:
        """Set a mark's status (unsolved, identified, closed); bumps the ``mark`` generation."""
        _checks.row_id("mark_id", mark_id)
        _checks.choice("mark status", status, MARK_STATUSES)
        with self._writing("mark") as conn:
            done = conn.execute(update(marks).where(marks.c.id == mark_id)
                                .values(status=status, updated_at=_now())).rowcount
            if done == 0:
                raise NotFoundError(f"no mark with id {mark_id}")

    def delete_mark(self, mark_id: int) -> None:
        """Delete a mark. Raises :class:`NotFoundError` if there is none."""
        _checks.row_id("mark_id", mark_id)
        with self._writing("mark") as conn:
            if conn.execute(delete(marks).where(marks.c.id == mark_id)).rowcount == 0:
                raise NotFoundError(f"no mark with id {mark_id}")

    # -- notifications ---------------------------------------------------------
    def add_notification(self, agency: str, kind: str, subject_type: str, subject_id: int,
                         payload: dict | None = None) -> int:
        """Store a notification for ``agency`` (for example a hit on its mark) and return its id.

        ``payload`` must be a JSON object of at most 64 KiB (scores, references;
        never image bytes).
        """
        payload = {} if payload is None else payload
        if not isinstance(payload, dict):
            raise ValueError(f"notification payload must be a JSON object, got {type(payload).__name__}")
        try:
            size = len(json.dumps(payload, allow_nan=False))
        except (TypeError, ValueError) as exc:
            raise ValueError(f"notification payload is not JSON-serialisable: {exc}") from None
        if size > _MAX_PAYLOAD_BYTES:
            raise ValueError(f"notification payload is {size} bytes; the limit is {_MAX_PAYLOAD_BYTES}")
        values = dict(
            agency=_checks.text("agency", agency, AGENCY_LEN),
            kind=_checks.text("notification kind", kind, 64),
            subject_type=_checks.text("subject_type", subject_type, 32),
            subject_id=_checks.row_id("subject_id", subject_id),
            payload=payload, created_at=_now(), read_at=None,
        )
        with self._writing() as conn:
            return conn.execute(insert(notifications).values(**values).returning(notifications.c.id)).scalar_one()

    def list_notifications(self, agency: str, *, unread_only: bool = False, after_id: int = 0,
                           limit: int = 100) -> list[Notification]:
        """Return an agency's notifications by ascending id."""
        _checks.text("agency", agency, AGENCY_LEN)
        _checks.integer("limit", limit, 1, 10_000)
        _checks.integer("after_id", after_id, 0, 2**63 - 1)
        query = select(notifications).where(notifications.c.agency == agency, notifications.c.id > after_id)
        if unread_only:
            query = query.where(notifications.c.read_at.is_(None))
        with self._reading() as conn:
            rows = conn.execute(query.order_by(notifications.c.id).limit(limit)).all()
        return [Notification(**r._mapping) for r in rows]

    def mark_notifications_read(self, agency: str, ids: Iterable[int]) -> int:
        """Mark an agency's notifications read; ids of other agencies are left alone.

        Returns
        -------
        int
            How many unread notifications were marked.
        """
        _checks.text("agency", agency, AGENCY_LEN)
        ids = [_checks.row_id("notification id", i) for i in ids]
        if len(ids) > 10_000:
            raise ValueError(f"{len(ids)} notification ids in one call; the limit is 10000")
        if not ids:
            return 0
        with self._writing() as conn:
            return conn.execute(update(notifications).where(
                notifications.c.agency == agency, notifications.c.id.in_(ids), notifications.c.read_at.is_(None),
            ).values(read_at=_now())).rowcount

    # -- webhooks --------------------------------------------------------------
    def set_webhook(self, agency: str, url: str | None) -> None:
        """Set (or with ``url=None`` remove) an agency's notification webhook (http or https)."""
        _checks.text("agency", agency, AGENCY_LEN)
        with self._writing() as conn:
            conn.execute(delete(webhooks).where(webhooks.c.agency == agency))
            if url is not None:
                conn.execute(insert(webhooks).values(agency=agency, url=_check_url(url)))

    def get_webhook(self, agency: str) -> str | None:
        """Return an agency's webhook URL, or None."""
        _checks.text("agency", agency, AGENCY_LEN)
        with self._reading() as conn:
            return conn.execute(select(webhooks.c.url).where(webhooks.c.agency == agency)).scalar_one_or_none()


def _none(name: str):
    return type_coerce(null(), LargeBinary).label(name)


def _check_url(url: str) -> str:
    _checks.text("webhook url", url, 2048)
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError(f"webhook url must be an absolute http(s) URL, got {url!r}")
    return url
