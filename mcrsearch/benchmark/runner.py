"""Run a benchmark: embed a dataset in one or more spaces, score every task exactly, and again through
a real index (when one is given), reporting both and their difference.

The exact path is the reference (chunked matrix products in `metrics`). The index path puts every
embedded item into one collection, as `mcrsearch index` would, and ranks targets with filtered
searches; any difference beyond float noise is a search-engine bug, which is why both are reported.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from functools import partial
from typing import Any, Callable, Iterable, Protocol, Sequence

import numpy as np

from mcrsearch.benchmark import metrics as M
from mcrsearch.benchmark.dataset import ClassRetrieval, Dataset, Item, PairedRetrieval, Problem, Task, ZeroShot
from mcrsearch.benchmark.published import published_for
from mcrsearch.benchmark.templates import prompts
from mcrsearch.errors import MediaError
from mcrsearch.modality import Modality


class EmbeddingSpace(Protocol):
    """What the runner needs from a space (mcrsearch.space.Space satisfies it)."""

    name: str

    @property
    def modalities(self) -> tuple[Modality, ...]: ...

    def embed(self, modality: Modality, items: Sequence[Any]) -> np.ndarray: ...


class IndexPath(Protocol):
    """A real vector index fed with the benchmark's vectors and asked for rankings (see store_path.py)."""

    name: str

    def add(self, modality: Modality, keys: list[str], vectors: np.ndarray) -> None: ...

    def rank(self, queries: np.ndarray, target: Modality, k: int,
             query_keys: list[str] | None = None) -> list[list[str]]: ...

    def close(self) -> None: ...


@dataclass
class RunOptions:
    ks: tuple[int, ...] = M.DEFAULT_KS
    zero_shot_ks: tuple[int, ...] = (1, 5)
    chunk: int = M.DEFAULT_CHUNK
    batch_size: int = 32
    paired_map: bool = False         # mAP for paired retrieval is not in the papers' tables; off for speed
    index_full_rank_max: int = 2000  # up to this many targets the index path ranks all of them (exact mAP);
    #                                  above it, it asks only for max(ks) results (R@k; mAP left to the exact path)
    limit: int | None = None         # evaluate on the first N items per modality (smoke runs)


@dataclass
class Embedded:
    keys: list[str]
    vectors: np.ndarray
    items: list[Item]

    def row(self) -> dict[str, int]:
        return {k: i for i, k in enumerate(self.keys)}


@dataclass
class SpaceRun:
    space: str
    info: dict[str, Any]
    rows: list[dict[str, Any]] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    seconds: dict[str, float] = field(default_factory=dict)


@dataclass(frozen=True)
class MediaDecoder:
    """Decoder with the index flow's settings (the space's mesh sample size, the size limit), so that a
    benchmark vector equals the vector `mcrsearch index` stores for the same file."""

    max_bytes: int | None = None
    mesh_points: int | None = None
    segment_seconds: float | None = None

    def for_space(self, space: Any) -> "MediaDecoder":
        return MediaDecoder(self.max_bytes, getattr(space, "mesh_points", None),
                            getattr(space, "segment_seconds", None))

    def __call__(self, item: Item) -> Any:
        if item.text is not None:
            return item.text
        if item.loader is not None:
            return item.loader()
        from mcrsearch.video import decode

        kwargs: dict[str, Any] = {"max_bytes": self.max_bytes}
        if self.mesh_points:
            kwargs["n_points"] = self.mesh_points
        if self.segment_seconds:
            kwargs["segment_seconds"] = self.segment_seconds
        assert item.path is not None            # an item without a text or a loader is a file
        got, decoded = decode(item.path, item.modality, **kwargs)
        if got is not item.modality:
            raise MediaError(str(item.path), f"decoded as {got.value}, not {item.modality.value}")
        return decoded


def make_decoder(max_bytes: int | None = None) -> MediaDecoder:
    return MediaDecoder(max_bytes)


default_decoder = MediaDecoder()


