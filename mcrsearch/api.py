"""`Client`: the one public surface, in qdrant-client's style. The CLI, the demo, the benchmark's index
path and the server all go through it; nothing else opens the store or builds queries by hand.

    import mcrsearch
    client = mcrsearch.Client()                           # embedded index under MCRSEARCH_HOME
    client = mcrsearch.Client(url="http://host:6333", api_key="...", collection="media")
    client.index("~/media")                                # incremental, interrupt-safe
    hits = client.query(audio="dog.wav", target="3d", k=5)
    hits = client.query(text="a red chair", image=["chair.jpg", "stool.jpg"], weights={"text": 2})
    hits = client.query(like="photos/cat.jpg", target="audio")
    hits = client.query(audio="engine.wav", like="car.glb", not_text="toy", weights={"audio": 2},
                        where={"under": "~/media/cars", "types": ["glb", "obj"]}, target="3d")
    client.info(); client.delete(["photos/cat.jpg"])

User spellings ("3d", "points", "sound" ...) are parsed here, once; everything below takes enums.
"""

from __future__ import annotations

import inspect
import os
import re
import threading
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Iterable, Mapping, Sequence

from mcrsearch.errors import ConfigError
from mcrsearch.modality import Modality
from mcrsearch.surface import QUERY_INPUTS, InputKind, MediaInput, SearchClient, gather_inputs, many

if TYPE_CHECKING:
    from mcrsearch_indexer.report import IndexProgress, IndexReport

    from mcrsearch.config import Settings
    from mcrsearch.duplicates import DuplicateGroup
    from mcrsearch.explain import HeatMap
    from mcrsearch.search import Hit, Item
    from mcrsearch.space import Space
    from mcrsearch.store import Filters, Store

_many = many     # one reading of "one value or several" for query inputs and saved searches


def _is_id(value: str) -> bool:
    from mcrsearch.store import is_item_id

    return is_item_id(value)


def parse_target(target: str | Modality | None) -> list[Modality] | None:
    """'any' / 'all' / None -> None (every modality the space holds); else the one modality."""
    if target is None or (isinstance(target, str) and target.strip().lower() in {"any", "all"}):
        return None
    return [Modality.parse(target)]


