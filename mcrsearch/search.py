"""The query layer: any-to-any, fused multi-input queries, target filters, calibrated scores, paging.

Scores are calibrated z-scores (see mcrsearch.calibration): comparable across modality pairs, so a mixed
`target="any"` list and a fused audio + text query rank fairly. The raw cosine is returned alongside.
Inputs arrive here already parsed (Modality enums); user spellings are parsed once, at the Client.

Arithmetic ("more like this, less like that", over any modalities): a query's score for an item of target
modality t is  S = sum_i s_i w_i z_i / sum_{positive i} w_i,  with s_i = +1 for a positive input and -1 for a
negative one, w_i its weight and z_i = (cos(q_i, x) - mu_it) / sigma_it its calibrated score. S is linear in x,
so its best items are exactly the nearest neighbours of one combined vector per target,
c_t = sum_i s_i w_i q_i / (|q_i| sigma_it): each query runs one filtered Qdrant search per target with c_t and
rescores the candidates exactly. Why not Qdrant's recommend query: its sum_scores strategy ranks by
sum cos(pos) - sum cos(neg), the unweighted, uncalibrated special case of S, and a cosine collection
normalizes each example, so weights and per-pair calibration cannot be passed to it. Examples given as
indexed items (`like`, `not-like`) are left out of their own results, as recommend does.
"""

from __future__ import annotations

import math
import os
import threading
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, Iterable, Sequence, Union

import numpy as np

from mcrsearch import why
from mcrsearch.calibration import pair_stats
from mcrsearch.errors import ConfigError, SpaceMismatchError, StoreError
from mcrsearch.modality import Modality
from mcrsearch.store import VIDEO_SEGMENT, Filters, Record, SpaceRecord, Store, is_item_id, point_id, segment_id

if TYPE_CHECKING:
    from mcrsearch.config import Settings
    from mcrsearch.space import Space, SpaceCache

PRESENTATION_FIELDS = ("text", "caption", "duration", "sample_rate", "width", "height", "point_count",
                       "fps", "has_audio", "start", "end", "matched", "segments")
OTHER_SEGMENTS = 4          # a video hit lists at most this many of its other matching segments
VIDEO_FETCH_FACTOR = 8      # segments fetched per wanted video (a video matches in several of its segments)


@dataclass
class Item:
    """One stored item: its id, the file it was made from, its modality and payload."""

    id: str
    path: str
    modality: str
    payload: dict[str, Any] = field(default_factory=dict)

    @property
    def details(self) -> dict[str, Any]:
        """The payload fields worth showing next to a result (caption text, duration, sizes)."""
        return {k: self.payload[k] for k in PRESENTATION_FIELDS if k in self.payload}

    @classmethod
    def from_record(cls, record: Record) -> "Item":
        return cls(record.id, str(record.payload.get("path", "")), str(record.payload.get("modality", "")),
                   record.payload)


@dataclass
class Hit(Item):
    """One result: the item, and how well it matches."""

    score: float = field(kw_only=True)     # calibrated (z-score; comparable across modality pairs)
    cosine: float = field(kw_only=True)    # raw cosine (weighted mean over the positive inputs of a fused query)
    # per input: its cosine, calibrated z, weighted contribution to `score` (they add up to it), and why the
    # hit was reachable from it: the hops into the shared space and whether the pair is emergent
    inputs: list[dict[str, Any]] = field(default_factory=list, kw_only=True)
    new: bool | None = field(default=None, kw_only=True)   # a saved search's re-run: not in its last results

    def to_dict(self) -> dict[str, Any]:
        """The documented `mcrsearch query --json` shape."""
        out = {"path": self.path, "modality": self.modality, "score": round(self.score, 4),
               "cosine": round(self.cosine, 4), **self.details}
        if self.inputs:
            out["inputs"] = self.inputs
        if self.new is not None:
            out["new"] = self.new
        return out


@dataclass(frozen=True)
class MediaBytes:
    """A query file given as bytes (an upload): `name` carries the extension that says how to decode it."""

    name: str
    data: bytes


