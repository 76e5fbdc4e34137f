"""The result of one index run (what the user sees in the summary and in `--json`), and its progress."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

STAGES = ("read_hash", "decode", "encode", "write")


@dataclass
class Failure:
    path: str
    reason: str


@dataclass(frozen=True)
class IndexProgress:
    """A snapshot handed to progress callbacks: `done` of `total` scanned files are settled."""

    total: int
    done: int
    indexed: int
    unchanged: int
    removed: int
    failed: int


@dataclass
class IndexReport:
    indexed: int = 0
    unchanged: int = 0
    reused: int = 0                # of `indexed`: content already stored under another path, vector copied
    removed: int = 0
    failed: list[Failure] = field(default_factory=list)
    collection: str = ""
    space: str = ""
    location: str = ""
    seconds: float = 0.0           # wall time of the whole run
    batches: int = 0
    cancelled: bool = False        # stopped early on request; what was written is whole and searchable
    video_seconds: float = 0.0     # seconds of video embedded (the throughput benchmark's numerator)
    # seconds per stage, summed over threads: read+hash, decode, encode (encoders and heads), store writes
    stage_seconds: dict[str, float] = field(default_factory=lambda: dict.fromkeys(STAGES, 0.0))

    @property
    def encode_seconds(self) -> float:
        """Time inside the space's encoders and heads."""
        return self.stage_seconds["encode"]

    def to_dict(self) -> dict[str, Any]:
        """The documented `--json` shape."""
        return {"indexed": self.indexed, "unchanged": self.unchanged, "removed": self.removed,
                "failed": [{"path": f.path, "reason": f.reason} for f in self.failed]}

    def progress(self, total: int) -> IndexProgress:
        done = self.indexed + self.unchanged + len(self.failed)
        return IndexProgress(total, min(done, total), self.indexed, self.unchanged, self.removed, len(self.failed))
