"""Result thumbnails as PNG, drawn on the CPU and cached on disk by content hash and size.

Why on the server: a results page with dozens of 3D objects cannot open a WebGL context per result
(browsers keep about 16), so 3D items are rendered here with numpy + Pillow (painter's algorithm with
Lambert shading for meshes, depth-shaded splats for point clouds). Images are decoded by
`mcrsearch.media` exactly as the indexer decodes them (EXIF orientation, 16-bit, alpha on white), and
audio becomes a log-frequency spectrogram. A thumbnail is a pure function of (content, size, renderer
version), so the cache never needs invalidating: a changed file has a new hash.
"""

from __future__ import annotations

import hashlib
import io
import re
from pathlib import Path
from typing import Callable

import numpy as np
from PIL import Image, ImageDraw

from mcrsearch import media
from mcrsearch.atomic import write_bytes_atomic
from mcrsearch.errors import MediaError, UnsupportedMediaError
from mcrsearch.modality import Modality
from mcrsearch.server.geometry import Shape, load_shape

RENDERER_VERSION = 2            # bump when drawing changes, so old cached PNGs are not served
MIN_SIZE, MAX_SIZE = 32, 1024   # requested sizes are clamped into this range
# ... and rounded up to one of these, so one item has at most this many cached thumbnails
SIZE_STEPS = (32, 64, 128, 256, 512, 1024)
SUPERSAMPLE = 2                 # 3D is drawn at 2x and downsampled: cheap anti-aliasing
MESH_FACE_LIMIT = 20_000        # more triangles than this are drawn as a dense surface sample instead
SPLAT_POINTS = 30_000           # most points drawn for a cloud

_BASE = np.array([96, 128, 214], dtype=np.float64)        # mesh colour (a calm blue)
_LIGHT = np.array([-0.45, 0.65, 0.62])                    # key light, upper left front
_FILL = np.array([0.6, -0.2, 0.5])                        # weaker fill light from the right
_HEX = re.compile(r"[0-9a-fA-F]{8,128}")


def clamp_size(size: int) -> int:
    """The size actually drawn for a requested one: clamped to 32..1024 px, rounded up to a SIZE_STEPS
    step (the cache holds at most len(SIZE_STEPS) thumbnails per content, whatever sizes are asked)."""
    wanted = min(MAX_SIZE, max(MIN_SIZE, int(size)))
    return next(step for step in SIZE_STEPS if step >= wanted)


class ThumbnailCache:
    """PNG thumbnails for indexed items, kept under `root` as <hash[:2]>/<hash>-<size>-v<N>.png."""

    def __init__(self, root: str | Path) -> None:
        self.root = Path(root)

    def path_for(self, content_hash: str, size: int, at: float | None = None) -> Path:
        """Where the thumbnail of this content at this size (a video's: at this second) is (or will be) cached."""
        key = content_hash if _HEX.fullmatch(content_hash or "") else hashlib.sha256(
            str(content_hash).encode()).hexdigest()
        key = key.lower()
        moment = f"-t{round(float(at) * 1000)}" if at is not None else ""
        return self.root / key[:2] / f"{key}-{clamp_size(size)}{moment}-v{RENDERER_VERSION}.png"

    def png(self, path: str, modality: Modality | str, content_hash: str, size: int = 256,
            read: Callable[[], bytes] | None = None, at: float | None = None) -> bytes:
        """The PNG thumbnail of one item, from the cache or rendered (then cached).

        Args:
            path: the item's file (a stored path, never one from a request).
            modality: the item's modality; text has no thumbnail.
            content_hash: the item's content hash (the cache key with `size`).
            size: longest side in pixels, clamped to 32..1024 and rounded up to a step.
            read: returns the file's bytes (checked to be the indexed file); None reads `path`.
            at: for a video, the second whose frame is the poster (default: its first frame).
        Returns:
            PNG bytes.
        Raises:
            MediaError: the file cannot be decoded (or is text).
        """
        target = self.path_for(content_hash, size, at if Modality.parse(modality) is Modality.VIDEO else None)
        try:
            return target.read_bytes()
        except OSError:
            pass
        data = render_png(path, modality, size, data=read() if read is not None else None, at=at)
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
            write_bytes_atomic(target, data)   # a concurrent reader sees no file or the whole file
        except OSError:
            pass                      # a read-only or full cache still serves the thumbnail, uncached
        return data


