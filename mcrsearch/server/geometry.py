"""3D files -> what the page's viewer and the server's thumbnails draw: a normalised mesh or point cloud.

Why not `media.load_points`: the encoders want a surface sample, but a viewer wants the faces. Meshes are
read here through trimesh behind the same size limit and error rules as `mcrsearch.media` (every failure
is a `MediaError` with a reason); point clouds go through `media.load_points` itself. Everything is
centred on its bounding-box centre and scaled into the unit sphere, so the browser needs no fitting.
"""

from __future__ import annotations

import base64
import io
import logging
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from mcrsearch import media
from mcrsearch.errors import MediaError
from mcrsearch.modality import MESH_EXTENSIONS

# Suffixes that may hold faces; a .ply without faces is a point cloud.
_FACE_SUFFIXES = MESH_EXTENSIONS | {".ply"}


@dataclass(frozen=True)
class Shape:
    """A normalised 3D object: (N, 3) float32 positions and, for a mesh, (F, 3) uint32 faces."""

    positions: np.ndarray
    faces: np.ndarray | None = None
    closed: bool = False          # watertight with outward winding: back faces may be culled

    @property
    def is_mesh(self) -> bool:
        return self.faces is not None and len(self.faces) > 0


def normalise(xyz: np.ndarray) -> np.ndarray:
    """Centre on the bounding-box centre and scale the farthest point to radius 1 (`media.normalize_box`:
    explain's 3D part centres are given in the same frame)."""
    return media.normalize_box(xyz)


def _check_size(path: Path) -> None:
    try:
        size = os.stat(path).st_size
    except OSError as exc:
        raise MediaError(path, f"cannot read file ({exc.strerror or exc})") from exc
    limit = media.default_max_bytes()
    if size == 0:
        raise MediaError(path, "empty file")
    if limit and size > limit:
        raise MediaError(path, f"exceeds the {limit // (1024 * 1024)} MB limit for 3D files")


def _load_mesh(path: Path, data: bytes | None = None) -> Any | None:
    """The file's triangles as one trimesh.Trimesh, or None when it holds no faces (a point cloud).

    From `data` when given (bytes the server read from a checked descriptor), else from the path."""

    import trimesh

    logging.getLogger("trimesh").setLevel(logging.ERROR)
    if data is None:
        _check_size(path)
    elif not data:
        raise MediaError(path, "empty file")
    kind = path.suffix.lstrip(".").upper()
    try:
        source = str(path) if data is None else io.BytesIO(data)
        loaded: Any = trimesh.load(source, file_type=path.suffix.lstrip(".").lower())
        if isinstance(loaded, trimesh.Scene):
            parts = [g for g in loaded.dump() if isinstance(g, trimesh.Trimesh) and len(g.faces)]
            loaded = trimesh.util.concatenate(parts) if parts else None
    except MemoryError as exc:
        raise MediaError(path, "3D file too large to decode in memory") from exc
    except Exception as exc:  # trimesh raises many types for broken files
        raise MediaError(path, f"truncated or corrupt {kind} file ({type(exc).__name__})") from exc
    if not isinstance(loaded, trimesh.Trimesh) or len(loaded.faces) == 0:
        return None
    vertices = np.asarray(loaded.vertices, dtype=np.float64)
    if not np.all(np.isfinite(vertices)):
        raise MediaError(path, "mesh has non-finite coordinates (NaN or inf)")
    if float(np.ptp(vertices, axis=0).max(initial=0.0)) == 0.0:
        raise MediaError(path, "degenerate mesh (all vertices identical)")
    return loaded


def load_shape(path: str | Path, max_points: int = 50_000, max_faces: int = 100_000,
               data: bytes | None = None) -> Shape:
    """Read a mesh (faces kept while there are at most `max_faces`) or a point cloud (at most `max_points`).

    A mesh with more faces than `max_faces` comes back as a surface sample of `max_points` points, so
    no file can make the page or the thumbnail renderer draw an unbounded number of triangles.

    Args:
        path: a 3D file mcrsearch indexes (mesh or point cloud).
        max_points: most points returned for a point cloud or a too-large mesh's sample.
        max_faces: most triangles kept as a mesh.
        data: the file's bytes when already read (the path then names the format only).
    Returns:
        A `Shape` in the unit sphere.
    Raises:
        MediaError: the file cannot be decoded.
    """
    p = Path(path)
    max_points = max(3, int(max_points))
    mesh = _load_mesh(p, data) if p.suffix.lower() in _FACE_SUFFIXES else None
    if mesh is not None:
        if len(mesh.faces) <= max_faces:
            mesh.remove_unreferenced_vertices()
            faces = np.asarray(mesh.faces, dtype=np.uint32)
            closed = bool(mesh.is_watertight and mesh.is_winding_consistent)
            if closed and float(mesh.volume) < 0:   # inward winding: turn it outward
                faces = faces[:, ::-1].copy()
            return Shape(normalise(mesh.vertices), faces, closed)
        import trimesh

        sample, _ = trimesh.sample.sample_surface(mesh, max_points, seed=0)
        return Shape(normalise(sample))
    xyz = media.load_points(p, n_points=max_points, data=data)
    if len(xyz) > max_points:  # an even, deterministic thinning keeps the cloud's shape
        xyz = xyz[np.linspace(0, len(xyz) - 1, max_points).astype(np.int64)]
    return Shape(normalise(xyz))


def geometry_payload(path: str, max_points: int = 50_000, max_faces: int = 100_000,
                     data: bytes | None = None) -> dict[str, Any]:
    """The /api/items/{id}/geometry JSON: positions (and triangle indices) as base64 little-endian arrays.

    Args:
        path: the indexed 3D file.
        max_points: most points sent for a point cloud (or for a mesh over `max_faces`).
        max_faces: most triangles sent as a mesh.
        data: the file's bytes when already read (from a checked descriptor).
    Returns:
        {"kind": "mesh"|"points", "count": number of positions, "faces": number of triangles,
         "positions": base64 float32 xyz, "indices": base64 uint32 triples or None}
    Raises:
        MediaError: the file cannot be decoded.
    """
    shape = load_shape(path, max_points=max_points, max_faces=max_faces, data=data)
    positions = np.ascontiguousarray(shape.positions, dtype="<f4")
    faces = shape.faces if shape.is_mesh else None
    indices = None
    if faces is not None:
        indices = base64.b64encode(np.ascontiguousarray(faces, dtype="<u4").tobytes()).decode("ascii")
    return {
        "kind": "mesh" if faces is not None else "points",
        "count": int(len(positions)),
        "faces": int(len(faces)) if faces is not None else 0,
        "positions": base64.b64encode(positions.tobytes()).decode("ascii"),
        "indices": indices,
    }
