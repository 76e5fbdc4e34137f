"""File -> model input, shared by index, query and train. Every failure is a MediaError with a reason.

Decoded forms: images are PIL RGB images, audio is an `AudioClip` (mono float32 waveform + rate),
3D is an (N, 3) float32 point cloud, text is `str`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class AudioClip:
    """Mono waveform in [-1, 1] at its own sample rate; encoders resample to what they need."""

    samples: np.ndarray      # (n,) float32
    sample_rate: int

    @property
    def duration(self) -> float:
        return len(self.samples) / float(self.sample_rate) if self.sample_rate else 0.0
