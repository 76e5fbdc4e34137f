"""File -> model input, shared by index, query and train. Every failure is a MediaError with a reason.

Decoded forms: images are PIL RGB images, audio is an `AudioClip` (mono float32 waveform + rate),
3D is an (N, 3) float32 point cloud, text is `str`.

Why one module: a vector must be a pure function of the file's bytes, so index, query and train all
decode through the same code. Nothing here may raise anything but `MediaError` (and its subclass
`UnsupportedMediaError`) for a bad file: the indexer reports the path and reason and moves on.

3D conventions (ULIP's, so that every input reaches PointBERT in the shape its training data had):
- Meshes (obj, stl, off, glb/gltf, ply with faces) are sampled on their surface with a fixed seed
  (`n_points`, deterministic).
- Point clouds (ply without faces, xyz/txt/pts, npy, npz, the authors' pickled-dict `.npy`) keep their
  points; above `n_points` they are subsampled to `n_points` (a fixed random subset, see `prepare_cloud`),
  never tiled or padded here.
- Both are then centred on their mean and scaled to unit max radius (`prepare_cloud`, the one function
  the indexer, the query layer and the benchmark readers share): a scan in millimetres and the same scan
  in metres give the same vector, as they did for ULIP, whose loaders always normalise.
- The authors' `.npy` dict files are pickles. They are read with a restricted unpickler that can rebuild
  numpy arrays, dtypes and plain containers and refuses every other global; never `allow_pickle=True`.

Sizes: every size a file declares (zip members, array headers, element counts, buffer lengths, audio
frames) is checked against `Limits` (from Settings) and against the file's own size before anything is
allocated, so a small file cannot make a decoder allocate gigabytes.
"""

from __future__ import annotations

import collections
import errno
import gc
import hashlib
import io
import logging
import math
import os
import pickle
import stat
import struct
import warnings
import zipfile
from array import array
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any, BinaryIO

import numpy as np

if TYPE_CHECKING:
    from PIL import Image

from mcrsearch.errors import MediaError, UnsupportedMediaError
from mcrsearch.modality import Modality, detect_modality

# Images above this many pixels are refused before decoding (about 0.25 GB as RGB); this is
# Pillow's own warning threshold, which Pillow alone would only warn about. Settings.max_image_pixels.
MAX_IMAGE_PIXELS = 89_478_485
# Text shown in presentation payloads.
DESCRIBE_TEXT_CHARS = 500

_GC_AFTER_BYTES = 8 * 2**20
_COLUMN_SUFFIXES = frozenset({".xyz", ".txt", ".pts", ".csv"})
_XYZ_KEYS = ("xyz", "points", "pos", "pc")


@dataclass(frozen=True)
class AudioClip:
    """Mono waveform in [-1, 1] at its own sample rate; encoders resample to what they need.

    `source_duration`: the whole file's length in seconds when only its start was decoded (a recording
    longer than `Limits.audio_seconds`); None when `samples` is the whole file.
    """

    samples: np.ndarray      # (n,) float32
    sample_rate: int
    source_duration: float | None = None

    @property
    def duration(self) -> float:
        return len(self.samples) / float(self.sample_rate) if self.sample_rate else 0.0


@dataclass(frozen=True)
class Limits:
    """What one input may make a decoder allocate; each is checked against the sizes the file declares.

    Built from Settings (`from_settings`), where the defaults live; 0 disables a limit.
    """

    decoded_bytes: int = 512 * 2**20      # a decompressed npz member, a decoded audio window, an array
    points: int = 20_000_000              # points, vertices or faces declared by a 3D file
    image_pixels: int = MAX_IMAGE_PIXELS
    audio_seconds: float = 300.0          # audio decoded per file (its start); the payload says so
    video_seconds: float = 900.0          # video segmented and embedded per file (its start)
    video_pixels: int = 35_389_440        # one video frame's width x height
    streams: int = 64                     # streams one container may declare
    decode_seconds: float = 300.0         # wall time one video's decode may take
    video_frames: int = 3                 # frames sampled per video segment (not a cap: the work per segment)

    @classmethod
    def from_settings(cls, settings: Any = None) -> "Limits":
        """The limits of `settings`, or of Settings' defaults when None."""
        from mcrsearch.config import Settings

        fields = Settings.__dataclass_fields__

        def get(name: str) -> Any:
            return fields[name].default if settings is None else getattr(settings, name)

        return cls(decoded_bytes=int(float(get("max_decoded_mb")) * 2**20), points=int(get("max_points")),
                   image_pixels=int(get("max_image_pixels")), audio_seconds=float(get("max_audio_seconds")),
                   video_seconds=float(get("max_video_seconds")), video_pixels=int(get("max_video_pixels")),
                   streams=int(get("max_streams")), decode_seconds=float(get("max_decode_seconds")),
                   video_frames=max(1, int(get("video_frames"))))


_DEFAULT_LIMITS: Limits | None = None


def default_limits() -> Limits:
    """Settings' default limits (computed once)."""
    global _DEFAULT_LIMITS
    if _DEFAULT_LIMITS is None:
        _DEFAULT_LIMITS = Limits.from_settings()
    return _DEFAULT_LIMITS


def _cap(limit: float, value: float) -> bool:
    """Whether `value` exceeds `limit` (0 disables the limit)."""
    return bool(limit) and value > limit


# --------------------------------------------------------------------------------------------------
# File checks and content sniffing


def default_max_bytes() -> int:
    """The size limit used when a caller passes none: Settings' default `max_file_mb`."""
    from mcrsearch.config import Settings

    default: Any = Settings.__dataclass_fields__["max_file_mb"].default
    return int(default * 1024 * 1024)


def _human_bytes(n: float) -> str:
    for unit in ("B", "KB", "MB", "GB"):
        if abs(n) < 1024 or unit == "GB":
            return f"{n:.0f} {unit}" if unit == "B" or float(n).is_integer() else f"{n:.1f} {unit}"
        n /= 1024.0
    return f"{n:.1f} GB"  # pragma: no cover


@dataclass(frozen=True)
class _Source:
    """The file a loader decodes: its path (for reasons, and for readers that need one) and, when the
    caller has already read the whole file, its bytes, so that nothing reads it a second time."""

    path: Path
    size: int
    data: bytes | None = None

    def head(self, n: int = 64) -> bytes:
        if self.data is not None:
            return self.data[:n]
        with self.open() as fh:
            return fh.read(n)

    def open(self) -> BinaryIO:
        if self.data is not None:
            return io.BytesIO(self.data)
        return open_regular(self.path)

    def read(self) -> bytes:
        if self.data is not None:
            return self.data
        with self.open() as fh:
            return fh.read()