@dataclass(frozen=True, kw_only=True)
class QueryInput:
    """One input of a query, of one of the kinds below: `ContentInput` (a text or a file, embedded here),
    `LikeInput` (an indexed item, its stored vector), `VectorInput` (a vector already in the searched space);
    `ItemInput` is a `LikeInput` once found in the collection. What they share: a `negative` input counts
    against an item ("less like this"), and `name` overrides how a hit's `inputs` name it."""

    weight: float = 1.0
    negative: bool = False
    name: str = ""                # how an input made from another one (a video's picture) is named

    def label(self) -> str:
        """How the input is named in a hit's `inputs` (its text, file, or indexed item), signed."""
        return f"{'not ' if self.negative else ''}{self.name or self.describe()}"

    def describe(self) -> str:
        """The input's name without its sign."""
        return "input"


@dataclass(frozen=True)
class ContentInput(QueryInput):
    """A text, a query file (path or `MediaBytes` upload) or media already decoded, of `modality`."""

    modality: Modality
    value: Any

    def describe(self) -> str:
        if isinstance(self.value, MediaBytes):
            return self.value.name
        if isinstance(self.value, (str, Path)):
            return str(self.value)
        return self.modality.value


@dataclass(frozen=True)
class LikeInput(QueryInput):
    """An indexed item, by id or path (a video's moment as `ID@12.5`): its stored vector is the query and the
    item is left out of the results."""

    ref: str

    def describe(self) -> str:
        return f"like {self.ref}"


@dataclass(frozen=True)
class ItemInput(QueryInput):
    """A `LikeInput` found in the collection: the item's stored `record` (with vectors) and its modality;
    `at`: for a video, the second whose segment is meant (None: the whole video)."""

    modality: Modality
    record: Record
    at: float | None = None

    def describe(self) -> str:
        return f"like {self.record.payload.get('path', self.record.id)}"


@dataclass(frozen=True)
class VectorInput(QueryInput):
    """A vector already in the searched space; `modality` says what it was made from."""

    modality: Modality
    vector: Any                   # a sequence of numbers or an array

    def describe(self) -> str:
        return f"{self.modality.value} vector"


#: A query input once `like` items are found: each has a modality.
ResolvedInput = Union[ContentInput, ItemInput, VectorInput]


# ----------------------------------------------------------------------------- space choice