def render_png(path: str | Path, modality: Modality | str, size: int = 256, data: bytes | None = None,
               at: float | None = None) -> bytes:
    """Render one file's thumbnail (no cache): images fit in size x size, 3D is size x size, audio size x size/2.

    `data`: the file's bytes when already read (the server reads them from a checked descriptor).
    """
    mod = Modality.parse(modality)
    size = clamp_size(size)
    try:
        if mod is Modality.IMAGE:
            img = image_thumbnail(path, size, data)
        elif mod is Modality.POINTS:
            img = shape_thumbnail(load_shape(path, max_points=SPLAT_POINTS, max_faces=MESH_FACE_LIMIT, data=data),
                                  size)
        elif mod is Modality.AUDIO:
            img = audio_thumbnail(path, size, data)
        elif mod is Modality.VIDEO:           # the poster: the frame at the moment asked for
            from mcrsearch import video

            img = video.frame_at(path, at or 0.0, data=data)
            img.thumbnail((size, size))
        else:
            raise UnsupportedMediaError(str(path), "text items have no thumbnail")
    except MediaError:
        raise
    except MemoryError as exc:
        raise MediaError(str(path), "too large to draw a thumbnail in memory") from exc
    except Exception as exc:  # a renderer bug must still come out as one sentence, never a traceback
        raise MediaError(str(path), f"could not draw a thumbnail ({type(exc).__name__})") from exc
    buf = io.BytesIO()
    img.save(buf, format="PNG", optimize=False, compress_level=6)
    return buf.getvalue()


# --------------------------------------------------------------------------------------------------
# Images


def image_thumbnail(path: str | Path, size: int, data: bytes | None = None) -> Image.Image:
    """The image decoded as the indexer decodes it (at most ~2x the size drawn), scaled so its longest side is `size`."""
    img = media.load_image(path, data=data, side=2 * size)
    w, h = img.size
    scale = size / max(w, h)
    new = (max(1, round(w * scale)), max(1, round(h * scale)))
    return img.resize(new, Image.Resampling.LANCZOS if scale < 1 else Image.Resampling.BICUBIC)


# --------------------------------------------------------------------------------------------------
# 3D


def _view(positions: np.ndarray, yaw: float = -35.0, pitch: float = 22.0) -> np.ndarray:
    """Rotate into the thumbnail's camera frame (y up, +z toward the viewer): a three-quarter view."""
    a, b = np.radians(yaw), np.radians(pitch)
    ry = np.array([[np.cos(a), 0, np.sin(a)], [0, 1, 0], [-np.sin(a), 0, np.cos(a)]])
    rx = np.array([[1, 0, 0], [0, np.cos(b), -np.sin(b)], [0, np.sin(b), np.cos(b)]])
    return positions.astype(np.float64) @ (rx @ ry).T


def _to_pixels(xyz: np.ndarray, canvas: int, margin: float = 0.08) -> np.ndarray:
    """Orthographic projection fitted to the canvas: (N, 2) pixel coordinates, y down."""
    xy = xyz[:, :2]
    lo, hi = xy.min(axis=0), xy.max(axis=0)
    span = float(max(hi - lo)) or 1.0
    scale = canvas * (1 - 2 * margin) / span
    centre = (lo + hi) / 2
    px = (xy - centre) * scale
    return np.stack([canvas / 2 + px[:, 0], canvas / 2 - px[:, 1]], axis=1)


