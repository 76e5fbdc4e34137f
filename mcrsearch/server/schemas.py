"""The JSON shapes of the API, declared once: the routes return them, OpenAPI publishes them and
`RemoteClient` parses them back into the library's own types (`Hit`, `Item`).

Models whose dicts come from elsewhere (`Client.info`, a job's counts) accept extra fields, so a field
added there reaches the wire without a second edit here.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Optional

from pydantic import BaseModel, ConfigDict, Field

from mcrsearch.modality import Modality
from mcrsearch.search import Hit, Item

MAX_IDS = 1000      # ids or paths in one request
MAX_PARTS = 2048    # a shape's parts in one explain answer (PointBERT has 512): more are thinned evenly


class ItemOut(BaseModel):
    """An item as the page shows it: where its media, thumbnail and geometry are served."""

    id: str
    modality: str
    name: str
    path: str
    details: dict[str, Any]
    media_url: str
    thumb_url: Optional[str]
    geometry_url: Optional[str]

    @staticmethod
    def fields_of(item: Item) -> dict[str, Any]:
        """The item's fields and the URLs the server answers for it (by id only)."""
        base = f"/api/items/{item.id}"
        return {"id": item.id, "modality": item.modality, "name": Path(item.path).name, "path": item.path,
                "details": item.details, "media_url": f"{base}/media",
                "thumb_url": None if item.modality == Modality.TEXT.value else f"{base}/thumb",
                "geometry_url": f"{base}/geometry" if item.modality == Modality.POINTS.value else None}

    @classmethod
    def of(cls, item: Item) -> "ItemOut":
        return cls(**cls.fields_of(item))

    def to_item(self) -> Item:
        """The library's Item (its payload holds what the wire carries: the presentation details)."""
        return Item(self.id, self.path, self.modality, dict(self.details))


class HitOut(ItemOut):
    """A hit: the item plus its calibrated score (z-score) and raw cosine, at full precision (so a remote
    client's hits equal the local ones); `inputs`: why it was found (each input's cosine, z-score,
    contribution to the score, hops into the space, emergent or not); `new`: on a saved search's re-run,
    whether it was missing from the last run."""

    score: float
    cosine: float
    inputs: list[dict[str, Any]] = []
    new: Optional[bool] = None

    @classmethod
    def of(cls, hit: Hit) -> "HitOut":  # type: ignore[override]
        return cls(**cls.fields_of(hit), score=hit.score, cosine=hit.cosine, inputs=hit.inputs, new=hit.new)

    def to_hit(self) -> Hit:
        return Hit(self.id, self.path, self.modality, dict(self.details), score=self.score, cosine=self.cosine,
                   inputs=[dict(i) for i in self.inputs], new=self.new)


class SearchOut(BaseModel):
    """One page of a search."""

    hits: list[HitOut]
    target: str
    k: int
    offset: int
    space: Optional[str]
    more: bool
    took_ms: float


class ItemsPage(BaseModel):
    """One page of the collection, in a stable order."""

    items: list[ItemOut]
    total: int
    offset: int
    limit: int


class ItemList(BaseModel):
    items: list[ItemOut]


class Count(BaseModel):
    count: int


class IdsRequest(BaseModel):
    """Items to fetch by id (unknown ids are left out of the answer)."""

    ids: list[str] = Field(max_length=MAX_IDS)


class PathsRequest(BaseModel):
    """Indexed files or folders to remove from the collection (absolute paths; the files stay on disk)."""

    paths: list[str] = Field(max_length=MAX_IDS)


class Removed(BaseModel):
    removed: int


class Health(BaseModel):
    """Liveness; `proof` answers a challenge; the rest only for a caller with the token."""

    model_config = ConfigDict(extra="allow")

    status: str
    version: str
    proof: Optional[str] = None
    collection: Optional[str] = None
    location: Optional[str] = None
    total: Optional[int] = None
    indexing: Optional[bool] = None


class SpaceInfo(BaseModel):
    model_config = ConfigDict(extra="allow")

    name: str
    fingerprint: str
    dim: int
    modalities: list[str]
    calibrated_pairs: int
    precision: dict[str, str] = {}      # modality -> mode its encoder runs, once the server has loaded the space


class Info(BaseModel):
    """`Client.info()`: collection, backend, spaces, counts per modality, storage size."""

    model_config = ConfigDict(extra="allow")

    collection: str
    backend: str
    location: str
    spaces: list[SpaceInfo]
    precision_setting: str = "auto"
    counts: dict[str, int]
    total: int
    storage_bytes: int


