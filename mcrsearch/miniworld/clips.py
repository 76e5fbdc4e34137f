"""Writing video files (H.264 + AAC in MP4, or any container PyAV writes): the mini-world's clips and tests' videos."""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path
from typing import Iterable

import numpy as np


def write_video(path: str | Path, frames: Iterable[np.ndarray], fps: float = 10.0, audio: np.ndarray | None = None,
                rate: int = 16_000, codec: str = "libx264", audio_codec: str = "aac", container: str | None = None,
                gop: int | None = None) -> Path:
    """Encode `frames` ((H, W, 3) uint8, even sizes for H.264) at `fps` and an optional mono `audio` track
    (float32 in [-1, 1] at `rate`) into `path`. `gop`: frames between keyframes (None: the codec's default)."""
    import av

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with av.open(str(path), mode="w", format=container) as out:
        vs = out.add_stream(codec, rate=Fraction(fps).limit_denominator(1000))
        vs.pix_fmt = "yuv420p"
        if gop:
            vs.codec_context.gop_size = gop
        sized = False
        astream = None
        if audio is not None:
            astream = out.add_stream(audio_codec, rate=rate)
            astream.layout = "mono"
        for img in frames:
            img = np.ascontiguousarray(img, dtype=np.uint8)
            if not sized:
                vs.width, vs.height = img.shape[1], img.shape[0]
                sized = True
            for packet in vs.encode(av.VideoFrame.from_ndarray(img, format="rgb24")):
                out.mux(packet)
        for packet in vs.encode(None):
            out.mux(packet)
        if astream is not None and audio is not None:
            samples = np.clip(np.asarray(audio, dtype=np.float32).reshape(1, -1), -1, 1)
            step = 1024
            for i in range(0, samples.shape[1], step):
                frame = av.AudioFrame.from_ndarray(np.ascontiguousarray(samples[:, i:i + step]), format="fltp",
                                                   layout="mono")
                frame.sample_rate = rate
                frame.pts = i
                for packet in astream.encode(frame):
                    out.mux(packet)
            for packet in astream.encode(None):
                out.mux(packet)
    return path
