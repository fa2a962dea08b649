"""Audit entries for requests that read or write biometric data.

Routes declare ``audit: AuditDep`` and call it once they know what came back::

    @router.post("/search")
    def search(user: ExaminerUser, audit: AuditDep, ...):
        ...
        audit("face.search", subject_ids=[probe_sha], result_ids=[c.record_id for c in cands],
              counts={"faces": n, "candidates": len(cands)})

The entry names the caller (key id and prefix), its agency, the route
template (``POST /faces/search``, never a query string) and the ids and
counts given. Image bytes and templates are never passed: only ids,
references, hashes and counts. Entries go through
:meth:`biomatch.index.store.Store.append_audit`, the hash-chained trail.
"""
from __future__ import annotations

from collections.abc import Sequence
from typing import Annotated

from fastapi import Depends, Request

from biomatch.index.store import Store

from .auth import CurrentUser, User
from .deps import StoreDep

__all__ = ["record_audit", "route_of", "Auditor", "AuditDep", "MAX_AUDIT_IDS"]

#: Most ids one entry keeps per list (the store's own limit); the counts keep the true totals.
MAX_AUDIT_IDS = 10_000


def route_of(request: Request) -> str:
    """``METHOD /route/{template}`` of a request (the raw path when no route matched)."""
    route = request.scope.get("route")
    return f"{request.method} {getattr(route, 'path', request.url.path)}"[:256]


def _capped(name: str, ids: Sequence[int | str], counts: dict[str, int]) -> list:
    ids = list(ids)
    if len(ids) > MAX_AUDIT_IDS:
        counts[f"{name}_total"] = len(ids)
        ids = ids[:MAX_AUDIT_IDS]
    return ids


def record_audit(store: Store, user: User, request: Request, action: str, *, subject_ids: Sequence[int | str] = (),
                 result_ids: Sequence[int | str] = (), counts: dict[str, int] | None = None) -> int:
    """Append one audit entry for ``user``'s request and return its id.

    Parameters
    ----------
    action : str
        What was done, ``<modality>.<verb>`` (``"dna.search"``).
    subject_ids, result_ids : sequence of int or str
        What was read or written, and what came back (ids, references,
        SHA-256 of uploads). Lists over :data:`MAX_AUDIT_IDS` keep their first
        ids and record the total in ``counts`` as ``<name>_total``.
    counts : dict of str to int, optional
        Sizes, e.g. ``{"candidates": 20}``.
    """
    counts = dict(counts or {})
    subjects = _capped("subject_ids", subject_ids, counts)
    results = _capped("result_ids", result_ids, counts)
    return store.append_audit(user.actor, user.agency, action, route=route_of(request), subject_ids=subjects,
                              result_ids=results, counts=counts)


class Auditor:
    """A request's audit writer: ``audit(action, subject_ids=..., result_ids=..., counts=...)``."""

    def __init__(self, store: Store, user: User, request: Request):
        self.store, self.user, self.request = store, user, request

    def __call__(self, action: str, *, subject_ids: Sequence[int | str] = (), result_ids: Sequence[int | str] = (),
                 counts: dict[str, int] | None = None) -> int:
        return record_audit(self.store, self.user, self.request, action, subject_ids=subject_ids,
                            result_ids=result_ids, counts=counts)


def get_auditor(request: Request, user: CurrentUser, store: StoreDep) -> Auditor:
    """The request's :class:`Auditor` (the caller is authenticated first: 401 without a key)."""
    return Auditor(store, user, request)


AuditDep = Annotated[Auditor, Depends(get_auditor)]
