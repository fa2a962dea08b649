"""Table definitions shared by every modality (SQLAlchemy 2 Core).

One schema serves fingerprints and marks, faces and STR DNA profiles. A
``records`` row is the person-level entry (external reference, owner agency,
restriction flag); the per-modality tables hold its templates. Marks are
case-level items and have no record. ``meta`` holds the schema version, the
store's instance id and one ``generation.<kind>`` counter per index kind.

Notes
-----
Bump :data:`SCHEMA_VERSION` whenever a table changes; a database written by a
newer schema is refused at open (see :class:`~.errors.SchemaVersionError`).
"""
from __future__ import annotations

import datetime as dt

from sqlalchemy import (
    JSON, BigInteger, Boolean, CheckConstraint, Column, DateTime, ForeignKey, Index, Integer,
    LargeBinary, MetaData, String, Table, Text, UniqueConstraint,
)
from sqlalchemy.types import TypeDecorator

__all__ = [
    "SCHEMA_VERSION", "MODALITIES", "INDEX_KINDS", "IMPRESSIONS", "MARK_STATUSES",
    "metadata", "records", "fingerprints", "marks", "faces", "dna_profiles",
    "notifications", "webhooks", "audit", "meta", "TEMPLATE_TABLES", "ROLES", "api_keys", "releases",
    "RELEASE_KINDS", "jobs", "JOB_STATUSES",
]

#: Version of the table layout written by this code.
SCHEMA_VERSION = 4

#: Modalities a record can belong to.
MODALITIES = ("fingerprint", "face", "dna")
#: Index kinds with a generation counter: one per modality plus the mark file.
INDEX_KINDS = MODALITIES + ("mark",)
#: Impression types of a finger image (ANSI/NIST-ITL IMP codes collapse to these).
IMPRESSIONS = ("rolled", "plain", "unknown")
#: Life cycle of a crime-scene mark.
MARK_STATUSES = ("unsolved", "identified", "closed")
#: Roles an API key can hold (see ``biomatch.api.auth``).
ROLES = ("examiner", "enroller", "operator", "auditor", "admin")
#: Life cycle of a background job (a face bulk probe).
JOB_STATUSES = ("queued", "running", "done", "failed")
#: Items whose details an owner agency can release to another agency (records of every modality, marks).
RELEASE_KINDS = ("record", "mark")

REF_LEN = 200       # external references, case references, specimen ids
AGENCY_LEN = 64     # agency codes (for example an NCB or ORI code)
SHA256_HEX_LEN = 64