def embed_items(space: EmbeddingSpace, modality: Modality, items: Sequence[Item], batch_size: int,
                decoder: Callable[[Item], Any] = default_decoder,
                progress: Callable[[int], None] | None = None) -> tuple[Embedded, list[Problem]]:
    """Decode and embed items in batches; a file that fails to decode is a Problem, not a crash."""
    keys: list[str] = []
    kept: list[Item] = []
    chunks: list[np.ndarray] = []
    problems: list[Problem] = []
    batch: list[Any] = []
    batch_items: list[Item] = []
    if isinstance(decoder, MediaDecoder):
        decoder = decoder.for_space(space)

    def flush() -> None:
        if batch:
            chunks.append(_embed_video(space, batch) if modality is Modality.VIDEO
                          else np.asarray(space.embed(modality, batch), dtype=np.float32))
            keys.extend(i.key for i in batch_items)
            kept.extend(batch_items)
            if progress:
                progress(len(batch))
            batch.clear()
            batch_items.clear()

    for item in items:
        try:
            batch.append(decoder(item))
            batch_items.append(item)
        except MediaError as exc:
            problems.append(Problem(str(item.path), exc.reason))
            if progress:
                progress(1)
        except (OSError, ValueError) as exc:
            problems.append(Problem(str(item.path), f"{type(exc).__name__}: {exc}"))
            if progress:
                progress(1)
        if len(batch) >= max(1, batch_size):
            flush()
    flush()
    vectors = np.concatenate(chunks) if chunks else np.zeros((0, 0), dtype=np.float32)
    return Embedded(keys, vectors, kept), problems


def _embed_video(space: EmbeddingSpace, clips: list[Any]) -> np.ndarray:
    """A video's vector in a benchmark: its segments' picture vectors (frames through the image route,
    pooled, as the indexer stores them) averaged over the video and normalised."""
    from mcrsearch.video import embed_segments

    out = [np.asarray(embed_segments(space, clip)[0], dtype=np.float32).mean(axis=0) for clip in clips]  # type: ignore[arg-type]
    return np.stack([v / (np.linalg.norm(v) or 1.0) for v in out]).astype(np.float32)


def needed_modalities(tasks: Iterable[Task]) -> set[Modality]:
    out: set[Modality] = set()
    for task in tasks:
        if isinstance(task, PairedRetrieval):
            out |= {task.owners, task.members}
        elif isinstance(task, ClassRetrieval):
            out |= {task.query, task.target}
        elif isinstance(task, ZeroShot):
            out |= {task.modality, Modality.TEXT}
    return out


def task_modalities(task: Task) -> set[Modality]:
    return needed_modalities([task])


def _directions(task: Task, emb: dict[Modality, Embedded]) -> list[tuple[str, Modality, Modality, np.ndarray, np.ndarray]]:
    """(name, query modality, target modality, query groups, target groups) for a retrieval task."""
    if isinstance(task, PairedRetrieval):
        owners, members = emb[task.owners], emb[task.members]
        owner_row = owners.row()
        member_groups = np.array([owner_row.get(i.owner, -1) if i.owner is not None else -1 for i in members.items],
                                 dtype=np.int64)
        owner_groups = np.arange(len(owners.keys), dtype=np.int64)
        a, b = task.owners.value, task.members.value
        return [(f"{a}->{b}", task.owners, task.members, owner_groups, member_groups),
                (f"{b}->{a}", task.members, task.owners, member_groups, owner_groups)]
    assert isinstance(task, ClassRetrieval)
    q, t = emb[task.query], emb[task.target]
    labels = sorted({i.label for i in q.items} | {i.label for i in t.items}, key=str)   # labelled: all str
    lid = {name: n for n, name in enumerate(labels)}
    return [(task.name, task.query, task.target,
             np.array([lid[i.label] for i in q.items], dtype=np.int64),
             np.array([lid[i.label] for i in t.items], dtype=np.int64))]


