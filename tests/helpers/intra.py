"""The intra alignment's own effect, for the regression checks that must fail when it is broken.

Intra alignment pulls each MCR's projected overlap embedding to its projected pseudo partner, i.e. it closes the
modality gap between that MCR's two modalities where the heads act on them (METHOD.md, C-MCR step 5; Ex-MCR
step 2). One-modality emergent retrieval barely sees this (a gap that shifts a whole modality leaves rankings
within one target modality as they were), so the checks measure the gap itself: the same seed trained with and
without the intra term, and the relative drop of the mean gap over every connection
(`mcrsearch_trainer.pipeline.intra_gaps`) on held-out test vectors. A broken term is put in on purpose by
replacing the one loss function both trainers call (`mcrsearch_trainer.loop.intra_mse`).
"""

from __future__ import annotations

import statistics
from typing import Callable

import pytest
import torch

from mcrsearch_trainer.loop import intra_mse


def _zeroed(x: torch.Tensor, partner: torch.Tensor) -> torch.Tensor:
    return 0.0 * intra_mse(x, partner)        # weight 0: the bug that left every trainer test green


def _flipped(x: torch.Tensor, partner: torch.Tensor) -> torch.Tensor:
    return -intra_mse(x, partner)             # pushes the partners apart


BREAKS: dict[str, Callable[[torch.Tensor, torch.Tensor], torch.Tensor]] = {"zeroed": _zeroed, "sign-flipped": _flipped}


def mean_gap(method: str, feats: dict, seed: int, **overrides) -> float:
    """Train both connections with `overrides` and return the mean intra-space modality gap on the test split."""
    from mcrsearch_trainer.config import CMCRConfig, ExMCRConfig, make_config
    from mcrsearch_trainer.pipeline import fit_connections, intra_gaps

    cls = ExMCRConfig if method == "exmcr" else CMCRConfig
    cfg = make_config(cls, device="cpu", seed=seed, threads=1, **overrides)
    heads, _ = fit_connections(method, feats, cfg)
    return statistics.fmean(intra_gaps(method, heads, feats).values())


def gap_drops(method: str, feats: dict, seeds: tuple[int, ...],
              breaks: dict[str, int] | None = None, **overrides) -> tuple[list[float], dict[str, float]]:
    """(relative gap drop of the real trainer per seed, drop of each broken trainer named in `breaks` at its seed).

    Each drop is `1 - gap(with intra) / gap(without intra)` for the same seed, so batches, noise and
    initialisation are shared and only the intra term differs.
    """
    import mcrsearch_trainer.cmcr as cmcr
    import mcrsearch_trainer.exmcr as exmcr

    module = exmcr if method == "exmcr" else cmcr
    seeds_needed = set(seeds) | set((breaks or {}).values())
    without = {s: mean_gap(method, feats, s, use_intra=False, **overrides) for s in sorted(seeds_needed)}
    real = [1.0 - mean_gap(method, feats, s, **overrides) / without[s] for s in seeds]
    broken = {}
    for name, seed in (breaks or {}).items():
        with pytest.MonkeyPatch.context() as mp:
            mp.setattr(module, "intra_mse", BREAKS[name])
            broken[name] = 1.0 - mean_gap(method, feats, seed, **overrides) / without[seed]
    return real, broken
