"""The vocabularies and limits the page must agree with, read from the Python constants that define them
(so the page holds no copy): which file extensions are queries of which kind, how many hits one request may
ask for, and which job states are still moving. Costs nothing, reads nothing, carries no collection data;
behind the token like every other API route."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends

from mcrsearch.modality import (AUDIO_EXTENSIONS, IMAGE_EXTENSIONS, MESH_EXTENSIONS, POINT_EXTENSIONS,
                                TEXT_EXTENSIONS, VIDEO_EXTENSIONS, Modality)
from mcrsearch.server.deps import require_token
from mcrsearch.server.jobs import ACTIVE, FINISHED
from mcrsearch.server.routers.search import DEFAULT_K, MAX_K
from mcrsearch.server.schemas import Constants

router = APIRouter(prefix="/api", tags=["status"], dependencies=[Depends(require_token)])


def page_constants() -> dict[str, Any]:
    """The constants as JSON (the upload field of each kind is its key: `points` takes meshes and clouds)."""
    return {
        "extensions": {"image": sorted(IMAGE_EXTENSIONS), "audio": sorted(AUDIO_EXTENSIONS),
                       "points": sorted(MESH_EXTENSIONS | POINT_EXTENSIONS), "text": sorted(TEXT_EXTENSIONS),
                       "video": sorted(VIDEO_EXTENSIONS)},
        "modalities": [m.value for m in Modality],
        "default_k": DEFAULT_K,
        "max_k": MAX_K,
        "job_states": {"active": list(ACTIVE), "finished": list(FINISHED)},
    }


@router.get("/constants", response_model=Constants)
def constants() -> dict[str, Any]:
    """Extensions per query kind, the bounds on k, and the job states, as the server applies them."""
    return page_constants()