def _shade(normals: np.ndarray) -> np.ndarray:
    """Two-sided Lambert with a key and a fill light: brightness in [0.3, 1]."""
    key = np.abs(normals @ (_LIGHT / np.linalg.norm(_LIGHT)))
    fill = np.abs(normals @ (_FILL / np.linalg.norm(_FILL)))
    return np.clip(0.3 + 0.55 * key + 0.2 * fill, 0.0, 1.0)


def _finish(canvas: Image.Image, width: int, height: int | None = None) -> Image.Image:
    """Downsample the supersampled RGBA drawing with premultiplied alpha (no dark fringes)."""
    size = (width, height or width)
    return canvas.convert("RGBa").resize(size, Image.Resampling.LANCZOS).convert("RGBA")


def shape_thumbnail(shape: Shape, size: int) -> Image.Image:
    """A mesh drawn face by face back to front, or a point cloud as shaded splats, on transparency."""
    xyz = _view(shape.positions)
    canvas = size * SUPERSAMPLE
    px = _to_pixels(xyz, canvas)
    if shape.faces is not None and shape.is_mesh:
        return _finish(_draw_mesh(xyz, px, shape.faces, canvas, cull=shape.closed), size)
    return _finish(_draw_points(xyz, px, canvas), size)


def _draw_mesh(xyz: np.ndarray, px: np.ndarray, faces: np.ndarray, canvas: int, cull: bool) -> Image.Image:
    """Painter's algorithm; on a closed, outward-wound mesh the back faces are dropped first, which
    removes the depth-sort mistakes a centroid order makes between large faces."""
    tri = xyz[faces]                                           # (F, 3, 3)
    normals = np.cross(tri[:, 1] - tri[:, 0], tri[:, 2] - tri[:, 0])
    lengths = np.linalg.norm(normals, axis=1)
    keep = (lengths > 0) & ((normals[:, 2] > 0) if cull else True)
    normals = normals[keep] / lengths[keep, None]
    faces = faces[keep]
    order = np.argsort(tri[keep, :, 2].mean(axis=1))           # far (small z) first
    colours = np.clip(_BASE[None, :] * _shade(normals)[:, None] + 18, 0, 255).astype(np.uint8)
    img = Image.new("RGBA", (canvas, canvas), (0, 0, 0, 0))
    draw = ImageDraw.Draw(img)
    corners = px[faces]                                        # (F, 3, 2)
    for i in order.tolist():
        c = corners[i]
        col = colours[i]
        fill = (int(col[0]), int(col[1]), int(col[2]), 255)
        draw.polygon([(c[0, 0], c[0, 1]), (c[1, 0], c[1, 1]), (c[2, 0], c[2, 1])], fill=fill, outline=fill)
    return img


def _draw_points(xyz: np.ndarray, px: np.ndarray, canvas: int) -> Image.Image:
    """Each point a small disc; nearer points win each pixel; colour by height, brightness by depth."""
    n = len(xyz)
    radius = int(np.clip(round(canvas / 90 * (2000 / max(n, 200)) ** 0.35), 1, 6))
    z = xyz[:, 2]
    depth = (z - z.min()) / (float(np.ptp(z)) or 1.0)          # 0 far .. 1 near
    y = xyz[:, 1]
    height = (y - y.min()) / (float(np.ptp(y)) or 1.0)
    low, high = np.array([70, 110, 220.0]), np.array([110, 200, 190.0])
    base = low[None] * (1 - height[:, None]) + high[None] * height[:, None]
    colour = np.clip(base * (0.45 + 0.55 * depth[:, None]), 0, 255)
    offsets = [(dx, dy) for dx in range(-radius, radius + 1) for dy in range(-radius, radius + 1)
               if dx * dx + dy * dy <= radius * radius]
    ix = np.rint(px[:, 0]).astype(np.int64)
    iy = np.rint(px[:, 1]).astype(np.int64)
    all_x = np.concatenate([ix + dx for dx, _ in offsets])
    all_y = np.concatenate([iy + dy for _, dy in offsets])
    rim = np.concatenate([np.full(n, dx * dx + dy * dy, np.float64) for dx, dy in offsets]) / (radius * radius + 1)
    all_z = np.tile(z, len(offsets))
    inside = (all_x >= 0) & (all_x < canvas) & (all_y >= 0) & (all_y < canvas)
    flat = (all_y * canvas + all_x)[inside]
    order = np.argsort(-all_z[inside], kind="stable")          # nearest first
    pixels, first = np.unique(flat[order], return_index=True)  # first occurrence = nearest point
    chosen = np.flatnonzero(inside)[order[first]]
    shade = 1.0 - 0.35 * rim[chosen]                            # a darker rim gives each splat a round look
    rgba = np.zeros((canvas * canvas, 4), dtype=np.uint8)
    rgba[pixels, :3] = np.clip(colour[chosen % n] * shade[:, None], 0, 255).astype(np.uint8)
    rgba[pixels, 3] = 255
    return Image.fromarray(rgba.reshape(canvas, canvas, 4), "RGBA")


