"""Hostile-input fuzzing of every decoder (helpers, no tests here): seeds, mutations, the property.

Seeds are small valid files of every format mcrsearch reads (`tests/helpers/media.py` plus the FFmpeg
formats). Inputs are seeds mutated by a list of operations that hypothesis draws (byte flips, cuts,
insertions, 32-bit fields overwritten with extreme values, numbers in text headers replaced by extreme
ones, zeroed ranges), or bytes generated from scratch behind a format's magic. The property, checked
by `check`: every input ends as a valid decoded item or a MediaError with a reason, within a per-file
time limit and without peak memory over the input's own baseline passing the caps. The short run is
tests/test_media_fuzz.py; the long one, with figures, is benchmarks/hostile.py.
"""

from __future__ import annotations

import io
import re
import resource
import signal
import struct
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from hypothesis import strategies as st

from mcrsearch import media
from mcrsearch.errors import MediaError
from mcrsearch.media import AudioClip, Limits
from mcrsearch.modality import Modality

# What a fuzzed input may make a decoder allocate: small caps, so a missed check shows as memory.
FUZZ_LIMITS = Limits(decoded_bytes=32 * 2**20, points=2_000_000, image_pixels=4_000_000, audio_seconds=30.0,
                     video_seconds=30.0, video_pixels=4_000_000, streams=16, decode_seconds=8.0)
TIME_LIMIT_S = 10.0
# Peak RSS growth allowed over the run's start: the caps above plus the interpreter's own churn.
RSS_SLACK_BYTES = 256 * 2**20
_EXTREMES = (0, 1, 0x7FFFFFFF, 0x80000000, 0xFFFFFFFF, 0xFFFF, 0x10000, 65537)
_TEXT_EXTREMES = ("0", "-1", "4294967295", "99999999999999999999", "1e308", "nan", "-inf", "2147483648")


def encode_audio(seconds: float, container: str, codec: str, rate: int, channels: int = 1) -> bytes:
    """A tone encoded by FFmpeg through PyAV (m4a, adts aac, ogg opus...), for seeds and tests."""
    import av

    layout = "stereo" if channels == 2 else "mono"
    buf = io.BytesIO()
    with av.open(buf, mode="w", format=container) as out:
        stream = out.add_stream(codec, rate=rate)
        stream.layout = layout
        tone = (0.4 * np.sin(2 * np.pi * 330 * np.arange(int(seconds * rate)) / rate)).astype(np.float32)
        sig = np.tile(tone, (channels, 1))
        for i in range(0, sig.shape[1], 960):
            frame = av.AudioFrame.from_ndarray(np.ascontiguousarray(sig[:, i:i + 960]), format="fltp", layout=layout)
            frame.sample_rate = rate
            for packet in stream.encode(frame):
                out.mux(packet)
        for packet in stream.encode(None):
            out.mux(packet)
    return buf.getvalue()


def write_seeds(folder: Path) -> dict[str, tuple[Path, Modality]]:
    """{format: (seed file, modality)}: one small valid file per format the decoders read."""
    import base64
    import json

    from helpers.media import write_media_corpus

    folder.mkdir(parents=True, exist_ok=True)
    corpus = write_media_corpus(folder / "corpus")
    by_suffix: dict[str, Path] = {}
    for key, path in sorted(corpus.items()):
        label = path.suffix.lower().lstrip(".")
        if key == "mesh_ply":
            label = "ply-mesh"
        elif key == "cloud_ply":
            label = "ply-points"
        elif key == "cloud_dict_npy":
            label = "npy-dict"
        by_suffix.setdefault(label, path)
    seeds = {label: (path, media.detect_modality(path) or Modality.TEXT) for label, path in by_suffix.items()
             if label != "gltf"}                     # the fixture's glTF refers to a .bin beside it
    for label, (container, codec, rate, suffix) in {"m4a": ("mp4", "aac", 44_100, ".m4a"),
                                                    "aac": ("adts", "aac", 44_100, ".aac"),
                                                    "opus": ("ogg", "libopus", 48_000, ".opus")}.items():
        try:
            data = encode_audio(0.5, container, codec, rate)
        except Exception:  # noqa: BLE001 - an FFmpeg build without this encoder: that format is not fuzzed
            continue
        path = folder / f"seed{suffix}"
        path.write_bytes(data)
        seeds[label] = (path, Modality.AUDIO)
    for label, (suffix, codec, sounds) in {"mp4": (".mp4", "libx264", [0, 1]), "webm": (".webm", "libvpx", None),
                                            "mkv": (".mkv", "mpeg4", [2, 2])}.items():
        try:
            from helpers.media import write_class_video

            path = write_class_video(folder / f"seed{suffix}", [0, 1], seconds_each=1.0, fps=4, size=(32, 24),
                                     codec=codec, sounds=sounds if sounds else [None, None])
        except Exception:  # noqa: BLE001 - an FFmpeg build without this encoder: that format is not fuzzed
            continue
        seeds[label] = (path, Modality.VIDEO)
    glb = by_suffix.get("glb")
    if glb is not None:                              # a self-contained .gltf: the glb's buffer as a data URI
        raw = glb.read_bytes()
        json_len = struct.unpack("<I", raw[12:16])[0]
        doc = json.loads(raw[20:20 + json_len])
        binary = raw[20 + json_len + 8:]
        doc["buffers"] = [{"byteLength": doc["buffers"][0]["byteLength"],
                           "uri": "data:application/octet-stream;base64," + base64.b64encode(binary).decode()}]
        path = folder / "seed.gltf"
        path.write_text(json.dumps(doc))
        seeds["gltf"] = (path, Modality.POINTS)
    return seeds


