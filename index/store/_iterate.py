"""Streaming a kind's templates for index rebuilds, in one consistent snapshot with its generation."""
from __future__ import annotations

import contextlib
from collections.abc import Iterator

from sqlalchemy import literal, null, select

from . import _checks
from .schema import INDEX_KINDS, TEMPLATE_TABLES, marks, meta, records

_EXTRA = {
    "fingerprint": ("position", "impression"),
    "face": ("model_id",),
    "dna": ("specimen_id", "category"),
    "mark": ("case_ref", "status"),
}


def _query(kind: str):
    table, blob, version = TEMPLATE_TABLES[kind]
    columns = [table.c.id.label("row_id"), table.c[blob].label("data"), table.c[version].label("version")]
    columns += [table.c[name] for name in _EXTRA[kind]]
    if kind == "mark":
        columns += [null().label("record_id"), marks.c.owner_agency, literal(False).label("restricted")]
        query = select(*columns).where(marks.c.status == "unsolved")
    else:
        columns += [table.c.record_id, records.c.owner_agency, records.c.restricted]
        query = select(*columns).join(records, records.c.id == table.c.record_id)
    return query.order_by(table.c.id)


@contextlib.contextmanager
def template_snapshot(store, kind: str, batch: int):
    """Yield ``(generation, batches)`` read in one snapshot (see ``Store.template_snapshot``)."""
    _checks.choice("index kind", kind, INDEX_KINDS)
    _checks.integer("batch", batch, 1, 1_000_000)
    tx = store._tx.get()
    with contextlib.nullcontext(tx.conn) if tx is not None else store._read.connect() as conn:
        if tx is None and store.backend == "postgresql":
            # One snapshot for the generation and the rows (SQLite's read transaction already is one).
            conn = conn.execution_options(isolation_level="REPEATABLE READ")
        generation = int(conn.execute(select(meta.c.value).where(meta.c.key == f"generation.{kind}")).scalar_one())
        result = conn.execute(_query(kind).execution_options(yield_per=batch))  # statement-level: never sticks to conn
        try:
            yield generation, (_dicts(part) for part in result.partitions())
        finally:
            result.close()


def _dicts(part) -> list[dict]:
    return [r._asdict() for r in part]


def iter_batches(store, kind: str, batch: int) -> Iterator[list[dict]]:
    """Yield lists of at most ``batch`` row dicts of ``kind``, by ascending row id."""
    with template_snapshot(store, kind, batch) as (_generation, batches):
        yield from batches
