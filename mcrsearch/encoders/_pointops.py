"""ULIP-2 grouping kernels compiled with numba: farthest-point sampling and the k-NN of each centre.

Why: a Python loop per centre (FPS) and a batched top-k over a (B, 512, 10,000) distance matrix (k-NN) took
about half of a full-size PointBERT batch on CPU (issue 24). Each kernel does the float32 arithmetic of its
torch reference (`*_torch`) in the same order, so it gives bit-for-bit the same indices; tests compare them
on random clouds, ties included.
- FPS: squared distance as dx*dx + dy*dy + dz*dz, running minimum, first index of the maximum.
- k-NN: the same squared distance (directly, as the released knn_cuda does, not |q|²+|p|²-2q·p), the k
  smallest, nearest first, ties to the lower point index (a stable sort's first k).
Without numba (or for another dtype or device) the torch references run.
"""

from __future__ import annotations

from typing import Any, Callable

import numpy as np
import torch

_KERNELS: dict[str, Callable[..., Any]] | None = None
_TRIED = False


def farthest_point_sample_torch(xyz: torch.Tensor, count: int) -> torch.Tensor:
    """Indices (B, count) of farthest-point samples starting at point 0: the reference (and fallback) loop."""
    batch, n, _ = xyz.shape
    idx = torch.zeros(batch, count, dtype=torch.long, device=xyz.device)
    dist = torch.full((batch, n), float("inf"), device=xyz.device, dtype=xyz.dtype)
    last = torch.zeros(batch, dtype=torch.long, device=xyz.device)
    rows = torch.arange(batch, device=xyz.device)
    for i in range(count):
        idx[:, i] = last
        d = ((xyz - xyz[rows, last].unsqueeze(1)) ** 2).sum(-1)
        dist = torch.minimum(dist, d)
        last = dist.argmax(-1)
    return idx


def knn_torch(points: torch.Tensor, queries: torch.Tensor, k: int) -> torch.Tensor:
    """Indices (B, Q, k) of each query's k nearest points, nearest first, ties to the lower index: the reference.

    One cloud at a time, so the (Q, N) distance matrix stays small (20 MB at 512 x 10,000)."""
    out = []
    for p, q in zip(points, queries):
        d = (q[:, None, 0] - p[None, :, 0]).square()
        d = d + (q[:, None, 1] - p[None, :, 1]).square()
        d = d + (q[:, None, 2] - p[None, :, 2]).square()
        out.append(torch.sort(d, dim=-1, stable=True).indices[:, :k])
    return torch.stack(out)


def _compile() -> dict[str, Callable[..., Any]] | None:
    """The numba kernels, compiled (or read from numba's cache) on first use; None when numba is missing."""
    global _KERNELS, _TRIED
    if _TRIED:
        return _KERNELS
    _TRIED = True
    try:
        import numba
    except ImportError:
        return None

    @numba.njit(cache=True, nogil=True)
    def fps_kernel(xyz: Any, count: int, out: Any) -> None:  # pragma: no cover - compiled
        b, n, _ = xyz.shape
        for s in range(b):
            dist = np.full(n, np.inf, dtype=np.float32)
            last = 0
            for i in range(count):
                out[s, i] = last
                px = xyz[s, last, 0]
                py = xyz[s, last, 1]
                pz = xyz[s, last, 2]
                best = np.float32(-1.0)
                best_j = 0
                for j in range(n):
                    dx = xyz[s, j, 0] - px
                    dy = xyz[s, j, 1] - py
                    dz = xyz[s, j, 2] - pz
                    d = dx * dx + dy * dy + dz * dz
                    if d < dist[j]:
                        dist[j] = d
                    if dist[j] > best:          # strict: the first index of the maximum, as torch.argmax
                        best = dist[j]
                        best_j = j
                last = best_j

    @numba.njit(cache=True, nogil=True)
    def knn_kernel(points: Any, queries: Any, k: int, out: Any) -> None:  # pragma: no cover - compiled
        b, n, _ = points.shape
        nq = queries.shape[1]
        best_d = np.empty(k, dtype=np.float32)
        best_i = np.empty(k, dtype=np.int64)
        for s in range(b):
            for c in range(nq):
                qx = queries[s, c, 0]
                qy = queries[s, c, 1]
                qz = queries[s, c, 2]
                filled = 0
                for j in range(n):
                    dx = qx - points[s, j, 0]
                    dy = qy - points[s, j, 1]
                    dz = qz - points[s, j, 2]
                    d = dx * dx + dy * dy + dz * dz
                    if filled < k:
                        pos = filled
                        filled += 1
                    elif d < best_d[k - 1]:     # strict: an equal distance keeps the earlier point
                        pos = k - 1
                    else:
                        continue
                    while pos > 0 and best_d[pos - 1] > d:     # insertion after equals: stable order
                        best_d[pos] = best_d[pos - 1]
                        best_i[pos] = best_i[pos - 1]
                        pos -= 1
                    best_d[pos] = d
                    best_i[pos] = j
                for i in range(k):
                    out[s, c, i] = best_i[i]

    _KERNELS = {"fps": fps_kernel, "knn": knn_kernel}
    return _KERNELS


def _kernels_for(*tensors: torch.Tensor) -> dict[str, Callable[..., Any]] | None:
    if all(t.device.type == "cpu" and t.dtype == torch.float32 for t in tensors):
        return _compile()
    return None


def farthest_point_sample(xyz: torch.Tensor, count: int) -> torch.Tensor:
    """Indices (B, count) of farthest-point samples starting at point 0 (deterministic).

    Float32 CPU input runs the compiled kernel; anything else (another dtype, a GPU tensor, no numba)
    runs the torch loop, which gives the same indices.
    """
    kernels = _kernels_for(xyz)
    if kernels is None:
        return farthest_point_sample_torch(xyz, count)
    points = np.ascontiguousarray(xyz.detach().numpy())
    out = np.zeros((points.shape[0], count), dtype=np.int64)
    kernels["fps"](points, int(count), out)
    return torch.from_numpy(out)


def knn(points: torch.Tensor, queries: torch.Tensor, k: int) -> torch.Tensor:
    """Indices (B, Q, k) of each query's k nearest points (k <= N), nearest first, ties to the lower index.

    Float32 CPU input runs the compiled kernel; anything else runs `knn_torch`, which gives the same indices.
    """
    if k > points.shape[1]:
        raise ValueError(f"k={k} neighbours asked of a cloud of {points.shape[1]} points")
    kernels = _kernels_for(points, queries)
    if kernels is None:
        return knn_torch(points, queries, k)
    p = np.ascontiguousarray(points.detach().numpy())
    q = np.ascontiguousarray(queries.detach().numpy())
    out = np.empty((q.shape[0], q.shape[1], k), dtype=np.int64)
    kernels["knn"](p, q, int(k), out)
    return torch.from_numpy(out)