def _limit(items: list[Item], limit: int | None) -> list[Item]:
    """First N owners (and their members) / first N items; keeps pairs intact."""
    if not limit:
        return items
    out: list[Item] = []
    counts: dict[Modality, int] = {}
    kept_owners: set[str] = set()
    for item in items:
        if item.owner is not None and item.owner not in kept_owners:
            continue
        if item.owner is None:
            if counts.get(item.modality, 0) >= limit:
                continue
            counts[item.modality] = counts.get(item.modality, 0) + 1
            kept_owners.add(item.key)
        out.append(item)
    return out


def space_info(space: Any) -> dict[str, Any]:
    """Name, fingerprint and the checkpoints behind each modality's route (for the report)."""
    info: dict[str, Any] = {"space": getattr(space, "name", str(space))}
    for attr in ("label", "fingerprint", "description", "dim"):
        try:
            value = getattr(space, attr, None)
        except Exception:  # noqa: BLE001 - a fingerprint that cannot be computed is just not reported
            value = None
        if value not in (None, ""):
            info[attr] = value
    routes = getattr(space, "routes", None)
    if routes:
        info["routes"] = {
            (m.value if isinstance(m, Modality) else str(m)): {
                "encoder": getattr(r.encoder, "family", type(r.encoder).__name__),
                "weights": getattr(r.encoder, "weights_id", None),
                "heads": [type(h).__name__ for h in getattr(r, "heads", ())],
            }
            for m, r in routes.items()
        }
    return info


def run_space(dataset: Dataset, space: EmbeddingSpace, options: RunOptions | None = None,
              index: IndexPath | None = None, decoder: Callable[[Item], Any] = default_decoder,
              progress_factory: Callable[[str, int], Callable[[int], None]] | None = None,
              new_index: Callable[[], IndexPath] | None = None) -> SpaceRun:
    """Evaluate every task of `dataset` that `space` can serve; tasks it cannot are listed as skipped.

    `index` holds every embedded item for the retrieval tasks; `new_index` makes a fresh one per
    zero-shot task (items + class prototypes), so prototypes never mix with a dataset's own texts.
    """
    opts = options or RunOptions()
    run = SpaceRun(space=space.name, info=space_info(space))
    supported = set(getattr(space, "indexable", space.modalities))      # videos go through the image route
    runnable = [t for t in dataset.tasks if task_modalities(t) <= supported]
    for task in dataset.tasks:
        if task not in runnable:
            lacking = ", ".join(sorted(m.value for m in task_modalities(task) - supported))
            run.rows.append({"task": task.name, "kind": _kind(task), "skipped": f"space has no route for {lacking}"})

    started = time.perf_counter()
    emb: dict[Modality, Embedded] = {}
    items = _limit(dataset.items, opts.limit)
    for modality in sorted(needed_modalities(runnable), key=lambda m: m.value):
        todo = [i for i in items if i.modality == modality]
        if not todo:
            emb[modality] = Embedded([], np.zeros((0, 0), dtype=np.float32), [])
            continue
        progress = progress_factory(f"{space.name}: embed {modality.value}", len(todo)) if progress_factory else None
        emb[modality], problems = embed_items(space, modality, todo, opts.batch_size, decoder, progress)
        run.problems += problems
    run.seconds["embed"] = time.perf_counter() - started

    if index is not None:
        started = time.perf_counter()
        for modality, e in emb.items():
            if len(e.keys):
                index.add(modality, e.keys, e.vectors)
        run.seconds["index_build"] = time.perf_counter() - started

    started = time.perf_counter()
    for task in runnable:
        if isinstance(task, ZeroShot):
            run.rows.append(_zero_shot(task, space, emb, opts, dataset.name, new_index))
            continue
        for name, qm, tm, qg, tg in _directions(task, emb):
            run.rows.append(_retrieval_row(task, name, emb[qm], emb[tm], qg, tg, tm, opts, index, dataset.name))
    run.seconds["score"] = time.perf_counter() - started
    return run


def _kind(task: Task) -> str:
    return {PairedRetrieval: "paired", ClassRetrieval: "class", ZeroShot: "zero-shot"}[type(task)]


