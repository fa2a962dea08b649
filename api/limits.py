"""Time limits for long requests: synchronous searches and background jobs.

A search route runs its 1:N search through :class:`SearchLimit` (``limit:
SearchLimitDep``)::

    cands, thr = limit("print search", afis.search_tenprint, fingers, top=top)

The search runs on the application's search threads and the request waits at
most ``Settings.search_timeout_s``. Past it, the request answers **503**
problem+json with ``Retry-After`` and an audit entry ``search.timeout``, and
the route goes no further: no notification, no candidate list, nothing
written. A search that had not started yet is cancelled; one already running
cannot be interrupted (index kernels hold no cancellation points), so it
finishes on its thread and its result is dropped. Searches only read, so
there is no half state to clean up.

Background jobs take a :class:`Deadline` (``Settings.job_timeout_s`` from
when the job was accepted) and call :meth:`Deadline.check` between units of
work; past the deadline it raises :class:`JobTimeout` and the job ends as
failed with a "timed out" error.
"""
from __future__ import annotations

import math
import time
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as FuturesTimeout
from typing import Annotated

from fastapi import Depends, HTTPException, Request

from .audit import AuditDep
from .deps import SettingsDep, app_resource

__all__ = ["SearchLimit", "SearchLimitDep", "Deadline", "JobTimeout"]


class _SearchThreads:
    """The application's search threads (an app resource: shut down with the app)."""

    def __init__(self, workers: int):
        self.pool = ThreadPoolExecutor(workers, thread_name_prefix="biomatch-search")

    def close(self) -> None:
        # Queued searches are dropped; running ones finish first, so the store is never closed under a search
        # (the wait is bounded by one search, the longest a timed-out one can still run).
        self.pool.shutdown(wait=True, cancel_futures=True)


class SearchLimit:
    """Run one search of a request under the time limit (see the module notes)."""

    def __init__(self, threads: _SearchThreads, seconds: float, audit):
        self.threads, self.seconds, self.audit = threads, seconds, audit

    def __call__(self, what: str, fn, *args, **kwargs):
        start = time.monotonic()
        future = self.threads.pool.submit(fn, *args, **kwargs)
        try:
            result = future.result(timeout=self.seconds)
        except FuturesTimeout:
            self._refuse(what, started=not future.cancel())
        if time.monotonic() - start > self.seconds:  # finished, but late (the waiting thread was not scheduled)
            self._refuse(what, started=True)
        return result

    def _refuse(self, what: str, *, started: bool):
        self.audit("search.timeout", counts={"limit_ms": round(self.seconds * 1000), "started": int(started)})
        raise HTTPException(503, f"the {what} did not finish within the {self.seconds:g} s limit "
                                 f"(search_timeout_s); nothing was changed. Narrow the search or retry later",
                            headers={"Retry-After": str(max(1, math.ceil(self.seconds)))})


def get_search_limit(request: Request, settings: SettingsDep, audit: AuditDep) -> SearchLimit:
    threads = app_resource(request, "search_threads", lambda: _SearchThreads(settings.search_workers))
    return SearchLimit(threads, settings.search_timeout_s, audit)


SearchLimitDep = Annotated[SearchLimit, Depends(get_search_limit)]


class JobTimeout(Exception):
    """A background job ran past its deadline."""


class Deadline:
    """``seconds`` from now (monotonic clock); :meth:`check` raises :class:`JobTimeout` once it has passed."""

    def __init__(self, seconds: float):
        self.seconds = seconds
        self.at = time.monotonic() + seconds

    def check(self) -> None:
        if time.monotonic() > self.at:
            raise JobTimeout(f"timed out: the job ran past its {self.seconds:g} s limit (job_timeout_s)")