def choose_space(store: Store, query_modalities: Iterable[Modality], targets: Sequence[Modality] | None,
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
    need = {m.value for m in query_modalities} | {t.value for t in targets or []}
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
    """Runs queries against one store; gets the spaces that embed query inputs from `spaces` (the client's
    `SpaceCache`, shared: a space is built once however many searchers and requests ask for it)."""

    def __init__(self, store: Store, settings: "Settings", spaces: "SpaceCache | None" = None) -> None:
        from mcrsearch.space import SpaceCache

        self.store = store
        self.settings = settings
        self._spaces = spaces if spaces is not None else SpaceCache(settings)

    def space(self, record: SpaceRecord) -> "Space":
        """The space a stored space record was built with, checked to be the same one (its fingerprint)."""
        sp = self._spaces.get(record.name)
        if sp.fingerprint != record.fingerprint:
            raise SpaceMismatchError(
                f"The '{record.name}' space available here (fingerprint {sp.fingerprint}) differs from the one "
                f"collection '{self.store.collection}' was built with ({record.fingerprint}); re-index it.")
        return sp

    def query(self, inputs: Sequence[QueryInput], targets: Sequence[Modality] | None = None, k: int = 10,
              space: str | None = None, offset: int = 0, min_score: float | None = None,
              filters: Filters | None = None) -> list[Hit]:
        """Hits `offset` .. `offset + k` of the ranking, best first; `targets` None means every modality.

        Negative inputs lower the score of items like them (see the module docstring for the formula);
        `filters` restrict the candidates exactly (payload conditions inside the vector search).
        """
        if not inputs:
            raise ConfigError("Give at least one query input (--audio, --image, --text, --3d or --like).")
        if all(i.negative for i in inputs):
            raise ConfigError("Give at least one positive query input beside the negative ones (--not-...).")
        if k < 1:
            raise ConfigError("k must be at least 1.")
        if offset < 0:
            raise ConfigError("offset must be zero or more.")
        for inp in inputs:
            if not inp.weight > 0:
                raise ConfigError("Query weights must be positive (a negative input is given with --not-...).")
        self.store.refresh()
        found = [self._resolve(i) for i in inputs]
        exclude = {inp.record.id for inp in found if isinstance(inp, ItemInput)}
        # a video file is embedded through the image route (and the audio route when the space has one)
        asked = [Modality.IMAGE if i.modality is Modality.VIDEO and isinstance(i, ContentInput) else i.modality
                 for i in found]
        record = choose_space(self.store, asked, targets, space or self.settings.space)
        target_values = [t.value for t in targets] if targets else list(record.modalities)
        resolved = [part for inp in found for part in self._video_parts(inp, record)]
        vectors = [_unit(self._vector(inp, record)) for inp in resolved]

        signs = np.array([-1.0 if i.negative else 1.0 for i in resolved])
        weights = np.array([i.weight for i in resolved], dtype=np.float64)
        weights = weights / weights[signs > 0].sum()          # positive weights sum to 1
        pos = signs > 0
        fused = len(resolved) > 1
        want = offset + k
        built = self._spaces.built(record.name)       # hops named from the space's routes when it is built
        routes: dict[str, list[dict[str, Any]]] = {}

        def route_to(t: str) -> list[dict[str, Any]]:
            if t not in routes:
                routes[t] = [why.path(inp.modality, Modality.parse(t), record.name,
                                    getattr(built, "routes", None))    # a stand-in space may have no routes
                             for inp in resolved]
            return routes[t]
        hits: list[Hit] = []
        for t in target_values:
            stats = np.array([pair_stats(record, inp.modality.value, t) for inp in resolved])   # (n, 2): mean, std
            combined = (signs * weights / stats[:, 1]) @ np.stack(vectors)
            if not np.linalg.norm(combined) > 0:
                continue
            candidates = self._candidates(record, combined, t, want, exclude, fused, filters)
            moments: list[Hit] = []
            for r in candidates:
                if r.id in exclude or r.payload.get("item") in exclude:
                    continue
                if fused:
                    x = _unit(r.vectors[record.name])
                    cos = np.array([float(np.dot(v, x)) for v in vectors])
                else:
                    cos = np.array([r.score])
                z = (cos - stats[:, 0]) / stats[:, 1]
                parts = signs * weights * z
                hit = Hit(r.id, str(r.payload.get("path", "")), str(r.payload.get("modality", t)), r.payload,
                          score=float(parts.sum()), cosine=float(weights[pos] @ cos[pos]))
                hit.inputs = [{"input": inp.label(), "modality": inp.modality.value, "negative": inp.negative,
                               "weight": round(float(w), 4), "cosine": round(float(c), 4),
                               "z": round(float(zz), 4), "contribution": round(float(part), 4), **route}
                              for inp, w, c, zz, part, route in zip(resolved, weights, cos, z, parts,
                                                                     route_to(_reached(t, r)))]
                (moments if t == Modality.VIDEO.value else hits).append(hit)
            hits += group_moments(moments)
        if min_score is not None:
            hits = [h for h in hits if h.score >= min_score]
        hits.sort(key=lambda h: (-h.score, h.path))
        return hits[offset:want]

    def explain_vector(self, inp: ContentInput | LikeInput, subject: Modality, space: str | None = None
                       ) -> tuple["Space", Modality, np.ndarray, dict[str, list[float]]]:
        """What explaining a match needs of a query input: the space holding it and the subject's modality,
        the input's modality, its unit vector there, and the collection's calibration statistics ({} when the
        collection holds nothing in that space yet: a picture can be explained before anything is indexed)."""
        self.store.refresh()
        requested = space or self.settings.space
        stored = self.store.spaces()
        if isinstance(inp, LikeInput) or (requested not in ("", "auto", None) and requested in stored) or \
                (requested in ("", "auto", None) and stored):
            resolved = self._resolve(inp)
            record = choose_space(self.store, [resolved.modality], [subject], requested)
            return self.space(record), resolved.modality, _unit(self._vector(resolved, record)), dict(record.calibration)
        if requested in ("", "auto", None):
            raise ConfigError("The collection holds no vectors yet: name the space to explain in (--space).")
        sp = self._spaces.get(requested)
        modality, vector = embed_input(sp, inp, subject, self.settings)
        return sp, modality, vector, {}

    def _candidates(self, record: SpaceRecord, vector: np.ndarray, target: str, want: int, exclude: set[str],
                    fused: bool, filters: Filters | None) -> list[Record]:
        """The stored points nearest to `vector` in one target modality. For videos these are segments, and
        enough of them are fetched to make `want` distinct videos (grouped by item afterwards, which is what
        Qdrant's group-by does on a server; the embedded engine has none)."""
        if target != Modality.VIDEO.value:
            return self.store.search(record.name, vector, want + len(exclude), [target],
                                     fingerprint=record.fingerprint, with_vectors=fused, filters=filters)
        fetch = VIDEO_FETCH_FACTOR * (want + len(exclude))
        while True:
            found = self.store.search(record.name, vector, fetch, [VIDEO_SEGMENT], fingerprint=record.fingerprint,
                                      with_vectors=fused, filters=filters)
            items = {r.payload.get("item") for r in found} - exclude
            if len(items) >= want or len(found) < fetch or fetch >= 64 * VIDEO_FETCH_FACTOR * want:
                return found
            fetch *= 4

    # -- inputs
    def _resolve(self, inp: QueryInput) -> ResolvedInput:
        """A `LikeInput` as the `ItemInput` it names (its ref is an item id or an indexed path, for a video
        optionally with `@SECONDS`: that moment's segment); any other input as it is."""
        if isinstance(inp, (ContentInput, ItemInput, VectorInput)):
            return inp
        if not isinstance(inp, LikeInput):
            raise TypeError(f"Unknown query input {inp!r}.")
        value, at = split_moment(inp.ref)
        ids = [value] if is_item_id(value) else []
        ids.append(point_id(os.path.abspath(Path(value).expanduser())))
        found = self.store.retrieve(ids, with_vectors=True)
        if not found:
            raise ConfigError(f"{value} is not in collection '{self.store.collection}'; index it first.")
        modality = Modality.parse(found[0].payload["modality"])
        if at is not None and modality is not Modality.VIDEO:
            raise ConfigError(f"{value} is not a video; '@SECONDS' picks a moment of a video only.")
        return ItemInput(modality, found[0], at, weight=inp.weight, negative=inp.negative, name=inp.name)

    def _video_parts(self, inp: ResolvedInput, record: SpaceRecord) -> list[ResolvedInput]:
        """A video input as the vectors it stands for: its picture (as an image query) and, when it has one,
        its sound (as an audio query), each pooled over the video or taken at the moment asked for; the
        input's weight is shared between them. Any other input is returned as it is."""
        if inp.modality is not Modality.VIDEO or isinstance(inp, VectorInput):
            return [inp]
        if isinstance(inp, ItemInput):
            rec = inp.record
            pictures, sounds = self._stored_segments(rec, record, inp.at)
            name = f"like {rec.payload.get('path', rec.id)}" + (f"@{inp.at:g}" if inp.at is not None else "")
        else:
            from mcrsearch import video as video_mod

            sp = self.space(record)
            modality, clip = _decode_input(inp, sp.mesh_points, self.settings, sp.segment_seconds)
            name = inp.name or inp.describe()
            if modality is not Modality.VIDEO:          # an audio-only container: an audio query
                return [ContentInput(modality, clip, weight=inp.weight, negative=inp.negative, name=name)]
            picture, heard = video_mod.embed_segments(sp, clip)
            pictures, sounds = list(picture), [v for v in heard if v is not None]
        parts = [(Modality.IMAGE, pictures, "picture"), (Modality.AUDIO, sounds, "sound")]
        parts = [(m, vs, what) for m, vs, what in parts if vs and m.value in record.modalities]
        if not parts:
            raise ConfigError(f"{name} has no vector in space '{record.name}'; re-index it.")
        return [VectorInput(m, _unit(np.mean(np.stack(vs), axis=0)), weight=inp.weight / len(parts),
                            negative=inp.negative, name=f"{name} ({what})") for m, vs, what in parts]

    def _stored_segments(self, rec: Record, record: SpaceRecord,
                         at: float | None) -> tuple[list[np.ndarray], list[np.ndarray]]:
        """The stored picture and sound vectors of an indexed video: of the segment at `at` seconds, or all."""
        path = str(rec.payload.get("path", ""))
        count = int((rec.payload.get("segments") or {}).get(record.name, 0))
        window = float((rec.payload.get("segment_seconds") or {}).get(record.name, 0.0))
        if not count:
            raise ConfigError(f"{path} has no segments in space '{record.name}'; re-index it.")
        if at is not None:
            if at < 0 or at > float(rec.payload.get("duration", math.inf)):
                raise ConfigError(f"{path} is {rec.payload.get('duration')} s long; {at:g} s is outside it.")
            chosen = [min(count - 1, int(at // window)) if window > 0 else 0]
        else:
            chosen = list(range(count))
        ids = [segment_id(path, record.name, i, ch) for i in chosen for ch in ("picture", "sound")]
        found = self.store.retrieve(ids, with_vectors=True)
        pictures = [r.vectors[record.name] for r in found
                    if r.payload.get("channel") == "picture" and record.name in r.vectors]
        sounds = [r.vectors[record.name] for r in found
                  if r.payload.get("channel") == "sound" and record.name in r.vectors]
        return pictures, sounds

    def _vector(self, inp: ResolvedInput, record: SpaceRecord) -> np.ndarray:
        if isinstance(inp, VectorInput):
            vec = np.asarray(inp.vector, dtype=np.float32).ravel()
            if vec.shape[0] != record.dim:
                raise ConfigError(f"A query vector has {vec.shape[0]} dimensions; space '{record.name}' has "
                                  f"{record.dim}.")
            return vec
        if isinstance(inp, ItemInput):
            rec = inp.record
            if record.name not in rec.vectors:
                raise ConfigError(f"{rec.payload.get('path', rec.id)} has no vector in space '{record.name}'; "
                                  "re-index it.")
            return rec.vectors[record.name].astype(np.float32)
        sp = self.space(record)
        modality, item = _decode_input(inp, sp.mesh_points, self.settings)
        if not sp.supports(modality):
            raise ConfigError(f"Space '{record.name}' cannot embed {modality.value} queries.")
        return sp.embed(modality, [item])[0]


def embed_input(space: "Space", inp: ContentInput | LikeInput, subject: Modality,
                settings: "Settings") -> tuple[Modality, np.ndarray]:
    """A file or text query input as (its modality, its unit vector in `space`), checked to compare with
    `subject` there (explaining a match without a collection)."""
    if isinstance(inp, LikeInput):
        raise ConfigError("An indexed item (--like) needs a collection holding it.")
    modality, item = _decode_input(inp, space.mesh_points, settings)
    if not space.supports(modality) or not space.supports(subject):
        raise ConfigError(f"Space '{space.name}' cannot compare {modality.value} with {subject.value}.")
    return modality, _unit(space.embed(modality, [item])[0])


def decode_subject(value: Any, modality: Modality, mesh_points: int, settings: "Settings") -> Any:
    """A picture or shape to explain (path, upload or decoded media), decoded under the indexer's caps."""
    return _decode_input(ContentInput(modality, value), mesh_points, settings)[1]

_SLOTS: dict[int, threading.BoundedSemaphore] = {}
_SLOTS_LOCK = threading.Lock()


def _decode_slots(n: int) -> threading.BoundedSemaphore:
    """The process-wide bound on query files decoded at once (a server's requests share it)."""
    n = max(1, int(n))
    with _SLOTS_LOCK:
        return _SLOTS.setdefault(n, threading.BoundedSemaphore(n))


def _unit(v: np.ndarray) -> np.ndarray:
    v = np.asarray(v, dtype=np.float64).ravel()
    n = np.linalg.norm(v)
    return v / n if n > 0 else v


def _decode_input(inp: ContentInput, n_points: int, settings: "Settings",
                  segment_seconds: float = 10.0) -> tuple[Modality, Any]:
    """A query input as decoded media: text stays text; paths and bytes go through the indexer's decoder."""
    if inp.modality is Modality.TEXT and isinstance(inp.value, str):
        return Modality.TEXT, inp.value
    if isinstance(inp.value, (str, Path, MediaBytes)):
        from mcrsearch import media, video

        caps_px = [p for p in (settings.max_image_pixels, settings.max_query_pixels) if p]   # 0: no cap
        limits = replace(media.Limits.from_settings(settings), image_pixels=min(caps_px, default=0))
        caps: dict[str, Any] = {"n_points": n_points, "max_bytes": int(settings.max_file_mb * 2**20), "limits": limits,
                "segment_seconds": segment_seconds, "max_video_bytes": int(settings.max_video_mb * 2**20),
                "image_side": settings.query_image_side}     # the indexer's caps, images smaller (a query)
        with _decode_slots(settings.max_query_decodes):
            if isinstance(inp.value, MediaBytes):
                return video.decode(inp.value.name, inp.modality, data=inp.value.data, **caps)
            path = Path(inp.value).expanduser()
            if not path.is_file():
                raise ConfigError(f"The query file {path} does not exist.")
            return video.decode(str(path), inp.modality, **caps)
    return inp.modality, inp.value


def _reached(target: str, r: Record) -> str:
    """The modality a hit's vector came from: a video segment's picture is an image's, its sound audio's."""
    if target != Modality.VIDEO.value:
        return target
    return Modality.AUDIO.value if r.payload.get("channel") == "sound" else Modality.IMAGE.value


def split_moment(value: str) -> tuple[str, float | None]:
    """`ID@12.5` / `clip.mp4@1:05` -> (ID, seconds); a value without a moment -> (value, None)."""
    head, sep, tail = value.rpartition("@")
    if not sep or not head:
        return value, None
    try:
        seconds = sum(float(part) * 60 ** i for i, part in enumerate(reversed(tail.split(":"))))
    except ValueError:
        return value, None
    if not math.isfinite(seconds):
        return value, None
    return head, seconds


def group_moments(moments: list[Hit]) -> list[Hit]:
    """Segment hits -> one hit per video (its item id), at its best segment: `start`, `end`, `matched` (the
    vector that matched: "picture" or "sound") and its other matching `segments`, best first."""
    by_item: dict[str, list[Hit]] = {}
    for h in sorted(moments, key=lambda h: (-h.score, h.payload.get("start", 0.0))):
        by_item.setdefault(str(h.payload.get("item", h.id)), []).append(h)
    out = []
    for item, group in by_item.items():
        best = group[0]
        others = [{"start": h.payload.get("start"), "end": h.payload.get("end"),
                   "matched": h.payload.get("channel"), "score": round(h.score, 4)}
                  for h in group[1:1 + OTHER_SEGMENTS]]
        payload = {**best.payload, "modality": Modality.VIDEO.value, "matched": best.payload.get("channel"),
                   "segments": others}
        out.append(Hit(item, best.path, Modality.VIDEO.value, payload, score=best.score, cosine=best.cosine,
                       inputs=best.inputs, new=best.new))
    return out


def weight_key(name: str) -> str:
    """A weight's key as the Client reads it: a modality ('audio', 'not-audio') or 'like' / 'not-like'."""
    raw = str(name).strip().lower()
    negative = raw.startswith(("not-", "not_", "-"))
    base = raw.split("-", 1)[1] if raw.startswith(("not-", "-")) else raw[4:] if negative else raw
    base = "like" if base == "like" else Modality.parse(base).value
    return f"not-{base}" if negative else base


def parse_weights(specs: Iterable[str]) -> dict[str, float]:
    """`audio=2` / `not-text=0.5` strings (CLI `--weight`, the server's `weight` fields) -> {'audio': 2.0, ...}.

    Keys name the inputs they weigh: a modality for the inputs of that modality, `like` for indexed items,
    each with `not-` for the negative ones. A negative number turns those inputs into negatives.
    """
    out: dict[str, float] = {}
    for spec in specs:
        name, sep, value = spec.partition("=")
        if not sep:
            raise ConfigError(f"Bad weight '{spec}'; write MODALITY=NUMBER, e.g. audio=2 or not-text=0.5.")
        try:
            out[weight_key(name)] = float(value)
        except ValueError as exc:
            raise ConfigError(f"Bad weight '{spec}'; write MODALITY=NUMBER, e.g. audio=2 or not-text=0.5.") from exc
    return check_weights(out)


def check_weights(weights: dict[Any, float]) -> dict[Any, float]:
    """Refuse weights that are not finite numbers (NaN or inf would make every score NaN or infinite)."""
    for key, w in weights.items():
        if not math.isfinite(w):
            raise ConfigError(f"The weight of {getattr(key, 'value', key)} must be a finite number, not {w}.")
    return weights
