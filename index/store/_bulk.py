"""Bulk enrolment: many records with their templates in one all-or-nothing transaction."""
from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence

from sqlalchemy import insert, select, update
from sqlalchemy.exc import IntegrityError

from . import _checks
from ._values import TEMPLATE_WRITERS, fingerprint_values
from .errors import DuplicateRefError
from .schema import AGENCY_LEN, MODALITIES, REF_LEN, TEMPLATE_TABLES, fingerprints, records

#: Rows per executemany round trip (bounded parameter lists on both backends).
CHUNK = 500


def _template_values(check, item, where: str) -> dict:
    try:
        return check(**item) if isinstance(item, Mapping) else check(*item)
    except TypeError as exc:  # wrong arity or names
        raise ValueError(f"{where}: template arguments do not fit ({exc})") from None
    except ValueError as exc:
        raise ValueError(f"{where}: {exc}") from None


def _prepare(modality: str, entries) -> tuple[list[dict], list[list[dict]]]:
    check = TEMPLATE_WRITERS[modality][1]
    heads, bodies, seen = [], [], set()
    for n, entry in enumerate(entries):
        if not isinstance(entry, Sequence) or len(entry) != 4:
            raise ValueError(f"entry {n} must be (external_ref, owner_agency, restricted, templates)")
        ref, agency, restricted, templates = entry
        where = f"entry {n} ({ref!r})"
        _checks.text(f"{where} external_ref", ref, REF_LEN)
        _checks.text(f"{where} owner_agency", agency, AGENCY_LEN)
        if not isinstance(restricted, bool):
            raise ValueError(f"{where}: restricted must be a bool, got {restricted!r}")
        if ref in seen:
            raise DuplicateRefError(f"{modality} record {ref!r} appears twice in this batch")
        seen.add(ref)
        heads.append({"modality": modality, "external_ref": ref, "owner_agency": agency, "restricted": restricted})
        bodies.append([_template_values(check, t, where) for t in templates])
    return heads, bodies


class BulkMixin:
    """Bulk methods of :class:`~.store.Store`."""

    def enrol_many(self, modality: str, entries: Iterable[tuple]) -> list[int]:
        """Create many records with their templates in one transaction.

        Parameters
        ----------
        modality : {'fingerprint', 'face', 'dna'}
        entries : iterable of (external_ref, owner_agency, restricted, templates)
            ``templates`` is a sequence of argument tuples (or keyword dicts) of
            :meth:`add_fingerprint`, :meth:`add_face` or
            :meth:`add_dna_profile` after ``record_id``.

        Returns
        -------
        list of int
            The new record ids, in the order of ``entries``.

        Raises
        ------
        DuplicateRefError
            A reference repeats in the batch or already exists; nothing is stored.
        ValueError
            Any bad field, named with the entry's index and reference; nothing is stored.

        Notes
        -----
        Everything is checked before the first write; rows then go in with
        multi-row inserts of :data:`CHUNK` rows, and the modality's generation
        is bumped once.
        """
        _checks.choice("modality", modality, MODALITIES)
        heads, bodies = _prepare(modality, entries)
        if not heads:
            return []
        table = TEMPLATE_WRITERS[modality][0]
        now = dt.datetime.now(dt.timezone.utc)
        with self._writing(modality) as conn:
            self._refuse_existing(conn, modality, [h["external_ref"] for h in heads])
            ids: list[int] = []
            try:
                with conn.begin_nested():
                    for start in range(0, len(heads), CHUNK):
                        rows = [{**h, "created_at": now, "updated_at": now} for h in heads[start:start + CHUNK]]
                        result = conn.execute(insert(records).returning(records.c.id, sort_by_parameter_order=True), rows)
                        ids.extend(result.scalars())
            except IntegrityError:  # a concurrent writer took a reference first
                raise DuplicateRefError(f"a {modality} reference of this batch was stored concurrently") from None
            rows = [{"record_id": rid, **t} for rid, templates in zip(ids, bodies) for t in templates]
            for start in range(0, len(rows), CHUNK):
                conn.execute(insert(table), rows[start:start + CHUNK])
            return ids

    @staticmethod
    def _refuse_existing(conn, modality: str, refs: list[str]) -> None:
        for start in range(0, len(refs), CHUNK):
            found = conn.execute(select(records.c.external_ref).where(
                records.c.modality == modality, records.c.external_ref.in_(refs[start:start + CHUNK]))
                .limit(5)).scalars().all()
            if found:
                shown = ", ".join(repr(r) for r in found)
                raise DuplicateRefError(f"{modality} record(s) {shown} already exist; nothing of this batch was stored")

    def add_fingerprints(self, record_id: int, fingers: Iterable[tuple]) -> list[int]:
        """Add several fingers to one record in one transaction and return their ids.

        Each item holds the arguments of :meth:`add_fingerprint` after
        ``record_id``: ``(position, impression, template_bytes, template_version[, image_sha256])``.
        All rows are checked before anything is written; one bad finger stores none.
        """
        rows = [fingerprint_values(*finger) for finger in fingers]
        _checks.row_id("record_id", record_id)
        with self._writing("fingerprint") as conn:
            found = self._record_modality(conn, record_id)
            if found != "fingerprint":
                raise ValueError(f"record {record_id} is a {found} record, not a fingerprint record")
            if not rows:
                return []
            conn.execute(update(records).where(records.c.id == record_id).values(updated_at=dt.datetime.now(dt.timezone.utc)))
            result = conn.execute(insert(fingerprints).returning(fingerprints.c.id, sort_by_parameter_order=True),
                                  [{"record_id": record_id, **row} for row in rows])
            return list(result.scalars())

    def template_ids(self, modality: str, record_ids: Iterable[int]) -> dict[int, list[int]]:
        """Map each record id to the row ids of its templates (ascending), in a few queries.

        Records without templates map to an empty list; unknown ids are left out.
        """
        _checks.choice("modality", modality, MODALITIES)
        wanted = [_checks.row_id("record_id", r) for r in record_ids]
        table = TEMPLATE_TABLES[modality][0]
        out: dict[int, list[int]] = {}
        with self._reading() as conn:
            for start in range(0, len(wanted), 500):
                chunk = wanted[start:start + 500]
                known = conn.execute(select(records.c.id).where(
                    records.c.id.in_(chunk), records.c.modality == modality)).scalars()
                out.update((r, []) for r in known)
                rows = conn.execute(select(table.c.record_id, table.c.id)
                                    .where(table.c.record_id.in_(chunk)).order_by(table.c.id))
                for record_id, row_id in rows:
                    out[record_id].append(row_id)
        return out