def _retrieval_row(task: Task, name: str, q: Embedded, t: Embedded, qg: np.ndarray, tg: np.ndarray,
                   target: Modality, opts: RunOptions, index: IndexPath | None, dataset: str) -> dict[str, Any]:
    valid_q = qg >= 0
    q_vec, qg = q.vectors[valid_q], qg[valid_q]
    valid_t = tg >= 0
    t_vec, tg, t_keys = t.vectors[valid_t], tg[valid_t], [k for k, ok in zip(t.keys, valid_t) if ok]
    compute_map = isinstance(task, ClassRetrieval) or opts.paired_map
    row: dict[str, Any] = {"task": name, "kind": _kind(task)}
    pair = getattr(task, "pair", None)
    if pair:
        row["pair"] = pair                           # the reader's tag, e.g. "within" an MCR or "emergent"
    if len(q_vec) == 0 or len(t_vec) == 0:
        row["skipped"] = "no queries or no targets after reading the data"
        return row
    started = time.perf_counter()
    exact = M.retrieval_metrics(q_vec, t_vec, qg, tg, opts.ks, compute_map, opts.chunk)
    row["exact"] = exact.as_dict()
    row["exact_seconds"] = time.perf_counter() - started
    n_rel = M.relevant_counts(qg, tg)
    chance: dict[str, float] = {f"r@{k}": M.chance_recall(len(t_vec), n_rel, k) for k in opts.ks}
    if compute_map:
        chance["map"] = M.chance_average_precision(len(t_vec), n_rel)
    row["chance"] = chance
    if index is not None:
        k = len(t_vec) if len(t_vec) <= opts.index_full_rank_max else min(len(t_vec), max(opts.ks))
        started = time.perf_counter()
        q_keys = [key for key, ok in zip(q.keys, valid_q) if ok]
        ranked_keys = index.rank(q_vec, target, k, q_keys)
        row["index_seconds"] = time.perf_counter() - started
        position = {key: n for n, key in enumerate(t_keys)}
        rankings = [[position[key] for key in keys if key in position] for keys in ranked_keys]
        via_index = M.ranking_metrics(rankings, qg, tg, opts.ks, compute_map and k == len(t_vec))
        row["index"] = via_index.as_dict()
        row["index_path"] = index.name
        row["diff"] = {m: (row["index"][m] - v) for m, v in row["exact"].items()
                       if isinstance(v, float) and isinstance(row["index"].get(m), float)}
    published = published_for(dataset, name)
    if published:
        row["published"] = published
    return row


def _zero_shot(task: ZeroShot, space: EmbeddingSpace, emb: dict[Modality, Embedded], opts: RunOptions,
               dataset: str, new_index: Callable[[], IndexPath] | None = None) -> dict[str, Any]:
    row: dict[str, Any] = {"task": task.name, "kind": "zero-shot"}
    items = emb[task.modality]
    if len(items.keys) == 0 or not task.classes:
        row["skipped"] = "no items or no classes after reading the data"
        return row
    names = task.prompt_names or task.classes
    texts = [p for name in names for p in prompts(task.templates, name)]
    vectors: list[np.ndarray] = []
    for start in range(0, len(texts), max(1, opts.batch_size * 8)):
        vectors.append(np.asarray(space.embed(Modality.TEXT, texts[start:start + opts.batch_size * 8]), dtype=np.float32))
    text_vecs = np.concatenate(vectors).reshape(len(task.classes), len(task.templates), -1)
    protos = M.class_prototypes(text_vecs)
    cid = {c: n for n, c in enumerate(task.classes)}
    known = np.array([i.label in cid for i in items.items], dtype=bool)
    labels = np.array([cid[i.label] for i in items.items if i.label in cid], dtype=np.int64)
    scores = M.zero_shot_metrics(items.vectors[known], protos, labels, opts.zero_shot_ks, opts.chunk)
    row["exact"] = scores.as_dict()
    row["chance"] = {f"top{k}": min(1.0, k / len(task.classes)) for k in opts.zero_shot_ks}
    if new_index is not None:
        _zero_shot_via_index(row, task, items, known, labels, protos, opts, new_index)
    if int((~known).sum()):
        row["unlabelled_items"] = int((~known).sum())
    published = published_for(dataset, "zero-shot " + task.modality.value)
    if published:
        row["published"] = published
    return row