# --------------------------------------------------------------------------------------------------
# Audio

# bar colours from low to high pitch: warm orange, green, cool blue
_PITCH_STOPS = np.array([[236, 112, 72], [64, 178, 120], [72, 140, 236]], dtype=np.float64)


def audio_thumbnail(path: str | Path, size: int, data: bytes | None = None) -> Image.Image:
    """A mirrored waveform envelope, size wide and size/2 tall, each bar coloured by its pitch (spectral
    centroid, warm = low, cool = high), so sounds that differ in pitch also differ at a glance.

    The envelope reads every sample once; the colour uses one FFT frame per bar, bounded by `size`.
    """
    clip = media.load_audio(path, data=data)
    width, height = size, max(16, size // 2)
    samples, rate = clip.samples, clip.sample_rate
    bars = max(8, width // 4)
    edges = np.linspace(0, len(samples), bars + 1).astype(np.int64)
    peak = np.array([np.abs(samples[a:max(b, a + 1)]).max(initial=0.0) for a, b in zip(edges[:-1], edges[1:])])
    peak = peak / (float(peak.max()) or 1.0)
    n_fft = 1024 if rate >= 16000 else 512
    padded = np.pad(samples, (0, max(0, n_fft - len(samples))))
    mids = np.clip(((edges[:-1] + edges[1:]) // 2) - n_fft // 2, 0, len(padded) - n_fft)
    frames = padded[mids[:, None] + np.arange(n_fft)[None, :]] * np.hanning(n_fft)[None, :]
    power = np.abs(np.fft.rfft(frames, axis=1)) ** 2
    freqs = np.fft.rfftfreq(n_fft, 1.0 / rate)
    centroid = (power * freqs).sum(axis=1) / np.maximum(power.sum(axis=1), 1e-12)
    pitch = np.clip((np.log2(np.maximum(centroid, 60.0)) - np.log2(60.0)) / (np.log2(8000.0) - np.log2(60.0)), 0, 1)
    colours = np.stack([np.interp(pitch, [0.0, 0.5, 1.0], _PITCH_STOPS[:, c]) for c in range(3)], axis=1)

    scale = SUPERSAMPLE
    img = Image.new("RGBA", (width * scale, height * scale), (0, 0, 0, 0))
    draw = ImageDraw.Draw(img)
    mid, step = height * scale / 2, width * scale / bars
    draw.line([(0, mid), (width * scale, mid)], fill=(140, 150, 170, 110), width=scale)
    for i in range(bars):
        half = max(scale, peak[i] * (height * scale / 2 - 2 * scale))
        x0 = i * step + step * 0.18
        c = colours[i]
        draw.rounded_rectangle([x0, mid - half, x0 + step * 0.64, mid + half], radius=step * 0.3,
                               fill=(int(c[0]), int(c[1]), int(c[2]), 255))
    return _finish(img, width, height)
