"""The FastAPI application: ``create_app`` builds it and includes the routers.

A modality plugs in by adding a module ``api/routers/<name>.py`` that exposes
``router = APIRouter(prefix="/<name>", tags=["<name>"])`` and one line to
:data:`ROUTERS`.
"""
from __future__ import annotations

import importlib
from contextlib import asynccontextmanager

from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware

from .deps import close_resources, init_app_state, open_store
from .middleware import BodyLimitMiddleware, SecurityHeadersMiddleware
from .problems import PROBLEM_RESPONSES, install_problem_handlers
from .settings import Settings, get_settings

__all__ = ["create_app", "ROUTERS"]

#: Router modules, each exposing ``router``; one line per modality.
ROUTERS = (
    "biomatch.api.routers.system",
    "biomatch.api.routers.dna",
    "biomatch.api.routers.faces", "biomatch.api.routers.face_jobs",
    "biomatch.api.routers.afis", "biomatch.api.routers.afis_marks", "biomatch.api.routers.afis_jobs",
    "biomatch.api.routers.sharing",
    "biomatch.api.routers.admin", "biomatch.api.routers.audit",
)

API_VERSION = "0.1.0"


@asynccontextmanager
async def _lifespan(app: FastAPI):
    # Open the store at start-up so a bad URL or a too-new schema stops the server at once.
    open_store(app, app.state.settings or get_settings())
    try:
        yield
    finally:
        close_resources(app)


def create_app(settings: Settings | None = None) -> FastAPI:
    """Build the biomatch service.

    Parameters
    ----------
    settings : Settings, optional
        Configuration; default :func:`~.settings.get_settings` (the
        environment). The store is opened on first use, not here.

    Returns
    -------
    FastAPI
        The application, with every router of :data:`ROUTERS`, problem+json
        error handlers, a request body limit, security headers, and CORS only
        when ``settings.cors_origins`` names origins.
    """
    effective = settings or get_settings()
    app = FastAPI(title="biomatch", version=API_VERSION, lifespan=_lifespan, responses=PROBLEM_RESPONSES,
                  description="Biometric matching for police databases: fingerprints and marks, faces, STR DNA.")
    init_app_state(app, settings)
    install_problem_handlers(app)
    for name in ROUTERS:
        app.include_router(importlib.import_module(name).router)
    if effective.cors_origins:
        app.add_middleware(CORSMiddleware, allow_origins=list(effective.cors_origins),
                           allow_methods=["GET", "POST", "PUT", "PATCH", "DELETE"], allow_headers=["*"])
    app.add_middleware(BodyLimitMiddleware, max_bytes=effective.max_upload_bytes)
    app.add_middleware(SecurityHeadersMiddleware)  # outermost of ours: on 413s too
    return app