# --------------------------------------------------------------------------------------------- mutations

_op = st.one_of(
    st.tuples(st.just("flip"), st.floats(0, 1), st.integers(1, 255)),
    st.tuples(st.just("cut"), st.floats(0, 1)),
    st.tuples(st.just("insert"), st.floats(0, 1), st.binary(min_size=1, max_size=64)),
    st.tuples(st.just("field"), st.floats(0, 1), st.sampled_from(_EXTREMES), st.booleans(), st.booleans()),
    st.tuples(st.just("number"), st.integers(0, 40), st.sampled_from(_TEXT_EXTREMES)),
    st.tuples(st.just("zero"), st.floats(0, 1), st.integers(1, 512)),
)
operations = st.lists(_op, min_size=1, max_size=6)


def mutate(seed: bytes, ops: list[tuple]) -> bytes:
    """Apply drawn operations to a seed. Positions are fractions of the length; `field` mostly hits headers."""
    data = bytearray(seed)
    for op in ops:
        n = len(data)
        kind = op[0]
        if kind == "flip" and n:
            data[min(int(op[1] * n), n - 1)] ^= op[2]
        elif kind == "cut":
            del data[int(op[1] * n):]
        elif kind == "insert":
            at = int(op[1] * n)
            data[at:at] = op[2]
        elif kind == "field" and n >= 4:
            span = min(n, 512) if op[4] else n         # header region, or anywhere
            at = min(int(op[1] * span), n - 4)
            data[at:at + 4] = struct.pack("<I" if op[3] else ">I", op[2])
        elif kind == "number":
            head = bytes(data[:4096])
            numbers = list(re.finditer(rb"-?\d+(\.\d+)?", head))
            if numbers:
                m = numbers[op[1] % len(numbers)]
                data[m.start():m.end()] = op[2].encode()
        elif kind == "zero" and n:
            at = int(op[1] * n)
            data[at:at + op[2]] = bytes(len(data[at:at + op[2]]))
    return bytes(data)


def generated(magic: bytes) -> st.SearchStrategy[bytes]:
    """Bytes from scratch behind a format's magic (the first 12 bytes of its seed)."""
    return st.binary(min_size=0, max_size=2048).map(lambda body: magic + body)


# --------------------------------------------------------------------------------------------- property

@dataclass
class Outcome:
    kind: str            # "decoded" | "refused" | "finding"
    detail: str
    seconds: float


class _TimeLimit(Exception):
    pass


def _alarm(signum: int, frame: Any) -> None:
    raise _TimeLimit()


