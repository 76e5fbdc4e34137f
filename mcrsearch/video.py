"""Video files -> segments (time windows, each with sampled frames and its soundtrack), through FFmpeg (PyAV).

Why segments: a video is one item, but a sound or a picture matches a moment of it. The window is the audio
model's input length (CLAP: 10 s), so each segment's soundtrack is exactly one audio input and its sampled
frames are pooled into one picture vector. `decode` here is `mcrsearch.media.decode` plus video: the indexer
and the query layer call it for every file.

Bounded like every decoder (Limits, from Settings):
- the container's stream count, the video frame size and the indexed duration (its start: `video_seconds`)
  are checked before any frame is decoded;
- the length is measured by walking the video stream's packets (no decoding), so a header that lies about
  the duration, or declares none, cannot make the decoder sample past the real end or read an endless file;
- only the sampled frames are decoded: the decoder seeks to a keyframe near each sample time when it is far
  ahead, and each kept frame is scaled down at once (`MAX_FRAME_SIDE`);
- the soundtrack is decoded once, mono, at most `MAX_AUDIO_RATE` Hz, and only up to the indexed duration; its
  samples are checked against `decoded_bytes` first;
- the whole decode runs under a wall-time deadline (`decode_seconds`).
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from mcrsearch import media
from mcrsearch.encoders.base import l2_normalize
from mcrsearch.errors import MediaError, UnsupportedMediaError
from mcrsearch.media import AudioClip, Limits
from mcrsearch.modality import Modality, detect_modality

if TYPE_CHECKING:
    from mcrsearch.space import Space

DEFAULT_SEGMENT_SECONDS = 10.0      # CLAP's input window; a space may set its own (`Space.segment_seconds`)
MAX_FRAME_SIDE = 448                # sampled frames are scaled so their longer side is at most this
MAX_AUDIO_RATE = 48_000             # CLAP's rate: the soundtrack is resampled down to it, never up
MIN_TAIL_SECONDS = 0.5              # a last window shorter than this joins the one before it
SEEK_AHEAD_SECONDS = 2.0            # a sample further ahead than this is reached by a seek, not by decoding
_MISMATCH_FAMILIES = {"image", "3d", "text", "other"}
FRAME_BATCH = 64                    # frames (or soundtracks) embedded per call: memory stays bounded


@dataclass(frozen=True)
class VideoSegment:
    """One time window of a video: its sampled frames (PIL RGB) and its soundtrack (None when silent)."""

    index: int
    start: float
    end: float
    frames: tuple[Any, ...]
    audio: AudioClip | None


@dataclass(frozen=True)
class VideoClip:
    """A decoded video: its segments in time order and what the payload shows about it.

    `source_duration`: the file's length when only its start (`Limits.video_seconds`) was indexed.
    """

    segments: tuple[VideoSegment, ...]
    duration: float
    width: int
    height: int
    fps: float
    has_audio: bool
    source_duration: float | None = None


def segment_bounds(duration: float, window: float) -> list[tuple[float, float]]:
    """Fixed windows covering [0, duration); a last window under MIN_TAIL_SECONDS joins the one before."""
    if duration <= 0:
        return []
    if window <= 0:
        raise ValueError("segment window must be positive")
    count = max(1, math.ceil(duration / window - 1e-9))
    bounds = [(i * window, min((i + 1) * window, duration)) for i in range(count)]
    if len(bounds) > 1 and bounds[-1][1] - bounds[-1][0] < MIN_TAIL_SECONDS:
        tail = bounds.pop()
        bounds[-1] = (bounds[-1][0], tail[1])
    return [(round(a, 3), round(b, 3)) for a, b in bounds]


def sample_times(start: float, end: float, count: int) -> list[float]:
    """`count` instants spread evenly inside [start, end) (the middle of `count` equal parts)."""
    step = (end - start) / count
    return [start + (j + 0.5) * step for j in range(count)]


def decode(path: str | Path, modality: "Modality | str | None" = None, *, n_points: int = 10_000,
           max_bytes: int | None = None, data: bytes | None = None, limits: Limits | None = None,
           segment_seconds: float = DEFAULT_SEGMENT_SECONDS, max_video_bytes: int | None = None,
           image_side: int | None = None) -> tuple[Modality, Any]:
    """`mcrsearch.media.decode`, and video files into a `VideoClip` (an audio-only container into an AudioClip).

    Args:
        path, modality, n_points, max_bytes, data, limits: as `media.decode`.
        segment_seconds: the video window (the space's audio input length).
        max_video_bytes: the size limit for video files (default: Settings' `max_video_mb`).
        image_side: decode images only to about this size (a query; see `media.load_image`).
    Returns:
        (modality, decoded input).
    """
    p = Path(path)
    mod = Modality.parse(modality) if modality is not None else detect_modality(p)
    if mod is not Modality.VIDEO:
        return media.decode(p, mod, n_points=n_points, max_bytes=max_bytes, data=data, limits=limits,
                            image_side=image_side)
    return media.guarded(p, lambda: load_video(p, segment_seconds=segment_seconds, max_bytes=max_video_bytes,
                                               data=data, limits=limits))


def describe(modality: "Modality | str", decoded: Any) -> dict[str, Any]:
    """`media.describe`, and for a video its length, frame size, rate and whether it has sound."""
    if Modality.parse(modality) is not Modality.VIDEO:
        return media.describe(modality, decoded)
    out: dict[str, Any] = {"duration": round(decoded.duration, 3), "width": decoded.width,
                           "height": decoded.height, "fps": round(decoded.fps, 3),
                           "has_audio": decoded.has_audio, "segment_count": len(decoded.segments)}
    if decoded.source_duration:
        out["duration"] = round(decoded.source_duration, 3)
        out["embedded_seconds"] = [0.0, round(decoded.duration, 3)]
    return out


def default_max_video_bytes() -> int:
    """The size limit for a video file when a caller passes none: Settings' default `max_video_mb`."""
    from mcrsearch.config import Settings

    return int(float(Settings.max_video_mb) * 2**20)


class _Deadline:
    """Refuses the file once its decode has taken longer than the limit (checked between packets/frames)."""

    def __init__(self, path: Path, seconds: float) -> None:
        self.path, self.seconds = path, seconds
        self.until = time.monotonic() + seconds if seconds else math.inf

    def check(self) -> None:
        if time.monotonic() > self.until:
            raise MediaError(self.path, f"decoding took longer than the {self.seconds:g} s limit for one file")


def load_video(path: str | Path, *, segment_seconds: float = DEFAULT_SEGMENT_SECONDS, max_bytes: int | None = None,
               data: bytes | None = None, limits: Limits | None = None) -> tuple[Modality, Any]:
    """Decode a video into a VideoClip (or an audio-only container into an AudioClip), within `limits`."""
    p = Path(path)
    lim = limits or media.default_limits()
    src = media._source(p, default_max_video_bytes() if max_bytes is None else max_bytes, data)
    found = media.sniff(src.head())
    if found is not None and found[0] in _MISMATCH_FAMILIES:
        raise MediaError(p, f"not a valid video file (looks like {found[1]})")
    if not media.av_supported():
        raise UnsupportedMediaError(p, "video decoding needs PyAV (pip install av)")
    import av

    try:
        return _load(p, src, segment_seconds, lim)
    except av.FFmpegError as exc:
        raise MediaError(p, f"truncated or corrupt video ({media._short(exc)})") from exc


def _load(p: Path, src: Any, segment_seconds: float, lim: Limits) -> tuple[Modality, Any]:

    deadline = _Deadline(p, lim.decode_seconds)
    with src.open() as fh, media.open_av(fh) as container:
        streams = container.streams
        if media._cap(lim.streams, len(streams)):
            raise MediaError(p, f"too many streams ({len(streams):,}, limit {lim.streams:,})")
        vstream = next((s for s in streams if s.type == "video"), None)
        astream = next((s for s in streams if s.type == "audio"), None)
        if vstream is None:
            if astream is None:
                raise MediaError(p, "no video or audio stream in this file")
            return Modality.AUDIO, media.load_audio(p, max_bytes=src.size, data=src.data, limits=lim)
        if vstream.codec_context is None:
            raise MediaError(p, "truncated or corrupt video (its video stream has no codec parameters)")
        width, height = int(vstream.codec_context.width or 0), int(vstream.codec_context.height or 0)
        if width <= 0 or height <= 0:
            raise MediaError(p, f"invalid frame size {width}x{height}")
        if media._cap(lim.video_pixels, width * height):
            raise MediaError(p, f"video frames too large to decode safely ({width}x{height} pixels, "
                                f"limit {lim.video_pixels:,})")
        end = _measured_end(p, container, vstream, lim, deadline)
        # past the cap the packets were not read to the end: the header's length is shown (never sampled)
        declared = container.duration / 1e6 if container.duration and container.duration > 0 else 0.0
        fps = float(vstream.average_rate) if vstream.average_rate else 0.0
    cap = lim.video_seconds or math.inf
    duration = min(end, cap)
    bounds = segment_bounds(duration, segment_seconds)
    if not bounds:
        raise MediaError(p, "video has no frames (zero length)")
    frames = _sample_frames(p, src, bounds, lim, deadline)
    audio = _soundtrack(p, src, bounds, lim, deadline) if astream is not None else None
    segments = tuple(VideoSegment(i, a, b, frames[i], audio[i] if audio is not None else None)
                     for i, (a, b) in enumerate(bounds))
    has_audio = any(s.audio is not None for s in segments)
    return Modality.VIDEO, VideoClip(segments, bounds[-1][1], width, height, fps, has_audio,
                                     source_duration=max(end, declared) if end > duration + 1e-3 else None)


def frame_at(path: str | Path, seconds: float, *, data: bytes | None = None, limits: Limits | None = None,
             max_bytes: int | None = None) -> Any:
    """The frame on screen at `seconds` (a poster for a video hit's moment), within the same caps as indexing."""
    p = Path(path)
    lim = limits or media.default_limits()
    src = media._source(p, default_max_video_bytes() if max_bytes is None else max_bytes, data)
    import av

    try:
        deadline = _Deadline(p, lim.decode_seconds)
        with src.open() as fh, media.open_av(fh) as container:
            if media._cap(lim.streams, len(container.streams)):
                raise MediaError(p, f"too many streams ({len(container.streams):,}, limit {lim.streams:,})")
            vstream = next((s for s in container.streams if s.type == "video"), None)
            if vstream is None:
                raise MediaError(p, "no video stream in this file")
            if vstream.codec_context is None:
                raise MediaError(p, "truncated or corrupt video (its video stream has no codec parameters)")
            w, h = int(vstream.codec_context.width or 0), int(vstream.codec_context.height or 0)
            if w <= 0 or h <= 0 or media._cap(lim.video_pixels, w * h):
                raise MediaError(p, f"video frames cannot be decoded safely ({w}x{h} pixels)")
        at = max(0.0, float(seconds))
        return _sample_frames(p, src, [(at, at)], replace(lim, video_frames=1), deadline)[0][0]
    except av.FFmpegError as exc:
        raise MediaError(p, f"truncated or corrupt video ({media._short(exc)})") from exc


def guarded_frame(path: str | Path, seconds: float) -> Any:
    """`frame_at` for explaining a video's moment: any decoder failure is one MediaError naming the file."""
    return media.guarded(Path(path), lambda: frame_at(path, max(0.0, float(seconds))))


def load_soundtrack(path: str | Path, seconds: float = DEFAULT_SEGMENT_SECONDS, *, limits: Limits | None = None,
                    max_bytes: int | None = None) -> AudioClip:
    """A video's soundtrack from its start, at most `seconds` long (one audio model input), decoding no frame."""
    p = Path(path)
    lim = limits or media.default_limits()
    src = media._source(p, default_max_video_bytes() if max_bytes is None else max_bytes)
    import av

    try:
        with src.open() as fh, media.open_av(fh) as container:
            if media._cap(lim.streams, len(container.streams)):
                raise MediaError(p, f"too many streams ({len(container.streams):,}, limit {lim.streams:,})")
            if not container.streams.audio:
                raise MediaError(p, "the video has no soundtrack")
        clip = _soundtrack(p, src, [(0.0, float(seconds))], lim, _Deadline(p, lim.decode_seconds))[0]
    except av.FFmpegError as exc:
        raise MediaError(p, f"truncated or corrupt video ({media._short(exc)})") from exc
    if clip is None:
        raise MediaError(p, "the video's soundtrack is empty")
    return clip


def _measured_end(path: Path, container: Any, vstream: Any, lim: Limits, deadline: _Deadline) -> float:
    """The video stream's real length in seconds from its packets (no decoding), read no further than the
    indexed duration: a header's duration is never trusted."""
    cap = lim.video_seconds or math.inf
    base = vstream.time_base
    last = -math.inf
    first = math.inf
    step = 1.0 / float(vstream.average_rate) if vstream.average_rate else 0.0
    for n, packet in enumerate(container.demux(vstream)):
        if n % 64 == 0:
            deadline.check()
        if packet.pts is None or base is None:
            continue
        t = float(packet.pts * base)
        dur = float(packet.duration * base) if packet.duration else step
        first = min(first, t)
        last = max(last, t + dur)
        if last - max(first, 0.0) > cap:
            break
    if not math.isfinite(last):
        raise MediaError(path, "video has no frames (zero length)")
    return max(0.0, last - max(first, 0.0))


def _scaled(frame: Any) -> Any:
    """A decoded frame as a PIL RGB image whose longer side is at most MAX_FRAME_SIDE."""
    w, h = frame.width, frame.height
    scale = min(1.0, MAX_FRAME_SIDE / max(w, h))
    if scale < 1.0:
        return frame.to_image(width=max(1, round(w * scale)), height=max(1, round(h * scale)))
    return frame.to_image()


def _sample_frames(path: Path, src: Any, bounds: list[tuple[float, float]], lim: Limits,
                   deadline: _Deadline) -> list[tuple[Any, ...]]:
    """For each window, `lim.video_frames` frames at evenly spread instants: the frame on screen at each."""

    wanted = sorted((t, i) for i, (a, b) in enumerate(bounds) for t in sample_times(a, b, max(1, lim.video_frames)))
    out: list[list[Any]] = [[] for _ in bounds]
    with src.open() as fh, media.open_av(fh) as container:
        vstream = container.streams.video[0]
        vstream.thread_type = "AUTO"
        base = vstream.time_base
        origin = float(vstream.start_time * base) if vstream.start_time is not None and base is not None else 0.0
        frames: Any = None
        prev: tuple[float, Any] | None = None       # the last frame at or before the current instant
        pending: tuple[float, Any] | None = None    # a decoded frame past the last instant, not yet used
        for target, seg in wanted:
            known = pending or prev
            if frames is None or known is None or target - known[0] > SEEK_AHEAD_SECONDS:
                if frames is not None and base is not None:
                    container.seek(int((target + origin) / base), stream=vstream, backward=True)
                frames, prev, pending = container.decode(vstream), None, None
            while True:
                deadline.check()
                if pending is not None:
                    current, pending = pending, None
                else:
                    frame = next(frames, None)
                    if frame is None:
                        break                      # the stream ended: the last frame stays on screen
                    current = ((frame.time or 0.0) - origin, frame)
                if current[0] > target + 1e-6 and prev is not None:
                    pending = current
                    break
                prev = current
                if current[0] >= target - 1e-6:
                    break
            if prev is None:
                raise MediaError(path, "truncated or corrupt video (no frame could be decoded)")
            out[seg].append(_scaled(prev[1]))
    return [tuple(f) for f in out]


def _soundtrack(path: Path, src: Any, bounds: list[tuple[float, float]], lim: Limits,
                deadline: _Deadline) -> list[AudioClip | None]:
    """Each window's soundtrack (mono float32, at most MAX_AUDIO_RATE), decoded once up to the last window's end.

    A window the soundtrack does not reach gets None (it has no sound vector).
    """
    import av

    end = bounds[-1][1]
    with src.open() as fh, media.open_av(fh) as container:
        astream = container.streams.audio[0]
        rate = int(astream.codec_context.sample_rate or 0) if astream.codec_context is not None else 0
        if rate <= 0:
            return [None] * len(bounds)
        out_rate = min(rate, MAX_AUDIO_RATE)
        total = int(math.ceil(end * out_rate))
        if media._cap(lim.decoded_bytes, total * 4):
            raise MediaError(path, f"soundtrack too long to decode ({end:g} s at {out_rate} Hz is over the "
                                   f"{media._human_bytes(lim.decoded_bytes)} limit)")
        resampler = av.AudioResampler(format="flt", layout="mono", rate=out_rate)
        samples = np.zeros(total, dtype=np.float32)
        have = 0
        for n, frame in enumerate(container.decode(astream)):
            if n % 64 == 0:
                deadline.check()
            for out in resampler.resample(frame):
                chunk = out.to_ndarray().reshape(-1)
                take = min(len(chunk), total - have)
                samples[have:have + take] = chunk[:take]
                have += take
            if have >= total:
                break
    if have == 0:
        return [None] * len(bounds)
    samples = np.clip(np.nan_to_num(samples[:have]), -1.0, 1.0)
    clips: list[AudioClip | None] = []
    for a, b in bounds:
        i, j = int(round(a * out_rate)), min(int(round(b * out_rate)), have)
        clips.append(AudioClip(np.ascontiguousarray(samples[i:j]), out_rate) if j - i > out_rate // 100 else None)
    return clips


def embed_segments(sp: "Space", clip: "VideoClip") -> tuple[np.ndarray, list[np.ndarray | None]]:
    """(picture vectors (segments, dim), sound vector per segment or None): the frames of each segment
    through the image route, mean-pooled then normalised; each soundtrack through the audio route."""
    frames = [f for seg in clip.segments for f in seg.frames]
    parts = [sp.embed(Modality.IMAGE, frames[i:i + FRAME_BATCH]) for i in range(0, len(frames), FRAME_BATCH)]
    per_frame = np.concatenate(parts) if parts else np.zeros((0, sp.dim), np.float32)
    pictures, at = [], 0
    for seg in clip.segments:
        pictures.append(per_frame[at:at + len(seg.frames)].mean(axis=0))
        at += len(seg.frames)
    picture = l2_normalize(np.stack(pictures).astype(np.float32))
    sounds: list[np.ndarray | None] = [None] * len(clip.segments)
    if sp.supports(Modality.AUDIO):
        heard = [i for i, seg in enumerate(clip.segments) if seg.audio is not None]
        for start in range(0, len(heard), FRAME_BATCH):
            chunk = heard[start:start + FRAME_BATCH]
            vectors = sp.embed(Modality.AUDIO, [clip.segments[i].audio for i in chunk])
            for i, vec in zip(chunk, vectors):
                sounds[i] = vec
    return picture, sounds