def _source(path: Path, max_bytes: int | float | None, data: bytes | None = None) -> _Source:
    """Refuse missing, empty and huge files before anything reads them (one stat; none for given bytes)."""
    if data is not None:
        size = len(data)
    else:
        try:
            st = os.stat(path)
        except FileNotFoundError as exc:
            raise MediaError(path, "file not found") from exc
        except OSError as exc:
            raise MediaError(path, f"cannot read file ({exc.strerror or exc})") from exc
        if stat.S_ISDIR(st.st_mode):
            raise MediaError(path, "is a directory, not a file")
        size = st.st_size
    if size == 0:
        raise MediaError(path, "empty file")
    limit = default_max_bytes() if max_bytes is None else max_bytes
    if limit and size > limit:
        raise MediaError(path, f"exceeds the {_human_bytes(limit)} limit (file is {_human_bytes(size)})")
    return _Source(path, size, data)


def sniff(head: bytes) -> tuple[str, str] | None:
    """(family, label) of a file from its first bytes, e.g. ("image", "PNG image"); None if unknown.

    Families: image, audio, 3d, text, other. Used to turn a mislabelled file into a clear reason.
    """
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image", "PNG image"
    if head.startswith(b"\xff\xd8\xff"):
        return "image", "JPEG image"
    if head[:6] in (b"GIF87a", b"GIF89a"):
        return "image", "GIF image"
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "image", "WebP image"
    if head[:2] == b"BM" and len(head) >= 18 and int.from_bytes(head[14:18], "little") in {
            12, 16, 40, 52, 56, 64, 108, 124}:
        return "image", "BMP image"
    if head[:4] in (b"RIFF", b"RF64") and head[8:12] == b"WAVE":
        return "audio", "WAV audio"
    if head.startswith(b"fLaC"):
        return "audio", "FLAC audio"
    if head[4:8] == b"ftyp":        # ISO base media: HEIF/AVIF images share the box, by their brand
        if head[8:12] in (b"heic", b"heix", b"mif1", b"msf1", b"avif", b"avis"):
            return "image", "HEIF image"
        return "audio", "MPEG-4 audio"
    if head[:4] == b"FORM" and head[8:12] in (b"AIFF", b"AIFC"):
        return "audio", "AIFF audio"
    if head.startswith(b"\x30\x26\xb2\x75\x8e\x66\xcf\x11"):
        return "audio", "ASF audio"
    if len(head) >= 2 and head[0] == 0xFF and (head[1] & 0xF6) == 0xF0:   # ADTS sync, layer bits 00
        return "audio", "AAC audio"
    if head.startswith(b"OggS"):
        return "audio", "Ogg audio"
    if head.startswith((b"\xef\xbb\xbf", b"\xff\xfe", b"\xfe\xff")):  # before MP3: FF FE is also a sync
        return "text", "text"
    # MPEG frame sync with layer II or III (layer I's FF FE/FF would clash with a UTF-16 BOM)
    if head.startswith(b"ID3") or (len(head) >= 2 and head[0] == 0xFF and (head[1] & 0xE0) == 0xE0
                                   and (head[1] >> 1) & 3 in (1, 2)):
        return "audio", "MP3 audio"
    if head.startswith(b"\x93NUMPY"):
        return "3d", "NumPy array"
    if head.startswith(b"glTF"):
        return "3d", "glTF binary"
    if head[:4] in (b"ply\n", b"ply\r"):
        return "3d", "PLY"
    if head.startswith(b"PK\x03\x04"):
        return "3d", "ZIP archive"
    if len(head) >= 2 and head[0] == 0x80 and 2 <= head[1] <= 5:
        return "3d", "Python pickle"
    if head.startswith(b"%PDF"):
        return "other", "PDF document"
    if head and b"\x00" not in head:
        try:
            head.decode("utf-8")
            return "text", "text"
        except UnicodeDecodeError as exc:
            if exc.start >= len(head) - 3:  # a multi-byte character cut by the head's end
                return "text", "text"
    return None


def _refuse_mismatch(path: Path, head: bytes, kind: str, allowed: set[str]) -> tuple[str, str] | None:
    """Raise when the content is clearly another kind of file than `kind`; return the sniff."""
    found = sniff(head)
    if found is not None and found[0] not in allowed:
        raise MediaError(path, f"not a valid {kind} file (looks like {found[1]})")
    return found


def _short(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    return text if len(text) <= 160 else text[:157] + "..."


def open_regular(path: str | Path, *, follow: bool = True, identity: tuple[int, int] | None = None,
                 buffering: int = -1) -> BinaryIO:
    """Open a file for reading only when it is a regular file, checked on the opened descriptor.

    Why: a name checked first and opened after can become a FIFO (a read that never returns), a device
    or a link in between. Opened with O_NONBLOCK (a FIFO open cannot block) and then checked by fstat,
    the descriptor is what is read, whatever the name points to by then.

    Args:
        path: the file.
        follow: False refuses a symbolic link as the last part of the path (O_NOFOLLOW).
        identity: (device, inode) the file must still have (the one a scan or an index recorded).
        buffering: as for `open`.
    Returns:
        A binary file object in blocking mode.
    Raises:
        MediaError: missing, unreadable, not a regular file, a link (follow=False), or another file.
    """
    p = Path(path)
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0)
    if not follow:
        flags |= getattr(os, "O_NOFOLLOW", 0)
    try:
        fd = os.open(p, flags)
    except FileNotFoundError as exc:
        raise MediaError(p, "file not found") from exc
    except OSError as exc:
        if exc.errno == errno.ELOOP and not follow:
            raise MediaError(p, "is a symbolic link now, not the file that was indexed") from exc
        raise MediaError(p, f"cannot read file ({exc.strerror or exc})") from exc
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            raise MediaError(p, "is a directory, not a file" if stat.S_ISDIR(st.st_mode)
                             else "not a regular file (a pipe, socket or device)")
        if identity is not None and (st.st_dev, st.st_ino) != tuple(identity):
            raise MediaError(p, "the file was replaced by another one since it was scanned")
        if hasattr(os, "set_blocking"):
            os.set_blocking(fd, True)
        return os.fdopen(fd, "rb", buffering=buffering)
    except BaseException:
        os.close(fd)
        raise


# Files up to this size are hashed from one read; larger ones are streamed in blocks of this size.
HASH_BLOCK = 1 << 24


