"""Decoded media -> tensors for the mini encoders. Accepts what `mcrsearch.media` gives for ANY file:
PIL images of any size/mode, AudioClip at any sample rate and length, (N, 3) clouds of any N and scale, str.
Deterministic: the same input always gives the same array.
"""

from __future__ import annotations

from typing import Any, Sequence

import numpy as np

IMAGE_MEAN, IMAGE_STD = 0.5, 0.25


def image_array(img: Any, size: int) -> np.ndarray:
    """(3, size, size) float32, RGB, normalised."""
    from PIL import Image

    if not isinstance(img, Image.Image):
        img = Image.fromarray(np.asarray(img))
    img = img.convert("RGB")
    if img.size != (size, size):
        img = img.resize((size, size), Image.Resampling.BILINEAR)
    arr = np.asarray(img, dtype=np.float32) / 255.0
    return ((arr - IMAGE_MEAN) / IMAGE_STD).transpose(2, 0, 1).copy()


def images_array(items: Sequence[Any], size: int) -> np.ndarray:
    return np.stack([image_array(it, size) for it in items]) if items else np.zeros((0, 3, size, size), np.float32)


def audio_logmel(clip: Any, rate: int, seconds: float, n_mels: int, hop: int) -> np.ndarray:
    """(n_mels, frames) standardised log-mel of the first `seconds` (shorter clips are repeat-padded)."""
    import librosa

    samples, sr = _samples(clip)
    if samples.ndim > 1:
        samples = samples.mean(axis=-1 if samples.shape[-1] <= 8 else 0)
    samples = np.nan_to_num(samples.astype(np.float32))
    if sr != rate and len(samples):
        samples = librosa.resample(samples, orig_sr=sr, target_sr=rate, res_type="soxr_hq").astype(np.float32)
    n = int(rate * seconds)
    if len(samples) == 0:
        samples = np.zeros(n, np.float32)
    if len(samples) < n:
        samples = np.tile(samples, int(np.ceil(n / len(samples))))
    samples = samples[:n]
    mel = librosa.feature.melspectrogram(y=samples, sr=rate, n_fft=512, hop_length=hop, n_mels=n_mels,
                                         fmin=20, fmax=rate / 2, power=2.0)
    logmel = np.log(mel + 1e-6)
    return ((logmel - logmel.mean()) / (logmel.std() + 1e-5)).astype(np.float32)


def _samples(clip: Any) -> tuple[np.ndarray, int]:
    if hasattr(clip, "samples") and hasattr(clip, "sample_rate"):
        return np.asarray(clip.samples), int(clip.sample_rate)
    if isinstance(clip, tuple) and len(clip) == 2:
        return np.asarray(clip[0]), int(clip[1])
    raise TypeError("audio input must be an AudioClip or (samples, sample_rate)")


def audios_array(items: Sequence[Any], rate: int, seconds: float, n_mels: int, hop: int) -> np.ndarray:
    return np.stack([audio_logmel(it, rate, seconds, n_mels, hop) for it in items])[:, None]


def normalize_cloud(xyz: Any) -> np.ndarray:
    pts = np.asarray(xyz, dtype=np.float64)[:, :3]
    pts = pts - pts.mean(axis=0, keepdims=True)
    r = float(np.sqrt((pts ** 2).sum(axis=1)).max(initial=0.0))
    return (pts / r if r > 0 else pts).astype(np.float32)


def cloud_array(xyz: Any, n: int) -> np.ndarray:
    """(n, 3): centred, unit radius, a fixed subsample (seeded by nothing but the point count)."""
    pts = normalize_cloud(xyz)
    m = len(pts)
    idx = np.random.default_rng(m).choice(m, size=n, replace=m < n)
    return pts[np.sort(idx)]


def clouds_array(items: Sequence[Any], n: int) -> np.ndarray:
    return np.stack([cloud_array(it, n) for it in items])


def token_ids(text: str, index: dict[str, int]) -> list[int]:
    """Word ids (1 = unknown word); an empty text becomes [1] so every text has an embedding."""
    from mcrsearch.miniworld.captions import tokenize

    ids = [index.get(w, 1) for w in tokenize(str(text))]
    return ids or [1]
