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
from pathlib import Path
from typing import Any, Callable, Literal, Sequence

import numpy as np

from mcrsearch.atomic import write_json_atomic
from mcrsearch.checkpoint import file_sha256


def cache_key(encoder_fingerprint: str, modality: str, hashes: Sequence[str]) -> str:
    h = hashlib.sha256(f"{encoder_fingerprint}|{modality}|".encode())
    for item in hashes:
        h.update(item.encode() + b"\n")
    return h.hexdigest()[:24]


def cached_features(files: Sequence[str | Path], encoder: Any, modality: Any, root: str | Path,
                    chunk: int = 64, decode: Callable[[Path], Any] | None = None,
                    progress: Callable[[int, int], None] | None = None, hashes: Sequence[str] | None = None,
                    mesh_points: int = 10_000) -> np.ndarray:
    """(n, encoder.dim) float32 read-only memmap of `encoder.encode(modality, decoded files)`, cached.

    Args:
        files: the inputs, in order.
        encoder: an `mcrsearch.encoders.Encoder` (its fingerprint keys the cache).
        modality: the modality to decode and embed the files as.
        root: the cache folder.
        chunk: rows per encode call and per resumable step.
        decode: path -> model input; default `mcrsearch.media.decode` (meshes sampled to `mesh_points`).
        progress: called as `progress(done, total)` after each finished chunk (the CLI draws a bar with it).
        hashes: the files' content digests when the caller already has them (e.g. a manifest's); else sha256.
        mesh_points: surface samples per mesh for the default decoder.

    Returns:
        A read-only memmap of the vectors, row i for files[i].
    """
    from mcrsearch.modality import Modality

    modality = Modality.parse(modality)
    if decode is None:
        from mcrsearch.media import decode as media_decode

        def decode(path: Path, _m=modality) -> Any:
            return media_decode(path, _m, n_points=mesh_points)[1]
    paths = [Path(f) for f in files]
    hashes = list(hashes) if hashes is not None else [file_sha256(p) for p in paths]
    key = cache_key(encoder.fingerprint, modality.value, hashes)
    folder = Path(root) / encoder.fingerprint / f"{modality.value}-{key}"
    folder.mkdir(parents=True, exist_ok=True)
    n, dim = len(paths), int(encoder.dim)
    vec_path, prog_path = folder / "vectors.f32", folder / "progress.json"
    n_chunks = (n + chunk - 1) // chunk
    state: dict[str, Any] = {"n": n, "dim": dim, "chunk": chunk, "done": []}
    if prog_path.exists():
        old = json.loads(prog_path.read_text())
        if (old.get("n"), old.get("dim"), old.get("chunk")) == (n, dim, chunk) and vec_path.exists():
            state = old
    else:
        write_json_atomic(folder / "files.json", {"files": [str(p) for p in paths], "hashes": hashes,
                                                  "encoder": encoder.fingerprint, "modality": modality.value})
    if n == 0:
        return np.zeros((0, dim), np.float32)
    done = set(state["done"])
    todo = [c for c in range(n_chunks) if c not in done]
    if todo:
        mode: Literal["r+", "w+"] = "r+" if vec_path.exists() and vec_path.stat().st_size == n * dim * 4 else "w+"
        out = np.memmap(vec_path, dtype=np.float32, mode=mode, shape=(n, dim))
        finished = sum(min(n, (c + 1) * chunk) - c * chunk for c in done if c < n_chunks)
        for c in todo:
            sl = slice(c * chunk, min(n, (c + 1) * chunk))
            out[sl] = encoder.encode(modality, [decode(p) for p in paths[sl]])
            out.flush()
            state["done"].append(c)
            write_json_atomic(prog_path, state)
            finished += sl.stop - sl.start
            if progress is not None:
                progress(finished, n)
        del out
    return np.memmap(vec_path, dtype=np.float32, mode="r", shape=(n, dim))
