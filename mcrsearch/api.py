"""The Python API, in qdrant-client's style:

    import mcrsearch
    client = mcrsearch.Client()                           # embedded index under MCRSEARCH_HOME
    client = mcrsearch.Client(url="http://host:6333", api_key="...", collection="media")
    hits = client.query(audio="dog.wav", target="3d", k=5)
    hits = client.query(text="a red chair", image="chair.jpg", weights={"text": 2})
    hits = client.query(like="photos/cat.jpg", target="audio")
    client.info(); client.delete(["photos/cat.jpg"])

Indexing lives in the `indexer` package (`indexer.index_path(folder, client.settings)`), which imports
this engine, never the other way round.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING, Any, Iterable, Mapping

from mcrsearch.modality import Modality

if TYPE_CHECKING:
    from mcrsearch.config import Settings
    from mcrsearch.search import Hit
    from mcrsearch.space import Space
    from mcrsearch.store import Store


class Client:
    """A handle on one collection (embedded or on a Qdrant server); opened lazily, close() when done."""

    def __init__(self, path: str | Path | None = None, url: str | None = None, api_key: str | None = None,
                 collection: str | None = None, settings: "Settings | None" = None,
                 spaces: Iterable["Space"] = (), **overrides: Any) -> None:
        from mcrsearch.config import load_settings

        base = settings or load_settings()
        self.settings = base.with_overrides(store_path=path, qdrant_url=url, qdrant_api_key=api_key,
                                            collection=collection, **overrides)
        self._spaces = {s.name: s for s in spaces}
        self._store: "Store | None" = None
        self._searcher: Any = None

    # -- lifecycle
    @property
    def store(self) -> "Store":
        if self._store is None:
            from mcrsearch.store import Store

            self._store = Store.open(self.settings)
        return self._store

    def close(self) -> None:
        if self._store is not None:
            self._store.close()
            self._store = None

    def __enter__(self) -> "Client":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    # -- operations
    def query(self, audio: Any = None, image: Any = None, text: str | None = None, points: Any = None,
              like: str | Path | None = None, target: str | Modality = "any", k: int = 10,
              weights: Mapping[str | Modality, float] | None = None, space: str | None = None) -> list["Hit"]:
        """Search with one or several inputs (paths or decoded media); fused inputs rank on calibrated scores."""
        from mcrsearch.search import QueryInput, Searcher

        w = {Modality.parse(m): float(v) for m, v in (weights or {}).items()}
        inputs = [QueryInput(m, v, w.get(m, 1.0)) for m, v in
                  ((Modality.AUDIO, audio), (Modality.IMAGE, image), (Modality.TEXT, text),
                   (Modality.POINTS, points)) if v is not None]
        if like is not None:
            inputs.append(QueryInput(None, like, 1.0, like=True))
        # one Searcher per client: spaces (models) are built once and reused by every later query
        if self._searcher is None or self._searcher.store is not self.store:
            self._searcher = Searcher(self.store, self.settings, self._spaces)
        return self._searcher.query(inputs, target=target, k=k, space=space)

    def info(self) -> dict[str, Any]:
        """Collection, spaces, counts per modality and storage size."""
        store = self.store
        counts = store.counts()
        return {
            "collection": store.collection,
            "backend": "server" if self.settings.qdrant_url else "embedded",
            "location": store.backend.location,
            "spaces": [{"name": s.name, "fingerprint": s.fingerprint, "dim": s.dim, "modalities": s.modalities,
                        "calibrated_pairs": len(s.calibration)} for s in store.spaces().values()],
            "counts": counts,
            "total": sum(counts.values()),
            "storage_bytes": store.size_bytes(),
        }

    def delete(self, paths: Iterable[str | Path]) -> int:
        """Remove items by path (files or folders); returns how many points were removed."""
        from mcrsearch.store import point_id

        targets = [os.path.abspath(Path(p).expanduser()) for p in paths]
        ids = {point_id(p) for p in targets}
        prefixes = tuple(t.rstrip(os.sep) + os.sep for t in targets)
        for rec in self.store.scroll(fields=["path"]):
            if str(rec.payload.get("path", "")).startswith(prefixes):
                ids.add(rec.id)
        present = [r.id for r in self.store.retrieve(sorted(ids))]
        self.store.delete(present)
        return len(present)

    def count(self, target: str | Modality | None = None) -> int:
        return self.store.count(None if target in (None, "any") else [Modality.parse(target)])
