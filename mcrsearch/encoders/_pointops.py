"""ULIP-2 grouping kernels: farthest-point sampling compiled with numba instead of a Python loop per centre.

Why: the torch loop over 512 centres took about half of a full-size PointBERT batch on CPU (issue 24).
The kernel does the same float32 arithmetic in the same order as `farthest_point_sample_torch`
(squared distance as dx*dx + dy*dy + dz*dz, running minimum, first index of the maximum), so it picks
bit-for-bit the same centres; tests compare the two on random clouds. Without numba the torch loop runs.
"""

from __future__ import annotations

from typing import Any, Callable

import numpy as np
import torch

_KERNEL: Callable[..., Any] | None = None
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


def _compile() -> Callable[..., Any] | None:
    """The numba kernel, compiled (or read from numba's cache) on first use; None when numba is missing."""
    global _KERNEL, _TRIED
    if _TRIED:
        return _KERNEL
    _TRIED = True
    try:
        import numba
    except ImportError:
        return None

    @numba.njit(cache=True, nogil=True)
    def fps_kernel(xyz: Any, count: int, out: Any) -> None:  # pragma: no cover - compiled
        b, n, _ = xyz.shape
        for k in range(b):
            dist = np.full(n, np.inf, dtype=np.float32)
            last = 0
            for i in range(count):
                out[k, i] = last
                px = xyz[k, last, 0]
                py = xyz[k, last, 1]
                pz = xyz[k, last, 2]
                best = np.float32(-1.0)
                best_j = 0
                for j in range(n):
                    dx = xyz[k, j, 0] - px
                    dy = xyz[k, j, 1] - py
                    dz = xyz[k, j, 2] - pz
                    d = dx * dx + dy * dy + dz * dz
                    if d < dist[j]:
                        dist[j] = d
                    if dist[j] > best:          # strict: the first index of the maximum, as torch.argmax
                        best = dist[j]
                        best_j = j
                last = best_j

    _KERNEL = fps_kernel
    return _KERNEL


def farthest_point_sample(xyz: torch.Tensor, count: int) -> torch.Tensor:
    """Indices (B, count) of farthest-point samples starting at point 0 (deterministic).

    Float32 CPU input runs the compiled kernel; anything else (another dtype, a GPU tensor, no numba)
    runs the torch loop, which gives the same indices.
    """
    kernel = _compile() if xyz.device.type == "cpu" and xyz.dtype == torch.float32 else None
    if kernel is None:
        return farthest_point_sample_torch(xyz, count)
    points = np.ascontiguousarray(xyz.detach().numpy())
    out = np.zeros((points.shape[0], count), dtype=np.int64)
    kernel(points, int(count), out)
    return torch.from_numpy(out)