def read_hashed(path: str | Path, identity: tuple[int, int] | None = None) -> tuple[str, bytes | None]:
    """sha256 hex digest of the file's bytes, and the bytes themselves when they were read in one piece.

    Why the bytes: the indexer hashes every file it embeds, then decodes it; passing them to `decode`
    reads each file once, and the vector comes from exactly the bytes the stored hash names. Why one
    read for files up to HASH_BLOCK: `read(n)` allocates n bytes before it knows the file is shorter,
    so small block reads cost about as much as hashing; a bare `read()` sizes its buffer from the file.
    Unbuffered: the bytes are read once, in one call, so a buffer in between would only copy them.
    Only a regular file is read (`open_regular`), and with `identity` only that (device, inode).
    """
    try:
        with open_regular(path, identity=identity, buffering=0) as fh:
            if os.fstat(fh.fileno()).st_size <= HASH_BLOCK:
                data = fh.read()            # unbuffered: one readall
                return hashlib.sha256(data).hexdigest(), data
            digest = hashlib.sha256()
            while block := fh.read(HASH_BLOCK):
                digest.update(block)
            return digest.hexdigest(), None
    except OSError as exc:
        raise MediaError(Path(path), f"cannot read file ({exc.strerror or exc})") from exc


# --------------------------------------------------------------------------------------------------
# Images


def load_image(path: str | Path, *, max_bytes: int | None = None, max_pixels: int = MAX_IMAGE_PIXELS,
               data: bytes | None = None, side: int | None = None) -> "Image.Image":
    """Decode an image to RGB: first frame, EXIF orientation applied, transparency on white.

    `data`: the file's bytes when the caller has read them already (see `read_hashed`). `side`: the
    decoder may stop at about this many pixels on the shorter side (a query needs a few hundred, not a
    camera's 24 MP): a JPEG is decoded at 1/2..1/8 scale (`draft`), any other image is reduced after
    its decode; `max_pixels` then caps the pixels actually decoded.
    """
    p = Path(path)
    src = _source(p, max_bytes, data)
    found = _refuse_mismatch(p, src.head(), "image", {"image"})
    label = found[1].replace(" image", "") if found else "image"

    from PIL import Image, ImageOps, UnidentifiedImageError

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with src.open() as fh, Image.open(fh) as img:
                if side:
                    img.draft("RGB", (side, side))        # JPEG only: DCT scaling, no full-size decode
                width, height = img.size
                if _cap(max_pixels, width * height):
                    raise MediaError(p, f"image too large to decode safely ({width}x{height} pixels, "
                                        f"limit {max_pixels:,})")
                label = img.format or label
                img.load()
                factor = min(width, height) // side if side else 1
                if factor >= 2:
                    img = img.reduce(factor)
                try:
                    img = ImageOps.exif_transpose(img)
                except Exception:  # noqa: BLE001 - a broken EXIF block must not lose an otherwise good image
                    pass
                rgb = _to_rgb(img)
    except MediaError:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise MediaError(p, "image too large to decode safely (decompression bomb guard, limit "
                            f"{min(max_pixels, MAX_IMAGE_PIXELS):,} pixels)") from exc
    except UnidentifiedImageError as exc:
        reason = f"truncated or corrupt {label}" if found else "not a valid image file (unrecognised format)"
        raise MediaError(p, reason) from exc
    except MemoryError as exc:
        raise MediaError(p, "image too large to decode in memory") from exc
    except Exception as exc:  # Pillow raises OSError, SyntaxError, ValueError, EOFError, zlib.error ...
        raise MediaError(p, f"truncated or corrupt {label} ({_short(exc)})") from exc
    return rgb


def _to_rgb(img: "Image.Image") -> "Image.Image":
    """Any Pillow mode -> RGB; 16-bit and float greys are rescaled, alpha is composited on white."""
    from PIL import Image

    mode = img.mode
    if mode == "RGB":
        return img.copy()
    if mode.startswith("I") or mode == "F":
        arr = np.asarray(img, dtype=np.float64)
        if mode.startswith("I;16") or (mode == "I" and arr.max(initial=0) > 255):
            arr = arr / 257.0
        elif mode == "F" and arr.max(initial=0) <= 1.0:
            arr = arr * 255.0
        grey = Image.fromarray(np.clip(np.rint(arr), 0, 255).astype(np.uint8), mode="L")
        return grey.convert("RGB")
    has_alpha = mode in {"RGBA", "LA", "La", "RGBa", "PA"} or (
        mode in {"P", "L", "RGB"} and "transparency" in img.info)
    if has_alpha:
        rgba = img.convert("RGBA")
        white = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        return Image.alpha_composite(white, rgba).convert("RGB")
    return img.convert("RGB")


# --------------------------------------------------------------------------------------------------
# Audio


def mp3_supported() -> bool:
    """Whether this soundfile/libsndfile build decodes MP3 (libsndfile >= 1.1 does)."""
    try:
        import soundfile as sf

        return "MP3" in sf.available_formats()
    except Exception:  # noqa: BLE001  # pragma: no cover - soundfile missing or broken
        return False


def av_supported() -> bool:
    """Whether PyAV (FFmpeg) is installed: it decodes AAC/M4A, Opus, WMA, and MP3 where libsndfile cannot."""
    try:
        import av  # noqa: F401 - imported only to learn whether PyAV loads

        return True
    except Exception:  # noqa: BLE001  # pragma: no cover - PyAV missing or broken
        return False


# Decoded by FFmpeg through PyAV; everything else by libsndfile (exact, and the formats it reads it reads
# as the CLAP authors' loaders did).
_AV_SUFFIXES = frozenset({".m4a", ".aac", ".opus", ".wma", ".mp4"})
_AV_LABELS = frozenset({"MPEG-4 audio", "AAC audio", "ASF audio"})


