"""Class-level retrieval metrics (mAP, R@1, R@5) with exact matrix products.

A gallery item is relevant to a query when it has the query's class label: this is how emergent
pairs (audio vs 3D) are judged, since no instance-level pairs exist between them.
"""

from __future__ import annotations

from typing import Any, Callable

import numpy as np
import torch
import torch.nn.functional as F

from trainer.data import ValidationSet

Projector = Callable[[torch.Tensor], torch.Tensor]


def retrieval_metrics(queries: Any, q_labels: Any, gallery: Any, g_labels: Any, chunk: int = 1024) -> dict[str, float]:
    """mAP, R@1 and R@5 for every query against the whole gallery (cosine = dot of normalised rows)."""
    q = F.normalize(torch.as_tensor(np.asarray(queries, dtype=np.float32)), dim=-1)
    g = F.normalize(torch.as_tensor(np.asarray(gallery, dtype=np.float32)), dim=-1)
    ql = torch.as_tensor(np.asarray(q_labels))
    gl = torch.as_tensor(np.asarray(g_labels))
    aps, r1, r5 = [], [], []
    for s in range(0, len(q), chunk):
        order = torch.argsort(q[s:s + chunk] @ g.T, dim=1, descending=True)
        rel = (gl[order] == ql[s:s + chunk, None]).float()
        hits = rel.cumsum(dim=1)
        ranks = torch.arange(1, rel.shape[1] + 1, dtype=torch.float32)
        n_rel = rel.sum(dim=1)
        aps.append(((hits / ranks) * rel).sum(dim=1) / n_rel.clamp(min=1))
        r1.append(rel[:, :1].amax(dim=1))
        r5.append(rel[:, :5].amax(dim=1))
    return {"mAP": float(torch.cat(aps).mean()), "R@1": float(torch.cat(r1).mean()),
            "R@5": float(torch.cat(r5).mean())}


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


def chance_map(labels_q: Any, labels_g: Any) -> float:
    """Expected mAP of a random ranking ~ mean fraction of relevant gallery items per query."""
    gl = np.asarray(labels_g)
    return float(np.mean([(gl == lab).mean() for lab in np.asarray(labels_q)]))