class Geometry(BaseModel):
    """A 3D item for the viewer: base64 little-endian float32 positions and uint32 triangle indices."""

    kind: str
    count: int
    faces: int
    positions: str
    indices: Optional[str]


class JobRequest(BaseModel):
    """An index job: an absolute folder on the server's machine, and optionally the space to embed with."""

    path: str
    space: Optional[str] = None


class FailureOut(BaseModel):
    path: str
    reason: str


class JobReport(BaseModel):
    """A finished job's `IndexReport`."""

    model_config = ConfigDict(extra="allow")

    indexed: int
    unchanged: int
    removed: int
    failed: list[FailureOut]
    collection: str
    space: str
    location: str
    seconds: float
    stage_seconds: dict[str, float]
    cancelled: bool


class JobOut(BaseModel):
    """An index job and its live counts."""

    model_config = ConfigDict(extra="allow")

    id: str
    path: str
    space: Optional[str]
    state: str
    total: int
    done: int
    indexed: int
    unchanged: int
    removed: int
    failed: int
    error: Optional[str]
    error_type: Optional[str] = None
    started: float
    finished: Optional[float]
    report: Optional[JobReport]


class JobList(BaseModel):
    jobs: list[JobOut]


class Constants(BaseModel):
    """The vocabularies and limits the page must agree with, as the server applies them."""

    model_config = ConfigDict(extra="allow")

    extensions: dict[str, list[str]]
    modalities: list[str]
    default_k: int
    max_k: int
    job_states: dict[str, list[str]]


class DuplicateGroupOut(BaseModel):
    """Items holding the same content: `identical` files (one content hash) or `near` duplicates."""

    model_config = ConfigDict(extra="allow")

    kind: str
    modality: str
    min_cosine: float
    items: list[Any]


class Duplicates(BaseModel):
    groups: list[DuplicateGroupOut]
    total: int


class SavedSearch(BaseModel):
    """A saved search: its query, when it was saved, and the ids of its last run's results."""

    model_config = ConfigDict(extra="allow")

    name: str
    query: dict[str, Any]
    saved_at: float
    last: list[str]


class SavedList(BaseModel):
    saved: list[SavedSearch]


class SavedRun(BaseModel):
    name: str
    hits: list[HitOut]


class SavedDeleted(BaseModel):
    deleted: str


class WatchState(BaseModel):
    """What `serve --watch` follows, the changes not yet searchable, and how many batches it applied."""

    watching: list[str]
    pending: list[dict[str, Any]]
    batches: int


class VerdictOut(BaseModel):
    present: bool
    confidence: float
    z: float
    threshold: float
    calibrated_by: str


class ExplainOut(BaseModel):
    """A heat map (`mcrsearch.explain.HeatMap`): per-part cosines over their centres, the global score,
    the peak, the calibrated verdict, and, when asked for, the overlay PNG as base64. A picture's centres
    are (x, y) fractions; a shape's are (x, y, z) in the frame the page's viewer draws it in (at most
    `MAX_PARTS` of them), so the page colours the drawn vertices by the nearest parts."""

    space: str
    modality: str
    method: str
    score: float
    peak: float
    peak_at: list[float]
    grid: list[int]
    values: list[Any]
    centres: list[list[float]]
    verdict: Optional[VerdictOut]
    notes: list[str]
    overlay_png: Optional[str] = None
    at: Optional[float] = None          # a video's frame: its second

    @classmethod
    def of(cls, heat: Any) -> "ExplainOut":
        import base64

        data = heat.as_dict()
        if data["modality"] == "3d" and len(data["values"]) > MAX_PARTS:
            keep = [round(i * len(data["values"]) / MAX_PARTS) for i in range(MAX_PARTS)]
            data["values"] = [data["values"][i] for i in keep]
            data["centres"] = [data["centres"][i] for i in keep]
            data["grid"] = [MAX_PARTS]
            data["notes"].append(f"{heat.values.size} parts thinned evenly to {MAX_PARTS}")
        data["overlay_png"] = base64.b64encode(heat.overlay).decode() if heat.overlay else None
        return cls(**data)

    def to_heat_map(self) -> Any:
        """The library's HeatMap again (RemoteClient answers what Client does)."""
        import base64

        import numpy as np

        from mcrsearch.explain import HeatMap, Verdict

        return HeatMap(values=np.asarray(self.values, dtype=np.float32), centres=np.asarray(self.centres, np.float32),
                       method=self.method, score=self.score, modality=Modality.parse(self.modality),
                       verdict=Verdict(**self.verdict.model_dump()) if self.verdict else None,
                       notes=list(self.notes), space=self.space, at=self.at,
                       overlay=base64.b64decode(self.overlay_png) if self.overlay_png else None)
