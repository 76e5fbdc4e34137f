"""A video's points: embedding its segments and writing them so that a killed run leaves a clean state.

A video is one item stored as several points (see `mcrsearch.store.VIDEO_SEGMENT`): one segment point per
window and channel, with a picture vector (its sampled frames through the space's image route, mean-pooled
and normalised) or a sound vector (its soundtrack through the audio route), and the item point, which holds
no vector and carries the state fields the next run compares (as every file's point does).

Why the item point is written last: the next run trusts a file whose item point matches it. Segments are
written first and stale ones deleted next, so a run killed anywhere leaves an item point that either names
the old content (the file is embedded again, overwriting the same segment ids) or is absent; segments whose
item point does not vouch for them (another hash, a space it does not list) are deleted by `stale_segments`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from mcrsearch.modality import Modality
from mcrsearch.store import VIDEO_SEGMENT, PointData, Record, Store, path_fields, point_id, segment_id

if TYPE_CHECKING:
    from mcrsearch.space import Space
    from mcrsearch.video import VideoClip

    from mcrsearch_indexer.scan import ScannedFile

PICTURE, SOUND = "picture", "sound"
# Payload fields copied from the item onto each segment, so a search hit on a segment can be shown alone.
SEGMENT_FIELDS = ("duration", "width", "height", "fps", "has_audio")


def segment_points(path: str, digest: str, space: str, clip: "VideoClip", info: dict[str, Any],
                   pictures: np.ndarray, sounds: list[np.ndarray | None]) -> list[PointData]:
    """One point per segment and channel, in the video's item (`item` = its id)."""
    item = point_id(path)
    shown = {k: info[k] for k in SEGMENT_FIELDS if k in info}
    out = []
    for seg, picture, sound in zip(clip.segments, pictures, sounds):
        for channel, vec in ((PICTURE, picture), (SOUND, sound)):
            if vec is None:
                continue
            payload = {**shown, **path_fields(path), "path": path, "modality": VIDEO_SEGMENT, "item": item, "hash": digest,
                       "spaces": [space], "segment": seg.index, "start": seg.start, "end": seg.end,
                       "channel": channel}
            out.append(PointData(segment_id(path, space, seg.index, channel), {space: vec}, payload))
    return out


def item_point(f: "ScannedFile", digest: str, info: dict[str, Any], space: str, clip: "VideoClip",
               old: Record | None, window: float) -> PointData:
    """The video's item point: no vector; the state fields, what to show, and per space its segment
    count and window (a `--like ID@SECONDS` finds its segment from them)."""
    before = old.payload if old is not None and old.payload.get("hash") == digest else {}   # same content
    spaces = sorted(set(before.get("spaces", [])) | {space})
    segments = dict(before.get("segments") or {})
    windows = dict(before.get("segment_seconds") or {})
    segments[space] = len(clip.segments)
    windows[space] = float(window)
    payload = {**info, **path_fields(f.path), "path": f.path, "modality": Modality.VIDEO.value, "hash": digest, "size": f.size,
               "mtime_ns": f.mtime_ns, "dev": f.dev, "ino": f.ino, "spaces": spaces, "segments": segments, "segment_seconds": windows}
    return PointData(point_id(f.path), {}, payload)


def write_video(store: Store, sp: "Space", f: "ScannedFile", old: Record | None, digest: str,
                info: dict[str, Any], clip: "VideoClip", pictures: np.ndarray, sounds: list[np.ndarray | None],
                stored_segments: list[Record]) -> int:
    """Write a video's points in the kill-safe order (segments, stale deletions, item); returns the number
    of segment points written."""
    points = segment_points(f.path, digest, sp.name, clip, info, pictures, sounds)
    for p in points:
        p.payload["mtime_ns"] = f.mtime_ns          # the file filters (--modified-after) see segments too
    store.upsert(sp.name, sp.fingerprint, points)
    keep = {p.id for p in points}
    same = old is not None and old.payload.get("hash") == digest
    stale = [r.id for r in stored_segments
             if r.id not in keep and (not same or sp.name in r.payload.get("spaces", []))]
    store.delete(stale)
    store.upsert(sp.name, sp.fingerprint, [item_point(f, digest, info, sp.name, clip, old, sp.segment_seconds)])
    return len(points)


def stale_segments(segments: list[Record], items: dict[str, Record], on_disk: set[str]) -> list[str]:
    """Segment points no item point vouches for: their file is gone, or its item point is absent, names
    another content hash, or does not list the segment's space (a run killed before the item was written)."""
    out = []
    for r in segments:
        path = r.payload.get("path")
        item = items.get(path) if path in on_disk else None
        if (item is None or item.payload.get("modality") != Modality.VIDEO.value
                or item.payload.get("hash") != r.payload.get("hash")
                or not set(r.payload.get("spaces", [])) <= set(item.payload.get("spaces", []))):
            out.append(r.id)
    return out