def _zero_shot_via_index(row: dict[str, Any], task: ZeroShot, items: Embedded, known: np.ndarray,
                         labels: np.ndarray, protos: np.ndarray, opts: RunOptions,
                         new_index: Callable[[], IndexPath]) -> None:
    """Classify through the index: prototypes stored as text points, each item queries target=text."""
    index = new_index()
    try:
        started = time.perf_counter()
        keys = [k for k, ok in zip(items.keys, known) if ok]
        vecs = items.vectors[known]
        index.add(task.modality, keys, vecs)
        proto_keys = [f"class-prototype:{n}" for n in range(len(protos))]
        index.add(Modality.TEXT, proto_keys, protos)
        ranked = index.rank(vecs, Modality.TEXT, len(protos), keys)
        position = {key: n for n, key in enumerate(proto_keys)}
        rankings = [[position[k] for k in r if k in position] for r in ranked]
        via = M.ranking_metrics(rankings, labels, np.arange(len(protos)), opts.zero_shot_ks, compute_map=False)
        row["index"] = {f"top{k}": v for k, v in via.recall.items()}
        row["index_seconds"] = time.perf_counter() - started
        row["index_path"] = index.name
        row["diff"] = {m: row["index"][m] - row["exact"][m] for m in row["index"] if m in row["exact"]}
    finally:
        index.close()


@dataclass
class BenchmarkResult:
    benchmark: str
    root: str
    counts: dict[str, int]
    problems: list[Problem]
    notes: list[str]
    runs: list[SpaceRun]
    sources: list[dict[str, str]] = field(default_factory=list)
    split: str | None = None

    def all_problems(self) -> list[Problem]:
        """The reader's problems (missing files, bad rows) then each space's (files that failed to decode)."""
        seen: set[Problem] = set()
        out = []
        for p in list(self.problems) + [p for r in self.runs for p in r.problems]:
            if p not in seen:        # a file that fails to decode fails once per space; list it once
                seen.add(p)
                out.append(p)
        return out

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready results; `problem_list` holds every problem (none are dropped)."""
        problems = self.all_problems()
        return _no_nan({
            "benchmark": self.benchmark,
            "root": self.root,
            "split": self.split,
            "sources": self.sources,
            "items": self.counts,
            "problems": len(problems),
            "problem_list": [{"path": p.path, "reason": p.reason} for p in problems],
            "notes": self.notes,
            "spaces": [{**r.info, "seconds": {k: round(v, 3) for k, v in r.seconds.items()}} for r in self.runs],
            "results": [{"space": r.space, **row} for r in self.runs for row in r.rows],
        })


def _no_nan(value: Any) -> Any:
    """NaN (a metric over zero queries) becomes None, so the JSON output stays strict JSON."""
    if isinstance(value, float) and value != value:
        return None
    if isinstance(value, dict):
        return {k: _no_nan(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_no_nan(v) for v in value]
    return value


def run_benchmark(dataset: Dataset, spaces: Sequence[EmbeddingSpace], options: RunOptions | None = None,
                  index_factory: Callable[[EmbeddingSpace], IndexPath] | None = None,
                  decoder: Callable[[Item], Any] = default_decoder,
                  progress_factory: Callable[[str, int], Callable[[int], None]] | None = None) -> BenchmarkResult:
    """Every space over the same dataset; each space gets its own fresh index when a factory is given."""
    runs: list[SpaceRun] = []
    notes = list(dataset.notes)
    for space in spaces:
        index: IndexPath | None = None
        fresh: Callable[[], IndexPath] | None = None
        if index_factory is not None:
            index = index_factory(space)
            fresh = partial(index_factory, space)
        try:
            runs.append(run_space(dataset, space, options, index, decoder, progress_factory, fresh))
        finally:
            if index is not None:
                index.close()
    return BenchmarkResult(dataset.name, str(dataset.root), dataset.counts(), list(dataset.problems), notes, runs,
                           list(dataset.sources), dataset.split)
