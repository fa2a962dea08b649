"""Records and their templates: fingerprints, faces, DNA profiles."""
from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

from sqlalchemy import delete, func, insert, select, update
from sqlalchemy.exc import IntegrityError

from . import _checks
from ._values import dna_values, face_values, fingerprint_values
from .errors import DuplicateRefError, NotFoundError
from .models import DnaProfile, Face, Fingerprint, Record, TemplateRow
from .schema import (
    AGENCY_LEN, INDEX_KINDS, MODALITIES, REF_LEN, TEMPLATE_TABLES, dna_profiles, faces, fingerprints, records,
)


def _now() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc)



class RecordsMixin:
    """Record and template methods of :class:`~.store.Store`."""

    # -- records ---------------------------------------------------------------
    def add_record(self, modality: str, external_ref: str, owner_agency: str, restricted: bool = False) -> int:
        """Create a record and return its id.

        Parameters
        ----------
        modality : {'fingerprint', 'face', 'dna'}
        external_ref : str
            The caller's reference (for example a tenprint control number or a
            notice id), unique per modality.
        owner_agency : str
            Agency that owns the record.
        restricted : bool
            Searchable by its owner agency only.

        Raises
        ------
        DuplicateRefError
            ``external_ref`` already exists for this modality; nothing is stored
            (and an enclosing transaction is rolled back when the error leaves it).
        """
        _checks.choice("modality", modality, MODALITIES)
        _checks.text("external_ref", external_ref, REF_LEN)
        _checks.text("owner_agency", owner_agency, AGENCY_LEN)
        if not isinstance(restricted, bool):
            raise ValueError(f"restricted must be a bool, got {restricted!r}")
        now = _now()
        with self._writing(modality) as conn:
            if self._find_record_id(conn, modality, external_ref) is not None:
                raise DuplicateRefError(f"{modality} record {external_ref!r} already exists")
            try:
                with conn.begin_nested():
                    return conn.execute(insert(records).values(
                        modality=modality, external_ref=external_ref, owner_agency=owner_agency,
                        restricted=restricted, created_at=now, updated_at=now,
                    ).returning(records.c.id)).scalar_one()
            except IntegrityError:  # a concurrent writer took the reference first
                raise DuplicateRefError(f"{modality} record {external_ref!r} already exists") from None

    def get_record(self, record_id: int) -> Record:
        """Return a record. Raises :class:`NotFoundError` if there is none."""
        _checks.row_id("record_id", record_id)
        with self._reading() as conn:
            row = conn.execute(select(records).where(records.c.id == record_id)).one_or_none()
        if row is None:
            raise NotFoundError(f"no record with id {record_id}")
        return Record(**row._mapping)

    def find_record(self, modality: str, external_ref: str) -> Record | None:
        """Return the record with this external reference, or None."""
        _checks.choice("modality", modality, MODALITIES)
        _checks.text("external_ref", external_ref, REF_LEN)
        with self._reading() as conn:
            row = conn.execute(select(records).where(
                records.c.modality == modality, records.c.external_ref == external_ref)).one_or_none()
        return None if row is None else Record(**row._mapping)

    def list_records(self, modality: str, *, owner_agency: str | None = None,
                     after_id: int = 0, limit: int = 100) -> list[Record]:
        """Return records of a modality by ascending id (keyset pagination with ``after_id``)."""
        _checks.choice("modality", modality, MODALITIES)
        _checks.integer("limit", limit, 1, 10_000)
        _checks.integer("after_id", after_id, 0, 2**63 - 1)
        query = select(records).where(records.c.modality == modality, records.c.id > after_id)
        if owner_agency is not None:
            query = query.where(records.c.owner_agency == _checks.text("owner_agency", owner_agency, AGENCY_LEN))
        with self._reading() as conn:
            rows = conn.execute(query.order_by(records.c.id).limit(limit)).all()
        return [Record(**r._mapping) for r in rows]

    def set_restricted(self, record_id: int, restricted: bool) -> None:
        """Change a record's restriction flag (bumps its modality's generation)."""
        if not isinstance(restricted, bool):
            raise ValueError(f"restricted must be a bool, got {restricted!r}")
        modality = self.get_record(record_id).modality
        with self._writing(modality) as conn:
            conn.execute(update(records).where(records.c.id == record_id)
                         .values(restricted=restricted, updated_at=_now()))

    def delete_record(self, record_id: int) -> None:
        """Delete a record and, by cascade, all its templates.

        Raises
        ------
        NotFoundError
            No record has this id.
        """
        _checks.row_id("record_id", record_id)
        with self._writing() as conn:
            modality = self._record_modality(conn, record_id)
            self._mark_dirty(modality)
            conn.execute(delete(records).where(records.c.id == record_id))

    def delete_templates(self, record_id: int) -> int:
        """Delete every template of a record but keep the record (to replace them in one transaction).

        Returns
        -------
        int
            How many templates were deleted.
        """
        _checks.row_id("record_id", record_id)
        with self._writing() as conn:
            modality = self._record_modality(conn, record_id)
            self._mark_dirty(modality)
            table = TEMPLATE_TABLES[modality][0]
            conn.execute(update(records).where(records.c.id == record_id).values(updated_at=_now()))
            return conn.execute(delete(table).where(table.c.record_id == record_id)).rowcount

    def delete_template(self, modality: str, row_id: int) -> None:
        """Delete one template (one finger, face or profile) by its row id.

        Raises
        ------
        NotFoundError
            No template of this modality has this id.
        """
        _checks.choice("modality", modality, MODALITIES)
        _checks.row_id("template id", row_id)
        table = TEMPLATE_TABLES[modality][0]
        with self._writing(modality) as conn:
            if conn.execute(delete(table).where(table.c.id == row_id)).rowcount == 0:
                raise NotFoundError(f"no {modality} template with id {row_id}")

    def count(self, kind: str) -> int:
        """Number of stored templates of an index kind (marks: all statuses)."""
        table = TEMPLATE_TABLES[_checks.choice("index kind", kind, INDEX_KINDS)][0]
        with self._reading() as conn:
            return conn.execute(select(func.count(table.c.id))).scalar_one()

    # -- templates -------------------------------------------------------------
    def add_fingerprint(self, record_id: int, position: int, impression: str, template_bytes: bytes,
                        template_version: int, image_sha256: str | None = None) -> int:
        """Add one finger to a fingerprint record and return the finger's id.

        Parameters
        ----------
        position : int
            ANSI/NIST-ITL finger position code: 0 unknown, 1-5 right thumb to
            little finger, 6-10 left thumb to little finger.
        impression : {'rolled', 'plain', 'unknown'}
        template_bytes : bytes
            The versioned persistent template (``FingerprintTemplate.to_bytes()``).
        template_version : int
            Format version of ``template_bytes``; readers refuse versions they do not know.
        image_sha256 : str, optional
            Hex SHA-256 of the source image (the image itself is not stored).
        """
        values = fingerprint_values(position, impression, template_bytes, template_version, image_sha256)
        return self._add_template(fingerprints, "fingerprint", record_id, values)

    def add_face(self, record_id: int, template_bytes: bytes, model_id: str, template_version: int,
                 image_sha256: str | None = None) -> int:
        """Add one face template (one detected face) to a face record and return its id."""
        values = face_values(template_bytes, model_id, template_version, image_sha256)
        return self._add_template(faces, "face", record_id, values)

    def add_dna_profile(self, record_id: int, specimen_id: str, category: str, profile_bytes: bytes,
                        profile_version: int) -> int:
        """Add an STR profile to a DNA record and return its id.

        ``category`` is the profile category (convicted offender, forensic
        unknown, ...) as the DNA layer names it; the store only bounds its length.
        """
        values = dna_values(specimen_id, category, profile_bytes, profile_version)
        return self._add_template(dna_profiles, "dna", record_id, values)

    def _add_template(self, table, modality: str, record_id: int, values: dict) -> int:
        _checks.row_id("record_id", record_id)
        with self._writing(modality) as conn:
            found = self._record_modality(conn, record_id)
            if found != modality:
                raise ValueError(f"record {record_id} is a {found} record, not a {modality} record")
            conn.execute(update(records).where(records.c.id == record_id).values(updated_at=_now()))
            return conn.execute(insert(table).values(record_id=record_id, **values).returning(table.c.id)).scalar_one()

    def get_fingerprints(self, record_id: int) -> list[Fingerprint]:
        """Fingers of a record, by position then id."""
        return [Fingerprint(**r) for r in self._templates_of(fingerprints, record_id, fingerprints.c.position)]

    def get_faces(self, record_id: int) -> list[Face]:
        """Face templates of a record, by id."""
        return [Face(**r) for r in self._templates_of(faces, record_id)]

    def get_dna_profiles(self, record_id: int) -> list[DnaProfile]:
        """STR profiles of a record, by id."""
        return [DnaProfile(**r) for r in self._templates_of(dna_profiles, record_id)]

    def _templates_of(self, table, record_id: int, *order) -> list[dict]:
        _checks.row_id("record_id", record_id)
        with self._reading() as conn:
            rows = conn.execute(select(table).where(table.c.record_id == record_id)
                                .order_by(*order, table.c.id)).all()
        return [dict(r._mapping) for r in rows]

    def iter_templates(self, kind: str, batch: int = 1000) -> Iterator[TemplateRow]:
        """Yield every stored template of an index kind, by ascending row id.

        Parameters
        ----------
        kind : {'fingerprint', 'face', 'dna', 'mark'}
            For ``'mark'`` only unsolved marks are yielded (the reverse-search file).
        batch : int
            Rows fetched per round trip; the rows are streamed (server-side
            cursor on PostgreSQL) from one snapshot, so memory stays bounded.
            Readers never block writers on either backend.

        Yields
        ------
        TemplateRow
            ``(row_id, record_id, data, version)``; ``record_id`` is None for marks.
        """
        for rows in self.iter_template_rows(kind, batch=batch):
            yield from (TemplateRow(r["row_id"], r["record_id"], r["data"], r["version"]) for r in rows)

    def iter_template_rows(self, kind: str, *, batch: int = 1000) -> Iterator[list[dict]]:
        """Like :meth:`iter_templates`, in batches of dicts with the search metadata too.

        Each dict holds ``row_id, record_id, data, version`` plus
        ``owner_agency`` and ``restricted`` and the kind's own columns:
        ``position, impression`` (fingerprint), ``model_id`` (face),
        ``specimen_id, category`` (dna), ``case_ref, status`` (mark), so an
        index can filter by agency, category or finger without more queries.
        """
        from ._iterate import iter_batches
        yield from iter_batches(self, kind, batch)

    def template_snapshot(self, kind: str, *, batch: int = 10_000):
        """Context manager yielding ``(generation, batches)`` from one consistent snapshot.

        This is the way to rebuild an index: the generation and the rows are
        read in the same database snapshot (a read transaction on SQLite,
        REPEATABLE READ on PostgreSQL), so the index saved with that
        generation holds exactly the rows of that generation. ``batches``
        yields lists of the dicts of :meth:`iter_template_rows`.

        Examples
        --------
        >>> with store.template_snapshot("face") as (generation, batches):   # doctest: +SKIP
        ...     for rows in batches:
        ...         gallery.add([r["row_id"] for r in rows], [decode(r["data"], r["version"]) for r in rows])
        >>> save_derived(store.derived_dir / "faces.idx", generation, gallery.to_bytes())  # doctest: +SKIP
        """
        from ._iterate import template_snapshot
        return template_snapshot(self, kind, batch)

    # -- helpers ----------------------------------------------------------------
    @staticmethod
    def _find_record_id(conn, modality: str, external_ref: str) -> int | None:
        return conn.execute(select(records.c.id).where(
            records.c.modality == modality, records.c.external_ref == external_ref)).scalar_one_or_none()

    @staticmethod
    def _record_modality(conn, record_id: int) -> str:
        modality = conn.execute(select(records.c.modality).where(records.c.id == record_id)).scalar_one_or_none()
        if modality is None:
            raise NotFoundError(f"no record with id {record_id}")
        return modality
