"""What the store reads and writes: points to write, records read back, the spaces a collection holds, and
the modality values points carry."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Iterable

import numpy as np

from mcrsearch.modality import Modality

ALL_MODALITIES = [m.value for m in Modality]
# A video is one item stored as several points (DESIGN.md "Items, segments and regions"): its item point
# (modality "video", id = point_id(path), the indexer's state fields, no vectors) and one point per segment
# and channel (picture, sound) with that segment's vector, `item` = the item's id, `start`/`end` in seconds.
# Segment points carry their own modality value so that counts, browsing and item lookups see one item per
# video while searches for videos walk the segments (their own graph, as every modality has).
VIDEO_SEGMENT = "video-segment"
EVERY_POINT = ALL_MODALITIES + [VIDEO_SEGMENT]


@dataclass
class SpaceRecord:
    """What the collection knows about one space stored in it."""

    name: str
    fingerprint: str
    dim: int
    modalities: list[str]
    calibration: dict[str, list[float]] = field(default_factory=dict)   # "q->t": [mean, std]

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "fingerprint": self.fingerprint, "dim": self.dim,
                "modalities": list(self.modalities), "calibration": self.calibration}


@dataclass
class PointData:
    """One item to write: id, vectors by space name, payload."""

    id: str
    vectors: dict[str, np.ndarray]
    payload: dict[str, Any]


@dataclass
class Record:
    id: str
    payload: dict[str, Any]
    vectors: dict[str, np.ndarray] = field(default_factory=dict)
    score: float = 0.0


def modality_values(modalities: Iterable[Modality | str] | None) -> list[str]:
    """Payload modality values to filter on; None: every point (items and video segments)."""
    if modalities is None:
        return EVERY_POINT
    return [m if m == VIDEO_SEGMENT else Modality.parse(m).value for m in modalities]

