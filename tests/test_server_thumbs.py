"""Server-side drawing: thumbnails (images, audio, meshes, clouds) and the viewer's geometry payload."""

from __future__ import annotations

import base64
import hashlib
import io
import json
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from helpers import corpus as H
from mcrsearch.errors import MediaError
from mcrsearch.server.geometry import geometry_payload, load_shape
from mcrsearch.server.thumbs import RENDERER_VERSION, SIZE_STEPS, ThumbnailCache, render_png

STATIC = Path(__file__).resolve().parents[1] / "mcrsearch" / "server" / "static"


def _decode(data: bytes) -> Image.Image:
    img = Image.open(io.BytesIO(data))
    assert img.format == "PNG"
    img.load()
    return img


def _opaque(img: Image.Image) -> np.ndarray:
    return np.asarray(img.convert("RGBA"))[..., 3] > 0


def test_image_thumbnail_keeps_aspect_and_handles_alpha_and_16_bit(tmp_path):
    rgba = np.zeros((40, 80, 4), np.uint8)
    rgba[..., 0] = 200
    rgba[:, :40, 3] = 255                                   # left half opaque red, right half transparent
    Image.fromarray(rgba, "RGBA").save(tmp_path / "wide.png")
    img = _decode(render_png(tmp_path / "wide.png", "image", 128))
    assert img.size == (128, 64)
    px = np.asarray(img.convert("RGB")).astype(int)
    assert px[32, 20, 0] > 150 and px[32, 20, 1] < 60     # red stays red
    assert px[32, 110].min() > 240                         # transparency composited on white, as indexed
    grey16 = (np.linspace(0, 65535, 64 * 32).reshape(32, 64)).astype(np.uint16)
    Image.fromarray(grey16).save(tmp_path / "deep.png")
    deep = np.asarray(_decode(render_png(tmp_path / "deep.png", "image", 64)).convert("L")).astype(int)
    assert deep[:3].mean() < 40 and deep[-3:].mean() > 215      # rescaled, not clipped to white


def test_mesh_thumbnail_is_drawn_and_differs_between_objects(tmp_path):
    import trimesh

    trimesh.creation.icosphere(subdivisions=3).export(tmp_path / "ball.obj")
    trimesh.creation.box(extents=(2.0, 0.3, 0.3)).export(tmp_path / "bar.stl")
    ball = _decode(render_png(tmp_path / "ball.obj", "3d", 200))
    bar = _decode(render_png(tmp_path / "bar.stl", "3d", 200))
    assert ball.size == bar.size == (256, 256)             # 200 is drawn at the next size step
    for img in (ball, bar):
        rgb = np.asarray(img.convert("RGB")).astype(int)[_opaque(img)]
        assert 0.1 < _opaque(img).mean() < 0.95              # an object, not an empty or full canvas
        assert rgb.std(axis=0).max() > 5                     # shaded, not a flat silhouette
    assert ball.size == bar.size and np.abs(_opaque(ball).astype(int) - _opaque(bar)).mean() > 0.2
    # a sphere's silhouette is round: about pi/4 of its bounding box is covered
    mask = _opaque(ball)
    ys, xs = np.nonzero(mask)
    fill = mask.sum() / ((ys.ptp() + 1) * (xs.ptp() + 1))
    assert 0.7 < fill < 0.86


def test_point_cloud_and_audio_thumbnails(tmp_path):
    cloud = _decode(render_png(H.write_item(tmp_path, "3d", 1, 0), "3d", 256))  # elongated along y
    assert cloud.size == (256, 256)
    ys, xs = np.nonzero(_opaque(cloud))
    assert ys.ptp() > 2 * xs.ptp()                          # drawn upright, as its shape is
    low, high = (_decode(render_png(H.write_item(tmp_path, "audio", c, 1), "audio", 256)) for c in (0, 2))
    assert low.size == high.size == (256, 128)
    assert _opaque(low).mean() > 0.3
    mean_colour = [np.asarray(i.convert("RGB"))[_opaque(i)].mean(axis=0) for i in (low, high)]
    assert mean_colour[0][0] > mean_colour[0][2] and mean_colour[1][2] > mean_colour[1][0]  # warm low, cool high


def test_cache_serves_from_disk_by_hash_and_size(tmp_path):
    path = H.write_item(tmp_path / "media", "image", 2, 0)
    cache = ThumbnailCache(tmp_path / "thumbs")
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    first = cache.png(str(path), "image", digest, 96)
    assert cache.path_for(digest, 96).read_bytes() == first
    path.unlink()                                            # from now on only the cache can answer
    assert cache.png(str(path), "image", digest, 96) == first
    assert cache.png(str(path), "image", digest, 100) == first   # the same size step (128)
    with pytest.raises(MediaError):
        cache.png(str(path), "image", digest, 64)            # another step is another entry
    assert _decode(cache.png(str(path), "image", digest, 96)).size == (128, 128)
    assert cache.path_for("../../etc/passwd", 96).resolve().is_relative_to((tmp_path / "thumbs").resolve())
    assert cache.path_for(digest, 10**6).name.endswith(f"-1024-v{RENDERER_VERSION}.png")   # sizes are clamped


