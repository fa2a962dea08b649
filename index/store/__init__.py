"""Persistent store shared by every modality (SQLite by default, PostgreSQL too).

See ``docs/store.md`` for the schema, the generation protocol that keeps
derived indexes honest, and how a modality plugs in.
"""
from .errors import DuplicateRefError, NotFoundError, SchemaVersionError, StoreError
from .models import (
    ApiKey, AuditEntry, DnaProfile, Face, Fingerprint, Job, Mark, Notification, Record, Release, TemplateRow,
)
from .schema import IMPRESSIONS, INDEX_KINDS, MARK_STATUSES, MODALITIES, RELEASE_KINDS, ROLES, SCHEMA_VERSION
from .store import Store, Transaction, sha256_hex

__all__ = [
    "Store", "Transaction", "sha256_hex",
    "StoreError", "DuplicateRefError", "NotFoundError", "SchemaVersionError",
    "Record", "Fingerprint", "Face", "DnaProfile", "Mark", "Notification", "AuditEntry", "TemplateRow", "ApiKey",
    "Release", "RELEASE_KINDS", "Job",
    "MODALITIES", "INDEX_KINDS", "IMPRESSIONS", "MARK_STATUSES", "ROLES", "SCHEMA_VERSION",
]
