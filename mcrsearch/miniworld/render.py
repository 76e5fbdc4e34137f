"""A tiny point-splat renderer (numpy + Pillow): sampled surface points, Lambert shading, z-buffer, random view.

Fast enough for thousands of images on a CPU core; realism is not the point, consistent class appearance is.
"""

from __future__ import annotations

import numpy as np
from PIL import Image, ImageFilter


def _rotation(yaw: float, pitch: float) -> np.ndarray:
    cy, sy, cp, sp = np.cos(yaw), np.sin(yaw), np.cos(pitch), np.sin(pitch)
    rz = np.array([[cy, -sy, 0], [sy, cy, 0], [0, 0, 1]])
    rx = np.array([[1, 0, 0], [0, cp, -sp], [0, sp, cp]])
    return rx @ rz


def render(mesh, face_role: np.ndarray, colours: np.ndarray, rng: np.random.Generator, size: int = 64,
           n_points: int = 9000, yaw: float | None = None) -> Image.Image:
    """Render `mesh` with per-role RGB `colours` (2, 3) from a random view onto a random background.

    `yaw`: the turn about the vertical axis instead of a random one (a video's frames turn the object; the
    random draws are made all the same, so the rest of the picture is what the same `rng` gives)."""
    ss = 2 * size                                     # supersample, then downscale (anti-aliasing, fewer holes)
    px, py, col = _splat(mesh, face_role, colours, rng, ss, n_points)
    img = _background(rng, ss)
    for dx, dy in ((0, 0), (1, 0), (0, 1), (1, 1)):   # 2x2 splats close the gaps between samples
        xs, ys = np.minimum(px + dx, ss - 1), np.minimum(py + dy, ss - 1)
        img[ys, xs] = col
    img += rng.normal(0, rng.uniform(3, 10), size=img.shape)
    out = Image.fromarray(np.clip(img, 0, 255).astype(np.uint8), "RGB").resize((size, size), Image.Resampling.BILINEAR)
    if rng.random() < 0.3:
        out = out.filter(ImageFilter.GaussianBlur(radius=float(rng.uniform(0.3, 0.8))))
    return out


def render_cutout(mesh, face_role: np.ndarray, colours: np.ndarray, rng: np.random.Generator, size: int = 64,
                  n_points: int = 9000) -> Image.Image:
    """The object alone as an RGBA image (transparent around it), drawn like `render` draws it: for scenes."""
    ss = 2 * size
    px, py, col = _splat(mesh, face_role, colours, rng, ss, n_points)
    img = np.zeros((ss, ss, 4), dtype=np.float32)
    for dx, dy in ((0, 0), (1, 0), (0, 1), (1, 1)):
        xs, ys = np.minimum(px + dx, ss - 1), np.minimum(py + dy, ss - 1)
        img[ys, xs, :3] = col
        img[ys, xs, 3] = 255
    return Image.fromarray(img.astype(np.uint8), "RGBA").resize((size, size), Image.Resampling.BILINEAR)


def _splat(mesh, face_role: np.ndarray, colours: np.ndarray, rng: np.random.Generator, ss: int,
           n_points: int, yaw: float | None = None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Shaded surface samples projected from a random view: pixel columns, rows and colours, far first
    (nearer points are drawn last and overwrite)."""
    pts, fidx = _sample(mesh, n_points, rng)
    normals = mesh.face_normals[fidx]
    base = colours[face_role[fidx]].astype(np.float32)

    drawn = rng.uniform(0, 2 * np.pi)
    rot = _rotation(drawn if yaw is None else yaw, rng.uniform(-1.35, -0.9))  # view from slightly above
    p = pts @ rot.T
    n = normals @ rot.T
    light = np.array([0.4, -0.5, 0.75])
    light /= np.linalg.norm(light)
    shade = 0.35 + 0.65 * np.abs(n @ light)           # two-sided Lambert (meshes may be open)
    col = np.clip(base * shade[:, None], 0, 255)

    extent = np.abs(p[:, :2]).max() * rng.uniform(1.08, 1.3)
    offset = rng.uniform(-0.08, 0.08, size=2) * extent
    xy = (p[:, :2] + offset) / extent                 # in [-1, 1]
    px = np.clip(((xy[:, 0] + 1) / 2 * (ss - 1)).round().astype(int), 0, ss - 1)
    py = np.clip(((1 - (xy[:, 1] + 1) / 2) * (ss - 1)).round().astype(int), 0, ss - 1)
    order = np.argsort(p[:, 2])                       # far first; nearer points overwrite
    return px[order], py[order], col[order]


def _sample(mesh, n: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Area-weighted surface samples with their face index (own sampler so the RNG is ours)."""
    tri = mesh.triangles
    area = mesh.area_faces
    fidx = rng.choice(len(area), size=n, p=area / area.sum())
    u, v = rng.random(n), rng.random(n)
    flip = u + v > 1
    u[flip], v[flip] = 1 - u[flip], 1 - v[flip]
    t = tri[fidx]
    pts = t[:, 0] + u[:, None] * (t[:, 1] - t[:, 0]) + v[:, None] * (t[:, 2] - t[:, 0])
    return pts, fidx


def _background(rng: np.random.Generator, ss: int) -> np.ndarray:
    """Muted random gradient; never class-specific."""
    a = rng.uniform(60, 230, size=3)
    b = np.clip(a + rng.uniform(-50, 50, size=3), 0, 255)
    t = np.linspace(0, 1, ss)[:, None, None]
    if rng.random() < 0.5:
        grad = a * (1 - t) + b * t
        img = np.broadcast_to(grad, (ss, ss, 3))
    else:
        grad = a * (1 - t.transpose(1, 0, 2)) + b * t.transpose(1, 0, 2)
        img = np.broadcast_to(grad, (ss, ss, 3))
    return np.array(img, dtype=np.float32)


def sample_surface(mesh, n: int, rng: np.random.Generator) -> np.ndarray:
    return _sample(mesh, n, rng)[0].astype(np.float32)