class UTCDateTime(TypeDecorator):
    """A timezone-aware UTC timestamp on every backend.

    SQLite has no time zone type, so values are stored as naive UTC there and
    turned back into aware UTC datetimes on the way out.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("timestamps must be timezone-aware")
        value = value.astimezone(dt.timezone.utc)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=dt.timezone.utc)
        return value.astimezone(dt.timezone.utc)


#: 64-bit ids on PostgreSQL (a national file and its audit trail outgrow 2**31 rows);
#: SQLite's INTEGER PRIMARY KEY is already 64-bit and must stay INTEGER to be the rowid.
Id = BigInteger().with_variant(Integer(), "sqlite")


def _in(column: str, values: tuple[str, ...]) -> str:
    # Static CHECK text built from module constants, never from user input.
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


metadata = MetaData()

meta = Table(
    "meta", metadata,
    Column("key", String(64), primary_key=True),
    Column("value", Text, nullable=False),
)

records = Table(
    "records", metadata,
    Column("id", Id, primary_key=True),
    Column("modality", String(16), nullable=False),
    Column("external_ref", String(REF_LEN), nullable=False),
    Column("owner_agency", String(AGENCY_LEN), nullable=False),
    Column("restricted", Boolean, nullable=False, default=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
    UniqueConstraint("modality", "external_ref", name="uq_records_modality_ref"),
    CheckConstraint(_in("modality", MODALITIES), name="ck_records_modality"),
    Index("ix_records_agency", "owner_agency"),
)

fingerprints = Table(
    "fingerprints", metadata,
    Column("id", Id, primary_key=True),
    Column("record_id", Id, ForeignKey("records.id", ondelete="CASCADE"), nullable=False),
    Column("position", Integer, nullable=False),
    Column("impression", String(16), nullable=False),
    Column("template", LargeBinary, nullable=False),
    Column("template_version", Integer, nullable=False),
    Column("image_sha256", String(SHA256_HEX_LEN)),
    CheckConstraint("position BETWEEN 0 AND 10", name="ck_fingerprints_position"),
    CheckConstraint(_in("impression", IMPRESSIONS), name="ck_fingerprints_impression"),
    Index("ix_fingerprints_record", "record_id"),
)

marks = Table(
    "marks", metadata,
    Column("id", Id, primary_key=True),
    Column("case_ref", String(REF_LEN), nullable=False),
    Column("owner_agency", String(AGENCY_LEN), nullable=False),
    Column("status", String(16), nullable=False),
    Column("template", LargeBinary, nullable=False),
    Column("template_version", Integer, nullable=False),
    Column("image", LargeBinary),
    Column("created_at", UTCDateTime, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
    CheckConstraint(_in("status", MARK_STATUSES), name="ck_marks_status"),
    Index("ix_marks_status", "status"),
    Index("ix_marks_agency", "owner_agency"),
)

faces = Table(
    "faces", metadata,
    Column("id", Id, primary_key=True),
    Column("record_id", Id, ForeignKey("records.id", ondelete="CASCADE"), nullable=False),
    Column("template", LargeBinary, nullable=False),
    Column("model_id", String(64), nullable=False),
    Column("template_version", Integer, nullable=False),
    Column("image_sha256", String(SHA256_HEX_LEN)),
    Index("ix_faces_record", "record_id"),
)

dna_profiles = Table(
    "dna_profiles", metadata,
    Column("id", Id, primary_key=True),
    Column("record_id", Id, ForeignKey("records.id", ondelete="CASCADE"), nullable=False),
    Column("specimen_id", String(REF_LEN), nullable=False),
    Column("category", String(64), nullable=False),
    Column("profile", LargeBinary, nullable=False),
    Column("profile_version", Integer, nullable=False),
    Index("ix_dna_profiles_record", "record_id"),
)

notifications = Table(
    "notifications", metadata,
    Column("id", Id, primary_key=True),
    Column("agency", String(AGENCY_LEN), nullable=False),
    Column("kind", String(64), nullable=False),
    Column("subject_type", String(32), nullable=False),
    Column("subject_id", Id, nullable=False),
    Column("payload", JSON, nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("read_at", UTCDateTime),
    Index("ix_notifications_agency", "agency", "id"),
)

webhooks = Table(
    "webhooks", metadata,
    Column("agency", String(AGENCY_LEN), primary_key=True),
    Column("url", String(2048), nullable=False),
)

audit = Table(
    "audit", metadata,
    # Ids are assigned by the store under the chain lock, so they are part of the hash.
    Column("id", Id, primary_key=True, autoincrement=False),
    Column("at", UTCDateTime, nullable=False),
    Column("actor", String(128), nullable=False),
    Column("agency", String(AGENCY_LEN), nullable=False),
    Column("action", String(64), nullable=False),
    Column("route", String(256)),
    Column("subject_ids", JSON, nullable=False),
    Column("result_ids", JSON, nullable=False),
    Column("counts", JSON, nullable=False),
    Column("prev_hash", String(SHA256_HEX_LEN), nullable=False),
    Column("hash", String(SHA256_HEX_LEN), nullable=False),
)

api_keys = Table(
    "api_keys", metadata,
    # Schema version 2. Only the SHA-256 of the token is kept; the prefix is public and finds the row.
    Column("id", Id, primary_key=True),
    Column("prefix", String(32), nullable=False),
    Column("secret_sha256", String(SHA256_HEX_LEN), nullable=False),
    Column("agency", String(AGENCY_LEN), nullable=False),
    Column("roles", String(128), nullable=False),  # comma-separated names from ROLES, sorted
    Column("label", String(REF_LEN)),
    Column("created_at", UTCDateTime, nullable=False),
    Column("revoked_at", UTCDateTime),
    UniqueConstraint("prefix", name="uq_api_keys_prefix"),
)

releases = Table(
    "releases", metadata,
    # Schema version 3. The owner agency released the details of one record or one mark to ``agency``;
    # exactly one of record_id and mark_id is set, and the row goes with its item (cascade).
    Column("id", Id, primary_key=True),
    Column("record_id", Id, ForeignKey("records.id", ondelete="CASCADE")),
    Column("mark_id", Id, ForeignKey("marks.id", ondelete="CASCADE")),
    Column("agency", String(AGENCY_LEN), nullable=False),
    Column("released_by", String(128), nullable=False),
    Column("released_at", UTCDateTime, nullable=False),
    CheckConstraint("(record_id IS NULL) <> (mark_id IS NULL)", name="ck_releases_one_item"),
    UniqueConstraint("record_id", "agency", name="uq_releases_record_agency"),
    UniqueConstraint("mark_id", "agency", name="uq_releases_mark_agency"),
    Index("ix_releases_agency", "agency"),
)

jobs = Table(
    "jobs", metadata,
    # Schema version 4. Status of background jobs, so a restarted service reports an interrupted job as failed.
    Column("id", String(64), primary_key=True),
    Column("kind", String(32), nullable=False),
    Column("agency", String(AGENCY_LEN), nullable=False),
    Column("status", String(16), nullable=False),
    Column("files", Integer, nullable=False),
    Column("done", Integer, nullable=False),
    Column("error", Text),
    Column("created_at", UTCDateTime, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
    CheckConstraint(_in("status", JOB_STATUSES), name="ck_jobs_status"),
    Index("ix_jobs_status", "status"),
)

#: Template table, id column name, blob column and version column per index kind.
TEMPLATE_TABLES = {
    "fingerprint": (fingerprints, "template", "template_version"),
    "face": (faces, "template", "template_version"),
    "dna": (dna_profiles, "profile", "profile_version"),
    "mark": (marks, "template", "template_version"),
}
