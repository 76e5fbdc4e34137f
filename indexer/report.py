"""The result of one index run: what the user sees in the summary and in `--json`."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass
class Failure:
    path: str
    reason: str


@dataclass
class IndexReport:
    indexed: int = 0
    unchanged: int = 0
    removed: int = 0
    failed: list[Failure] = field(default_factory=list)
    collection: str = ""
    space: str = ""
    location: str = ""
    seconds: float = 0.0           # wall time of the whole run
    encode_seconds: float = 0.0    # time inside the space's encoders and heads (main thread)
    batches: int = 0

    def to_dict(self) -> dict[str, Any]:
        """The documented `--json` shape."""
        return {"indexed": self.indexed, "unchanged": self.unchanged, "removed": self.removed,
                "failed": [{"path": f.path, "reason": f.reason} for f in self.failed]}
