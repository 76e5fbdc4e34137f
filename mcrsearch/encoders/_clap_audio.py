"""Waveform -> the fusion input laion_clap's HTSAT expects, deterministically.

Released preprocessing (kept): mono 48 kHz, int16 round trip, a 10 s window of 480000 samples, shorter clips
repeated whole and then zero-padded, log-mel (torchaudio, power 2, no norm, then dB), and for fusion a stack
of four (1001, 64) mels: [global, front, middle, back].

Our one change, for determinism: the released code picks the three local crops of a clip over 10 s with
np.random (one from each third of the possible start frames). We take the centre of each third, so the
same file always gives the same vector. The released code's random 10 s waveform crop is not computed at
all, because the fusion model never reads the waveform.
"""

from __future__ import annotations

from typing import Any, Mapping

import numpy as np

from mcrsearch.errors import MediaError

TARGET_RATE = 48_000
WINDOW = 480_000          # 10 s at 48 kHz


def to_48k_quantised(samples: np.ndarray, sample_rate: int) -> np.ndarray:
    """Mono float32 at 48 kHz after an int16 round trip, as the checkpoint saw its training audio."""
    x = np.asarray(samples, dtype=np.float32)
    if x.ndim == 2:   # tolerate (n, channels) input although AudioClip is mono
        x = x.mean(axis=1 if x.shape[0] >= x.shape[1] else 0)
    x = np.nan_to_num(x.reshape(-1), nan=0.0, posinf=1.0, neginf=-1.0)
    if x.size == 0 or sample_rate <= 0:
        raise MediaError("audio clip", "has no samples to embed")
    if sample_rate != TARGET_RATE:
        import soxr

        x = soxr.resample(x, sample_rate, TARGET_RATE, quality="HQ").astype(np.float32)
        if x.size == 0:
            raise MediaError("audio clip", "is too short to resample to 48 kHz")
    quantised = (np.clip(x, -1.0, 1.0) * 32767.0).astype(np.int16)
    return (quantised / 32767.0).astype(np.float32)


def repeat_pad(x: np.ndarray, length: int = WINDOW) -> np.ndarray:
    """Repeat a short clip whole as often as it fits, then zero-pad to `length`."""
    if len(x) >= length:
        return x
    repeated = np.tile(x, length // len(x))
    return np.pad(repeated, (0, length - len(repeated)))


def third_centres(total_frames: int, chunk_frames: int) -> tuple[int, int, int]:
    """Start frames of the front/middle/back crops: the centre of each third of the valid starts."""
    starts = np.array_split(np.arange(total_frames - chunk_frames + 1), 3)
    return tuple(int(part[len(part) // 2]) if len(part) else 0 for part in starts)  # type: ignore[return-value]


class FusionFeatures:
    """Computes (mel_fusion, longer) per clip; holds the mel transforms so they are built once."""

    def __init__(self, audio_cfg: Mapping[str, Any]) -> None:
        import torchaudio

        cfg = dict(audio_cfg)
        self.hop = int(cfg["hop_size"])
        self.mel_bins = int(cfg["mel_bins"])
        self.window = int(cfg.get("clip_samples", WINDOW))
        self.melspec = torchaudio.transforms.MelSpectrogram(
            sample_rate=int(cfg["sample_rate"]), n_fft=int(cfg["window_size"]),
            win_length=int(cfg["window_size"]), hop_length=self.hop, center=True, pad_mode="reflect",
            power=2.0, norm=None, n_mels=self.mel_bins, f_min=cfg["fmin"], f_max=cfg["fmax"])
        self.to_db = torchaudio.transforms.AmplitudeToDB(top_db=None)

    def log_mel(self, x: np.ndarray) -> Any:
        import torch

        with torch.inference_mode():
            return self.to_db(self.melspec(torch.from_numpy(np.ascontiguousarray(x)))).T  # (frames, mel_bins)

    def __call__(self, samples: np.ndarray, sample_rate: int) -> tuple[Any, bool]:
        import torch

        x = to_48k_quantised(samples, sample_rate)
        if len(x) <= self.window:
            mel = self.log_mel(repeat_pad(x, self.window))
            return torch.stack([mel, mel, mel, mel]), False
        mel = self.log_mel(x)
        chunk = self.window // self.hop + 1
        if mel.shape[0] == chunk:   # at most one hop longer than 10 s: the whole clip is the window
            return torch.stack([mel, mel, mel, mel]), False
        from torchvision.transforms import functional as tvf

        front, middle, back = third_centres(mel.shape[0], chunk)
        with torch.inference_mode():
            shrunk = tvf.resize(mel[None], [chunk, self.mel_bins], antialias=True)[0]
        crops = [mel[s:s + chunk] for s in (front, middle, back)]
        return torch.stack([shrunk, *crops]), True
