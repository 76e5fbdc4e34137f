"""Score calibration: per (query modality, target modality) cosine statistics that describe a collection.

Why: cosine scales differ between modality pairs (audio->image cosines may sit around 0.1 while
text->image ones sit around 0.3), so raw cosines cannot rank a mixed `--target any` list or fuse an audio
and a text query fairly. At index time the collection records, per pair, the mean and standard deviation
of the cosine between stored items; a hit's calibrated score is the z-score of its cosine under its
pair's statistics. The statistics are written by the indexer and read by the query layer, so they live
here, beside the store, and neither of the two imports the other.
"""

from __future__ import annotations

import numpy as np

from mcrsearch.store import ALL_MODALITIES, VIDEO_SEGMENT, SpaceRecord, Store

CALIBRATION_SAMPLE = 256          # items per modality used for the pair statistics
MIN_PAIRS = 10                    # fewer random pairs than this: fall back to the '*->target' statistics
MIN_STD = 0.02                    # a tiny collection must not turn a small cosine gap into a huge z-score


def compute_calibration(store: Store, space: str, sample: int = CALIBRATION_SAMPLE) -> dict[str, list[float]]:
    """Per-pair cosine statistics from a deterministic sample of stored items (first ids in id order).

    Point ids are uuid5 hashes of paths, so the first ids in id order are a stable pseudo-random sample;
    the statistics are therefore a pure function of the stored point set.
    """
    vectors: dict[str, np.ndarray] = {}
    for m in ALL_MODALITIES:
        stored_as = VIDEO_SEGMENT if m == "video" else m       # a video's vectors are its segments'
        rows = [r.vectors[space] for r in store.scroll(fields=["modality"], modalities=[stored_as],
                                                      with_vectors=[space], limit=sample) if space in r.vectors]
        if rows:
            vectors[m] = np.stack(rows).astype(np.float32)
    stats: dict[str, list[float]] = {}
    everything = np.concatenate(list(vectors.values())) if vectors else np.empty((0, 0), np.float32)
    for t, vt in vectors.items():
        for q, vq in list(vectors.items()) + [("*", everything)]:
            sims = vq @ vt.T
            if q == t:
                sims = sims[~np.eye(len(vq), dtype=np.bool_)] if len(vq) > 1 else np.empty(0)
            sims = np.asarray(sims).ravel()
            if sims.size >= MIN_PAIRS:
                stats[f"{q}->{t}"] = [float(sims.mean()), float(max(sims.std(), MIN_STD))]
    return stats


def pair_stats(record: SpaceRecord, query: str, target: str) -> tuple[float, float]:
    """(mean, std) of the (query, target) pair's cosines, or the '*->target' fallback, or (0, 1)."""
    stats = record.calibration.get(f"{query}->{target}") or record.calibration.get(f"*->{target}") or [0.0, 1.0]
    return float(stats[0]), float(stats[1])
