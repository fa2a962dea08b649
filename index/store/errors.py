"""Exceptions raised by the store.

Input errors subclass :class:`ValueError` (the house rule for bad input), so a
CLI prints them as ``error: ...`` and the API answers 4xx.
"""
from __future__ import annotations

__all__ = ["StoreError", "DuplicateRefError", "NotFoundError", "SchemaVersionError"]


class StoreError(RuntimeError):
    """The store cannot be used as asked (a backend or configuration problem)."""


class DuplicateRefError(ValueError):
    """An external reference already exists for this modality; nothing was stored."""


class NotFoundError(LookupError):
    """A record, mark or notification id that does not exist."""


class SchemaVersionError(StoreError):
    """The database was written by a newer biomatch than the running code."""
