"""The query layer: any-to-any, fused multi-input queries, target filters, calibrated scores.

Why calibration: cosine scales differ between modality pairs (audio->image cosines may sit around 0.1
while text->image ones sit around 0.3), so raw cosines cannot rank a mixed `--target any` list or fuse
an audio and a text query fairly. At index time the collection records, per (query modality, target
modality) pair, the mean and standard deviation of the cosine between random items; a hit's calibrated
score is the z-score of its cosine under its pair's statistics (and, for fused queries, the weighted
mean of the inputs' z-scores). The raw cosine is returned alongside.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Iterable, Sequence

import numpy as np

from mcrsearch.errors import ConfigError, SpaceMismatchError, StoreError
from mcrsearch.modality import Modality
from mcrsearch.store import ALL_MODALITIES, SpaceRecord, Store, point_id

if TYPE_CHECKING:
    from mcrsearch.config import Settings
    from mcrsearch.space import Space

CALIBRATION_SAMPLE = 256          # items per modality used for the pair statistics
MIN_PAIRS = 10                    # fewer random pairs than this: fall back to the '*->target' statistics
MIN_STD = 0.02                    # a tiny collection must not turn a small cosine gap into a huge z-score
PRESENTATION_FIELDS = ("text", "caption", "duration", "sample_rate", "width", "height", "point_count")


@dataclass
class Hit:
    """One result: where it is, what it is, how well it matches."""

    id: str
    path: str
    modality: str
    score: float                  # calibrated (z-score; comparable across modality pairs)
    cosine: float                 # raw cosine (weighted mean over the inputs of a fused query)
    payload: dict[str, Any] = field(default_factory=dict)

    @property
    def details(self) -> dict[str, Any]:
        """The payload fields worth showing next to a result (caption text, duration, sizes)."""
        return {k: self.payload[k] for k in PRESENTATION_FIELDS if k in self.payload}

    def to_dict(self) -> dict[str, Any]:
        return {"path": self.path, "modality": self.modality, "score": round(self.score, 4),
                "cosine": round(self.cosine, 4), **self.details}


@dataclass
class QueryInput:
    """One input of a query: a file path, decoded media, a text string, or an indexed item (`like`)."""

    modality: Modality | None
    value: Any
    weight: float = 1.0
    like: bool = False


# ----------------------------------------------------------------------------- calibration

def compute_calibration(store: Store, space: str, sample: int = CALIBRATION_SAMPLE) -> dict[str, list[float]]:
    """Per-pair cosine statistics from a deterministic sample of stored items (first ids in id order).

    Point ids are uuid5 hashes of paths, so the first ids in id order are a stable pseudo-random sample;
    the statistics are therefore a pure function of the stored point set.
    """
    vectors: dict[str, np.ndarray] = {}
    for m in ALL_MODALITIES:
        rows = [r.vectors[space] for r in _first(store, space, m, sample) if space in r.vectors]
        if rows:
            vectors[m] = np.stack(rows).astype(np.float32)
    stats: dict[str, list[float]] = {}
    everything = np.concatenate(list(vectors.values())) if vectors else None
    for t, vt in vectors.items():
        for q, vq in list(vectors.items()) + [("*", everything)]:
            sims = vq @ vt.T
            if q == t:
                sims = sims[~np.eye(len(vq), dtype=bool)] if len(vq) > 1 else np.empty(0)
            sims = np.asarray(sims).ravel()
            if sims.size >= MIN_PAIRS:
                stats[f"{q}->{t}"] = [float(sims.mean()), float(max(sims.std(), MIN_STD))]
    return stats


def _first(store: Store, space: str, modality: str, n: int) -> list:
    return list(store.scroll(fields=["modality"], modalities=[modality], with_vectors=[space], limit=n))


def calibrate(cosine: np.ndarray | float, record: SpaceRecord, query: str, target: str) -> np.ndarray | float:
    stats = record.calibration.get(f"{query}->{target}") or record.calibration.get(f"*->{target}") or [0.0, 1.0]
    return (np.asarray(cosine) - stats[0]) / stats[1]


# ----------------------------------------------------------------------------- space choice

def choose_space(store: Store, query_modalities: Iterable[Modality], targets: Sequence[str] | None,
                 requested: str | None) -> SpaceRecord:
    """The space to search: the requested one, else the only stored space covering query and targets."""
    spaces = store.spaces()
    if not spaces:
        raise StoreError(f"Collection '{store.collection}' holds no vectors yet; run 'mcrsearch index PATH'.")
    if requested and requested != "auto":
        if requested not in spaces:
            raise ConfigError(f"Collection '{store.collection}' has no space '{requested}'; it holds "
                              f"{', '.join(sorted(spaces))}.")
        return spaces[requested]
    need = {m.value for m in query_modalities} | set(targets or [])
    fits = [s for s in spaces.values() if need <= set(s.modalities)]
    if len(fits) == 1:
        return fits[0]
    if not fits:
        raise ConfigError(f"No space in collection '{store.collection}' covers {', '.join(sorted(need))}; "
                          f"it holds {', '.join(sorted(spaces))}.")
    raise ConfigError(f"Several spaces cover this query ({', '.join(sorted(s.name for s in fits))}); "
                      "pick one with --space.")


# ----------------------------------------------------------------------------- the searcher

class Searcher:
    """Runs queries against one store; builds (and caches) the spaces needed to embed query inputs."""

    def __init__(self, store: Store, settings: "Settings", spaces: dict[str, "Space"] | None = None) -> None:
        self.store = store
        self.settings = settings
        self._spaces: dict[str, "Space"] = spaces if spaces is not None else {}   # shared cache, not a copy

    def space(self, record: SpaceRecord) -> "Space":
        if record.name not in self._spaces:
            from mcrsearch.space import create_space

            self._spaces[record.name] = create_space(record.name, self.settings)
        sp = self._spaces[record.name]
        if sp.fingerprint != record.fingerprint:
            raise SpaceMismatchError(
                f"The '{record.name}' space available here (fingerprint {sp.fingerprint}) differs from the one "
                f"collection '{self.store.collection}' was built with ({record.fingerprint}); re-index it.")
        return sp

    def query(self, inputs: Sequence[QueryInput], target: str | Modality = "any", k: int = 10,
              space: str | None = None) -> list[Hit]:
        if not inputs:
            raise ConfigError("Give at least one query input (--audio, --image, --text, --3d or --like).")
        if k < 1:
            raise ConfigError("k must be at least 1.")
        self.store.refresh()
        resolved = [self._resolve_like(i) if i.like else i for i in inputs]
        for inp in resolved:
            if inp.weight <= 0:
                raise ConfigError("Query weights must be positive.")
        targets = None if str(target) in {"any", "all"} else [Modality.parse(target).value]
        qmods = [i.modality for i in resolved]
        record = choose_space(self.store, qmods, targets, space or self.settings.space)
        targets = targets or [m for m in record.modalities]
        vectors = [self._vector(inp, record) for inp in resolved]
        exclude = {point_id(inp.value) for inp in resolved if inp.like}

        weights = np.array([i.weight for i in resolved], dtype=np.float64)
        weights = weights / weights.sum()
        fetch = k + len(exclude) if len(vectors) == 1 else max(3 * k, 30)
        hits: list[Hit] = []
        for t in targets:
            candidates: dict[str, Any] = {}
            for v in vectors:
                for r in self.store.search(record.name, v, fetch, [t], fingerprint=record.fingerprint,
                                           with_vectors=len(vectors) > 1):
                    if r.id not in exclude:
                        candidates.setdefault(r.id, r)
            for r in candidates.values():
                if len(vectors) == 1:
                    cos = np.array([r.score])
                else:
                    x = r.vectors[record.name]
                    cos = np.array([float(np.dot(v, x)) for v in vectors])
                z = np.array([calibrate(c, record, inp.modality.value, t) for c, inp in zip(cos, resolved)])
                hits.append(Hit(r.id, str(r.payload.get("path", "")), str(r.payload.get("modality", t)),
                                float(weights @ z), float(weights @ cos), r.payload))
        hits.sort(key=lambda h: (-h.score, h.path))
        return hits[:k]

    # -- inputs
    def _resolve_like(self, inp: QueryInput) -> QueryInput:
        path = os.path.abspath(Path(str(inp.value)).expanduser())
        found = self.store.retrieve([point_id(path)])
        if not found:
            raise ConfigError(f"{path} is not in collection '{self.store.collection}'; index it first.")
        return QueryInput(Modality.parse(found[0].payload["modality"]), path, inp.weight, like=True)

    def _vector(self, inp: QueryInput, record: SpaceRecord) -> np.ndarray:
        if inp.like:
            rec = self.store.retrieve([point_id(inp.value)], with_vectors=True)
            if not rec or record.name not in rec[0].vectors:
                raise ConfigError(f"{inp.value} has no vector in space '{record.name}'; re-index it.")
            return rec[0].vectors[record.name].astype(np.float32)
        sp = self.space(record)
        modality, item = _decode_input(inp, sp.mesh_points)
        if not sp.supports(modality):
            raise ConfigError(f"Space '{record.name}' cannot embed {modality.value} queries.")
        return sp.embed(modality, [item])[0]


def _decode_input(inp: QueryInput, n_points: int) -> tuple[Modality, Any]:
    """A query input as decoded media: text stays text, paths go through the same decoder as indexing."""
    if inp.modality is Modality.TEXT and isinstance(inp.value, str):
        return Modality.TEXT, inp.value
    if isinstance(inp.value, (str, Path)):
        from mcrsearch import media

        path = Path(inp.value).expanduser()
        if not path.is_file():
            raise ConfigError(f"The query file {path} does not exist.")
        modality, decoded = media.decode(str(path), inp.modality, n_points=n_points)
        return Modality.parse(modality), decoded
    if inp.modality is None:
        raise ConfigError("Decoded query inputs need their modality.")
    return inp.modality, inp.value


def parse_weights(specs: Iterable[str]) -> dict[Modality, float]:
    """CLI `--weight audio=2` strings -> {Modality.AUDIO: 2.0}."""
    out: dict[Modality, float] = {}
    for spec in specs:
        name, sep, value = spec.partition("=")
        try:
            out[Modality.parse(name)] = float(value)
        except ValueError as exc:
            raise ConfigError(f"Bad weight '{spec}'; write MODALITY=NUMBER, e.g. audio=2.") from exc
        if not sep:
            raise ConfigError(f"Bad weight '{spec}'; write MODALITY=NUMBER, e.g. audio=2.")
    return out