def test_cache_holds_few_sizes_per_item_whatever_is_asked(tmp_path):
    """Issue 22 #10: every requested size was a new cache file; sizes now round up to a few steps."""
    path = H.write_item(tmp_path / "media", "image", 1, 0)
    cache = ThumbnailCache(tmp_path / "thumbs")
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    for size in range(32, 1025, 7):
        cache.png(str(path), "image", digest, size)
    assert len(list((tmp_path / "thumbs").rglob("*.png"))) <= len(SIZE_STEPS)


def test_undecodable_files_raise_media_error(tmp_path):
    cache = ThumbnailCache(tmp_path / "thumbs")
    (tmp_path / "bad.png").write_bytes(b"\x89PNG\r\n\x1a\n" + b"\x00" * 40)
    (tmp_path / "bad.obj").write_text("v 1 2\nf 1 2 3\n")
    (tmp_path / "bad.wav").write_bytes(b"RIFF\x00\x00\x00\x00WAVEjunk")
    (tmp_path / "note.txt").write_text("a red thing")
    for name, modality in (("bad.png", "image"), ("bad.obj", "3d"), ("bad.wav", "audio"), ("note.txt", "text")):
        with pytest.raises(MediaError):
            cache.png(str(tmp_path / name), modality, "ab" * 16)
    with pytest.raises(MediaError):
        geometry_payload(str(tmp_path / "bad.obj"))


def test_geometry_payload_round_trips_mesh_and_cloud(tmp_path):
    import trimesh

    ball = trimesh.creation.icosphere(subdivisions=2)
    ball.apply_translation((5, 5, 5))
    ball.apply_scale(30)
    ball.export(tmp_path / "ball.obj")
    mesh = geometry_payload(str(tmp_path / "ball.obj"))
    json.dumps(mesh)
    assert mesh["kind"] == "mesh" and mesh["count"] == len(ball.vertices)
    pos = np.frombuffer(base64.b64decode(mesh["positions"]), "<f4").reshape(-1, 3)
    idx = np.frombuffer(base64.b64decode(mesh["indices"]), "<u4").reshape(-1, 3)
    assert pos.shape == (mesh["count"], 3) and idx.shape == (len(ball.faces), 3) == (mesh["faces"], 3)
    assert idx.max() < len(pos)
    assert np.abs(np.linalg.norm(pos, axis=1).max() - 1) < 1e-5 and np.abs(pos.mean(0)).max() < 0.05

    xyz = np.random.default_rng(0).standard_normal((1200, 3)).astype(np.float32) * 7 + 3
    np.save(tmp_path / "cloud.npy", xyz)
    cloud = geometry_payload(str(tmp_path / "cloud.npy"))
    assert cloud["kind"] == "points" and cloud["count"] == 1200 and cloud["indices"] is None
    pts = np.frombuffer(base64.b64decode(cloud["positions"]), "<f4").reshape(-1, 3)
    assert np.linalg.norm(pts, axis=1).max() == pytest.approx(1.0, abs=1e-5)


def test_geometry_caps_are_respected(tmp_path):
    import trimesh

    trimesh.creation.icosphere(subdivisions=4).export(tmp_path / "dense.obj")   # 5120 faces
    np.save(tmp_path / "big.npy", np.random.default_rng(1).random((9000, 3)).astype(np.float32))
    capped = geometry_payload(str(tmp_path / "dense.obj"), max_points=700, max_faces=1000)
    assert capped["kind"] == "points" and capped["count"] == 700     # too many faces: a surface sample
    assert geometry_payload(str(tmp_path / "big.npy"), max_points=500)["count"] == 500
    shape = load_shape(tmp_path / "dense.obj")
    assert shape.is_mesh and shape.closed and len(shape.faces) == 5120


def test_vendored_viewer_matches_its_record():
    record = json.loads((STATIC / "vendor" / "VENDOR.json").read_text())
    bundle = (STATIC / "vendor" / record["file"]).read_bytes()
    assert hashlib.sha256(bundle).hexdigest() == record["sha256"] and len(bundle) == record["bytes"]
    assert record["package"] == "three" and record["license"] == "MIT"
    assert "Permission is hereby granted" in (STATIC / "vendor" / record["license_file"]).read_text()
    pinned = json.loads((STATIC.parent / "vendor_build" / "package.json").read_text())
    assert pinned["dependencies"]["three"] == record["version"]
