"""Class-level retrieval metrics: a hit is any gallery item of the query's class."""

from __future__ import annotations

import numpy as np


def retrieval(queries: np.ndarray, q_labels, gallery: np.ndarray, g_labels, ks=(1, 5)) -> dict[str, float]:
    """R@k and mAP over cosine similarity of L2-normalised vectors; chance R@1 is the class share."""
    q_labels, g_labels = np.asarray(q_labels), np.asarray(g_labels)
    sims = queries @ gallery.T
    order = np.argsort(-sims, axis=1, kind="stable")
    rel = g_labels[order] == q_labels[:, None]
    out = {f"r@{k}": float(rel[:, :k].any(axis=1).mean()) for k in ks}
    hits = np.cumsum(rel, axis=1)
    ranks = np.arange(1, rel.shape[1] + 1)
    n_rel = np.maximum(rel.sum(axis=1), 1)
    out["map"] = float(((hits / ranks) * rel).sum(axis=1).__truediv__(n_rel).mean())
    out["chance_r@1"] = float(np.mean([(g_labels == q).mean() for q in q_labels]))
    out["n_queries"] = int(len(q_labels))
    return out
