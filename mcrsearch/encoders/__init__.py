"""Encoder factory in open_clip's style: `create_encoder(family, config=..., checkpoint=..., device=...)`.

Each family lives in its own module, imported only when asked for, so heavy libraries load lazily.
"""

from __future__ import annotations

import importlib
from typing import Any

from mcrsearch.encoders.base import Encoder, l2_normalize, state_dict_digest
from mcrsearch.errors import ConfigError

# family name -> "module:builder"; each builder takes keyword arguments and returns an Encoder.
ENCODER_FAMILIES: dict[str, str] = {
    "openclip": "mcrsearch.encoders.openclip:build",
    "clap": "mcrsearch.encoders.clap:build",
    "ulip2": "mcrsearch.encoders.ulip:build",
    "mini": "mcrsearch.miniworld.encoder:build",     # a plug-in family: the mini-world sits on top
}


def register_encoder_family(family: str, target: str) -> None:
    """Make `create_encoder(family, ...)` call the builder at `target` ("module:function", imported on demand).

    A family name already taken is refused (ConfigError) rather than replaced.
    """
    if family in ENCODER_FAMILIES:
        raise ConfigError(f"An encoder family named '{family}' is already registered; choose another name.")
    ENCODER_FAMILIES[family] = target


def create_encoder(family: str, **kwargs: Any) -> Encoder:
    """Build an encoder of a registered family (kwargs: config name or dict, checkpoint path, device...)."""
    if family not in ENCODER_FAMILIES:
        raise ConfigError(f"Unknown encoder family '{family}'; known: {', '.join(sorted(ENCODER_FAMILIES))}.")
    module_name, _, attr = ENCODER_FAMILIES[family].partition(":")
    builder = getattr(importlib.import_module(module_name), attr)
    return builder(**kwargs)


__all__ = ["Encoder", "ENCODER_FAMILIES", "create_encoder", "register_encoder_family", "l2_normalize", "state_dict_digest"]
