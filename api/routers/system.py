"""Service-level routes: health."""
from __future__ import annotations

from fastapi import APIRouter
from pydantic import BaseModel

from biomatch.index.store import INDEX_KINDS, SCHEMA_VERSION

from ..deps import StoreDep

router = APIRouter(tags=["system"])


class Health(BaseModel):
    """Liveness and store state."""

    status: str
    backend: str
    schema_version: int
    generations: dict[str, int]


@router.get("/health", response_model=Health, summary="Service and store health")
def health(store: StoreDep) -> Health:
    """Answer ``ok`` when the store answers; report its backend and index generations."""
    return Health(status="ok", backend=store.backend, schema_version=SCHEMA_VERSION,
                  generations={kind: store.generation(kind) for kind in INDEX_KINDS})