def load_audio(path: str | Path, *, max_bytes: int | None = None, data: bytes | None = None,
               limits: Limits | None = None) -> AudioClip:
    """Decode wav/flac/ogg/mp3/aiff (libsndfile) or m4a/aac/opus/wma (FFmpeg via PyAV) to a mono
    float32 clip in [-1, 1] at the file's native rate.

    Only the first `limits.audio_seconds` are decoded (a 10-hour recording is not read whole to embed
    a 10 s model window); the clip then records the file's full length in `source_duration`, and
    `describe` puts both in the payload. The window's frames x channels are checked against
    `limits.decoded_bytes` before decoding. `data`: the file's bytes when already read (`read_hashed`).
    """
    p = Path(path)
    lim = limits or default_limits()
    src = _source(p, max_bytes, data)
    found = _refuse_mismatch(p, src.head(), "audio", {"audio"})
    label = found[1].replace(" audio", "") if found else p.suffix.lstrip(".").upper() or "audio"
    suffix = p.suffix.lower()
    is_mp3 = suffix == ".mp3" or (found is not None and found[1] == "MP3 audio")
    use_av = (found[1] in _AV_LABELS) if found is not None else suffix in _AV_SUFFIXES
    if is_mp3 and not mp3_supported():
        if not av_supported():
            raise UnsupportedMediaError(p, "MP3 decoding is not available (this libsndfile lacks MP3 support "
                                           "and PyAV is not installed)")
        use_av = True
    if use_av:
        if not av_supported():
            raise UnsupportedMediaError(p, f"{label} decoding needs PyAV (pip install av)")
        samples, rate, total = _read_audio_av(p, src, label, lim)
    else:
        if found is not None and found[1] == "WAV audio":
            _check_wav_complete(src)
        samples, rate, total = _read_audio_sndfile(p, src, label, found is not None, lim)
    if samples.size == 0 or samples.shape[0] == 0:
        raise MediaError(p, "audio has no samples (zero length)")
    mono = samples.mean(axis=1, dtype=np.float64) if samples.shape[1] > 1 else samples[:, 0]
    if not np.all(np.isfinite(mono)):
        raise MediaError(p, "audio contains NaN or infinite samples")
    clipped = np.clip(mono, -1.0, 1.0).astype(np.float32, copy=False)
    whole = total is None or total <= len(clipped)
    return AudioClip(samples=np.ascontiguousarray(clipped), sample_rate=int(rate),
                     source_duration=None if whole or total is None else total / float(rate))


def _audio_window(path: Path, rate: float, channels: int, lim: Limits) -> int | None:
    """Frames to decode (None: all), refusing a window whose samples would pass the decoded-bytes cap."""
    if rate is None or not rate > 0:
        raise MediaError(path, f"invalid sample rate {rate}")
    if channels <= 0:
        raise MediaError(path, f"invalid channel count {channels}")
    frames = int(lim.audio_seconds * rate) if lim.audio_seconds else None
    if frames is not None and _cap(lim.decoded_bytes, frames * channels * 4):
        raise MediaError(path, f"audio window too large to decode ({channels} channels at {rate:g} Hz for "
                               f"{lim.audio_seconds:g} s is over the {_human_bytes(lim.decoded_bytes)} limit)")
    return frames


def _read_audio_sndfile(path: Path, src: _Source, label: str, known: bool,
                        lim: Limits) -> tuple[np.ndarray, int, int | None]:
    """(frames x channels float32, rate, the file's total frames) through libsndfile, window-bounded."""
    import soundfile as sf

    reason = f"truncated or corrupt {label}" if known else "not a valid audio file (unrecognised format)"
    with src.open() as fh:
        try:
            with sf.SoundFile(fh) as snd:
                rate, channels, total = snd.samplerate, snd.channels, snd.frames
                window = _audio_window(path, rate, channels, lim)
                if window is None and _cap(lim.decoded_bytes, total * channels * 4):
                    raise MediaError(path, f"audio too long to decode ({_human_bytes(total * channels * 4)} "
                                           f"of samples, limit {_human_bytes(lim.decoded_bytes)})")
                count = total if window is None else min(total, window)
                samples = snd.read(count, dtype="float32", always_2d=True)
        except MediaError:
            raise
        except MemoryError as exc:
            raise MediaError(path, "audio too long to decode in memory") from exc
        except Exception as exc:  # soundfile.LibsndfileError, RuntimeError, ValueError ...
            # libsndfile's own words, without soundfile's "Error opening <stream>:" prefix
            detail = getattr(exc, "error_string", None) or _short(exc)
            raise MediaError(path, f"{reason} ({detail})") from exc
    return samples, int(rate), int(total)


def open_av(fh: BinaryIO) -> Any:
    """Open an FFmpeg container for reading with undecodable metadata replaced, not raised.

    Why: PyAV decodes tags as strict UTF-8 by default, so one mangled title in an otherwise playable file
    escaped as a UnicodeDecodeError (13 mutated mp4/webm in the hostile run); tags are never used here.
    """
    import av

    return av.open(fh, mode="r", metadata_errors="replace")


