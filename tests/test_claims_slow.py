"""Regression check for the method's ingredients (issue 16): on a small hard world, every ablation whose
effect the full `benchmarks/claims.py` run shows clearly above noise must keep its sign. A broken
ingredient (pseudo partners, noise, dense pairs, various-centric data) or a broken paired oracle fails here."""

from __future__ import annotations

import importlib.util
import statistics
from dataclasses import replace
from pathlib import Path

import pytest

# (method, variant, minimum mean gain of the full method over the variant, over the seeds).
# Full run (48 classes, 5 seeds; docs/BENCHMARKS.md, claims section): C-MCR pseudo +0.117, noise +0.020;
# Ex-MCR pseudo +0.168, dense +0.106, various-centric +0.059; all with 95% intervals above 0.
CLEAR = [("cmcr", "no pseudo partners", 0.02), ("cmcr", "no noise", 0.0),
         ("exmcr", "no pseudo partners", 0.02), ("exmcr", "no dense alignment", 0.02),
         ("exmcr", "overlap-centric data only", 0.0)]
SEEDS = (0, 1, 2)


def _claims():
    spec = importlib.util.spec_from_file_location("claims", Path(__file__).parents[1] / "benchmarks" / "claims.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.slow
def test_hard_world_ablations_keep_their_sign(tmp_path):
    import torch

    from mcrsearch.config import load_settings
    from mcrsearch.miniworld.world import WorldConfig

    claims = _claims()
    torch.set_num_threads(1)
    hard = WorldConfig.preset("hard")
    config = replace(hard, classes=hard.classes[:24],
                     counts=(("mcr-clip", 16), ("mcr-clap", 16), ("mcr-ulip", 16), ("unpaired", 8), ("test", 6)))
    _, _, feats = claims.prepare(load_settings(home=tmp_path, device="cpu"), config)

    def mean_score(method: str, overrides: dict, oracle: bool = False) -> float:
        keys = claims.EX_EMERGENT if method == "exmcr" else claims.SHARED
        return statistics.fmean(claims.score(claims.train_eval(method, feats, overrides, s, oracle=oracle), keys)
                                for s in SEEDS)

    full = {m: mean_score(m, {}) for m in ("cmcr", "exmcr")}
    chance = 1.0 / len(config.classes)
    assert full["exmcr"] > 4 * chance and full["cmcr"] > 4 * chance, full
    gains = {}
    for method, variant, floor in CLEAR:
        overrides = (claims.EXMCR_VARIANTS if method == "exmcr" else claims.CMCR_VARIANTS)[variant]
        gains[(method, variant)] = full[method] - mean_score(method, overrides)
    for method in ("cmcr", "exmcr"):
        gains[(method, "paired oracle above")] = mean_score(method, {}, oracle=True) - full[method]
    failed = {k: round(v, 4) for k, v in gains.items()
              if v <= dict(((m, n), f) for m, n, f in CLEAR).get(k, 0.0)}
    assert not failed, f"ingredients whose effect changed sign or vanished: {failed} (all gains: {gains})"
