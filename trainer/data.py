"""What a connection trainer consumes: cached embeddings of two MCRs, nothing else.

Why a plain dataclass: the trainers must not care whether vectors come from the mini-world,
real encoders or a synthetic generator; all of them reduce to these row-aligned arrays.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field

import numpy as np


@dataclass
class ValidationSet:
    """Held-out raw features of one modality in MCR A and one in MCR B, with class labels."""

    name: str
    x_a: np.ndarray
    labels_a: np.ndarray
    x_b: np.ndarray
    labels_b: np.ndarray


@dataclass
class ConnectionData:
    """Embeddings that connect MCR A to MCR B (for Ex-MCR: A = leaf, B = frozen base).

    `overlap_a[i]` and `overlap_b[i]` are the SAME item (e.g. a text) embedded in A and in B;
    `memory_a` / `memory_b` are unpaired banks of each MCR's other modality; `pairs_a[i]`/`pairs_b[i]`
    are true cross-modal pairs, used only by the paired oracle; `pairs_overlap_a/b[i]` (optional) are the
    overlap modality of the same instances, so the oracle can train on true tuples.
    """

    overlap_a: np.ndarray
    overlap_b: np.ndarray
    memory_a: np.ndarray
    memory_b: np.ndarray
    pairs_a: np.ndarray | None = None
    pairs_b: np.ndarray | None = None
    validation: list[ValidationSet] = field(default_factory=list)
    pairs_overlap_a: np.ndarray | None = None   # overlap modality of the same true-pair instances (oracle)
    pairs_overlap_b: np.ndarray | None = None

    def __post_init__(self) -> None:
        if len(self.overlap_a) != len(self.overlap_b):
            raise ValueError("overlap_a and overlap_b must be row-aligned (same length).")
        if (self.pairs_a is None) != (self.pairs_b is None) or (
                self.pairs_a is not None and self.pairs_b is not None and len(self.pairs_a) != len(self.pairs_b)):
            raise ValueError("pairs_a and pairs_b must both be given and row-aligned.")
        if self.memory_a.shape[1] != self.overlap_a.shape[1] or self.memory_b.shape[1] != self.overlap_b.shape[1]:
            raise ValueError("memory and overlap of one MCR must have the same dimension.")

    def true_tuples(self) -> dict[str, np.ndarray]:
        """Row-aligned true tuples (m_a, o_a, o_b, m_b) for the paired oracle."""
        if self.pairs_a is None or self.pairs_b is None:          # both or neither (checked at construction)
            raise ValueError("The paired oracle needs pairs_a/pairs_b.")
        if self.pairs_overlap_a is not None and self.pairs_overlap_b is not None:
            return {"m_a": self.pairs_a, "o_a": self.pairs_overlap_a, "o_b": self.pairs_overlap_b, "m_b": self.pairs_b}
        raise ValueError("The paired oracle needs pairs_overlap_a/pairs_overlap_b (the overlap of the pair instances).")

    @property
    def dim_a(self) -> int:
        return int(self.overlap_a.shape[1])

    @property
    def dim_b(self) -> int:
        return int(self.overlap_b.shape[1])

    def fingerprint(self) -> str:
        """Content hash of the training arrays, recorded in checkpoint sidecars for provenance."""
        h = hashlib.sha256()
        for name in ("overlap_a", "overlap_b", "memory_a", "memory_b", "pairs_a", "pairs_b", "pairs_overlap_a",
                     "pairs_overlap_b"):
            arr = getattr(self, name)
            if arr is None:
                continue
            arr = np.ascontiguousarray(arr, dtype=np.float32)
            h.update(name.encode() + str(arr.shape).encode())
            h.update(arr.tobytes())
        return h.hexdigest()[:16]

    def summary(self) -> dict[str, int]:
        return {"overlap": len(self.overlap_a), "memory_a": len(self.memory_a), "memory_b": len(self.memory_b),
                "pairs": 0 if self.pairs_a is None else len(self.pairs_a), "dim_a": self.dim_a, "dim_b": self.dim_b}
