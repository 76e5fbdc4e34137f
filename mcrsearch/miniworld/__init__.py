"""The mini-world: an offline multimodal world with known semantics, and its three small pretrained MCRs.

    from mcrsearch.miniworld import WorldConfig, generate_world, load_or_train_mcrs
    world = generate_world(path, WorldConfig.preset("small"))
    mcrs = load_or_train_mcrs(world, settings)        # .clip, .clap, .ulip: Encoder objects

Light at import (no torch); the MCR helpers load lazily.
"""

from __future__ import annotations

from typing import Any

from mcrsearch.miniworld.generate import generate_world
from mcrsearch.miniworld.world import ALL_MODALITIES, PAIRED_SPLITS, SPLITS, World, WorldConfig, WorldItem

_LAZY = {"MiniMCRs": "mcrs", "load_or_train_mcrs": "mcrs", "encode_items": "mcrs", "decode_items": "world",
         "read_current": "record", "miniworld_cache": "record", "run_demo": "demo"}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(f"mcrsearch.miniworld.{_LAZY[name]}"), name)
    raise AttributeError(name)


__all__ = ["ALL_MODALITIES", "PAIRED_SPLITS", "SPLITS", "World", "WorldConfig", "WorldItem", "generate_world",
           *_LAZY]
