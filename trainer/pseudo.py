"""Pseudo partners: softmax-weighted averages over a memory, computed in RAM-bounded chunks.

`p(q, M) = normalize(sum_j softmax_j(<q, m_j> / tau) * values_j)`, where `values` defaults to the memory
itself. Passing a different, row-aligned `values` bank is cross-space aggregation: the weights are
computed in one MCR (e.g. CLAP-text) and applied to the same items embedded in another (CLIP-text).
Why streaming: the softmax is accumulated over memory chunks with a running max (log-sum-exp), so a
memory of millions of rows (possibly a np.memmap) never has to be in memory or on the device at once.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch
import torch.nn.functional as F


def _as_tensor(x: Any, device: torch.device | str = "cpu") -> torch.Tensor:
    if isinstance(x, torch.Tensor):
        return x.to(device=device, dtype=torch.float32)
    return torch.from_numpy(np.ascontiguousarray(x, dtype=np.float32)).to(device)


@torch.no_grad()
def pseudo_embeddings(queries: Any, memory: Any, tau: float, chunk: int = 16384, values: Any = None,
                      query_chunk: int = 1024, device: torch.device | str = "cpu",
                      normalize: bool = True) -> torch.Tensor:
    """Softmax aggregation of `values` (default `memory`) weighted by `<query, memory>/tau`, chunked.

    Returns an (n_queries, d_values) float32 tensor on `device`, L2-normalised unless `normalize=False`.
    """
    if tau <= 0:
        raise ValueError("tau must be positive.")
    values = memory if values is None else values
    if len(values) != len(memory):
        raise ValueError("values must be row-aligned with memory.")
    n_mem = len(memory)
    if n_mem == 0:
        raise ValueError("the memory is empty.")
    q_all = _as_tensor(queries, device)
    d_val = int(values.shape[1])
    out = torch.empty((q_all.shape[0], d_val), dtype=torch.float32, device=device)
    for qs in range(0, q_all.shape[0], query_chunk):
        q = q_all[qs:qs + query_chunk]
        run_max = torch.full((q.shape[0], 1), -float("inf"), device=device)
        run_sum = torch.zeros((q.shape[0], 1), device=device)
        acc = torch.zeros((q.shape[0], d_val), device=device)
        for ms in range(0, n_mem, chunk):
            keys = _as_tensor(memory[ms:ms + chunk], device)
            vals = keys if values is memory else _as_tensor(values[ms:ms + chunk], device)
            logits = q @ keys.T / tau
            new_max = torch.maximum(run_max, logits.max(dim=1, keepdim=True).values)
            scale = torch.exp(run_max - new_max)
            weights = torch.exp(logits - new_max)
            run_sum = run_sum * scale + weights.sum(dim=1, keepdim=True)
            acc = acc * scale + weights @ vals
            run_max = new_max
        agg = acc / run_sum
        out[qs:qs + q.shape[0]] = F.normalize(agg, dim=-1) if normalize else agg
    return out


def cross_space_pseudo(queries: Any, keys: Any, values: Any, tau: float, **kwargs: Any) -> torch.Tensor:
    """Partner in another MCR: weights from `queries` vs `keys` (this MCR), applied to `values` (that MCR)."""
    return pseudo_embeddings(queries, keys, tau, values=values, **kwargs)


def add_noise(x: torch.Tensor, sigma: float, generator: torch.Generator | None = None) -> torch.Tensor:
    """Semantic completion: `normalize(x + eps)`, `eps ~ N(0, sigma^2 I)`; identity when sigma == 0."""
    if sigma <= 0:
        return x
    eps = torch.randn(x.shape, generator=generator, device=x.device, dtype=x.dtype) * sigma
    return F.normalize(x + eps, dim=-1)
