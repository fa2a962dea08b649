"""Delivery of hit notifications to an agency's webhook (JSON POST, in the background).

A notification is stored first (the store is the record of it); delivery is
best effort: two worker threads POST the JSON with a timeout, and a failure
is logged, never raised into the search that produced the hit. ``close()``
waits for deliveries in flight.
"""
from __future__ import annotations

import json
import logging
import urllib.request
from concurrent.futures import ThreadPoolExecutor

__all__ = ["WebhookSender"]

log = logging.getLogger(__name__)


class WebhookSender:
    """POSTs notification payloads to webhook URLs from a small thread pool."""

    def __init__(self, timeout_s: float = 5.0, workers: int = 2):
        self.timeout_s = float(timeout_s)
        self._pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="biomatch-webhook")

    def send(self, url: str, body: dict):
        """Queue one delivery; returns the future (True when the endpoint answered 2xx)."""
        return self._pool.submit(self._post, url, body)

    def _post(self, url: str, body: dict) -> bool:
        data = json.dumps(body, default=str).encode()
        req = urllib.request.Request(url, data=data, method="POST",
                                     headers={"Content-Type": "application/json", "User-Agent": "biomatch-afis"})
        try:
            with urllib.request.urlopen(req, timeout=self.timeout_s) as resp:  # noqa: S310 - http(s) checked by the store
                ok = 200 <= resp.status < 300
        except Exception as exc:  # network errors, timeouts, 4xx/5xx
            log.warning("webhook delivery to %s failed: %s", url, exc)
            return False
        if not ok:
            log.warning("webhook %s answered %s", url, resp.status)
        return ok

    def close(self) -> None:
        self._pool.shutdown(wait=True)
