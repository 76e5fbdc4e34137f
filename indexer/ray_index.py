"""Index on a Ray cluster: the driver scans and diffs, Ray Data actors read, decode and embed.

Why this shape: the expensive part of a run is decode + encode, which scales with accelerators; the scan,
the diff against the store and the final calibration are cheap and need one consistent view of the
collection, so they stay on the driver and are the local indexer's own functions (`plan_run`,
`finish_run`). Each actor builds or receives the space once and keeps its encoders for the whole run (one
actor per GPU when the cluster has GPUs, else one per CPU slot). Vectors stream back to the driver, which
writes them in batches into the store; with a Qdrant server (`qdrant_url`) the actors write their points
themselves and only a status row per file comes back.

Interrupt safety is the local indexer's: every point is written whole (vector and state fields in one
upsert), so a run killed at any point and rerun ends as one clean run would. Workers read the files by
their absolute paths, so on a multi-node cluster the tree must be mounted at the same path on every node.

    pip install "mcrsearch[ray]"
"""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Iterator

import numpy as np
from mcrsearch_indexer.pipeline import (
    ProgressFn,
    _embed,
    _fail,
    _prepare,
    _prepared,
    embedded_point,
    failure_reason,
    finish_run,
    new_point,
    plan_run,
    run_context,
    state_of,
    unembeddable_reason,
)
from mcrsearch_indexer.report import IndexReport
from mcrsearch_indexer.scan import ScannedFile
from mcrsearch_indexer.work import Decoded, Planned, Prepared, ToEmbed, Touch

from mcrsearch.errors import ConfigError
from mcrsearch.modality import Modality
from mcrsearch.store import PointData, Record, Store

if TYPE_CHECKING:
    from mcrsearch.config import Settings
    from mcrsearch.space import Space

ROWS_PER_TASK = 64                          # files per actor call: small enough to stream, large enough to batch


def _ray():
    try:
        import ray
        import ray.data
    except ImportError as exc:
        raise ConfigError("Indexing on Ray needs the ray extra; install it with: pip install \"mcrsearch[ray]\"") \
            from exc
    return ray


def index_path_ray(path: str | Path, settings: "Settings", address: str | None = None,
                   space: "Space | str | None" = None, progress: ProgressFn | None = None,
                   store: Store | None = None, on_batch: Callable[[int], None] | None = None,
                   actors: int | None = None) -> IndexReport:
    """Bring the collection in line with the files under `path`, embedding on a Ray cluster.

    Args:
        path: the folder (or file) to index.
        settings: the run's settings (collection, Qdrant URL, batch size, size limit, device).
        address: the Ray cluster ('auto', 'ray://host:10001', ...); None joins the running Ray of this
            process, else starts a local one on this machine.
        space: a Space (shipped to the actors as is), a registered space name (each actor builds it, so
            its encoders load on the actor's own device), or None for the settings' choice.
        progress: called with an IndexProgress after each written batch.
        store: an open store to write into (default: open the settings' collection, created if needed).
        on_batch: called with the running count of embedded items after each write.
        actors: how many embedding actors (default: one per GPU of the cluster, else one per CPU).
    Returns:
        The IndexReport, with the same counts and failures a local run gives.
    """
    ray = _ray()
    with run_context(path, settings, space, store) as run:
        root, files, sp, store, report = run.root, run.files, run.space, run.store, run.report
        todo = plan_run(root, files, sp, store, report)
        for job in [j for j in todo if j.file.modality is Modality.VIDEO]:
            _fail(report, store, job.file, job.old, "videos are indexed by the local indexer; run it without --ray "
                                                    "for them")
        todo = [j for j in todo if j.file.modality is not Modality.VIDEO]
        if todo:
            from mcrsearch.space import Space

            if address is not None or not ray.is_initialized():
                ray.init(address=address, ignore_reinit_error=True, log_to_driver=False)
            shipped = space if isinstance(space, Space) else None      # else each actor builds it by name
            _embed_on_ray(ray, todo, sp, shipped, settings, store, report, actors,
                          lambda: progress(report.progress(len(files))) if progress else None, on_batch)
        finish_run(store, sp)
    return report


def _media_limits(settings: "Settings") -> Any:
    """The decoders' size caps from the settings, as the local indexer applies them."""
    from mcrsearch import media

    return media.Limits.from_settings(settings)


