"""Pure-ASGI middleware: request body size limit and security headers."""
from __future__ import annotations

import json

from .problems import PROBLEM_JSON

__all__ = ["BodyLimitMiddleware", "SecurityHeadersMiddleware", "security_headers"]

_SECURITY_HEADERS = [
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    (b"referrer-policy", b"no-referrer"),
    (b"cache-control", b"no-store"),
    (b"content-security-policy", b"default-src 'none'; frame-ancestors 'none'"),
]


class _TooLarge(Exception):
    pass


async def _send_413(send, limit: int, path: str) -> None:
    body = json.dumps({
        "type": "about:blank", "title": "Content Too Large", "status": 413,
        "detail": f"request body exceeds the limit of {limit} bytes", "instance": path,
    }).encode()
    await send({"type": "http.response.start", "status": 413,
                "headers": [(b"content-type", PROBLEM_JSON.encode()), (b"content-length", str(len(body)).encode())]})
    await send({"type": "http.response.body", "body": body})


class BodyLimitMiddleware:
    """Refuse request bodies over ``max_bytes`` with 413 problem+json.

    A declared ``Content-Length`` over the limit is refused before reading; a
    chunked body is counted as it streams and refused as soon as it passes the
    limit, so an upload never fills memory or disk.
    """

    def __init__(self, app, max_bytes: int):
        self.app, self.max_bytes = app, max_bytes

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        path = scope.get("path", "")
        for name, value in scope.get("headers", ()):
            if name == b"content-length":
                try:
                    declared = int(value)
                except ValueError:
                    declared = -1
                if declared < 0 or declared > self.max_bytes:
                    return await _send_413(send, self.max_bytes, path)
        received = 0
        started = False

        async def limited_receive():
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_bytes:
                    raise _TooLarge
            return message

        async def tracking_send(message):
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, limited_receive, tracking_send)
        except _TooLarge:
            if not started:
                await _send_413(send, self.max_bytes, path)


#: Interactive API docs load their own scripts and styles, so they get no CSP.
_DOC_PATHS = ("/docs", "/redoc")


def security_headers(path: str) -> dict[str, str]:
    """The security headers for a response to ``path``."""
    docs = path.startswith(_DOC_PATHS)
    return {k.decode(): v.decode() for k, v in _SECURITY_HEADERS if not (docs and k == b"content-security-policy")}


class SecurityHeadersMiddleware:
    """Add conservative security headers to every HTTP response.

    ``Content-Security-Policy: default-src 'none'`` is left off the
    interactive documentation pages, which need their scripts.
    """

    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)

        docs = scope.get("path", "").startswith(_DOC_PATHS)

        async def with_headers(message):
            if message["type"] == "http.response.start":
                present = {name.lower() for name, _ in message.get("headers", ())}
                extra = [(k, v) for k, v in _SECURITY_HEADERS
                         if k not in present and not (docs and k == b"content-security-policy")]
                message = {**message, "headers": list(message.get("headers", ())) + extra}
            await send(message)

        await self.app(scope, receive, with_headers)
