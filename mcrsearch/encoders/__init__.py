"""Encoder factory in open_clip's style: `create_encoder(family, config=..., checkpoint=..., device=...)`.

Each family lives in its own module, imported only when asked for, so heavy libraries load lazily.
"""

from __future__ import annotations

from typing import Any

from mcrsearch import plugins
from mcrsearch.encoders.base import Encoder, l2_normalize, state_dict_digest
from mcrsearch.errors import ConfigError

# The engine's own families: name -> "module:builder" (each builder takes keyword arguments and returns an
# Encoder). Families from above the engine (the mini-world's `mini`) are entry points (mcrsearch.plugins).
ENCODER_FAMILIES: dict[str, str] = {
    "openclip": "mcrsearch.encoders.openclip:build",
    "clap": "mcrsearch.encoders.clap:build",
    "ulip2": "mcrsearch.encoders.ulip:build",
}
ENCODER_GROUP = "mcrsearch.encoders"


def register_encoder_family(family: str, target: str) -> None:
    """Make `create_encoder(family, ...)` call the builder at `target` ("module:function", imported on demand).

    A family name already taken is refused (ConfigError) rather than replaced.
    """
    if family in encoder_families():
        raise ConfigError(f"An encoder family named '{family}' is already registered; choose another name.")
    ENCODER_FAMILIES[family] = target


def encoder_families() -> dict[str, str]:
    """Every family: the engine's own, those registered at run time, and installed plug-ins'."""
    return {**plugins.targets(ENCODER_GROUP), **ENCODER_FAMILIES}


def create_encoder(family: str, **kwargs: Any) -> Encoder:
    """Build an encoder of a registered family (kwargs: config name or dict, checkpoint path, device...)."""
    families = encoder_families()
    if family not in families:
        raise ConfigError(f"Unknown encoder family '{family}'; known: {', '.join(sorted(families))}.")
    return plugins.load(families[family])(**kwargs)


__all__ = ["Encoder", "ENCODER_FAMILIES", "create_encoder", "encoder_families", "register_encoder_family", "l2_normalize", "state_dict_digest"]