def _rows(todo: list[Planned]) -> list[dict[str, Any]]:
    """What an actor needs per file: the scan's facts and the stored hash and spaces (to skip a touch)."""
    return [{"path": job.file.path, "modality": job.file.modality.value, "size": job.file.size,
             "mtime_ns": job.file.mtime_ns, "dev": job.file.dev, "ino": job.file.ino,
             "old": "" if job.old is None else json.dumps({"hash": job.old.payload.get("hash"),
                                                           "spaces": job.old.payload.get("spaces", [])})}
            for job in todo]


def _resources(ray) -> tuple[int, float, int]:
    """(actors, GPUs per actor, CPUs per actor): one actor per GPU with the cluster's CPUs shared among
    them for decoding (as the local indexer decodes in threads beside a GPU), else one actor per CPU."""
    total = ray.cluster_resources()
    gpus, cpus = int(total.get("GPU", 0)), int(total.get("CPU", 1))
    if gpus:
        return gpus, 1.0, max(1, cpus // gpus - 1)      # a core per node stays for Ray and the driver
    return max(1, cpus), 0.0, 1


def _embed_on_ray(ray, todo: list[Planned], sp: "Space", shipped: "Space | None", settings: "Settings", store: Store,
                  report: IndexReport, actors: int | None, tell: Callable[[], None],
                  on_batch: Callable[[int], None] | None) -> None:

    n, gpus, cpus = _resources(ray)
    n = max(1, min(actors or n, -(-len(todo) // ROWS_PER_TASK)))
    direct = bool(settings.qdrant_url)
    context = ray.data.DataContext.get_current()
    context.enable_progress_bars = False           # the caller reports progress; Ray's bars would be noise
    logging.getLogger("ray.data").setLevel(logging.WARNING)
    ds = ray.data.from_items(_rows(todo), override_num_blocks=max(1, -(-len(todo) // ROWS_PER_TASK))).map_batches(
        EmbedActor, batch_size=ROWS_PER_TASK, batch_format="numpy",
        compute=ray.data.ActorPoolStrategy(size=n), num_gpus=gpus, num_cpus=cpus,
        fn_constructor_kwargs={"space": shipped, "space_name": sp.name, "settings": settings, "write": direct,
                               "decode_threads": cpus if gpus else 0})
    known = {job.file.path: job for job in todo}
    writer = _Writer(sp, store, report, settings.batch_size or 256, tell, on_batch)
    for row in _rows_of(ds.iter_batches(batch_size=None, batch_format="numpy")):
        job = known[row["path"]]
        writer.take(job.file, job.old, row)
    writer.flush()


def _rows_of(batches: Iterator[dict[str, np.ndarray]]) -> Iterator[dict[str, Any]]:
    for batch in batches:
        for i in range(len(batch["path"])):
            yield {k: v[i] for k, v in batch.items()}


class _Writer:
    """The driver's side: settle each file's outcome as the local indexer does, write points in batches."""

    def __init__(self, sp: "Space", store: Store, report: IndexReport, batch: int,
                 tell: Callable[[], None], on_batch: Callable[[int], None] | None) -> None:
        self.sp, self.store, self.report, self.batch = sp, store, report, batch
        self.tell, self.on_batch = tell, on_batch
        self.points: list[PointData] = []
        self.stored_ids: list[str] = []
        self.written = 0                  # points the actors wrote to the server themselves, not yet counted

    def take(self, f: ScannedFile, old: Record | None, row: dict[str, Any]) -> None:
        kind = str(row["kind"])
        if kind == "fail":
            _fail(self.report, self.store, f, old, str(row["reason"]))
        elif kind == "touch":
            assert old is not None          # a touch is a stored file whose content is unchanged
            self.store.set_payload([old.id], state_of(f))
            self.report.unchanged += 1
        elif kind == "written":
            self.written += 1
        else:
            info = json.loads(str(row["info"]))
            self.points.append(new_point(f, str(row["digest"]), Modality.parse(str(row["modality"])), info,
                                         self.sp.name, np.asarray(row["vector"], dtype=np.float32)))
            if old is not None:
                self.stored_ids.append(old.id)
        if len(self.points) + self.written >= self.batch:
            self.flush()

    def flush(self) -> None:
        if not self.points and not self.written:
            return
        self.store.set_vectors_keep_others(self.sp.name, self.sp.fingerprint, self.points,
                                           stored_ids=self.stored_ids)
        self.report.indexed += len(self.points) + self.written
        self.report.batches += 1
        self.points, self.stored_ids, self.written = [], [], 0
        self.tell()
        if self.on_batch is not None:
            self.on_batch(self.report.indexed)


class EmbedActor:
    """A Ray Data actor: holds the space's encoders for the whole run; read, hash, decode, embed a batch.

    Each output row says what became of one file: 'embed' (with digest, modality, describe's info and the
    vector), 'written' (the actor wrote the point to the Qdrant server itself), 'touch' (same content, only
    the mtime moved) or 'fail' (with the reason the local indexer would give).
    """

    def __init__(self, space: Any, space_name: str, settings: "Settings", write: bool,
                 decode_threads: int = 0) -> None:
        if space is not None:
            self.sp = space
        else:
            from mcrsearch.space import create_space

            self.sp = create_space(space_name, settings)
        self.max_bytes = int(settings.max_file_mb * 2**20)
        self.limits = _media_limits(settings)
        self.store = Store.open(settings) if write else None
        self.decode_threads = decode_threads       # beside a GPU, decode in threads while it computes

    def __call__(self, batch: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        sp = self.sp
        n = len(batch["path"])
        out: list[dict[str, Any]] = []
        pending: dict[Modality, list[ToEmbed]] = {}
        todo = [Planned(ScannedFile(str(batch["path"][i]), Modality.parse(str(batch["modality"][i])),
                                    int(batch["size"][i]), int(batch["mtime_ns"][i]), int(batch["dev"][i]),
                                    int(batch["ino"][i])),
                        Record("", json.loads(str(batch["old"][i]))) if str(batch["old"][i]) else None)
                for i in range(n)]

        def prepare(job: Planned) -> Prepared:
            return _prepare(job.file, job.old, sp.name, self.max_bytes, sp.mesh_points, self.limits)

        for job, outcome in _prepared(todo, prepare, self.decode_threads, max(n, 1)):
            path = job.file.path
            if isinstance(outcome, BaseException):
                out.append(_row(path, "fail", reason=failure_reason(outcome)))
            elif isinstance(outcome, Touch):
                out.append(_row(path, "touch"))
            elif not isinstance(outcome, Decoded):      # no `known` is passed: a copy is never answered
                out.append(_row(path, "fail", reason=f"unexpected outcome {outcome!r}"))
            elif outcome.modality not in sp.modalities:
                out.append(_row(path, "fail", reason=unembeddable_reason(outcome.modality, sp.name)))
            else:
                pending.setdefault(outcome.modality, []).append(ToEmbed(job.file, job.old, outcome))
        for modality, entries in pending.items():
            out.extend(self._embed(modality, entries))
        return _columns(out, sp.dim)

    def _embed(self, modality: Modality, entries: list[ToEmbed]) -> list[dict[str, Any]]:
        failures = IndexReport()
        ok, vectors = _embed(self.sp, modality, entries, failures)
        rows = [_row(fail.path, "fail", reason=fail.reason) for fail in failures.failed]
        if self.store is not None:
            points = [embedded_point(e, self.sp.name, vec) for e, vec in zip(ok, vectors)]
            # ids of files stored before may hold other spaces' vectors: let the store keep them
            stored = [p.id for p, e in zip(points, ok) if e.old is not None]
            self.store.set_vectors_keep_others(self.sp.name, self.sp.fingerprint, points, stored_ids=stored)
            return rows + [_row(e.file.path, "written") for e in ok]
        return rows + [_row(e.file.path, "embed", digest=e.decoded.digest, modality=e.decoded.modality.value,
                            info=json.dumps(e.decoded.info), vector=vec) for e, vec in zip(ok, vectors)]


def _row(path: str, kind: str, reason: str = "", digest: str = "", modality: str = "", info: str = "{}",
         vector: Any = None) -> dict[str, Any]:
    return {"path": path, "kind": kind, "reason": reason, "digest": digest, "modality": modality, "info": info,
            "vector": vector}


def _columns(rows: list[dict[str, Any]], dim: int) -> dict[str, np.ndarray]:
    """Rows -> the column batch Ray Data moves (vectors as one (n, dim) float32 tensor column)."""
    cols = {k: np.array([r[k] for r in rows], dtype=object) for k in ("path", "kind", "reason", "digest",
                                                                        "modality", "info")}
    cols["vector"] = np.stack([np.zeros(dim, np.float32) if r["vector"] is None
                               else np.asarray(r["vector"], np.float32) for r in rows]) if rows \
        else np.zeros((0, dim), np.float32)
    return cols
