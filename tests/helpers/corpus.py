"""The tiny space and its corpus (no tests here): a tiny deterministic space and a small real corpus with three classes.

The tiny encoder reads real decoded media and maps each modality's class cue onto the same three axes:
image mean colour (R, G, B), audio energy in three bands (low, mid, high), point-cloud spread along
(x, y, z), and text words (red/low/x, green/mid/y, blue/high/z). A per-modality offset imitates the
modality gap, so raw cosines differ between modality pairs and calibration matters. Projected to 32-d.
"""

from __future__ import annotations

import hashlib
import os
import time
from pathlib import Path

import numpy as np

from mcrsearch.encoders.base import DenseFeatures, Encoder, point_groups
from mcrsearch.modality import Modality
from mcrsearch.space import SPACE_BUILDERS, Route, Space, register_space

DIM = 32
CLASSES = ("red", "green", "blue")
WORDS = {0: {"red", "low", "x"}, 1: {"green", "mid", "y"}, 2: {"blue", "high", "z"}}
FREQS = (150.0, 800.0, 3000.0)


class TinyEncoder(Encoder):
    family = "tiny"
    modalities = (Modality.IMAGE, Modality.AUDIO, Modality.POINTS, Modality.TEXT)
    dim = DIM
    items_encoded = 0          # counts model work across instances (the incremental tests read it)

    def __init__(self, variant: int = 0) -> None:
        super().__init__({"variant": variant}, weights_id=f"tiny-{variant}")
        rng = np.random.default_rng(1234 + variant)
        self._gap = {m: rng.standard_normal(DIM).astype(np.float32) * 0.12 for m in self.modalities}
        self._mix = rng.standard_normal((8, DIM - 3)).astype(np.float32) * 0.05

    def _encode(self, modality, items):
        delay = float(os.environ.get("MCRSEARCH_TEST_ENCODE_SLEEP", "0") or 0)
        if delay:
            time.sleep(delay)
        TinyEncoder.items_encoded += len(items)
        out = []
        for item in items:
            cls = self._class_features(modality, item)
            extra = self._detail_features(item) @ self._mix
            vec = np.concatenate([cls / (np.linalg.norm(cls) + 1e-9), extra]) + self._gap[modality]
            out.append(vec)
        return np.stack(out).astype(np.float32)

    dense_methods = ("cells",)
    GRID = 4
    PARTS = 12

    def encode_dense(self, modality, item, method=""):
        """Pictures as a 4x4 grid of cells, each embedded like a whole picture (its mean colour); shapes as
        12 point groups (`point_groups`), each embedded like a whole shape (its spread)."""
        self._dense_method(method)
        if Modality.parse(modality) is Modality.POINTS:
            cloud = np.asarray(item, dtype=np.float32)[:, :3]
            centres, members = point_groups(cloud, self.PARTS, max(8, len(cloud) // 6))
            return DenseFeatures(vectors=self._encode(Modality.POINTS, [cloud[m] for m in members]),
                                 centres=cloud[centres], method="cells")
        if Modality.parse(modality) is not Modality.IMAGE:
            return super().encode_dense(modality, item, method)
        arr = np.asarray(item.convert("RGB") if hasattr(item, "convert") else item, dtype=np.float32)
        h, w = arr.shape[:2]
        n = self.GRID
        cells = [arr[r * h // n:(r + 1) * h // n, c * w // n:(c + 1) * w // n] for r in range(n) for c in range(n)]
        centres = np.array([[(c + 0.5) / n, (r + 0.5) / n] for r in range(n) for c in range(n)], dtype=np.float32)
        return DenseFeatures(vectors=self._encode(Modality.IMAGE, cells), centres=centres, method="cells",
                             grid=(n, n), cell=(1 / n, 1 / n))

    @staticmethod
    def _class_features(modality, item) -> np.ndarray:
        if modality is Modality.IMAGE:
            return np.asarray(item, dtype=np.float32).reshape(-1, 3).mean(0) / 255.0
        if modality is Modality.AUDIO:
            spec = np.abs(np.fft.rfft(item.samples[: item.sample_rate])) ** 2
            freqs = np.fft.rfftfreq(min(len(item.samples), item.sample_rate), 1.0 / item.sample_rate)
            bands = [(0, 400), (400, 1500), (1500, item.sample_rate / 2)]
            return np.array([spec[(freqs >= a) & (freqs < b)].sum() for a, b in bands], dtype=np.float32)
        if modality is Modality.POINTS:
            return np.asarray(item, dtype=np.float32).std(0)
        words = set(str(item).lower().split())
        return np.array([len(words & WORDS[c]) for c in range(3)], dtype=np.float32) + 0.01

    @staticmethod
    def _detail_features(item) -> np.ndarray:
        raw = item.samples if hasattr(item, "samples") else item
        blob = np.asarray(raw).tobytes() if not isinstance(raw, str) else raw.encode()
        digest = hashlib.sha256(blob).digest()[:8]
        return np.frombuffer(digest, dtype=np.uint8).astype(np.float32) / 255.0


def build_tiny(settings=None, variant: int = 0) -> Space:
    enc = TinyEncoder(variant)
    return Space("tiny", {m: Route(enc) for m in enc.modalities}, DIM, description="test space")


def register_tiny() -> None:
    """Make `create_space("tiny", ...)` build the tiny space, as a plug-in would (the tests' conftest calls it
    once per session; a subprocess or Ray worker calls it itself)."""
    if "tiny" not in SPACE_BUILDERS:
        register_space("tiny")(lambda settings: build_tiny(settings))


def write_item(folder: Path, modality: str, cls: int, idx: int) -> Path:
    """One real file of a class: solid-ish image, a tone, an elongated cloud or mesh, a caption."""
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(idx * 10 + cls)
    name = f"{CLASSES[cls]}_{idx}"
    if modality == "image":
        from PIL import Image

        colour = np.full((24, 24, 3), 30, np.uint8)
        colour[..., cls] = 220
        noise = rng.integers(0, 25, (24, 24, 3), dtype=np.uint8)
        path = folder / f"{name}.png"
        Image.fromarray(colour + noise).save(path)
    elif modality == "audio":
        import soundfile as sf

        rate = 8000
        t = np.arange(rate) / rate
        wave = 0.5 * np.sin(2 * np.pi * FREQS[cls] * (1 + 0.02 * idx) * t) + 0.01 * rng.standard_normal(rate)
        path = folder / f"{name}.wav"
        sf.write(path, wave.astype(np.float32), rate)
    elif modality == "3d":
        scale = np.full(3, 0.2)
        scale[cls] = 1.0 + 0.1 * idx
        if idx % 2 == 0:
            path = folder / f"{name}.npy"
            np.save(path, (rng.standard_normal((512, 3)) * scale).astype(np.float32))
        else:
            import trimesh

            path = folder / f"{name}.obj"
            trimesh.creation.box(extents=scale * 2).export(path)
    else:
        words = ["a", CLASSES[cls], "thing", ["low", "mid", "high"][cls], f"number{idx}"]
        path = folder / f"{name}.txt"
        path.write_text(" ".join(words))
    return path


def write_corpus(folder: Path, per_class: int = 2) -> dict[str, list[Path]]:
    """Every modality x class x per_class, in sub-folders by modality."""
    out: dict[str, list[Path]] = {m: [] for m in ("image", "audio", "3d", "text")}
    for modality in out:
        for cls in range(3):
            for idx in range(per_class):
                out[modality].append(write_item(folder / modality, modality, cls, idx))
    return out


def class_of(path: str) -> str:
    return Path(path).name.split("_")[0]
