"""Explain a match: where in a picture (or on a shape) a query vector matches, and whether its source is there.

A heat map is the cosine between the query's space vector and each part vector of the item (image patches
or windows, 3D point groups) carried through the item's route and heads (`Space.embed_dense`). The
counterfactual verdict ("the query's source is / is not in this picture") reads the map's peak as a
calibrated score: its z-score under the collection's cosine statistics for the (query, target) pair, the
same statistics that calibrate search scores (`mcrsearch.calibration`). Nothing here is stored.
"""

from __future__ import annotations

import io
import math
from dataclasses import dataclass, field
from typing import Any, Sequence

import numpy as np

from mcrsearch.encoders.base import DenseFeatures
from mcrsearch.errors import ConfigError
from mcrsearch.media import box_frame
from mcrsearch.modality import Modality
from mcrsearch.space import Space

# A peak this many standard deviations above the collection's mean pair cosine counts as "present"
# (Settings.explain_present_z); scored on the mini-world scenes benchmark (docs/BENCHMARKS.md, `miniworld-scenes`).
PRESENT_Z = 2.0


@dataclass
class Verdict:
    """Is the query's source in the item? `confidence` is the normal CDF of the peak's z-score: the share
    of the collection's random pairs whose cosine the peak beats; `present` is `z >= threshold`."""

    present: bool
    confidence: float
    z: float
    threshold: float
    calibrated_by: str            # which statistics: 'audio->image', '*->image', ...

    def as_dict(self) -> dict[str, Any]:
        return {"present": self.present, "confidence": round(self.confidence, 4), "z": round(self.z, 4),
                "threshold": self.threshold, "calibrated_by": self.calibrated_by}


@dataclass
class HeatMap:
    """Cosines between a query vector and each part of one item.

    Images: `values` is (rows, cols) over `centres` (x, y fractions of the picture, row-major).
    Shapes: `values` is (groups,) over `centres` (x, y, z) in the shape's bounding-box frame (centred on its
    box, farthest point at radius 1: `media.normalize_box`, the frame the page's 3D viewer draws in), so
    the page can place each part on the drawn shape; `point_scores` spreads the parts' values onto points.
    """

    values: np.ndarray
    centres: np.ndarray
    method: str
    score: float                       # the item's global cosine with the query (what search ranks)
    modality: Modality
    verdict: Verdict | None = None
    notes: list[str] = field(default_factory=list)
    space: str = ""
    overlay: bytes | None = None         # PNG of the picture with the map over it, when asked for
    at: float | None = None              # a video's frame: its second

    @property
    def peak(self) -> float:
        return float(np.max(self.values))

    def point_scores(self, xyz: np.ndarray, k: int = 3) -> np.ndarray:
        """A shape's map spread onto points (N, 3) given in the same frame as `centres`: each point gets the
        inverse-distance blend of its `k` nearest part centres (a point on a centre gets that part's value).
        The page's viewer does the same for the vertices it draws (static/shading.js)."""
        if self.modality is not Modality.POINTS:
            raise ConfigError("Only a 3D shape's map is spread onto points.")
        pts = np.asarray(xyz, dtype=np.float64)[:, :3]
        centres = np.asarray(self.centres, dtype=np.float64)
        values = np.asarray(self.values, dtype=np.float64).ravel()
        k = max(1, min(int(k), len(values)))
        out = np.empty(len(pts), dtype=np.float32)
        for start in range(0, len(pts), 4096):          # bounded memory for large clouds
            d = np.sqrt(((pts[start:start + 4096, None, :] - centres[None]) ** 2).sum(axis=2))
            near = np.argsort(d, axis=1)[:, :k]
            dn = np.take_along_axis(d, near, axis=1)
            w = 1.0 / np.maximum(dn, 1e-6) ** 2
            out[start:start + 4096] = (w * values[near]).sum(axis=1) / w.sum(axis=1)
        return out

    @property
    def peak_at(self) -> list[float]:
        """Where the peak is: (x, y) fractions for a picture, (x, y, z) for a shape."""
        return [round(float(v), 4) for v in self.centres[int(np.argmax(self.values.ravel()))]]

    def as_dict(self) -> dict[str, Any]:
        return {"space": self.space, "modality": self.modality.value, "method": self.method, "score": round(self.score, 6),
                "peak": round(self.peak, 6), "peak_at": self.peak_at,
                "grid": list(self.values.shape), "values": np.round(self.values, 5).tolist(),
                "centres": np.round(self.centres, 5).tolist(),
                "verdict": self.verdict.as_dict() if self.verdict else None, "notes": list(self.notes),
                "at": self.at}


