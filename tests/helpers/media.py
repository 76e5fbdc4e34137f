"""Small real files of every kind mcrsearch reads, and a corpus of bad ones, for any test to reuse.

`write_media_corpus(folder)` -> {name: path} of valid files (every supported image, audio, mesh,
point-cloud and text variant); `write_bad_corpus(folder)` -> {name: path} of files that must be
refused with a MediaError. Everything is generated (Pillow, soundfile, trimesh, numpy): no downloads.
"""

from __future__ import annotations

import os
import pickle
import shlex
import struct
import zlib
from pathlib import Path

import numpy as np

# A marker the malicious pickle would create if it were ever executed.
EVIL_MARKER = "PWNED_BY_PICKLE"


def mp3_writable() -> bool:
    """Whether this libsndfile can encode MP3 (needed to make an mp3 fixture)."""
    import soundfile as sf

    try:
        return "MP3" in sf.available_formats() and sf.check_format("MP3", "MPEG_LAYER_III")
    except Exception:  # noqa: BLE001 - any soundfile failure means MP3 is not usable here
        return False


def _gradient(width: int, height: int) -> np.ndarray:
    y, x = np.mgrid[0:height, 0:width]
    return np.stack([x * 255 // max(width - 1, 1), y * 255 // max(height - 1, 1),
                     (x + y) * 255 // max(width + height - 2, 1)], axis=-1).astype(np.uint8)


def _tone(rate: int, seconds: float, freq: float, channels: int = 1) -> np.ndarray:
    t = np.arange(int(rate * seconds)) / rate
    mono = 0.5 * np.sin(2 * np.pi * freq * t)
    if channels == 1:
        return mono.astype(np.float32)
    return np.stack([mono * (0.5 + 0.5 * c / channels) for c in range(channels)], axis=1).astype(np.float32)


def write_images(folder: Path) -> dict[str, Path]:
    from PIL import Image

    out: dict[str, Path] = {}
    rgb = Image.fromarray(_gradient(40, 30))
    for ext, fmt in (("jpg", "JPEG"), ("png", "PNG"), ("webp", "WEBP"), ("bmp", "BMP")):
        out[f"image_{ext}"] = folder / f"photo.{ext}"
        rgb.save(out[f"image_{ext}"], format=fmt)
    out["image_gray"] = folder / "gray.png"
    rgb.convert("L").save(out["image_gray"])
    out["image_palette"] = folder / "palette.png"
    rgb.convert("P", palette=Image.Palette.ADAPTIVE, colors=16).save(out["image_palette"])
    rgba = rgb.convert("RGBA")
    alpha = np.zeros((30, 40), np.uint8)
    alpha[:, 20:] = 255  # left half fully transparent -> must come out white
    rgba.putalpha(Image.fromarray(alpha))
    out["image_rgba"] = folder / "rgba.png"
    rgba.save(out["image_rgba"])
    out["image_cmyk"] = folder / "cmyk.jpg"
    rgb.convert("CMYK").save(out["image_cmyk"], format="JPEG")
    out["image_16bit"] = folder / "deep16.png"
    deep = (np.linspace(0, 65535, 40 * 30).reshape(30, 40)).astype(np.uint16)
    Image.fromarray(deep).save(out["image_16bit"])
    frames = [Image.fromarray(np.full((30, 40, 3), c, np.uint8)).convert("P") for c in (200, 20)]
    out["image_gif"] = folder / "anim.gif"
    frames[0].save(out["image_gif"], save_all=True, append_images=frames[1:], duration=50, loop=0)
    # EXIF orientation 6 (rotate 90 clockwise to display): stored 40x30, shown 30x40.
    exif = Image.Exif()
    exif[0x0112] = 6
    out["image_exif"] = folder / "rotated.jpg"
    rgb.save(out["image_exif"], format="JPEG", exif=exif.tobytes())
    return out


def write_audio(folder: Path) -> dict[str, Path]:
    import soundfile as sf

    out: dict[str, Path] = {}
    out["audio_wav"] = folder / "stereo.wav"
    sf.write(out["audio_wav"], _tone(16000, 0.5, 440, channels=2), 16000, subtype="PCM_16")
    out["audio_flac"] = folder / "tone.flac"
    sf.write(out["audio_flac"], _tone(22050, 0.5, 330), 22050)
    out["audio_ogg"] = folder / "tone.ogg"
    sf.write(out["audio_ogg"], _tone(44100, 0.5, 220), 44100, format="OGG", subtype="VORBIS")
    if mp3_writable():
        out["audio_mp3"] = folder / "tone.mp3"
        sf.write(out["audio_mp3"], _tone(44100, 0.5, 550), 44100, format="MP3", subtype="MPEG_LAYER_III")
    return out


def write_meshes(folder: Path) -> dict[str, Path]:
    import trimesh

    out: dict[str, Path] = {}
    mesh = trimesh.creation.box(extents=(2.0, 4.0, 6.0))
    mesh.apply_translation((10.0, -5.0, 3.0))  # off-centre, so normalisation is visible
    for ext in ("obj", "ply", "stl", "off", "glb"):
        out[f"mesh_{ext}"] = folder / f"box.{ext}"
        mesh.export(out[f"mesh_{ext}"])
    gltf_dir = folder / "gltf"
    gltf_dir.mkdir(exist_ok=True)
    for name, data in trimesh.Scene(mesh).export(file_type="gltf").items():
        (gltf_dir / name).write_bytes(data if isinstance(data, bytes) else data.encode())
    out["mesh_gltf"] = next(gltf_dir.glob("*.gltf"))
    return out


def cloud(n: int = 500, seed: int = 0) -> np.ndarray:
    """A reproducible non-degenerate cloud (points on a noisy sphere)."""
    rng = np.random.default_rng(seed)
    pts = rng.normal(size=(n, 3))
    return pts / np.linalg.norm(pts, axis=1, keepdims=True) * 0.8


def write_clouds(folder: Path) -> dict[str, Path]:
    import trimesh

    out: dict[str, Path] = {}
    pts = cloud()
    out["cloud_ply"] = folder / "cloud.ply"
    trimesh.PointCloud(pts).export(out["cloud_ply"])
    out["cloud_xyz"] = folder / "cloud.xyz"
    np.savetxt(out["cloud_xyz"], np.hstack([pts, np.ones((len(pts), 3))]), fmt="%.6f")  # xyz + rgb
    out["cloud_txt"] = folder / "cloud_comma.txt"
    np.savetxt(out["cloud_txt"], pts, fmt="%.6f", delimiter=",", header="x,y,z", comments="")
    out["cloud_pts"] = folder / "cloud.pts"
    body = "\n".join(" ".join(f"{v:.6f}" for v in row) for row in pts)
    out["cloud_pts"].write_text(f"{len(pts)}\n{body}\n")
    out["cloud_npy"] = folder / "cloud.npy"
    np.save(out["cloud_npy"], pts.astype(np.float32))
    out["cloud_npz"] = folder / "cloud.npz"
    np.savez(out["cloud_npz"], xyz=pts, rgb=np.zeros_like(pts))
    # The authors' demo format: np.save of a dict, i.e. a pickled 0-d object array.
    out["cloud_dict_npy"] = folder / "authors_dict.npy"
    authored = cloud(10_000, seed=1).astype(np.float16)
    np.save(out["cloud_dict_npy"], {"xyz": authored, "name": "sphere", "label": 3}, allow_pickle=True)
    return out


def write_texts(folder: Path) -> dict[str, Path]:
    out: dict[str, Path] = {}
    out["text_txt"] = folder / "caption.txt"
    out["text_txt"].write_text("  A dog barks at a passing train.\n", encoding="utf-8")
    out["text_latin1"] = folder / "latin1.txt"
    out["text_latin1"].write_bytes("Café crème, déjà vu.".encode("latin-1"))
    out["text_utf16"] = folder / "utf16.txt"
    out["text_utf16"].write_text("Grüße aus Köln", encoding="utf-16")
    return out


def write_media_corpus(folder: str | Path) -> dict[str, Path]:
    """Write one small valid file of every supported kind under `folder`; returns {name: path}."""
    root = Path(folder)
    root.mkdir(parents=True, exist_ok=True)
    out: dict[str, Path] = {}
    for writer in (write_images, write_audio, write_meshes, write_clouds, write_texts):
        out.update(writer(root))
    return out


class _EvilReduce:
    """Unpickling this runs a shell command that creates the marker file."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self):
        return (os.system, (f"touch {shlex.quote(str(self.marker))}",))


def _npy_object_header() -> bytes:
    import io

    buf = io.BytesIO()
    np.lib.format.write_array_header_1_0(buf, {"descr": "|O", "fortran_order": False, "shape": ()})
    return buf.getvalue()


def _png_chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def write_bad_corpus(folder: str | Path) -> dict[str, Path]:
    """Write files that must each be refused with a MediaError; returns {name: path}.

    `evil_*` files are pickles whose loading would create `folder / EVIL_MARKER`.
    """
    import soundfile as sf
    from PIL import Image

    root = Path(folder)
    root.mkdir(parents=True, exist_ok=True)
    out: dict[str, Path] = {}

    def put(name: str, filename: str, data: bytes) -> None:
        out[name] = root / filename
        out[name].write_bytes(data)

    put("empty", "empty.png", b"")
    put("empty_txt", "empty.txt", b"")
    put("blank_txt", "blank.txt", b"   \n\t \n")
    png = root / "_good.png"
    Image.fromarray(_gradient(64, 48)).save(png)
    jpg = root / "_good.jpg"
    Image.fromarray(_gradient(64, 48)).save(jpg, quality=95)
    wav = root / "_good.wav"
    sf.write(wav, _tone(16000, 0.5, 440), 16000)
    put("truncated_png", "truncated.png", png.read_bytes()[: png.stat().st_size // 2])
    put("truncated_jpg", "truncated.jpg", jpg.read_bytes()[: jpg.stat().st_size // 2])
    put("truncated_wav", "truncated.wav", wav.read_bytes()[:30])
    wav_bytes = wav.read_bytes()
    put("truncated_wav_data", "cut_short.wav", wav_bytes[: len(wav_bytes) * 2 // 3])
    put("random_png", "random.png", np.random.default_rng(0).bytes(4096))
    put("png_as_wav", "picture.wav", png.read_bytes())
    put("text_as_jpg", "notes.jpg", b"these are some notes, not a photograph\n" * 20)
    put("png_as_txt", "picture.txt", png.read_bytes())
    put("wav_as_npy", "sound.npy", wav.read_bytes())
    for helper in (png, jpg, wav):
        helper.unlink()
    # A decompression bomb: a valid PNG header claiming 30000 x 30000 pixels.
    ihdr = struct.pack(">IIBBBBB", 30000, 30000, 1, 0, 0, 0, 0)
    put("bomb_png", "bomb.png", b"\x89PNG\r\n\x1a\n" + _png_chunk(b"IHDR", ihdr)
        + _png_chunk(b"IDAT", zlib.compress(b"\x00" * 64)) + _png_chunk(b"IEND", b""))
    # Audio with NaN samples (float WAV) and with zero frames.
    nan_audio = _tone(8000, 0.1, 200)
    nan_audio[10] = np.nan
    out["nan_wav"] = root / "nan.wav"
    sf.write(out["nan_wav"], nan_audio, 8000, subtype="FLOAT")
    out["zero_len_wav"] = root / "silence0.wav"
    sf.write(out["zero_len_wav"], np.zeros(0, np.float32), 8000)
    # Malicious pickles: NPY object header + pickle, a bare pickle, and inside an npz.
    marker = root / EVIL_MARKER
    payload = pickle.dumps({"xyz": _EvilReduce(marker)}, protocol=3)
    put("evil_npy", "evil.npy", _npy_object_header() + payload)
    put("evil_raw_npy", "evil_raw.npy", pickle.dumps(_EvilReduce(marker), protocol=2))
    import zipfile

    out["evil_npz"] = root / "evil.npz"
    with zipfile.ZipFile(out["evil_npz"], "w") as zf:
        zf.writestr("xyz.npy", _npy_object_header() + payload)
    # Point clouds that decode but are unusable.
    bad_cloud = cloud(100)
    bad_cloud[5, 1] = np.nan
    out["nan_cloud"] = root / "nan_cloud.npy"
    np.save(out["nan_cloud"], bad_cloud)
    out["inf_dict_cloud"] = root / "inf_dict.npy"
    inf_cloud = cloud(100).astype(np.float16)
    inf_cloud[0, 0] = np.inf
    np.save(out["inf_dict_cloud"], {"xyz": inf_cloud}, allow_pickle=True)
    out["identical_cloud"] = root / "same.xyz"
    out["identical_cloud"].write_text("1 2 3\n" * 50)
    out["two_points"] = root / "two.npy"
    np.save(out["two_points"], np.array([[0, 0, 0], [1, 1, 1]], np.float32))
    out["flat_array"] = root / "flat.npy"
    np.save(out["flat_array"], np.arange(30, dtype=np.float32))
    out["dict_without_xyz"] = root / "no_xyz.npy"
    np.save(out["dict_without_xyz"], {"rgb": cloud(10)}, allow_pickle=True)
    put("garbage_obj", "garbage.obj", b"this is not\nan obj file at all\n")
    put("flat_mesh", "flat.obj", b"v 0 0 0\nv 1 0 0\nv 2 0 0\nf 1 2 3\n")
    put("truncated_glb", "truncated.glb", b"glTF\x02\x00\x00\x00" + b"\x00" * 12)
    import trimesh

    gltf_dir = root / "gltf_missing_buffer"
    gltf_dir.mkdir(exist_ok=True)
    for name, data in trimesh.Scene(trimesh.creation.box()).export(file_type="gltf").items():
        if name.endswith(".gltf"):
            out["gltf_missing_buffer"] = gltf_dir / name
            out["gltf_missing_buffer"].write_bytes(data if isinstance(data, bytes) else data.encode())
    put("prose_xyz", "prose.xyz", ("the quick brown fox jumps over the lazy dog\n" * 40).encode())
    put("binary_txt", "binary.txt", b"abc\x00\x01\x02" * 50)
    put("unsupported_docx", "report.docx", b"PK\x03\x04" + b"\x00" * 100)
    put("no_extension", "README", b"hello")
    return out


def write_class_video(path: str | Path, classes: list[int | None], seconds_each: float = 2.0, fps: int = 5,
                      rate: int = 8000, sounds: list[int | None] | None = None, gop: int | None = None,
                      size: tuple[int, int] = (48, 32), codec: str = "libx264") -> Path:
    """A video whose pictures and sounds follow the tiny space's classes (`helpers.corpus`): for each part,
    `seconds_each` of frames in the class colour and of the class tone (`sounds` overrides the tone per part,
    None a silent part). `sounds=None` and every class None: no audio track at all."""
    from helpers.corpus import FREQS
    from mcrsearch.miniworld.clips import write_video

    sounds = classes if sounds is None else sounds
    frames, audio = [], []
    n = int(round(seconds_each * fps))
    for part, (cls, snd) in enumerate(zip(classes, sounds)):
        for i in range(n):
            img = np.full((size[1], size[0], 3), 30, np.uint8)
            if cls is not None:
                img[..., cls] = 200
            img[: 2 + i % 4, :4] = 255 - 10 * part          # a little motion
            frames.append(img)
        t = np.arange(int(seconds_each * rate)) / rate
        audio.append(0.5 * np.sin(2 * np.pi * FREQS[snd] * t) if snd is not None else np.zeros_like(t))
    track = np.concatenate(audio).astype(np.float32) if any(s is not None for s in sounds) else None
    return write_video(path, frames, fps, track, rate, gop=gop, codec=codec)
