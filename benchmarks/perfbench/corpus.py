"""Real files to index (PNG images, WAV tones, NPY point clouds, TXT captions) and a temporary home, index
and space around them."""

from __future__ import annotations

import tempfile
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Iterator

import numpy as np

from .spaces import MODS


def write_corpus(folder: Path, per_modality: int, modalities=MODS, small: bool = False, seed: int = 0) -> int:
    """Real files: PNG images, WAV tones, NPY point clouds, TXT captions (small=True: tiny files)."""
    import soundfile as sf
    from PIL import Image

    rng = np.random.default_rng(seed)
    words = "red green blue dog cat car bird drum bell chair table lamp wind rain engine".split()
    count = 0
    for m in modalities:
        sub = folder / m
        sub.mkdir(parents=True, exist_ok=True)
        for i in range(per_modality):
            if m == "image":
                side = 8 if small else 96
                Image.fromarray(rng.integers(0, 255, (side, side, 3), dtype=np.uint8)).save(sub / f"{i}.png")
            elif m == "audio":
                rate = 8000 if small else 16000
                n = rate // 10 if small else rate * 2
                t = np.arange(n) / rate
                sf.write(sub / f"{i}.wav", (0.3 * np.sin(2 * np.pi * rng.uniform(100, 3000) * t)).astype(np.float32),
                         rate)
            elif m == "3d":
                np.save(sub / f"{i}.npy", rng.standard_normal((64 if small else 2048, 3)).astype(np.float32))
            else:
                (sub / f"{i}.txt").write_text(" ".join(rng.choice(words, 6)))
            count += 1
    return count


@contextmanager
def corpus_and_space(name: str, mods: tuple[str, ...], items: int) -> Iterator[tuple[Path, int, Any, Any]]:
    """A temporary corpus of `items` files per modality, the settings and the space that embeds it."""
    from mcrsearch.config import load_settings
    from mcrsearch.space import create_space

    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        n = write_corpus(tmp / "corpus", items, mods)
        # the mini-world space lives in the user's home (after `mcrsearch demo`); the index stays temporary
        home = None if name == "miniworld" else tmp / "home"
        base = load_settings(home=home, store_path=tmp / "index", device="cpu")
        yield tmp, n, base, create_space(name, base)
