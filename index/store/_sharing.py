"""Releases: an owner agency lets another agency see the details of one record or mark.

The store only keeps the facts (which item, to which agency, by whom, when);
who may release and what a candidate shows without a release is the
service's policy (:mod:`biomatch.api.sharing`). A release goes with its item:
deleting the record or mark deletes its releases (cascade).
"""
from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

from sqlalchemy import delete, insert, select
from sqlalchemy.exc import IntegrityError

from . import _checks
from .errors import NotFoundError
from .models import Release
from .schema import AGENCY_LEN, RELEASE_KINDS, marks, records, releases

__all__ = ["SharingMixin"]

_ACTOR_LEN = 128


def _column(kind: str):
    _checks.choice("kind", kind, RELEASE_KINDS)
    return releases.c.record_id if kind == "record" else releases.c.mark_id


def _release(row) -> Release:
    kind = "record" if row.record_id is not None else "mark"
    item = row.record_id if kind == "record" else row.mark_id
    return Release(row.id, kind, item, row.agency, row.released_by, row.released_at)


class SharingMixin:
    """Release methods of :class:`~.store.Store`."""

    def item_owner(self, kind: str, item_id: int) -> str:
        """The owner agency of a record or mark. Raises :class:`NotFoundError` for an unknown id."""
        _column(kind)
        _checks.row_id(f"{kind}_id", item_id)
        table = records if kind == "record" else marks
        with self._reading() as conn:
            owner = conn.execute(select(table.c.owner_agency).where(table.c.id == item_id)).scalar_one_or_none()
        if owner is None:
            raise NotFoundError(f"no {kind} with id {item_id}")
        return owner

    def record_owners(self, record_ids: Iterable[int]) -> dict[int, str]:
        """``{record id: owner agency}`` of the records that exist among ``record_ids`` (one query per 500)."""
        ids = sorted({_checks.row_id("record_id", i) for i in record_ids})
        out: dict[int, str] = {}
        with self._reading() as conn:
            for start in range(0, len(ids), 500):
                chunk = ids[start:start + 500]
                out.update(conn.execute(select(records.c.id, records.c.owner_agency)
                                        .where(records.c.id.in_(chunk))).all())
        return out

    def release_details(self, kind: str, item_id: int, agency: str, *, released_by: str) -> Release:
        """Release the details of a record or mark to ``agency`` and return the release.

        Releasing again to the same agency keeps (and returns) the first
        release. Releasing to the owner agency itself is a ValueError: it
        always sees its own details.

        Raises
        ------
        NotFoundError
            No such record or mark.
        """
        column = _column(kind)
        agency = _checks.text("agency", agency, AGENCY_LEN)
        released_by = _checks.text("released_by", released_by, _ACTOR_LEN)
        with self._writing() as conn:
            owner = self.item_owner(kind, item_id)
            if owner == agency:
                raise ValueError(f"{kind} {item_id} belongs to agency {agency!r}; an agency is never released "
                                 f"its own details")
            row = conn.execute(select(releases).where(column == item_id, releases.c.agency == agency)).one_or_none()
            if row is None:
                values = {"record_id": None, "mark_id": None, column.name: item_id, "agency": agency,
                          "released_by": released_by, "released_at": dt.datetime.now(dt.timezone.utc)}
                try:
                    with self.transaction():  # a savepoint: a concurrent identical release may win the unique key
                        conn.execute(insert(releases).values(**values))
                except IntegrityError:
                    pass  # the other release stands (it committed first); return it
                row = conn.execute(select(releases).where(column == item_id, releases.c.agency == agency)).one()
        return _release(row)

    def revoke_release(self, kind: str, item_id: int, agency: str) -> None:
        """Withdraw the release of a record or mark to ``agency``. Raises :class:`NotFoundError` if there is none."""
        column = _column(kind)
        _checks.row_id(f"{kind}_id", item_id)
        agency = _checks.text("agency", agency, AGENCY_LEN)
        with self._writing() as conn:
            gone = conn.execute(delete(releases).where(column == item_id, releases.c.agency == agency)).rowcount
        if not gone:
            raise NotFoundError(f"{kind} {item_id} has no release to agency {agency!r}")

    def list_releases(self, kind: str, item_id: int) -> list[Release]:
        """The releases of one record or mark, oldest first."""
        column = _column(kind)
        _checks.row_id(f"{kind}_id", item_id)
        with self._reading() as conn:
            return [_release(r) for r in conn.execute(select(releases).where(column == item_id)
                                                      .order_by(releases.c.id))]

    def released_to(self, agency: str, kind: str, item_ids: Iterable[int]) -> set[int]:
        """The ids among ``item_ids`` whose details were released to ``agency`` (one query per 500 ids)."""
        column = _column(kind)
        agency = _checks.text("agency", agency, AGENCY_LEN)
        ids = sorted({_checks.row_id(f"{kind}_id", i) for i in item_ids})
        out: set[int] = set()
        with self._reading() as conn:
            for start in range(0, len(ids), 500):
                out.update(conn.execute(select(column).where(releases.c.agency == agency,
                                                             column.in_(ids[start:start + 500]))).scalars())
        return out