class Client(SearchClient):
    """A handle on one collection (embedded or on a Qdrant server); opened lazily, close() when done.

    Args:
        path: folder of the embedded index (default `<home>/index`).
        url: a Qdrant server or cluster; the collection lives there instead.
        api_key: the Qdrant server's API key.
        collection: the collection name (default `mcrsearch`).
        settings: base settings (default `load_settings()`); the other arguments override them.
        spaces: Space objects to use instead of building registered ones by name.
        **overrides: any other Settings field (device, space, batch_size, ...).
    """

    def __init__(self, path: str | Path | None = None, url: str | None = None, api_key: str | None = None,
                 collection: str | None = None, settings: "Settings | None" = None,
                 spaces: Iterable["Space"] = (), **overrides: Any) -> None:
        from mcrsearch.config import load_settings

        base = settings or load_settings()
        self.settings = base.with_overrides(store_path=path, qdrant_url=url, qdrant_api_key=api_key,
                                            collection=collection, **overrides)
        from mcrsearch.space import SpaceCache

        self._spaces = SpaceCache(self.settings, spaces)    # every space this client uses is built here, once
        self._store: "Store | None" = None
        self._searcher: Any = None
        self._lock = threading.Lock()        # the store is opened once

    # -- lifecycle
    @property
    def _handle(self) -> "Store":
        return self._open()

    def _open(self, create: bool = False) -> "Store":
        """The client's store handle, opened once (`create`: the writer may make a new collection through it)."""
        if self._store is None:
            with self._lock:
                if self._store is None:
                    from mcrsearch.store import Store

                    self._store = Store.open(self.settings, create=create)
        return self._store

    def close(self) -> None:
        """Release the collection (the embedded engine allows one process per collection)."""
        if self._store is not None:
            self._store.close()
            self._store = None
            self._searcher = None

    def __enter__(self) -> "Client":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def space(self, name: str) -> "Space":
        """The named space, built once per client (its encoders stay loaded for later calls)."""
        return self._spaces.get(name)

    # -- indexing
    def index(self, path: str | Path, space: str | None = None, *,
              progress: "Callable[[IndexProgress], None] | None" = None,
              cancel: Callable[[], bool] | None = None, ray: str | bool | None = None,
              rebuild: bool = False) -> "IndexReport":
        """Bring the collection in line with the files under `path` (incremental and interrupt-safe).

        Args:
            path: a folder (or one file); images, audio, captions (.txt) and 3D files are indexed.
            space: the space to embed with; None: the settings' choice, or the collection's only space.
            progress: called with an `IndexProgress` as files are done (the CLI draws its bar from it).
            cancel: polled between files; when it returns True the run stops after writing what it has.
            ray: a Ray cluster address (or True for a local one) to embed on Ray workers.
            rebuild: set the embedded collection's folder aside (a damaged index; never deleted) and build
                it again from the files, which are the source of truth.
        Returns:
            The `IndexReport`: counts, failures with reasons, per-stage seconds.
        """
        from mcrsearch_indexer.pipeline import index_path, resolve_space_name

        if rebuild:               # the old collection may be unreadable: it does not choose the space
            self.close()
            name = resolve_space_name(space, self.settings, None)
        else:
            from mcrsearch.store import Store

            with Store.open(self.settings, create=True) as store:    # short-lived: the run opens its own
                name = resolve_space_name(space, self.settings, store)
        if ray:
            from mcrsearch_indexer.ray_index import index_path_ray

            # by name: each actor builds the space itself, so its encoders load on the actor's own device
            return index_path_ray(path, self.settings, address=None if ray is True else str(ray), space=name,
                                  progress=progress)
        return index_path(path, self.settings, space=self.space(name), progress=progress, cancel=cancel,
                          rebuild=rebuild)

    # -- searching
    def query(self, audio: MediaInput | Sequence[MediaInput] | None = None,
              image: MediaInput | Sequence[MediaInput] | None = None,
              text: str | Sequence[str] | None = None,
              points: MediaInput | Sequence[MediaInput] | None = None,
              like: str | Path | Sequence[str | Path] | None = None, target: str | Modality = "any",
              k: int = 10, weights: Mapping[str | Modality, float] | None = None, space: str | None = None,
              offset: int = 0, min_score: float | None = None,
              vectors: Mapping[str | Modality, Any] | None = None, *,
              not_audio: MediaInput | Sequence[MediaInput] | None = None,
              not_image: MediaInput | Sequence[MediaInput] | None = None,
              not_text: str | Sequence[str] | None = None,
              not_points: MediaInput | Sequence[MediaInput] | None = None,
              not_like: str | Path | Sequence[str | Path] | None = None,
              where: "Filters | Mapping[str, Any] | None" = None,
              video: MediaInput | Sequence[MediaInput] | None = None,
              not_video: MediaInput | Sequence[MediaInput] | None = None) -> list["Hit"]:
        """Search with one or several inputs; several inputs are fused on their calibrated scores.

        Args:
            audio, image, points: query files (paths, `MediaBytes` uploads, or decoded media), one or a list.
            text: one text or a list of texts.
            like: indexed items (item ids or their paths): their stored vectors are the query, and the
                items themselves are left out of the results ("more like this"); `ID@12.5` (or
                `path@1:05`) is the moment of an indexed video at that second.
            target: the modality to return ('image', 'audio', 'text', '3d', 'video'), or 'any' for every
                modality the space holds, ranked together on calibrated scores. Videos come back one hit per
                file at its best moment: `start`/`end` in seconds, `matched` ("picture" or "sound"), and its
                other matching `segments`.
            k: how many hits; offset: how many of the best to skip first (paging).
            weights: input weights, default 1 each: by modality ({"text": 2}), `like` for indexed items, and
                `not-<modality>` / `not-like` for the negative inputs; a negative number turns that
                modality's (positive) inputs into negatives.
            space: the space to search; None picks the collection's only space that fits the query.
            min_score: drop hits whose calibrated score is below this.
            vectors: query vectors already in the searched space, keyed by the modality they came from
                (what benchmarks replay); they are fused with the other inputs like any input.
            not_audio, not_image, not_text, not_points, not_like: negative inputs ("less like this"), given
                like their positive counterparts; they lower the score of items like them, and `not_like`
                items are left out of the results too. At least one positive input is needed.
            video, not_video: video files (paths or `MediaBytes`): their picture (pooled frames, as an image
                query) and sound (as an audio query) share the input's weight.
            where: filters applied exactly inside the search: `under` (folders), `types` (extensions),
                `modified_after` / `modified_before` (dates), `min_duration` / `max_duration` (seconds),
                `min_points` / `max_points`, `min_width`, `min_height` (see mcrsearch.filters).
        Returns:
            Hits, best first. `score` is a calibrated z-score: how many standard deviations the cosine lies
            above the mean cosine of random (query modality, target modality) pairs in this collection, so
            scores compare across modalities (for several inputs, the weighted sum of each input's score,
            negatives subtracted, over the positive weights); `cosine` is the raw cosine. A fused query's
            hits carry `inputs`: each input's cosine, z-score and contribution to `score`.
        """
        from mcrsearch.filters import parse_filters
        from mcrsearch.search import (ContentInput, LikeInput, QueryInput, Searcher, VectorInput, check_weights,
                                      weight_key)

        w = check_weights({weight_key(m.value if isinstance(m, Modality) else m): float(v)
                           for m, v in (weights or {}).items()})
        if any(v == 0 for v in w.values()):
            raise ConfigError("A weight of 0 removes an input; leave the input out instead.")

        def make(kind: InputKind, value: Any, vector: bool = False) -> QueryInput:
            negative, weight = kind.negative, w.get(kind.weight_key, 1.0)
            if not negative and weight < 0:           # `text=-1`: the text inputs count against items
                negative, weight = True, -weight
            weight = abs(weight)
            if kind.modality is None:
                return LikeInput(str(value), weight=weight, negative=negative)
            if vector:
                return VectorInput(kind.modality, value, weight=weight, negative=negative)
            return ContentInput(kind.modality, value, weight=weight, negative=negative)

        given = gather_inputs(locals())
        inputs = [make(kind, v) for name, kind in QUERY_INPUTS.items() for v in given[name]]
        inputs += [make(InputKind("vectors", Modality.parse(m)), v, vector=True) for m, v in (vectors or {}).items()]
        filters = parse_filters(where)
        store = self._handle
        with self._lock:         # one Searcher per client: spaces (models) are built once and reused
            if self._searcher is None or self._searcher.store is not store:
                self._searcher = Searcher(store, self.settings, self._spaces)
        return self._searcher.query(inputs, targets=parse_target(target), k=k, space=space, offset=offset,
                                    min_score=min_score, filters=filters)

    def explain(self, image: MediaInput | None = None, points: MediaInput | None = None, *,
                item: str | None = None, audio: MediaInput | None = None, text: str | None = None,
                like: str | Path | None = None, space: str | None = None, method: str = "",
                overlay: bool = False, at: float | None = None) -> "HeatMap":
        """Where in a picture (or on a shape, or in a video's frame) a query matches, and whether its source is there.

        Args:
            image, points: the picture or 3D shape to explain (a path, an upload or decoded media).
            item: instead, an indexed item (id or path) whose file is explained; for a video, its frame at `at`.
            audio, text, like: the query, exactly one: a sound, a text, or an indexed item's stored vector.
            space: the space to compare in (needed when the collection is empty).
            method: the image encoder's dense method ('' = its default; see `Encoder.dense_methods`).
            overlay: also render the heat map over the picture (`HeatMap.overlay`, PNG bytes).
            at: for an indexed video, the second whose frame is explained (default 0; one seek and one frame,
                decoded under the indexer's caps like a hit's poster).
        Returns:
            `mcrsearch.explain.HeatMap`: per-part cosines, the global score, the peak and where it is, and a
            verdict (source present or not, with a confidence calibrated on this collection) when the
            collection holds the space.
        """
        from mcrsearch.explain import heat_map, judge, overlay_png
        from mcrsearch.search import ContentInput, LikeInput, Searcher, decode_subject, embed_input

        given: list[ContentInput | LikeInput] = [ContentInput(m, v) for m, v in
                                                 ((Modality.AUDIO, audio), (Modality.TEXT, text)) if v is not None]
        given += [LikeInput(str(like))] if like is not None else []
        if len(given) != 1:
            raise ConfigError("Give exactly one query to explain: --audio, --text or --like.")
        subjects = [(Modality.IMAGE, image), (Modality.POINTS, points), (None, item)]
        chosen = [(m, v) for m, v in subjects if v is not None]
        if len(chosen) != 1:
            raise ConfigError("Give exactly one thing to explain: --image, --3d or --item.")
        inp = given[0]
        store = self._explain_store(space, is_like=isinstance(inp, LikeInput) or item is not None)
        subject_mod, subject = chosen[0]
        if subject_mod is None:
            subject_mod, subject = self._item_file(str(subject))
        if at is not None and subject_mod is not Modality.VIDEO:
            raise ConfigError("A time (--at) picks a frame of an indexed video (--item); pictures and shapes have none.")
        if store is None:                       # no collection yet: compare in the named space, no verdict
            sp = self.space(str(space))
            query_mod, vector = embed_input(sp, inp, subject_mod, self.settings)
            calibration: dict = {}
        else:
            with self._lock:
                if self._searcher is None or self._searcher.store is not store:
                    self._searcher = Searcher(store, self.settings, self._spaces)
                searcher = self._searcher
            sp, query_mod, vector, calibration = searcher.explain_vector(inp, subject_mod, space)
        if subject_mod is Modality.VIDEO:       # a video's frame is explained as the picture it is
            from mcrsearch.video import guarded_frame

            decoded = guarded_frame(str(subject), at or 0.0)
            result = heat_map(sp, vector, Modality.IMAGE, decoded, method)
            result.at = round(max(0.0, float(at or 0.0)), 3)
        else:
            decoded = decode_subject(subject, subject_mod, sp.mesh_points, self.settings)
            result = heat_map(sp, vector, subject_mod, decoded, method)
        result.space = sp.name
        result.verdict = judge(result.peak, calibration, query_mod.value, subject_mod.value,
                               threshold=self.settings.explain_present_z)
        if result.verdict is None and subject_mod is Modality.VIDEO:      # a collection of frames' pictures
            result.verdict = judge(result.peak, calibration, query_mod.value, Modality.IMAGE.value,
                                   threshold=self.settings.explain_present_z)
        if result.verdict is None:
            result.notes.append(f"no verdict: collection '{self.settings.collection}' holds nothing in space "
                                f"'{sp.name}' to calibrate it on; index some files in that space first")
        if overlay and result.modality is Modality.IMAGE:
            result.overlay = overlay_png(decoded, result.values, result.centres)
        return result

    def _explain_store(self, space: str | None, is_like: bool) -> "Store | None":
        """The collection, or None when there is none yet and a space is named (a picture can be explained
        before anything is indexed; only the verdict needs the collection's statistics)."""
        from mcrsearch.errors import DamagedStoreError, StoreError

        try:
            return self._handle
        except DamagedStoreError:
            raise
        except StoreError:
            if is_like or not space or space == "auto":
                raise
            return None

    def _item_file(self, value: str) -> tuple[Modality, str]:
        """An indexed picture, shape or video (id or path) -> (its modality, its file's path)."""
        from mcrsearch.store import is_item_id, point_id

        ids = [value] if is_item_id(value) else []
        ids.append(point_id(os.path.abspath(Path(value).expanduser())))
        found = self._handle.retrieve(ids)
        if not found:
            raise ConfigError(f"{value} is not in collection '{self._handle.collection}'; index it first.")
        modality = Modality.parse(found[0].payload["modality"])
        if modality not in (Modality.IMAGE, Modality.POINTS, Modality.VIDEO):
            raise ConfigError(f"{value} is {modality.value}; only pictures, 3D shapes and video frames can be explained.")
        return modality, str(found[0].payload["path"])

    def indexed_folders(self) -> list[str]:
        """The folders index runs were given that still exist (`serve --watch` follows them)."""
        store = self._handle
        store.refresh()
        return [r for r in store.roots() if os.path.isdir(r)]

    # -- saved searches
    def save_search(self, name: str, **query: Any) -> dict[str, Any]:
        """Save a search under a name in the collection: its inputs (texts, files by path, indexed items),
        negatives, weights, filters, target and k. It is run once now, so a later `run_saved` can say
        which hits are new.

        Args:
            name: 1-64 letters, digits, '-', '_' or '.'; an existing search of that name is replaced.
            **query: `query`'s keyword arguments (files as paths: an upload or decoded media cannot be saved).
        Returns:
            The saved search: {"name", "query", "saved_at", "last": ids of its current results}.
        """

        if not re.fullmatch(r"[A-Za-z0-9._-]{1,64}", name or ""):
            raise ConfigError("A saved search's name is 1-64 letters, digits, '-', '_' or '.'.")
        allowed = set(inspect.signature(Client.query).parameters) - {"self", "vectors"}
        unknown = sorted(set(query) - allowed)
        if unknown:
            raise ConfigError(f"A saved search cannot hold {', '.join(unknown)}.")
        spec: dict[str, Any] = {}
        for key, value in query.items():
            if value is None or value == [] or value == ():
                continue
            if key == "where":
                from mcrsearch.filters import parse_filters

                value = parse_filters(value).to_dict()
            elif key == "weights":
                value = {getattr(m, "value", m): float(v) for m, v in dict(value).items()}
            elif key in ("audio", "image", "points", "video", "like", "not_audio", "not_image", "not_points",
                         "not_video", "not_like"):
                values = _many(value)
                if not all(isinstance(v, (str, Path)) for v in values):
                    raise ConfigError("Only files given by path can be saved in a search; index an upload and "
                                      "use it by --like.")
                value = [os.path.abspath(Path(v).expanduser()) if key not in ("like", "not_like") or
                         not _is_id(str(v)) else str(v) for v in values]
            elif key in ("text", "not_text"):
                value = [str(v) for v in _many(value)]
            elif key == "target":
                value = getattr(value, "value", value)
            spec[key] = value
        hits = self.query(**spec)                   # refuses a bad search before it is saved
        record = {"name": name, "query": spec, "saved_at": time.time(), "last": [h.id for h in hits]}
        self._handle.set_saved_search(name, record)
        return record

    def saved_searches(self) -> list[dict[str, Any]]:
        """The saved searches, by name."""
        return [self._handle.saved_searches()[n] for n in sorted(self._handle.saved_searches())]

    def run_saved(self, name: str, k: int | None = None) -> list["Hit"]:
        """Run a saved search again; each hit's `new` says whether it was missing from the last run's results
        (files indexed since, e.g. by a watch), and this run becomes the last one."""

        saved = self._handle.saved_searches()
        if name not in saved:
            known = ", ".join(sorted(saved)) or "none"
            raise ConfigError(f"No saved search '{name}' in collection '{self._handle.collection}' (saved: {known}).")
        record = saved[name]
        spec = dict(record["query"])
        if k is not None:
            spec["k"] = k
        hits = self.query(**spec)
        before = set(record.get("last", []))
        for h in hits:
            h.new = h.id not in before
        self._handle.set_saved_search(name, {**record, "last": [h.id for h in hits], "run_at": time.time()})
        return hits

    def delete_saved(self, name: str) -> bool:
        """Forget a saved search; False when there was none of that name."""
        if name not in self._handle.saved_searches():
            return False
        self._handle.set_saved_search(name, None)
        return True

    def duplicates(self, modality: str | Modality | None = None, threshold: float | None = None,
                   near: bool = True, space: str | None = None) -> list["DuplicateGroup"]:
        """Groups of items holding the same content: identical files (one content hash) and near-duplicates
        (one modality, vectors at or above `threshold` cosine), across folders and formats.

        Args:
            modality: look in one modality ('image', 'audio', 'text', '3d'); None or 'any': all.
            threshold: the cosine for near-duplicates; default `Settings.duplicate_cosine`, else per-modality
                thresholds measured on the mini-world (`mcrsearch.duplicates.DEFAULT_COSINE`).
            near: False lists identical files only (no vector search).
            space: the space whose vectors are compared; None: the collection's only space.
        Returns:
            `DuplicateGroup`s (kind, modality, items with id/path/hash/size, min_cosine), largest first.
        """
        from mcrsearch.duplicates import find_duplicates
        from mcrsearch.search import choose_space

        store = self._handle
        store.refresh()
        mods = parse_target(modality)
        record = choose_space(store, [], mods, space or self.settings.space)
        return find_duplicates(store, record.name, mods,
                               self.settings.duplicate_cosine if threshold is None else float(threshold), near)

    # -- reading
    def info(self) -> dict[str, Any]:
        """Collection, backend, spaces (fingerprint, dimension, modalities, and the numeric precision each route
        runs under where this client has loaded that space's encoders, else {}), the precision the settings
        ask for, counts per modality, storage size."""
        store = self._handle
        store.refresh()
        counts = store.counts()
        loaded = self._spaces.loaded()
        return {
            "collection": store.collection,
            "backend": "server" if self.settings.qdrant_url else "embedded",
            "location": store.backend.location,
            "spaces": [{"name": s.name, "fingerprint": s.fingerprint, "dim": s.dim, "modalities": s.modalities,
                        "calibrated_pairs": len(s.calibration),
                        "precision": dict(loaded[s.name].precision) if s.name in loaded else {}}
                       for s in store.spaces().values()],
            "precision_setting": self.settings.precision,
            "counts": counts,
            "total": sum(counts.values()),
            "storage_bytes": store.size_bytes(),
        }

    def retrieve(self, ids: Sequence[str]) -> list["Item"]:
        """The stored items with these ids (unknown ids are left out)."""
        from mcrsearch.search import Item

        return [Item.from_record(r) for r in self._handle.retrieve(list(ids))]

    def scroll(self, modality: str | Modality | None = None, limit: int = 50, offset: int = 0) -> list["Item"]:
        """Browse stored items in id order: `limit` of them after skipping `offset`, of one modality or all."""
        from mcrsearch.search import Item

        if limit < 1 or offset < 0:
            raise ConfigError("limit must be at least 1 and offset zero or more.")
        mods = parse_target(modality) or list(Modality)      # items only: a video's segments are part of it
        records = list(self._handle.scroll(modalities=mods, limit=offset + limit))
        return [Item.from_record(r) for r in records[offset:]]

    def count(self, target: str | Modality | None = None) -> int:
        """How many items the collection holds, of one modality or of all ('any' / None)."""
        return self._handle.count(parse_target(target) or list(Modality))   # a video counts once

    # -- writing
    def upsert(self, space: "Space", points: Sequence[Any]) -> None:
        """Write points (`mcrsearch.store.PointData`: id, vectors by space name, payload with `path` and
        `modality`) made elsewhere, e.g. benchmark vectors; the space is registered (and checked) first."""
        store = self._open(create=True)
        store.ensure_space(space.name, space.fingerprint, space.dim, space.modalities)
        store.upsert(space.name, space.fingerprint, points)

    def optimize(self) -> None:
        """Build the search graphs over everything written so far (the indexer does it after each run)."""
        self._handle.optimize()

    def delete(self, paths: Iterable[str | Path]) -> int:
        """Remove items by path (files, or folders with everything under them); returns how many were removed."""
        from mcrsearch.store import point_id

        store = self._handle
        targets = [os.path.abspath(Path(p).expanduser()) for p in paths]
        ids = {point_id(p) for p in targets}
        prefixes = tuple(t.rstrip(os.sep) + os.sep for t in targets)
        for rec in store.scroll(fields=["path"]):
            stored = str(rec.payload.get("path", ""))
            if stored.startswith(prefixes) or stored in targets:     # a video's segments go with it
                ids.add(rec.id)
        from mcrsearch.store import VIDEO_SEGMENT

        present = store.retrieve(sorted(ids))
        store.delete([r.id for r in present])
        return sum(r.payload.get("modality") != VIDEO_SEGMENT for r in present)     # items (a video once)
