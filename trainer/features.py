"""Feature cache: encode a corpus once per encoder into an on-disk, memory-mapped float32 array.

Why: the trainers only ever see frozen-encoder embeddings, and encoding is by far the slow part.
The cache key is the encoder fingerprint + modality + the content hashes of the files in order, so a
changed file or encoder gives a new cache and a rerun over the same inputs gives the same one.
Rows are written chunk by chunk into `vectors.f32`, and each finished chunk is recorded in
`progress.json` only after the rows are flushed; an interrupted run resumes at the first unfinished chunk.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path
from typing import Any, Callable, Sequence

import numpy as np


def file_hash(path: str | Path, block: int = 1 << 20) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        while chunk := fh.read(block):
            h.update(chunk)
    return h.hexdigest()


def cache_key(encoder_fingerprint: str, modality: str, hashes: Sequence[str]) -> str:
    h = hashlib.sha256(f"{encoder_fingerprint}|{modality}|".encode())
    for item in hashes:
        h.update(item.encode() + b"\n")
    return h.hexdigest()[:24]


def _write_json(path: Path, obj: Any) -> None:
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(obj))
    os.replace(tmp, path)


def cached_features(files: Sequence[str | Path], encoder: Any, modality: Any, root: str | Path,
                    chunk: int = 64, decode: Callable[[Path], Any] | None = None,
                    show_progress: bool = True, label: str = "") -> np.ndarray:
    """(n, encoder.dim) float32 read-only memmap of `encoder.encode(modality, decoded files)`, cached."""
    from mcrsearch.modality import Modality

    modality = Modality.parse(modality)
    if decode is None:
        from mcrsearch.media import decode as media_decode

        def decode(path: Path, _m=modality) -> Any:
            return media_decode(path, _m)[1]
    paths = [Path(f) for f in files]
    hashes = [file_hash(p) for p in paths]
    key = cache_key(encoder.fingerprint, modality.value, hashes)
    folder = Path(root) / encoder.fingerprint / f"{modality.value}-{key}"
    folder.mkdir(parents=True, exist_ok=True)
    n, dim = len(paths), int(encoder.dim)
    vec_path, prog_path = folder / "vectors.f32", folder / "progress.json"
    n_chunks = (n + chunk - 1) // chunk
    state = {"n": n, "dim": dim, "chunk": chunk, "done": []}
    if prog_path.exists():
        old = json.loads(prog_path.read_text())
        if (old.get("n"), old.get("dim"), old.get("chunk")) == (n, dim, chunk) and vec_path.exists():
            state = old
    else:
        _write_json(folder / "files.json", {"files": [str(p) for p in paths], "hashes": hashes,
                                            "encoder": encoder.fingerprint, "modality": modality.value})
    if n == 0:
        return np.zeros((0, dim), np.float32)
    done = set(state["done"])
    todo = [c for c in range(n_chunks) if c not in done]
    if todo:
        mode = "r+" if vec_path.exists() and vec_path.stat().st_size == n * dim * 4 else "w+"
        out = np.memmap(vec_path, dtype=np.float32, mode=mode, shape=(n, dim))
        with _progress(show_progress, label or f"{encoder.family} {modality.value}", n, n - len(todo) * chunk) as tick:
            for c in todo:
                sl = slice(c * chunk, min(n, (c + 1) * chunk))
                items = [decode(p) for p in paths[sl]]
                out[sl] = encoder.encode(modality, items)
                out.flush()
                state["done"].append(c)
                _write_json(prog_path, state)
                tick(sl.stop - sl.start)
        del out
    return np.memmap(vec_path, dtype=np.float32, mode="r", shape=(n, dim))


class _progress:
    """A rich progress bar on stderr (or nothing), advanced by a callable."""

    def __init__(self, enabled: bool, label: str, total: int, completed: int) -> None:
        self.enabled, self.label, self.total, self.completed = enabled, label, total, max(0, completed)

    def __enter__(self) -> Callable[[int], None]:
        if not self.enabled:
            return lambda k: None
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeRemainingColumn

        from mcrsearch.commands.common import console

        self._bar = Progress("[progress.description]{task.description}", BarColumn(), MofNCompleteColumn(),
                             TimeRemainingColumn(), console=console, transient=True)
        self._bar.__enter__()
        task = self._bar.add_task(f"encoding {self.label}", total=self.total, completed=self.completed)
        return lambda k: self._bar.advance(task, k)

    def __exit__(self, *exc: Any) -> None:
        if self.enabled:
            self._bar.__exit__(*exc)