def _read_audio_av(path: Path, src: _Source, label: str, lim: Limits) -> tuple[np.ndarray, int, int | None]:
    """(frames x 1 float32, already mono, rate, total frames if known) through FFmpeg, window-bounded:
    decoding stops once the window is full, so memory never depends on the file's length."""
    import av

    with src.open() as fh:
        try:
            with open_av(fh) as container:
                stream = next((st for st in container.streams if st.type == "audio"), None)
                if stream is None:
                    raise MediaError(path, f"no audio stream in this {label} file")
                ctx = stream.codec_context
                rate, channels = int(ctx.sample_rate or 0), int(ctx.channels or 0)
                window = _audio_window(path, rate, channels, lim)
                budget = window if window is not None else (
                    lim.decoded_bytes // (4 * channels) if lim.decoded_bytes else None)
                total = None
                if stream.duration is not None and stream.time_base is not None:
                    total = int(stream.duration * stream.time_base * rate)
                elif container.duration:
                    total = int(container.duration / 1e6 * rate)
                resampler = av.AudioResampler(format="fltp", layout=ctx.layout, rate=rate)
                parts: list[np.ndarray] = []
                have = 0
                layout = None
                for frame in container.decode(stream):
                    shape = (frame.layout.name, frame.sample_rate, frame.format.name, len(frame.planes))
                    planes = frame.layout.nb_channels if frame.format.is_planar else 1
                    if shape[3] != planes or (layout is not None and shape != layout):
                        # a stream whose layout changes mid-way (fuzzing found such AAC frames make FFmpeg's
                        # buffers disagree with PyAV's view of them: a segfault, not an error)
                        raise MediaError(path, f"corrupt {label} (the audio stream changes its channel layout "
                                               "or sample rate mid-stream)")
                    layout = shape
                    for out in resampler.resample(frame):
                        # copied and mixed to mono per frame: nothing keeps a view of an FFmpeg buffer
                        planes = np.array(out.to_ndarray(), dtype=np.float32, copy=True, ndmin=2)
                        part = planes.mean(axis=0, dtype=np.float64).astype(np.float32) \
                            if planes.shape[0] > 1 else planes[0]
                        parts.append(part)
                        have += len(part)
                    if budget is not None and have >= budget:
                        break
                if budget is not None and have > budget:
                    if window is None:
                        raise MediaError(path, f"audio too long to decode (over the "
                                               f"{_human_bytes(lim.decoded_bytes)} limit)")
                    total = max(total or 0, have + 1)      # at least one frame was left undecoded
        except MediaError:
            raise
        except MemoryError as exc:
            raise MediaError(path, "audio too long to decode in memory") from exc
        except Exception as exc:  # av.error.InvalidDataError and the other FFmpeg errors, ValueError ...
            raise MediaError(path, f"truncated or corrupt {label} ({_short(exc)})") from exc
    if not parts:
        return np.zeros((0, 1), np.float32), rate, total
    samples = np.concatenate(parts)[:, None]
    if budget is not None:
        samples = samples[:budget]
    return samples, rate, total


def _check_wav_complete(src: _Source) -> None:
    """Refuse a WAV whose data chunk is cut short (an interrupted copy); libsndfile would silently
    return the part that is there, and a half clip would be indexed as if it were the whole."""
    path, size = src.path, src.size
    with src.open() as fh:
        if fh.read(4) != b"RIFF":
            return  # RF64 and others: leave to libsndfile
        fh.seek(12)
        while True:
            header = fh.read(8)
            if len(header) < 8:
                return  # no data chunk: libsndfile reports it
            chunk_id, chunk_len = header[:4], struct.unpack("<I", header[4:])[0]
            if chunk_id == b"data":
                available = size - fh.tell()
                if chunk_len not in (0, 0xFFFFFFFF) and chunk_len > available:  # 0/-1: streaming writers
                    raise MediaError(path, f"truncated WAV (data chunk declares {_human_bytes(chunk_len)}, "
                                           f"file holds {_human_bytes(available)})")
                return
            fh.seek(chunk_len + (chunk_len & 1), 1)


# --------------------------------------------------------------------------------------------------
# Restricted unpickling (the authors' `.npy` dict point clouds)


class _Refused(Exception):
    def __init__(self, name: str) -> None:
        super().__init__(name)
        self.name = name


_NDARRAY = ("numpy", "ndarray")  # stands in for the class inside pickles (see _safe_globals)


def _latin1_encode(text: str, encoding: str = "latin1") -> bytes:
    """Protocol-2 pickles spell bytes as _codecs.encode(str, 'latin1'); nothing else is allowed."""
    if encoding.replace("-", "").replace("_", "").lower() not in {"latin1", "iso88591"}:
        raise _Refused(f"_codecs.encode(..., {encoding!r})")
    return text.encode("latin1")


def _safe_globals() -> dict[tuple[str, str], Any]:
    """The only callables a point-cloud pickle may name: array/dtype rebuilders and plain containers."""

    import importlib

    multiarray: Any     # numpy's private modules: not in its type stubs
    numeric: Any
    try:
        multiarray = importlib.import_module("numpy._core.multiarray")    # numpy >= 1.26 (alias) / 2.x
        numeric = importlib.import_module("numpy._core.numeric")
    except ImportError:  # pragma: no cover - older numpy
        multiarray = importlib.import_module("numpy.core.multiarray")
        numeric = importlib.import_module("numpy.core.numeric")
    def reconstruct(subtype: Any, shape: Any, dtype: Any) -> np.ndarray:
        # numpy pickles always call _reconstruct(ndarray, (0,), b'b') and fill it via __setstate__,
        # whose data must match the shape; a bigger shape here could only be an allocation bomb.
        if subtype is not _NDARRAY or int(np.prod(shape)) > 1:
            raise _Refused("numpy _reconstruct with an unexpected type or shape")
        return multiarray._reconstruct(np.ndarray, shape, dtype)

    table: dict[tuple[str, str], Any] = {
        ("numpy", "ndarray"): _NDARRAY,  # a marker, not the class: calling ndarray(shape) is refused
        ("numpy", "dtype"): np.dtype,
        ("_codecs", "encode"): _latin1_encode,
        ("collections", "OrderedDict"): collections.OrderedDict,
    }
    for module in ("numpy.core.multiarray", "numpy._core.multiarray"):
        table[(module, "_reconstruct")] = reconstruct
        table[(module, "scalar")] = multiarray.scalar
    if hasattr(numeric, "_frombuffer"):
        for module in ("numpy.core.numeric", "numpy._core.numeric"):
            table[(module, "_frombuffer")] = numeric._frombuffer
    for module in ("builtins", "__builtin__"):
        for name, obj in (("set", set), ("frozenset", frozenset), ("complex", complex),
                          ("bytearray", bytearray)):
            table[(module, name)] = obj
    return table


class _RestrictedUnpickler(pickle.Unpickler):
    """Unpickler that resolves only the allow-listed globals; anything else is refused unexecuted."""

    _table: dict[tuple[str, str], Any] | None = None

    def find_class(self, module: str, name: str) -> Any:
        if _RestrictedUnpickler._table is None:
            _RestrictedUnpickler._table = _safe_globals()
        obj = _RestrictedUnpickler._table.get((module, name))
        if obj is None and module == "numpy.dtypes" and name.endswith("DType"):
            import numpy.dtypes as dtypes  # numpy 2 pickles dtypes by class

            obj = getattr(dtypes, name, None)
        if obj is None:
            raise _Refused(f"{module}.{name}")
        return obj

    def persistent_load(self, pid: Any) -> Any:
        raise _Refused("persistent id")


def restricted_unpickle(stream: IO[bytes]) -> Any:
    """Unpickle arrays and plain containers only. Raises `_Refused` naming a forbidden global."""
    return _RestrictedUnpickler(stream).load()


# --------------------------------------------------------------------------------------------------
# Point clouds and meshes


def normalize_points(xyz: np.ndarray) -> np.ndarray:
    """Centre on the mean and scale so the farthest point is at radius 1 (ULIP's `pc_normalize`)."""
    pts = np.asarray(xyz, dtype=np.float64)[:, :3]
    pts = pts - pts.mean(axis=0, keepdims=True)
    radius = float(np.sqrt((pts ** 2).sum(axis=1)).max(initial=0.0))
    if radius > 0:
        pts = pts / radius
    return pts.astype(np.float32)


def box_frame(xyz: np.ndarray) -> tuple[np.ndarray, float]:
    """The bounding-box centre and the radius around it of the farthest point: the frame in which the
    page's 3D viewer draws a shape (`normalize_box`), so part centres can be placed on what it draws."""
    pts = np.asarray(xyz, dtype=np.float64)[:, :3]
    centre = (pts.min(axis=0) + pts.max(axis=0)) / 2.0
    radius = float(np.sqrt(((pts - centre) ** 2).sum(axis=1)).max(initial=0.0))
    return centre, radius


def normalize_box(xyz: np.ndarray) -> np.ndarray:
    """Centre on the bounding-box centre and scale the farthest point to radius 1 (float32); unlike
    `normalize_points` (the encoders' mean-centred frame) it does not move with where the points are dense."""
    centre, radius = box_frame(xyz)
    pts = np.asarray(xyz, dtype=np.float64)[:, :3] - centre
    return (pts / radius if radius > 0 else pts).astype(np.float32)


def subsample_points(xyz: np.ndarray, max_points: int) -> np.ndarray:
    """At most `max_points` rows: a fixed random subset (seed 0, file order kept) of larger clouds.

    Why random, not farthest-point: on a 1M-point cloud FPS to 10,000 points costs minutes of CPU
    in numpy, against milliseconds here (`benchmarks/hostile.py` measures both), and a random subset
    keeps the cloud's own sampling density, as the dense surface samples ULIP-2 was trained on do;
    PointBERT runs its own FPS on what it is given. The subset depends only on the point count, so the
    same cloud at any scale or offset keeps the same points.
    """
    n = len(xyz)
    if max_points <= 0 or n <= max_points:
        return xyz
    keep = np.sort(np.random.default_rng(0).choice(n, max_points, replace=False))
    return xyz[keep]


def prepare_cloud(xyz: np.ndarray, max_points: int = 10_000) -> np.ndarray:
    """A decoded cloud as the 3D encoders expect it: at most `max_points` points, centred, unit radius.

    The one function every 3D input goes through (files via `load_points`; the benchmark readers'
    arrays directly), so a cloud gives the same vector whichever path it took.
    """
    return normalize_points(subsample_points(np.asarray(xyz)[:, :3], max_points))


def load_points(path: str | Path, n_points: int = 10_000, *, max_bytes: int | None = None,
                data: bytes | None = None, limits: Limits | None = None) -> np.ndarray:
    """Decode a mesh (surface-sampled) or a point cloud (subsampled above `n_points`) to (N, 3) float32,
    centred and scaled to unit radius (`prepare_cloud`).

    `data`: the file's bytes when the caller has read them already (see `read_hashed`); meshes are
    still loaded from the path, since a glTF may refer to files beside it. `limits`: declared-size caps
    (default: Settings' defaults).
    """
    p = Path(path)
    lim = limits or default_limits()
    src = _source(p, max_bytes, data)
    head = src.head()
    found = _refuse_mismatch(p, head, "3D", {"3d", "text"})
    suffix = p.suffix.lower()
    if n_points <= 0:
        raise MediaError(p, f"n_points must be positive, got {n_points}")
    try:
        label = found[1] if found else ""
        if label == "Python pickle" or (suffix == ".pkl" and label != "NumPy array"):
            with src.open() as fh:  # a bare pickle (some demo files are saved with pickle.dump)
                xyz = _xyz_from_object(p, _unpickle(p, fh))
        elif suffix == ".npy" or label == "NumPy array":
            with src.open() as fh:
                xyz = _xyz_from_object(p, _read_npy(p, fh, src.size, lim))
        elif suffix == ".npz" or label == "ZIP archive":
            xyz = _read_npz(src, lim)
        elif suffix in _COLUMN_SUFFIXES:
            xyz = _read_columns(src, lim)
        else:
            from mcrsearch import meshguard

            meshguard.check_declared_sizes(src.path, suffix, src.size, lim.points, src.data)
            xyz = _read_geometry(p, n_points, suffix, src.data)
            if src.size > _GC_AFTER_BYTES:
                # trimesh objects hold reference cycles (caches, visuals): without a collection a large
                # mesh's arrays (~8x the file) stay allocated while the next file is decoded
                gc.collect()
    except MediaError:
        raise
    except MemoryError as exc:
        raise MediaError(p, "3D file too large to decode in memory") from exc
    except Exception as exc:
        kind = found[1] if found and found[0] == "3d" else (suffix.lstrip(".").upper() or "3D")
        raise MediaError(p, f"truncated or corrupt {kind} file ({_short(exc)})") from exc
    rows = _point_rows(p, xyz)
    if _cap(lim.points, len(rows)):
        raise MediaError(p, f"too many points ({len(rows):,}, limit {lim.points:,})")
    return prepare_cloud(_validate_points(p, subsample_points(rows, n_points)), n_points)


def _point_rows(path: Path, xyz: Any) -> np.ndarray:
    """The decoded array as (N, >=3) numeric rows, without copying it."""
    arr = np.asarray(xyz)
    if arr.dtype.kind not in "fiu":
        raise MediaError(path, f"point array has non-numeric dtype {arr.dtype}")
    if arr.ndim == 3 and arr.shape[0] == 1:  # a batch of one
        arr = arr[0]
    if arr.ndim != 2 or arr.shape[1] < 3:
        raise MediaError(path, f"point array must have shape (N, 3) or (N, >3), got {tuple(arr.shape)}")
    return arr


def _validate_points(path: Path, arr: np.ndarray) -> np.ndarray:
    """xyz as float32, refused when non-finite or degenerate. Run on the points the model will see (after
    subsampling), so a dense cloud is never copied whole."""
    with np.errstate(over="ignore", invalid="ignore"):
        out = np.ascontiguousarray(arr[:, :3], dtype=np.float32)
    if not np.all(np.isfinite(out)):
        raise MediaError(path, "point cloud has non-finite coordinates (NaN or inf)")
    if out.shape[0] < 3:
        raise MediaError(path, f"degenerate point cloud ({out.shape[0]} points, need at least 3)")
    if float(np.ptp(out, axis=0).max()) == 0.0:
        raise MediaError(path, "degenerate point cloud (all points identical)")
    return out


def _unpickle(path: Path, stream: IO[bytes]) -> Any:
    try:
        return restricted_unpickle(stream)
    except _Refused as exc:
        raise MediaError(path, f"refused pickle: it refers to {exc.name}, and only arrays and plain "
                               "containers are allowed") from exc
    except MediaError:
        raise
    except Exception as exc:
        raise MediaError(path, f"truncated or corrupt pickle ({_short(exc)})") from exc


def _read_npy(path: Path, fh: IO[bytes], available: int, lim: Limits) -> Any:
    """Plain arrays via numpy without pickle; object arrays through the restricted unpickler.

    The header's shape x itemsize is checked against the bytes that follow it and against the limits
    before numpy allocates the array: a forged header cannot allocate more than the file holds.
    """
    fmt: Any = np.lib.format            # `_read_array_header` (other format versions) is private
    try:
        version = fmt.read_magic(fh)
        if version == (1, 0):
            shape, fortran, dtype = fmt.read_array_header_1_0(fh)
        elif version == (2, 0):
            shape, fortran, dtype = fmt.read_array_header_2_0(fh)
        else:
            shape, fortran, dtype = fmt._read_array_header(fh, version)
    except Exception as exc:
        raise MediaError(path, f"truncated or corrupt NumPy file ({_short(exc)})") from exc
    if dtype.hasobject:
        return _unpickle(path, fh)
    count = math.prod(int(d) for d in shape)
    declared = count * dtype.itemsize
    body = available - fh.tell()
    if declared > body:
        raise MediaError(path, f"truncated NumPy file (header declares {_human_bytes(declared)} of data, "
                               f"the file holds {_human_bytes(max(body, 0))})")
    if _cap(lim.decoded_bytes, declared):
        raise MediaError(path, f"array too large ({_human_bytes(declared)}, limit "
                               f"{_human_bytes(lim.decoded_bytes)})")
    rows = int(shape[0]) if len(shape) >= 1 else 1
    if _cap(lim.points, rows):
        raise MediaError(path, f"too many points ({rows:,}, limit {lim.points:,})")
    fh.seek(0)
    try:
        return fmt.read_array(fh, allow_pickle=False)
    except Exception as exc:
        raise MediaError(path, f"truncated or corrupt NumPy file ({_short(exc)})") from exc


def _read_npz(src: _Source, lim: Limits) -> Any:
    """An npz member named xyz/points, or the only member; members read like `.npy` files.

    A member's declared uncompressed size is checked before it is inflated (a 3.5 MB npz can hold
    3.6 GB of zeros), and the member is streamed into numpy, never copied whole first.
    """

    path = src.path
    with src.open() as stream:
        try:
            zf = zipfile.ZipFile(stream)
        except Exception as exc:
            raise MediaError(path, f"truncated or corrupt NPZ archive ({_short(exc)})") from exc
        with zf:
            members = {Path(n).stem if n.endswith(".npy") else n: n for n in zf.namelist()}
            if not members:
                raise MediaError(path, "NPZ archive is empty")
            key = next((k for k in _XYZ_KEYS if k in members), None)
            if key is None:
                if len(members) != 1:
                    raise MediaError(path, "NPZ archive has no 'xyz' or 'points' array and several others "
                                           f"({', '.join(sorted(members)[:6])})")
                key = next(iter(members))
            info = zf.getinfo(members[key])
            if _cap(lim.decoded_bytes, info.file_size):
                raise MediaError(path, f"NPZ member '{key}' expands to {_human_bytes(info.file_size)}, over the "
                                       f"{_human_bytes(lim.decoded_bytes)} limit (decompression bomb guard)")
            with zf.open(info) as member:
                obj = _read_npy(path, member, info.file_size, lim)
    return _xyz_from_object(path, obj)


def _xyz_from_object(path: Path, obj: Any) -> Any:
    """Pull the coordinates out of what a `.npy` held: an array, or a dict with an 'xyz' key."""
    if isinstance(obj, np.ndarray) and obj.dtype.hasobject and obj.shape == ():
        obj = obj.item()
    if isinstance(obj, dict):
        key = next((k for k in _XYZ_KEYS if k in obj), None)
        if key is None:
            keys = ", ".join(sorted(str(k) for k in obj)[:8]) or "none"
            raise MediaError(path, f"no 'xyz' array in the stored dict (keys: {keys})")
        obj = obj[key]
    if isinstance(obj, np.ndarray) and obj.dtype.names:
        names = [n.lower() for n in obj.dtype.names]
        if {"x", "y", "z"} <= set(names):
            cols = [obj.dtype.names[names.index(c)] for c in ("x", "y", "z")]
            return np.stack([np.asarray(obj[c], dtype=np.float64) for c in cols], axis=-1)
        raise MediaError(path, "structured array without x, y, z fields")
    if isinstance(obj, (list, tuple)):
        try:
            obj = np.asarray(obj, dtype=np.float64)
        except (TypeError, ValueError) as exc:
            raise MediaError(path, "stored list is not a numeric point array") from exc
    if not isinstance(obj, np.ndarray):
        raise MediaError(path, f"stored object is a {type(obj).__name__}, not a point array")
    if obj.dtype.hasobject:
        raise MediaError(path, "point array holds Python objects, not numbers")
    return obj


def _read_columns(src: _Source, lim: Limits) -> np.ndarray:
    """Whitespace- or comma-separated rows; the first three numbers of each row are x, y, z.

    Lines that do not start with three numbers (headers, a point count, comments) are skipped; a
    file where most lines are not points is refused rather than half-read. Coordinates go into a flat
    array of doubles (24 bytes a point), and the line count is checked against the point limit first.
    """

    path = src.path
    raw = src.read()
    lines = raw.count(b"\n") + 1
    if _cap(lim.points, lines):
        raise MediaError(path, f"too many points (about {lines:,} lines, limit {lim.points:,})")
    text = _decode_text_bytes(path, raw)
    del raw
    coords = array("d")
    kept = skipped = 0
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith(("#", "//", "%")):
            continue
        parts = line.replace(",", " ").replace(";", " ").split()
        try:
            xyz = [float(v) for v in parts[:3]] if len(parts) >= 3 else None
        except ValueError:
            xyz = None
        if xyz is None:
            skipped += 1
            continue
        coords.extend(xyz)
        kept += 1
    if not kept:
        raise MediaError(path, "no x y z rows found")
    if skipped > max(5, kept // 10):
        raise MediaError(path, f"not a point list ({skipped} lines are not x y z rows)")
    return np.frombuffer(coords, dtype=np.float64).reshape(-1, 3)


def _read_geometry(path: Path, n_points: int, suffix: str, data: bytes | None = None) -> np.ndarray:
    """Meshes and ply files through trimesh: faces -> surface sample, vertices only -> cloud.

    From `data` when given (the bytes already read and checked), except a .gltf, which may name files
    beside it; else from the path, opened as a regular file.
    """

    import trimesh

    logging.getLogger("trimesh").setLevel(logging.ERROR)
    file_type = suffix.lstrip(".") or None
    try:
        # process=False: no vertex merging, which costs ~10x the file in memory and changes no surface sample
        if suffix == ".gltf":
            loaded = trimesh.load(str(path), file_type=file_type, process=False)
        else:
            if data is None:
                with open_regular(path) as fh:
                    data = fh.read()
            loaded = trimesh.load(io.BytesIO(data), file_type=file_type, process=False)
    except (KeyError, FileNotFoundError) as exc:
        if suffix == ".gltf":
            raise MediaError(path, f"glTF refers to a missing file ({_short(exc)})") from exc
        raise MediaError(path, f"truncated or corrupt {suffix.lstrip('.').upper()} file "
                               f"({_short(exc)})") from exc
    except Exception as exc:
        raise MediaError(path, f"truncated or corrupt {suffix.lstrip('.').upper()} file "
                               f"({_short(exc)})") from exc
    if isinstance(loaded, trimesh.Scene):
        meshes = [g for g in loaded.dump() if isinstance(g, trimesh.Trimesh) and len(g.faces)]
        if meshes:
            mesh = meshes[0] if len(meshes) == 1 else trimesh.util.concatenate(meshes)
            return _sample_mesh(path, mesh, n_points)
        parts: list[Any] = list(loaded.dump())
        clouds = [np.asarray(g.vertices) for g in parts if len(getattr(g, "vertices", ()))]
        if not clouds:
            raise MediaError(path, f"no 3D geometry found (not a valid {suffix.lstrip('.').upper()} file?)")
        return np.concatenate(clouds, axis=0)
    if isinstance(loaded, trimesh.Trimesh) and len(loaded.faces):
        return _sample_mesh(path, loaded, n_points)
    vertices = np.asarray(getattr(loaded, "vertices", np.zeros((0, 3))))
    if len(vertices) == 0:
        raise MediaError(path, "3D file holds no vertices")
    return vertices


def _sample_mesh(path: Path, mesh: Any, n_points: int) -> np.ndarray:
    import trimesh

    area = float(mesh.area)
    if not math.isfinite(area):
        raise MediaError(path, "mesh has non-finite coordinates (NaN or inf)")
    if area <= 0.0:
        raise MediaError(path, "degenerate mesh (zero surface area)")
    points, _ = trimesh.sample.sample_surface(mesh, int(n_points), seed=0)
    points = np.asarray(points, dtype=np.float64)
    if not np.all(np.isfinite(points)):
        raise MediaError(path, "mesh has non-finite coordinates (NaN or inf)")
    return points


# --------------------------------------------------------------------------------------------------
# Text


def _decode_text_bytes(path: Path, raw: bytes) -> str:
    if raw.startswith(b"\xef\xbb\xbf"):
        return raw[3:].decode("utf-8", errors="replace")
    if raw.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            return raw.decode("utf-16")
        except UnicodeDecodeError as exc:
            raise MediaError(path, "corrupt UTF-16 text") from exc
    if b"\x00" in raw:
        raise MediaError(path, "not a text file (contains binary data)")
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return raw.decode("latin-1")


def load_text(path: str | Path, *, max_bytes: int | None = None, data: bytes | None = None) -> str:
    """Read a caption: utf-8 (BOM aware) with latin-1 fallback, stripped; long text is kept whole.

    `data`: the file's bytes when the caller has read them already (see `read_hashed`).
    """
    p = Path(path)
    src = _source(p, max_bytes, data)
    _refuse_mismatch(p, src.head(), "text", {"text"})
    text = _decode_text_bytes(p, src.read()).strip()
    if not text:
        raise MediaError(p, "empty text (only whitespace)")
    return text


# --------------------------------------------------------------------------------------------------
# Dispatch and presentation


def decode(path: str | Path, modality: "Modality | str | None" = None, *, n_points: int = 10_000,
           max_bytes: int | None = None, data: bytes | None = None,
           limits: Limits | None = None, image_side: int | None = None) -> tuple[Modality, Any]:
    """Decode any supported file into (modality, model input).

    The modality comes from the extension unless given (a `.txt` is a caption unless `modality="3d"`
    says it is an x y z list). `max_bytes` defaults to Settings' `max_file_mb`; 0 disables the limit.
    `n_points` is the surface sample size for meshes (the space's `mesh_points`). `data`: the file's
    bytes when the caller has read them already (the indexer, from `read_hashed`); decoded from them,
    the result is the same as from the path. `limits`: the declared-size caps (default: Settings').
    `image_side`: decode images only to about this size (a query; see `load_image`).
    """
    p = Path(path)
    if modality is None:
        found = detect_modality(p)
        if found is None:
            suffix = p.suffix.lower() or "(no extension)"
            raise UnsupportedMediaError(p, f"unsupported file type {suffix}")
        mod = found
    else:
        try:
            mod = Modality.parse(modality)
        except Exception as exc:
            raise MediaError(p, f"unknown modality {modality!r}") from exc
    lim = limits or default_limits()
    loaders: dict[Modality, Callable[[], Any]] = {
        Modality.IMAGE: lambda: load_image(p, max_bytes=max_bytes, data=data, max_pixels=lim.image_pixels,
                                          side=image_side),
        Modality.AUDIO: lambda: load_audio(p, max_bytes=max_bytes, data=data, limits=lim),
        Modality.POINTS: lambda: load_points(p, n_points, max_bytes=max_bytes, data=data, limits=lim),
        Modality.TEXT: lambda: load_text(p, max_bytes=max_bytes, data=data),
    }
    return mod, guarded(p, loaders[mod])


def guarded(p: Path, load: Callable[[], Any]) -> Any:
    """Run a decoder so that whatever goes wrong with a bad file ends as one MediaError, never a traceback."""
    try:
        return load()
    except MediaError:
        raise
    except MemoryError as exc:
        raise MediaError(p, "too large to decode in memory") from exc
    except Exception as exc:  # a last guard: no traceback ever escapes for a bad file
        raise MediaError(p, f"could not decode ({type(exc).__name__}: {_short(exc)})") from exc


def describe(modality: "Modality | str", decoded: Any) -> dict[str, Any]:
    """Payload fields that help present a hit: image size, audio length, point count, caption text."""
    mod = Modality.parse(modality)
    if mod is Modality.IMAGE:
        width, height = decoded.size
        return {"width": int(width), "height": int(height)}
    if mod is Modality.AUDIO:
        out: dict[str, Any] = {"duration": round(float(decoded.duration), 3), "sample_rate": int(decoded.sample_rate)}
        if getattr(decoded, "source_duration", None):     # a long file: only its start was embedded
            out["duration"] = round(float(decoded.source_duration), 3)
            out["embedded_seconds"] = [0.0, round(float(decoded.duration), 3)]
        return out
    if mod is Modality.POINTS:
        return {"point_count": int(np.asarray(decoded).shape[0])}
    text = str(decoded)
    shown = text if len(text) <= DESCRIBE_TEXT_CHARS else text[: DESCRIBE_TEXT_CHARS - 1].rstrip() + "…"
    return {"text": shown, "chars": len(text)}
