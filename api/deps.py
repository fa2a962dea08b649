"""Reusable ``Annotated`` dependencies: the settings, the store, per-app resources.

Routers declare parameters such as ``store: StoreDep`` and ``settings:
SettingsDep``. The store is opened once per application, lazily on first use
(so a bare ``TestClient(app)`` works without running the lifespan), and closed
when the application shuts down.

A modality keeps its own long-lived object (a FAISS gallery, DNA code arrays)
with :func:`app_resource`::

    def get_face_gallery(request: Request, store: StoreDep) -> FaceGallery:
        return app_resource(request, "face_gallery", lambda: FaceGallery.open(store))

    FaceGalleryDep = Annotated[FaceGallery, Depends(get_face_gallery)]
"""
from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import Annotated, Any, TypeVar

from fastapi import Depends, FastAPI, Request

from biomatch.index.store import Store

from .settings import Settings, get_settings

__all__ = ["SettingsDep", "StoreDep", "get_store", "get_app_settings", "open_store", "app_resource", "close_resources"]

T = TypeVar("T")
_log = logging.getLogger("biomatch.api")


def _settings_of(request: Request) -> Settings:
    override = request.app.dependency_overrides.get(get_settings)
    if override is not None:
        return override()
    return request.app.state.settings or get_settings()


def get_app_settings(request: Request) -> Settings:
    """The settings of this application (those given to ``create_app`` or the process-wide ones)."""
    return _settings_of(request)


SettingsDep = Annotated[Settings, Depends(get_app_settings)]


def app_resource(request: Request | FastAPI, name: str, factory: Callable[[], T]) -> T:
    """Return the application's object ``name``, creating it once with ``factory``.

    Creation is serialised per name, so concurrent first requests build it
    once while other resources stay available (a long index rebuild blocks
    only the requests that need that index). A factory may itself ask for
    other resources. Objects with a ``close()`` method are closed at
    shutdown, newest first.
    """
    app: FastAPI = request if isinstance(request, FastAPI) else request.app
    resources: dict[str, Any] = app.state.resources
    try:
        return resources[name]
    except KeyError:
        pass
    with app.state.resources_lock:
        lock = app.state.resource_locks.setdefault(name, threading.RLock())
    with lock:
        if name not in resources:
            resources[name] = factory()
        return resources[name]


def close_resources(app: FastAPI) -> None:
    """Close every resource of ``app`` (newest first) and forget them."""
    with app.state.resources_lock:
        items = list(app.state.resources.items())
        app.state.resources.clear()
    for name, obj in reversed(items):
        close = getattr(obj, "close", None)
        if callable(close):
            try:
                close()
            except Exception:  # one failing close must not leave the others (the store) open
                _log.exception("closing the application resource %r failed", name)


def get_store(request: Request) -> Store:
    """The application's :class:`Store`, opened on first use from the settings."""
    return open_store(request.app, _settings_of(request))


def open_store(app: FastAPI, settings: Settings) -> Store:
    """Open the application's store now (the lifespan does this at start-up) or return it."""
    return app_resource(app, "store", lambda: Store.open(settings.resolved_database_url(), home=settings.home))


StoreDep = Annotated[Store, Depends(get_store)]


def init_app_state(app: FastAPI, settings: Settings | None) -> None:
    """Prepare ``app.state`` for the dependencies above (called by ``create_app``)."""
    app.state.settings = settings
    app.state.resources = {}
    app.state.resource_locks = {}
    app.state.resources_lock = threading.Lock()
