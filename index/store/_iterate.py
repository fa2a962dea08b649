"""Batched, keyset-paginated iteration over a kind's templates (for index rebuilds)."""
from __future__ import annotations

from collections.abc import Iterator

from sqlalchemy import literal, null, select

from . import _checks
from .schema import INDEX_KINDS, TEMPLATE_TABLES, marks, records

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
        return select(*columns).where(marks.c.status == "unsolved"), table
    columns += [table.c.record_id, records.c.owner_agency, records.c.restricted]
    return select(*columns).join(records, records.c.id == table.c.record_id), table


def iter_batches(store, kind: str, batch: int) -> Iterator[list[dict]]:
    """Yield lists of at most ``batch`` row dicts of ``kind``, by ascending row id."""
    _checks.choice("index kind", kind, INDEX_KINDS)
    _checks.integer("batch", batch, 1, 1_000_000)
    query, table = _query(kind)
    last = 0
    while True:
        with store._reading() as conn:
            rows = conn.execute(query.where(table.c.id > last).order_by(table.c.id).limit(batch)).all()
        if not rows:
            return
        out = [dict(r._mapping) for r in rows]
        last = out[-1]["row_id"]
        yield out
        if len(rows) < batch:
            return
