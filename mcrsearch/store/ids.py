"""Deterministic point ids: an item's id follows from its path, a video segment's from its path, space,
index and channel, and the collection's metadata point has a reserved id."""

from __future__ import annotations

import hashlib
import re
import uuid
from pathlib import Path

_NAMESPACE = uuid.UUID("6f1c2a58-5b0e-4d7e-9a51-3f0f9c8e2d10")
_NAMESPACE_BYTES = _NAMESPACE.bytes
META_ID = str(uuid.uuid5(_NAMESPACE, "mcrsearch:collection-metadata"))
META_KEY = "mcrsearch_meta"


def point_id(path: str | Path) -> str:
    """Deterministic id of an item: re-runs upsert the same point instead of adding a duplicate.

    The same string as `str(uuid.uuid5(namespace, path))` (RFC 4122: SHA-1 of namespace and name, version
    and variant bits set), built without the UUID object, which costs most of the time of an id (the
    indexer makes one per file). A path that is not valid UTF-8 keeps its raw bytes (surrogateescape).
    """
    name = str(path).encode("utf-8", "surrogateescape")
    digest = bytearray(hashlib.sha1(_NAMESPACE_BYTES + name, usedforsecurity=False).digest()[:16])
    digest[6] = (digest[6] & 0x0F) | 0x50        # version 5
    digest[8] = (digest[8] & 0x3F) | 0x80        # RFC 4122 variant
    h = digest.hex()
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"


_ITEM_ID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


def is_item_id(value: str) -> bool:
    """Whether a string has the form of an item id (as `point_id` writes them), rather than a path."""
    return _ITEM_ID.fullmatch(value) is not None


def segment_id(path: str, space: str, index: int, channel: str) -> str:
    """Deterministic id of one segment point of a video (a NUL cannot occur in a path, so it never
    collides with an item id)."""
    return point_id(f"{path}\x00{space}\x00{index}\x00{channel}")
