"""RFC 9457 ``application/problem+json`` error responses; never a traceback.

Mapping
-------
- :class:`~biomatch.index.store.DuplicateRefError` -> 409
- :class:`~biomatch.index.store.NotFoundError` -> 404
- any other ``ValueError`` (bad input found by the library) -> 422
- request validation errors -> 422 (400 when the body is not valid JSON)
- ``HTTPException`` -> its own status
- anything else -> 500 with a generic message; the traceback is logged only.
"""
from __future__ import annotations

import logging
from http import HTTPStatus
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from starlette.exceptions import HTTPException as StarletteHTTPException

from biomatch.index.store import DuplicateRefError, NotFoundError

__all__ = ["problem", "install_problem_handlers", "PROBLEM_JSON", "Problem", "PROBLEM_RESPONSES"]

PROBLEM_JSON = "application/problem+json"
_log = logging.getLogger("biomatch.api")


class Problem(BaseModel):
    """RFC 9457 problem details, the body of every error response."""

    type: str = Field("about:blank", description="Problem type URI; about:blank means the status says it all.")
    title: str = Field(description="Short summary: the HTTP status phrase.")
    status: int = Field(description="HTTP status code.")
    detail: str = Field(description="What exactly was wrong, in words a user can act on.")
    instance: str | None = Field(None, description="The request path.")
    errors: Any = Field(None, description="Per-field details of a validation error, when there are several.")


def _doc(description: str) -> dict:
    return {"description": description, "content": {PROBLEM_JSON: {"schema": Problem.model_json_schema()}}}


#: Error responses every route can give, for the OpenAPI document (``FastAPI(responses=...)``).
PROBLEM_RESPONSES = {
    400: _doc("Malformed request (for example a body that is not JSON)"),
    404: _doc("No such record, mark or resource"),
    409: _doc("Conflict: the external reference already exists"),
    413: _doc("Request body over the upload limit"),
    422: _doc("Invalid input, with a precise message"),
    500: _doc("Internal error (details only in the server log)"),
}


def problem(status: int, detail: str, *, instance: str | None = None, headers: dict | None = None,
            **extra) -> JSONResponse:
    """Build a problem+json response (``type`` is ``about:blank``: the status says it all)."""
    body = {"type": "about:blank", "title": HTTPStatus(status).phrase, "status": status, "detail": detail}
    if instance:
        body["instance"] = instance
    body.update(extra)
    return JSONResponse(body, status_code=status, media_type=PROBLEM_JSON, headers=headers)


def _validation_message(error: dict) -> str:
    if error.get("type") == "json_invalid":
        loc = error.get("loc", ())
        at = f" at character {loc[-1]}" if loc and isinstance(loc[-1], int) else ""
        reason = (error.get("ctx") or {}).get("error", "")
        return f"request body is not valid JSON{at}" + (f": {reason}" if reason else "")
    where = ".".join(str(p) for p in error.get("loc", ()) if p != "body") or "request"
    return f"{where}: {error.get('msg', 'invalid value')}"


def install_problem_handlers(app: FastAPI) -> None:
    """Register the exception handlers listed in the module docstring."""

    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, exc: RequestValidationError):
        errors = exc.errors()
        status = 400 if any(e.get("type") == "json_invalid" for e in errors) else 422
        details = [_validation_message(e) for e in errors]
        return problem(status, "; ".join(details), instance=request.url.path,
                       errors=[{"loc": list(map(str, e.get("loc", ()))), "msg": e.get("msg", "")} for e in errors])

    from starlette.concurrency import run_in_threadpool

    from .auth import AgencyDenied

    @app.exception_handler(AgencyDenied)
    async def _agency(request: Request, exc: AgencyDenied):
        await run_in_threadpool(exc.audit, request)  # a refused reach into another agency's item is traced
        return await _http(request, exc)

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException):
        headers = getattr(exc, "headers", None)
        if isinstance(exc.detail, str):
            return problem(exc.status_code, exc.detail, instance=request.url.path, headers=headers)
        return problem(exc.status_code, HTTPStatus(exc.status_code).phrase, instance=request.url.path,
                       headers=headers, errors=exc.detail)

    @app.exception_handler(DuplicateRefError)
    async def _duplicate(request: Request, exc: DuplicateRefError):
        return problem(409, str(exc), instance=request.url.path)

    @app.exception_handler(NotFoundError)
    async def _not_found(request: Request, exc: NotFoundError):
        return problem(404, str(exc.args[0]) if exc.args else "not found", instance=request.url.path)

    @app.exception_handler(ValueError)
    async def _value(request: Request, exc: ValueError):
        return problem(422, str(exc) or "invalid input", instance=request.url.path)

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception):
        from .middleware import security_headers

        _log.error("unhandled error on %s %s", request.method, request.url.path, exc_info=exc)
        # Sent by Starlette's outermost error middleware, past ours: add the security headers here.
        return problem(500, "internal error; the server log has the details", instance=request.url.path,
                       headers=security_headers(request.url.path))
