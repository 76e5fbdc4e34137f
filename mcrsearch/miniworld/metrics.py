"""Class-level retrieval metrics for the mini-world: a hit is any gallery item of the query's class.

A thin view over `mcrsearch.benchmark.metrics` so that the demo, the trainer and the benchmark report
numbers computed by one implementation.
"""

from __future__ import annotations

import numpy as np

from mcrsearch.benchmark.metrics import chance_recall, relevant_counts, retrieval_metrics


def retrieval(queries: np.ndarray, q_labels, gallery: np.ndarray, g_labels, ks=(1, 5)) -> dict[str, float]:
    """R@k and mAP over cosine similarity of L2-normalised vectors; chance R@1 is the class share."""
    q_labels, g_labels = np.asarray(q_labels), np.asarray(g_labels)
    scores = retrieval_metrics(queries, gallery, q_labels, g_labels, ks=ks)
    out: dict[str, float] = {f"r@{k}": float(v) for k, v in scores.recall.items()}
    assert scores.map is not None           # computed: compute_map defaults to True
    out["map"] = float(scores.map)
    out["chance_r@1"] = float(chance_recall(len(g_labels), relevant_counts(q_labels, g_labels), 1))
    out["n_queries"] = int(len(q_labels))
    return out


def geometry(a: np.ndarray, b: np.ndarray) -> dict[str, float]:
    """The modality gap of row-aligned matched pairs (row i of `a` pairs with row i of `b`), as Liang et al.
    (2022) measure it: mean cosine of matched and of unmatched pairs, and the distance between the two
    modalities' centroids of L2-normalised vectors."""
    a = a / np.linalg.norm(a, axis=1, keepdims=True)
    b = b / np.linalg.norm(b, axis=1, keepdims=True)
    sims = a @ b.T
    n = len(a)
    matched = float(np.trace(sims) / n)
    unmatched = float((sims.sum() - np.trace(sims)) / max(1, n * n - n))
    return {"matched_cos": matched, "unmatched_cos": unmatched,
            "gap": float(np.linalg.norm(a.mean(axis=0) - b.mean(axis=0))), "pairs": n}
