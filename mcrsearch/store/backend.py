"""The primitive vector-store operations each backend implements (`Store` adds metadata and fingerprint
checks on top), and the paging both backends' scrolls share."""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import Any, Iterator, Sequence

import numpy as np

from mcrsearch.store.conditions import Filters
from mcrsearch.store.records import PointData, Record


def pages(limit: int | None, batch: int) -> Iterator[int]:
    """Page sizes for a scroll: `batch` at a time, the last page cut to `limit` (None: no end)."""
    left = limit
    while left is None or left > 0:
        size = batch if left is None else min(batch, left)
        yield size
        if left is not None:
            left -= size


class Backend(ABC):
    """Primitive vector-store operations; `Store` adds metadata and fingerprint checks on top."""

    location: str

    @abstractmethod
    def exists(self) -> bool: ...
    @abstractmethod
    def create(self, name: str, dim: int) -> None: ...
    @abstractmethod
    def vector_names(self) -> dict[str, int]: ...
    @abstractmethod
    def add_vector(self, name: str, dim: int) -> None: ...
    @abstractmethod
    def upsert(self, points: Sequence[PointData]) -> None: ...
    @abstractmethod
    def delete(self, ids: Sequence[str]) -> None: ...
    @abstractmethod
    def set_payload(self, ids: Sequence[str], payload: dict[str, Any]) -> None: ...
    @abstractmethod
    def retrieve(self, ids: Sequence[str], with_vectors: bool) -> list[Record]: ...
    @abstractmethod
    def scroll(self, modalities: list[str], fields: list[str] | None, with_vectors: bool | list[str],
               limit: int | None = None, batch: int = 1024) -> Iterator[Record]: ...
    @abstractmethod
    def search(self, name: str, vector: np.ndarray, k: int, modalities: list[str], exact: bool,
               ef: int, oversampling: float, with_vectors: bool,
               filters: Filters | None = None) -> list[Record]: ...
    @abstractmethod
    def count(self, modalities: list[str]) -> int: ...
    def global_graph(self) -> bool:
        """Whether the collection has a graph across modalities (else one graph per modality)."""
        return True
    def ensure_filter_indexes(self) -> None:
        """Create the payload indexes of FILTER_FIELDS that the collection lacks (collections made before them)."""
    def optimize(self) -> None: ...
    def size_bytes(self) -> int | None:
        return None
    def close(self) -> None: ...