def _valid(modality: Modality, item: Any) -> str | None:
    """Why a decoded item is not what the encoders may receive; None when it is."""
    if modality is Modality.IMAGE:
        return None if getattr(item, "mode", None) == "RGB" and min(item.size) > 0 else f"image {item!r}"
    if modality is Modality.AUDIO:
        ok = isinstance(item, AudioClip) and item.samples.ndim == 1 and len(item.samples) > 0 \
            and item.sample_rate > 0 and bool(np.isfinite(item.samples).all())
        return None if ok else "audio clip empty, non-finite or without a rate"
    if modality is Modality.POINTS:
        arr = np.asarray(item)
        ok = arr.ndim == 2 and arr.shape[1] == 3 and arr.dtype == np.float32 and len(arr) >= 3 \
            and bool(np.isfinite(arr).all()) and float(np.abs(arr).max()) <= 1.0 + 1e-4
        return None if ok else f"points {arr.shape} {arr.dtype} not finite or not normalised"
    if modality is Modality.VIDEO:
        segments = getattr(item, "segments", ())
        ok = bool(segments) and all(seg.frames and all(_valid(Modality.IMAGE, f) is None for f in seg.frames)
                                    and (seg.audio is None or _valid(Modality.AUDIO, seg.audio) is None)
                                    and 0 <= seg.start < seg.end for seg in segments)
        return None if ok else "video without segments, frames, or with an invalid soundtrack"
    return None if isinstance(item, str) and item else "text empty"


def _status_bytes(field: str) -> int | None:
    try:
        with open("/proc/self/status") as fh:
            for line in fh:
                if line.startswith(field + ":"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return None


def peak_rss_bytes() -> int:
    """This process's peak resident set since the last `reset_peak_rss` (else since it started)."""
    hwm = _status_bytes("VmHWM")
    return hwm if hwm is not None else resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def reset_peak_rss() -> int:
    """Start a fresh peak (Linux: writing 5 to /proc/self/clear_refs resets VmHWM to the current RSS) and
    return the current RSS: the baseline of one input. Without it an earlier, higher peak would hide the
    input's own allocation (a 600 MB decode after a 700 MB peak would show no growth at all)."""
    with open("/proc/self/clear_refs", "w") as fh:
        fh.write("5")
    rss = _status_bytes("VmRSS")
    assert rss is not None, "no /proc/self/status: peak memory cannot be measured per input here"
    return rss


def _memory_error_behind(exc: BaseException) -> bool:
    while exc is not None:
        if isinstance(exc, MemoryError):
            return True
        exc = exc.__cause__ or exc.__context__
    return False


def check(path: Path, modality: Modality, limits: Limits = FUZZ_LIMITS,
          time_limit: float = TIME_LIMIT_S) -> Outcome:
    """Decode one input; classify the result. A 'finding' is any breach of the property, a MemoryError
    included (even one the decoder turned into a refusal: with the fuzz caps, running out of memory means a
    cap did not stop an allocation), and peak RSS growth over this input's own baseline past the caps."""
    rss_base = reset_peak_rss()
    old = signal.signal(signal.SIGALRM, _alarm)
    signal.setitimer(signal.ITIMER_REAL, time_limit)
    started = time.perf_counter()
    try:
        from mcrsearch import video

        got, item = video.decode(path, modality, n_points=2048, limits=limits, segment_seconds=1.0)
        outcome = Outcome("decoded", "", 0.0)
        bad = _valid(got, item)
        if bad:
            outcome = Outcome("finding", f"invalid decoded item: {bad}", 0.0)
    except _TimeLimit:
        outcome = Outcome("finding", f"hang: still decoding after {time_limit:g} s", 0.0)
    except MediaError as exc:
        # decode's last guard names the exception type it caught: a path no decoder classified
        unclassified = exc.reason.startswith("could not decode (")
        if _memory_error_behind(exc):
            outcome = Outcome("finding", f"memory: MemoryError behind the refusal '{exc.reason}'", 0.0)
        else:
            outcome = Outcome("finding" if unclassified else "refused", exc.reason, 0.0)
    except BaseException as exc:
        if isinstance(exc, KeyboardInterrupt):
            raise
        outcome = Outcome("finding", f"escaped {type(exc).__name__}: {str(exc)[:200]}", 0.0)
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, old)
    outcome.seconds = time.perf_counter() - started
    if outcome.kind != "finding" and outcome.seconds > time_limit:
        outcome = Outcome("finding", f"slow: {outcome.seconds:.1f} s", outcome.seconds)
    if outcome.kind != "finding":
        cap = limits.decoded_bytes + 4 * limits.image_pixels + RSS_SLACK_BYTES
        grown = peak_rss_bytes() - rss_base
        if grown > cap:
            outcome = Outcome("finding", f"memory: peak RSS grew {grown / 2**20:.0f} MB (cap "
                                         f"{cap / 2**20:.0f} MB)", outcome.seconds)
    return outcome
