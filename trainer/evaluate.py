"""Class-level retrieval metrics (map, r@1, r@5: the benchmark's keys) with exact matrix products.

A gallery item is relevant to a query when it has the query's class label: this is how emergent
pairs (audio vs 3D) are judged, since no instance-level pairs exist between them.
"""

from __future__ import annotations

from typing import Any, Callable

import numpy as np
import torch
import torch.nn.functional as F

from mcrsearch.benchmark.metrics import retrieval_metrics as class_retrieval
from mcrsearch_trainer.data import ValidationSet

Projector = Callable[[torch.Tensor], torch.Tensor]


def retrieval_metrics(queries: Any, q_labels: Any, gallery: Any, g_labels: Any, chunk: int = 1024) -> dict[str, float]:
    """map, r@1 and r@5 for every query against the whole gallery (the benchmark's exact metrics and keys)."""
    q = F.normalize(torch.as_tensor(np.asarray(queries, dtype=np.float32)), dim=-1).numpy()
    g = F.normalize(torch.as_tensor(np.asarray(gallery, dtype=np.float32)), dim=-1).numpy()
    scores = class_retrieval(q, g, np.asarray(q_labels), np.asarray(g_labels), ks=(1, 5), chunk=chunk)
    assert scores.map is not None           # computed: compute_map defaults to True
    return {"map": float(scores.map), "r@1": scores.recall[1], "r@5": scores.recall[5]}


@torch.no_grad()
def project(fn: Projector | None, x: Any, device: torch.device | str = "cpu", batch: int = 8192) -> np.ndarray:
    """Apply a projector (eval mode expected) in batches; None means the raw space (e.g. a frozen base)."""
    x = torch.as_tensor(np.asarray(x, dtype=np.float32))
    if fn is None:
        return F.normalize(x, dim=-1).numpy()
    out = [F.normalize(fn(x[s:s + batch].to(device)), dim=-1).cpu() for s in range(0, len(x), batch)]
    return torch.cat(out).numpy() if out else np.zeros((0, 0), np.float32)


def evaluate_set(vs: ValidationSet, proj_a: Projector | None, proj_b: Projector | None,
                 device: torch.device | str = "cpu") -> dict[str, float]:
    """Both directions (A->B and B->A) of one validation set after projecting each side."""
    za, zb = project(proj_a, vs.x_a, device), project(proj_b, vs.x_b, device)
    out: dict[str, float] = {}
    for direction, (q, ql, g, gl) in {"a2b": (za, vs.labels_a, zb, vs.labels_b),
                                     "b2a": (zb, vs.labels_b, za, vs.labels_a)}.items():
        for k, v in retrieval_metrics(q, ql, g, gl).items():
            out[f"{vs.name}/{direction}/{k}"] = v
    return out


def modality_gap(a: Any, b: Any) -> float:
    """Distance between two modalities' centroids of L2-normalised vectors (Liang et al. 2022's gap)."""
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    a = a / np.linalg.norm(a, axis=1, keepdims=True)
    b = b / np.linalg.norm(b, axis=1, keepdims=True)
    return float(np.linalg.norm(a.mean(axis=0) - b.mean(axis=0)))


def chance_map(labels_q: Any, labels_g: Any) -> float:
    """Expected mAP of a random ranking ~ mean fraction of relevant gallery items per query."""
    gl = np.asarray(labels_g)
    return float(np.mean([(gl == lab).mean() for lab in np.asarray(labels_q)]))
