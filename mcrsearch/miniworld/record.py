"""Where the mini-world lives on disk, and reading the `current.json` record of which world and models are live.

`mcrsearch demo` writes the record (`mcrs.write_current`); the `miniworld*` spaces read it here, so that
`mcrsearch index PATH --space miniworld` works on any folder afterwards. Light at import (no torch, no
trainer): the space plug-in needs it.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from mcrsearch.config import Settings

CURRENT = "current.json"


def default_dir(settings: "Settings") -> Path:
    """Where `mcrsearch demo` generates its world."""
    return Path(settings.home) / "miniworld"


def miniworld_cache(settings: "Settings") -> Path:
    """The mini-world's cache folder: trained MCRs, heads, feature caches, generated oracle worlds."""
    return Path(settings.cache_dir) / "miniworld"


def read_current(settings: "Settings") -> dict[str, Any] | None:
    """The record `write_current` left, or None when no mini-world was trained here."""
    path = miniworld_cache(settings) / CURRENT
    return json.loads(path.read_text()) if path.is_file() else None


__all__ = ["CURRENT", "default_dir", "miniworld_cache", "read_current"]