def heat_map(space: Space, query: np.ndarray, modality: Modality | str, item: Any, method: str = "",
             dense: DenseFeatures | None = None) -> HeatMap:
    """The heat map of one decoded item (image or point cloud) for a query vector of `space`.

    Args:
        space: the space both the query and the item live in.
        query: the query's (dim,) space vector (L2-normalised).
        modality: the item's modality (image or 3d).
        item: the decoded item.
        method: the encoder's dense method ('' = its default).
        dense: part vectors computed already (skips the encoder).
    Returns:
        HeatMap with the global score, without a verdict (see `judge`).
    """
    modality = Modality.parse(modality)
    if modality not in (Modality.IMAGE, Modality.POINTS):
        raise ConfigError(f"Only pictures and 3D shapes can be explained, not {modality.value}.")
    query = np.asarray(query, dtype=np.float32).reshape(-1)
    if query.shape[0] != space.dim:
        raise ConfigError(f"The query vector has {query.shape[0]} dimensions; space '{space.name}' has {space.dim}.")
    dense = dense if dense is not None else space.embed_dense(modality, item, method)
    cosines = dense.vectors @ query
    values = cosines.reshape(dense.grid) if dense.grid else cosines
    centres = np.asarray(dense.centres, dtype=np.float32)
    if modality is Modality.POINTS:          # the encoders' frame -> the shape's box frame (what a viewer draws)
        box_centre, radius = box_frame(np.asarray(item))
        centres = ((centres - box_centre) / (radius if radius > 0 else 1.0)).astype(np.float32)
    score = float(space.embed(modality, [item])[0] @ query)
    return HeatMap(values=values, centres=centres, method=dense.method, score=score, modality=modality)


def judge(peak: float, calibration: dict[str, Sequence[float]], query: str, target: str,
          threshold: float = PRESENT_Z) -> Verdict | None:
    """The counterfactual verdict from a map's peak and a collection's pair statistics (None without any)."""
    key = f"{query}->{target}" if f"{query}->{target}" in calibration else f"*->{target}"
    stats = calibration.get(key)
    if not stats:
        return None
    z = (float(peak) - float(stats[0])) / float(stats[1])
    confidence = 0.5 * (1.0 + math.erf(z / math.sqrt(2.0)))
    return Verdict(present=z >= threshold, confidence=confidence, z=z, threshold=threshold, calibrated_by=key)


def upsample(values: np.ndarray, centres: np.ndarray, width: int, height: int) -> np.ndarray:
    """A grid map (rows, cols) with cell centres in picture fractions -> (height, width) by bilinear
    interpolation between centres (constant beyond the outermost centres)."""
    rows, cols = values.shape
    xs = np.unique(np.round(centres[:, 0], 6))[:cols] if cols > 1 else centres[:1, 0]
    ys = np.unique(np.round(centres[:, 1], 6))[:rows] if rows > 1 else centres[:1, 1]
    px = (np.arange(width) + 0.5) / width
    py = (np.arange(height) + 0.5) / height
    fx = np.interp(px, xs, np.arange(cols)) if cols > 1 else np.zeros(width)
    fy = np.interp(py, ys, np.arange(rows)) if rows > 1 else np.zeros(height)
    x0 = np.clip(np.floor(fx).astype(int), 0, cols - 1)
    y0 = np.clip(np.floor(fy).astype(int), 0, rows - 1)
    x1, y1 = np.minimum(x0 + 1, cols - 1), np.minimum(y0 + 1, rows - 1)
    wx, wy = (fx - x0)[None, :], (fy - y0)[:, None]
    v = np.asarray(values, dtype=np.float32)
    top = v[y0][:, x0] * (1 - wx) + v[y0][:, x1] * wx
    bottom = v[y1][:, x0] * (1 - wx) + v[y1][:, x1] * wx
    return (top * (1 - wy) + bottom * wy).astype(np.float32)


def overlay_png(image: Any, values: np.ndarray, centres: np.ndarray, alpha: float = 0.55,
                max_side: int = 1024) -> bytes:
    """The picture with its heat map laid over it (min-max scaled, warm = match), as PNG bytes."""
    from PIL import Image

    picture = image.convert("RGB")
    if max(picture.size) > max_side:
        picture.thumbnail((max_side, max_side))
    width, height = picture.size
    dense = upsample(values, centres, width, height)
    lo, hi = float(dense.min()), float(dense.max())
    scaled = (dense - lo) / (hi - lo) if hi > lo else np.zeros_like(dense)
    colours = _colormap(scaled)
    base = np.asarray(picture, dtype=np.float32)
    mixed = base * (1 - alpha) + colours * alpha
    buf = io.BytesIO()
    Image.fromarray(np.clip(mixed, 0, 255).astype(np.uint8), "RGB").save(buf, format="PNG")
    return buf.getvalue()


def _colormap(t: np.ndarray) -> np.ndarray:
    """A blue -> cyan -> yellow -> red ramp (no plotting library needed), (h, w) in [0, 1] -> (h, w, 3)."""
    stops = np.array([[30, 40, 160], [40, 190, 220], [250, 220, 60], [220, 40, 30]], dtype=np.float32)
    pos = np.clip(t, 0, 1) * (len(stops) - 1)
    i = np.minimum(pos.astype(int), len(stops) - 2)
    f = (pos - i)[..., None]
    return stops[i] * (1 - f) + stops[i + 1] * f
