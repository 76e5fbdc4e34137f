"""3D recipes: each class is a composition of trimesh primitives with class-specific, randomised proportions.

Z is up. Primitives are built once by trimesh as unit templates and then scaled/moved as plain numpy arrays
(fast); a recipe returns parts as (Shape, role); role "body" or "accent" picks the colour when rendering.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import Callable

import numpy as np

_SECTIONS = 14


@dataclass
class Shape:
    vertices: np.ndarray   # (V, 3) float64
    faces: np.ndarray      # (F, 3) int64

    def apply_transform(self, matrix: np.ndarray) -> "Shape":
        self.vertices = self.vertices @ matrix[:3, :3].T + matrix[:3, 3]
        return self

    def apply_translation(self, offset) -> "Shape":
        self.vertices = self.vertices + np.asarray(offset, dtype=float)
        return self

    def apply_scale(self, scale) -> "Shape":
        self.vertices = self.vertices * np.asarray(scale, dtype=float)
        return self


Part = tuple[Shape, str]


@dataclass
class Mesh:
    """A composed object: geometry plus the per-face quantities the renderer needs."""

    vertices: np.ndarray
    faces: np.ndarray

    @property
    def triangles(self) -> np.ndarray:
        return self.vertices[self.faces]

    @property
    def face_normals(self) -> np.ndarray:
        t = self.triangles
        n = np.cross(t[:, 1] - t[:, 0], t[:, 2] - t[:, 0])
        return n / np.maximum(np.linalg.norm(n, axis=1, keepdims=True), 1e-12)

    @property
    def area_faces(self) -> np.ndarray:
        t = self.triangles
        return 0.5 * np.linalg.norm(np.cross(t[:, 1] - t[:, 0], t[:, 2] - t[:, 0]), axis=1)

    def to_trimesh(self):
        import trimesh

        return trimesh.Trimesh(vertices=self.vertices, faces=self.faces, process=False)


def _rot(angle: float, axis, point=None) -> np.ndarray:
    axis = np.asarray(axis, dtype=float)
    axis = axis / np.linalg.norm(axis)
    x, y, z = axis
    c, s, C = np.cos(angle), np.sin(angle), 1 - np.cos(angle)
    m = np.eye(4)
    m[:3, :3] = [[c + x * x * C, x * y * C - z * s, x * z * C + y * s],
                 [y * x * C + z * s, c + y * y * C, y * z * C - x * s],
                 [z * x * C - y * s, z * y * C + x * s, c + z * z * C]]
    if point is not None:
        p = np.asarray(point, dtype=float)
        m[:3, 3] = p - m[:3, :3] @ p
    return m


@lru_cache(maxsize=None)
def _template(kind: str, minor: float = 0.0) -> tuple[np.ndarray, np.ndarray]:
    import trimesh

    if kind == "box":
        m = trimesh.creation.box(extents=(1, 1, 1))
    elif kind == "cyl":
        m = trimesh.creation.cylinder(radius=1.0, height=1.0, sections=_SECTIONS)
    elif kind == "cone":
        m = trimesh.creation.cone(radius=1.0, height=1.0, sections=_SECTIONS)
    elif kind == "sphere":
        m = trimesh.creation.icosphere(subdivisions=2, radius=1.0)
    else:  # torus with minor/major ratio `minor`
        m = trimesh.creation.torus(major_radius=1.0, minor_radius=minor, major_sections=18, minor_sections=8)
    v, f = np.asarray(m.vertices, dtype=float), np.asarray(m.faces, dtype=np.int64)
    v.setflags(write=False)
    f.setflags(write=False)
    return v, f


def _make(kind: str, scale, minor: float = 0.0) -> Shape:
    v, f = _template(kind, minor)
    return Shape(v * np.asarray(scale, dtype=float), f.copy())


def _place(mesh: Shape, center=(0, 0, 0), axis: str = "z") -> Shape:
    if axis == "x":
        mesh.apply_transform(_rot(np.pi / 2, [0, 1, 0]))
    elif axis == "y":
        mesh.apply_transform(_rot(np.pi / 2, [1, 0, 0]))
    return mesh.apply_translation(center)


def box(ext, center=(0, 0, 0)):
    return _place(_make("box", ext), center)


def cyl(r, h, center=(0, 0, 0), axis="z"):
    return _place(_make("cyl", (r, r, h)), center, axis)


def cone(r, h, base=(0, 0, 0), down=False):
    m = _make("cone", (r, r, h))
    if down:
        m.apply_transform(_rot(np.pi, [1, 0, 0]))
    return m.apply_translation(base)


def cone_x(r, h, base=(0, 0, 0)):
    """A cone pointing along +x from `base`."""
    return _place(_make("cone", (r, r, h)), base, axis="x")


def ellipsoid(radii, center=(0, 0, 0)):
    return _make("sphere", radii).apply_translation(center)


def torus(R, r, center=(0, 0, 0), axis="z"):
    ratio = round(r / R, 2)
    return _place(_make("torus", (R, R, R), max(ratio, 0.01)), center, axis)


def _u(rng, lo, hi):
    return float(rng.uniform(lo, hi))


def bell(rng) -> list[Part]:
    r, h = _u(rng, 0.45, 0.7), _u(rng, 0.7, 1.1)
    return [(cone(r, h, (0, 0, 0)), "body"),
            (ellipsoid((r * 0.55, r * 0.55, r * 0.5), (0, 0, h * 0.55)), "body"),
            (torus(r * 0.95, _u(rng, 0.04, 0.08), (0, 0, 0.02)), "body"),
            (torus(_u(rng, 0.08, 0.14), 0.03, (0, 0, h * 0.55 + r * 0.5), axis="y"), "accent"),
            (ellipsoid((0.08, 0.08, 0.08), (0, 0, -_u(rng, 0.05, 0.15))), "accent")]


def drum(rng) -> list[Part]:
    r, h = _u(rng, 0.5, 0.8), _u(rng, 0.35, 0.7)
    parts = [(cyl(r, h, (0, 0, h / 2)), "body"),
             (torus(r, 0.04, (0, 0, h)), "accent"), (torus(r, 0.04, (0, 0, 0)), "accent")]
    for s in (-1, 1):
        stick = cyl(0.025, _u(rng, 0.7, 1.0), (s * r * 0.3, 0, h + 0.1), axis="x")
        stick.apply_transform(_rot(s * 0.4, [0, 0, 1]))
        parts.append((stick, "accent"))
    return parts


def guitar(rng) -> list[Part]:
    lo, up, neck = _u(rng, 0.38, 0.5), _u(rng, 0.26, 0.36), _u(rng, 0.9, 1.3)
    t = _u(rng, 0.1, 0.16)
    return [(ellipsoid((lo, t, lo), (0, 0, lo)), "body"),
            (ellipsoid((up, t, up), (0, 0, 2 * lo + up * 0.6)), "body"),
            (box((0.1, 0.06, neck), (0, 0, 2 * lo + neck / 2)), "accent"),
            (box((0.16, 0.07, 0.22), (0, 0, 2 * lo + neck + 0.1)), "accent"),
            (cyl(0.09, 0.02, (0, -t, lo * 1.2), axis="y"), "accent")]


def car(rng) -> list[Part]:
    L, W, H = _u(rng, 1.6, 2.2), _u(rng, 0.7, 0.9), _u(rng, 0.3, 0.45)
    wr = _u(rng, 0.16, 0.24)
    parts = [(box((L, W, H), (0, 0, wr + H / 2)), "body"),
             (box((L * _u(rng, 0.45, 0.6), W * 0.9, H * _u(rng, 0.7, 1.0)),
                  (-L * 0.05, 0, wr + H * 1.4)), "body")]
    for x in (-L * 0.32, L * 0.32):
        for y in (-W / 2, W / 2):
            parts.append((cyl(wr, 0.14, (x, y, wr), axis="y"), "accent"))
    return parts


def train(rng) -> list[Part]:
    n, L, W, H = int(rng.integers(2, 4)), _u(rng, 0.8, 1.1), _u(rng, 0.5, 0.65), _u(rng, 0.55, 0.75)
    parts: list[Part] = []
    for i in range(n):
        x = i * (L + 0.12)
        parts.append((box((L, W, H), (x, 0, 0.15 + H / 2)), "body"))
        for dx in (-L * 0.3, L * 0.3):
            for y in (-W / 2, W / 2):
                parts.append((cyl(0.12, 0.08, (x + dx, y, 0.12), axis="y"), "accent"))
    parts.append((cyl(0.09, _u(rng, 0.25, 0.4), (L * 0.25, 0, 0.15 + H + 0.15)), "accent"))
    return parts


def airplane(rng) -> list[Part]:
    L, r, span = _u(rng, 2.0, 2.6), _u(rng, 0.14, 0.2), _u(rng, 1.8, 2.6)
    return [(cyl(r, L, (0, 0, 0.5), axis="x"), "body"),
            (ellipsoid((r * 2.2, r, r), (L / 2, 0, 0.5)), "body"), (ellipsoid((r * 1.5, r, r), (-L / 2, 0, 0.5)), "body"),
            (box((_u(rng, 0.35, 0.5), span, 0.04), (_u(rng, -0.1, 0.15), 0, 0.5)), "body"),
            (box((0.25, span * 0.35, 0.03), (-L / 2 + 0.05, 0, 0.55)), "accent"),
            (box((0.3, 0.03, _u(rng, 0.3, 0.45)), (-L / 2 + 0.05, 0, 0.5 + 0.25)), "accent")]


def bird(rng) -> list[Part]:
    b = _u(rng, 0.35, 0.5)
    hz = 0.45 + b * 0.7
    return [(ellipsoid((b, b * 0.6, b * 0.55), (0, 0, 0.45)), "body"),
            (ellipsoid((0.17, 0.17, 0.17), (b * 0.8, 0, hz)), "body"),
            (cone_x(0.05, _u(rng, 0.12, 0.22), (b * 0.8 + 0.1, 0, hz)), "accent"),
            (box((b * 0.9, _u(rng, 0.5, 0.9), 0.03), (-0.05, 0, 0.55)), "body"),
            (box((0.3, 0.12, 0.02), (-b - 0.1, 0, 0.5)), "body"),
            (cyl(0.02, 0.3, (0.05, -0.08, 0.15)), "accent"), (cyl(0.02, 0.3, (0.05, 0.08, 0.15)), "accent")]


def dog(rng) -> list[Part]:
    L, h, leg = _u(rng, 0.9, 1.3), _u(rng, 0.3, 0.42), _u(rng, 0.3, 0.5)
    parts: list[Part] = [(ellipsoid((L / 2, h * 0.6, h / 2), (0, 0, leg + h / 2)), "body"),
                         (ellipsoid((0.2, 0.17, 0.17), (L / 2 + 0.1, 0, leg + h + 0.1)), "body"),
                         (box((0.16, 0.1, 0.1), (L / 2 + 0.3, 0, leg + h + 0.05)), "body"),
                         (box((0.06, 0.06, 0.15), (L / 2 + 0.06, -0.1, leg + h + 0.3)), "accent"),
                         (box((0.06, 0.06, 0.15), (L / 2 + 0.06, 0.1, leg + h + 0.3)), "accent")]
    for x in (-L * 0.35, L * 0.35):
        for y in (-h * 0.35, h * 0.35):
            parts.append((cyl(0.06, leg, (x, y, leg / 2)), "body"))
    tail = cyl(0.035, _u(rng, 0.3, 0.45), (-L / 2 - 0.1, 0, leg + h * 0.9), axis="x")
    tail.apply_transform(_rot(-0.6, [0, 1, 0], point=(-L / 2, 0, leg + h * 0.8)))
    parts.append((tail, "accent"))
    return parts


def chair(rng) -> list[Part]:
    s, leg, back = _u(rng, 0.8, 1.0), _u(rng, 0.75, 0.95), _u(rng, 0.7, 1.1)
    parts: list[Part] = [(box((s, s, 0.08), (0, 0, leg)), "body"),
                         (box((0.08, s, back), (-s / 2 + 0.04, 0, leg + back / 2)), "body")]
    for x in (-s / 2 + 0.05, s / 2 - 0.05):
        for y in (-s / 2 + 0.05, s / 2 - 0.05):
            parts.append((box((0.07, 0.07, leg), (x, y, leg / 2)), "accent"))
    return parts


def table(rng) -> list[Part]:
    L, W, H = _u(rng, 1.6, 2.4), _u(rng, 0.9, 1.3), _u(rng, 0.7, 1.0)
    parts: list[Part] = [(box((L, W, 0.08), (0, 0, H)), "body")]
    for x in (-L / 2 + 0.1, L / 2 - 0.1):
        for y in (-W / 2 + 0.1, W / 2 - 0.1):
            parts.append((box((0.09, 0.09, H), (x, y, H / 2)), "accent"))
    return parts


def lamp(rng) -> list[Part]:
    H, sr = _u(rng, 1.3, 2.0), _u(rng, 0.3, 0.5)
    return [(cyl(_u(rng, 0.25, 0.4), 0.06, (0, 0, 0.03)), "accent"),
            (cyl(0.03, H, (0, 0, H / 2)), "accent"),
            (cone(sr, _u(rng, 0.35, 0.55), (0, 0, H - 0.1)), "body"),
            (ellipsoid((0.09, 0.09, 0.09), (0, 0, H - 0.08)), "body")]


def bottle(rng) -> list[Part]:
    r, h, nh = _u(rng, 0.2, 0.32), _u(rng, 0.8, 1.2), _u(rng, 0.3, 0.5)
    return [(cyl(r, h, (0, 0, h / 2)), "body"),
            (cone(r, 0.25, (0, 0, h)), "body"),
            (cyl(r * 0.32, nh, (0, 0, h + nh / 2 + 0.05)), "body"),
            (cyl(r * 0.38, 0.08, (0, 0, h + nh + 0.08)), "accent")]


def mug(rng) -> list[Part]:
    r, h = _u(rng, 0.35, 0.5), _u(rng, 0.55, 0.85)
    return [(cyl(r, h, (0, 0, h / 2)), "body"),
            (torus(h * 0.28, 0.05, (r + h * 0.18, 0, h / 2), axis="y"), "body"),
            (cyl(r * 0.85, 0.02, (0, 0, h - 0.03)), "accent")]


def clock(rng) -> list[Part]:
    R = _u(rng, 0.55, 0.8)
    zc = R + 0.1
    parts: list[Part] = [(cyl(R, _u(rng, 0.1, 0.2), (0, 0, zc), axis="x"), "body"),
                         (torus(R, 0.05, (0, 0, zc), axis="x"), "accent"),
                         (box((0.04, 0.05, R * 0.7), (0.12, 0, zc + R * 0.3)), "accent")]
    hand = box((0.04, 0.05, R * 0.5), (0.12, 0, zc + R * 0.22))
    hand.apply_transform(_rot(_u(rng, 0.5, 5.5), [1, 0, 0], point=(0, 0, zc)))
    parts.append((hand, "accent"))
    parts += [(box((0.15, 0.1, 0.1), (0, y, 0.05)), "accent") for y in (-R * 0.5, R * 0.5)]
    return parts


def boat(rng) -> list[Part]:
    L, W, mast = _u(rng, 1.6, 2.2), _u(rng, 0.5, 0.7), _u(rng, 1.0, 1.6)
    bow = cone_x(W / 2, _u(rng, 0.4, 0.6), (L / 2, 0, 0.2))
    return [(box((L, W, 0.4), (0, 0, 0.2)), "body"), (bow, "body"),
            (cyl(0.035, mast, (0, 0, 0.4 + mast / 2)), "accent"),
            (box((_u(rng, 0.6, 0.9), 0.03, mast * 0.8), (-0.35, 0, 0.4 + mast * 0.5)), "accent")]


def tree(rng) -> list[Part]:
    th, tr = _u(rng, 0.5, 0.9), _u(rng, 0.08, 0.14)
    parts: list[Part] = [(cyl(tr, th, (0, 0, th / 2)), "accent")]
    if rng.random() < 0.5:  # conifer: stacked cones
        r = _u(rng, 0.5, 0.7)
        for i in range(int(rng.integers(2, 4))):
            parts.append((cone(r * (1 - 0.25 * i), 0.7, (0, 0, th + i * 0.4)), "body"))
    else:  # broadleaf: clustered blobs
        r = _u(rng, 0.45, 0.65)
        parts.append((ellipsoid((r, r, r * 1.1), (0, 0, th + r * 0.8)), "body"))
        for a in rng.uniform(0, 2 * np.pi, size=3):
            parts.append((ellipsoid((r * 0.6,) * 3, (np.cos(a) * r * 0.6, np.sin(a) * r * 0.6, th + r * 0.9)), "body"))
    return parts


RECIPES: dict[str, Callable[[np.random.Generator], list[Part]]] = {
    "bell": bell, "drum": drum, "guitar": guitar, "car": car, "train": train, "airplane": airplane,
    "bird": bird, "dog": dog, "chair": chair, "table": table, "lamp": lamp, "bottle": bottle,
    "mug": mug, "clock": clock, "boat": boat, "tree": tree,
}


def build_object(class_name: str, rng: np.random.Generator) -> tuple[Mesh, np.ndarray]:
    """(mesh, face_role) for one instance: parts concatenated, centred on the origin, role per face (0 body, 1 accent)."""
    parts = RECIPES[class_name](rng)
    verts, faces, roles, offset = [], [], [], 0
    for shape, role in parts:
        verts.append(shape.vertices)
        faces.append(shape.faces + offset)
        roles.append(np.full(len(shape.faces), 0 if role == "body" else 1, dtype=np.int8))
        offset += len(shape.vertices)
    v = np.concatenate(verts)
    v = v - (v.min(axis=0) + v.max(axis=0)) / 2
    return Mesh(v, np.concatenate(faces)), np.concatenate(roles)
