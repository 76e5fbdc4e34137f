"""What an index run hands from one stage to the next: the plan's files, what reading each one found, and the
decoded files waiting for the encoder. Typed records instead of tagged tuples, so each stage dispatches on
what it holds (`isinstance`) and a field is named where it is read, in the local and the Ray indexer alike.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Union

from mcrsearch_indexer.scan import ScannedFile

from mcrsearch.modality import Modality
from mcrsearch.store import Record


@dataclass(frozen=True)
class Planned:
    """A file the plan sends to be read: the scan's facts and what the store holds for it (None: new)."""

    file: ScannedFile
    old: Record | None


@dataclass(frozen=True)
class Touch:
    """The file's content is what the store holds (only its mtime moved): refresh its state fields."""

    digest: str


@dataclass(frozen=True)
class Copy:
    """The content is stored already, under `source_id` with a vector in this space: copy that vector."""

    digest: str
    source_id: str


@dataclass(frozen=True)
class Decoded:
    """New content, decoded: `media` goes to the encoder, `info` (duration, sizes ...) into the payload."""

    digest: str
    modality: Modality
    media: Any
    info: dict[str, Any]


#: What reading, hashing and decoding one file found (`pipeline._prepare`).
Prepared = Union[Touch, Copy, Decoded]


@dataclass(frozen=True)
class ToEmbed:
    """A decoded file waiting in its modality's batch for the encoder."""

    file: ScannedFile
    old: Record | None
    decoded: Decoded


class Cancelled:
    """The type of `CANCELLED`: what `pipeline._prepared` yields in place of an outcome once `cancel` says
    stop."""

    def __repr__(self) -> str:
        return "CANCELLED"


CANCELLED = Cancelled()
