"""One index run: scan -> hash, decode (worker threads when the encoder is on a GPU) -> encode batched -> upsert.

Why it is incremental and interrupt-safe without a state file of its own: the store *is* the state.
Every point id is uuid5(path) and every point carries the content hash, size and mtime of the file it
was made from, written in the same atomic upsert as its vector. A run compares the tree with what the
store holds: unchanged files cost one stat (or one hash when only the mtime moved), changed files are
re-embedded, vanished files are deleted. A run killed at any point leaves only whole points behind,
each a correct function of its file, so the next run simply finishes the work; nothing is duplicated.
"""

from __future__ import annotations

import os
import threading
import time
from collections import deque
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Iterator

import numpy as np

from mcrsearch_indexer.report import Failure, IndexProgress, IndexReport
from mcrsearch_indexer.scan import ScannedFile, considered, resolve_root, scan
from mcrsearch_indexer.work import CANCELLED, Cancelled, Copy, Decoded, Planned, Prepared, ToEmbed, Touch

from mcrsearch import calibration
from mcrsearch.errors import ConfigError, MediaError
from mcrsearch.modality import Modality
from mcrsearch.store import VIDEO_SEGMENT, PointData, Record, Store, path_fields, point_id

if TYPE_CHECKING:
    from mcrsearch.config import Settings
    from mcrsearch.space import Space

STATE_FIELDS = ["path", "hash", "size", "mtime_ns", "dev", "ino", "spaces", "modality", "ext"]


ProgressFn = Callable[[IndexProgress], None]


def resolve_space_name(space: str | None, settings: "Settings", store: Store | None) -> str:
    """The name of the space to index with: the given one, the settings', or for 'auto' the collection's
    only space (a new collection, or none given, gets `exmcr`)."""
    name = space or settings.space
    if name and name != "auto":
        return name
    known = sorted(store.spaces()) if store is not None and store.exists else []
    if len(known) > 1 and store is not None:
        raise ConfigError(f"Collection '{store.collection}' holds several spaces ({', '.join(known)}); "
                          "pick one with --space.")
    return known[0] if known else "exmcr"


def resolve_space(space: "Space | str | None", settings: "Settings", store: Store) -> "Space":
    """The space to index with: an object, a name, or 'auto' (see resolve_space_name)."""
    from mcrsearch.space import Space, create_space

    if isinstance(space, Space):
        return space
    return create_space(resolve_space_name(space, settings, store), settings)


def _media():
    from mcrsearch import media

    return media


def _video():
    from mcrsearch import video

    return video


def _prepare(f: ScannedFile, old: Record | None, space_name: str, max_bytes: int,
             n_points: int, limits: Any = None, stages: dict[str, float] | None = None,
             known: dict[str, str] | None = None, segment_seconds: float = 10.0,
             max_video_bytes: int | None = None) -> Prepared:
    """Size check, content hash, decode (from the hashed bytes): `Touch` (the stored content), `Copy` or
    `Decoded`.

    `known`: content hash -> id of a stored item with a vector in this space; a file with such content is
    not decoded (`Copy`): its vector is copied, so identical content costs no model time.

    A file that changed between the scan and the end of its decode (rewritten, truncated, deleted) fails
    with a reason instead of being stored: its vector could belong to content that no longer exists, or
    to none the stored hash names. The next run picks up whatever the file then is. `stages` accumulates
    the seconds spent reading+hashing and decoding (the report's stage timings).
    """
    media, video = _media(), _video()
    t0 = time.perf_counter()
    if f.size == 0:
        raise MediaError(f.path, "empty file")
    is_video = f.modality is Modality.VIDEO
    limit = (max_video_bytes or video.default_max_video_bytes()) if is_video else max_bytes
    if f.size > limit:
        raise MediaError(f.path, f"file is {f.size / 2**20:.1f} MB, over the "
                                 f"{'max_video_mb' if is_video else 'max_file_mb'} limit of {limit / 2**20:g} MB")
    digest, data = media.read_hashed(f.path, identity=(f.dev, f.ino) if f.ino else None)  # one read per file
    t1 = time.perf_counter()
    if stages is not None:
        stages["read_hash"] += t1 - t0
    if old is not None and old.payload.get("hash") == digest and space_name in old.payload.get("spaces", []):
        _unchanged_since_scan(f)
        return Touch(digest)
    if known and not is_video and digest in known and known[digest] != point_id(f.path):
        _unchanged_since_scan(f)
        return Copy(digest, known[digest])
    try:
        modality, decoded = video.decode(f.path, f.modality, n_points=n_points, max_bytes=max_bytes, data=data,
                                         limits=limits, segment_seconds=segment_seconds,
                                         max_video_bytes=max_video_bytes)
    finally:
        if stages is not None:
            stages["decode"] += time.perf_counter() - t1
    _unchanged_since_scan(f)
    info = video.describe(modality, decoded) or {}
    return Decoded(digest, Modality.parse(modality), decoded, info)


def state_of(f: ScannedFile) -> dict[str, Any]:
    """The payload fields a run compares next time, and the server checks before it serves the file."""
    return {"size": f.size, "mtime_ns": f.mtime_ns, "dev": f.dev, "ino": f.ino}


def _unchanged_since_scan(f: ScannedFile) -> None:
    try:
        st = os.lstat(f.path)
    except FileNotFoundError as exc:
        raise MediaError(f.path, "the file was deleted while it was being indexed") from exc
    except OSError as exc:
        raise MediaError(f.path, f"cannot read file ({exc.strerror or exc})") from exc
    if (st.st_size, st.st_mtime_ns) != (f.size, f.mtime_ns) or (f.ino and (st.st_dev, st.st_ino) != (f.dev, f.ino)):
        raise MediaError(f.path, "the file changed while it was being indexed; the next run indexes it as "
                                 "it then is")


def new_point(f: ScannedFile, digest: str, modality: Modality, info: dict[str, Any], space: str,
              vector: Any) -> PointData:
    """The point for a freshly embedded file: `describe`'s fields and the state fields the next run compares."""
    payload = {**info, **path_fields(f.path), "path": f.path, "modality": modality.value, "hash": digest,
               **state_of(f), "spaces": [space]}   # the state fields win over describe's
    return PointData(point_id(f.path), {space: vector}, payload)


def embedded_point(entry: ToEmbed, space: str, vector: Any) -> PointData:
    """The point for a decoded file the encoder has embedded."""
    d = entry.decoded
    return new_point(entry.file, d.digest, d.modality, d.info, space, vector)


def index_path(path: str | Path, settings: "Settings", space: "Space | str | None" = None,
               progress: ProgressFn | None = None, store: Store | None = None,
               on_batch: Callable[[int], None] | None = None,
               cancel: Callable[[], bool] | None = None, rebuild: bool = False) -> IndexReport:
    """Bring the collection in line with the files under `path`; return what was done.

    Args:
        path: the folder (or file) to index.
        settings: the run's settings (collection, batch size, decode threads, size limit).
        space: a Space, a registered space name, or None for the settings' choice.
        progress: called with an IndexProgress whenever files are settled (library code draws nothing).
        store: an open store to write into (default: open the settings' collection, created if needed).
        on_batch: called with the running count of embedded items after each upsert.
        cancel: polled between files; True stops the run after flushing what is decoded (`report.cancelled`).
        rebuild: move the embedded collection aside first (a damaged index) and build it again from the files.
    Returns:
        The IndexReport.
    """
    with run_context(path, settings, space, store, rebuild) as run:
        _run(run.root, run.files, run.space, run.store, settings, run.report,
             progress if callable(progress) else None, on_batch, cancel)
        report = run.report
    return report


@dataclass(frozen=True)
class Run:
    """An index run under way (`run_context`): its root folder and the files scanned under it, the space it
    embeds with, the open store and the report being filled."""

    root: Path
    files: list[ScannedFile]
    space: "Space"
    store: Store
    report: IndexReport


@contextmanager
def run_context(path: str | Path, settings: "Settings", space: "Space | str | None",
                store: Store | None, rebuild: bool = False) -> Iterator[Run]:
    """What every index run (local or on Ray) starts and ends with: the tree scanned, the store open (closed
    after when opened here), the space resolved and registered, the report timed."""
    started = time.perf_counter()
    root = Path(os.path.abspath(Path(path).expanduser()))
    if not root.exists():
        raise ConfigError(f"The path {root} does not exist.")
    root = resolve_root(root)          # the real path; / and the system pseudo file systems are refused
    own_store = store is None
    store = store or Store.open(settings, create=True, rebuild=rebuild)
    report = IndexReport(collection=store.collection, location=store.backend.location)
    try:
        sp = resolve_space(space, settings, store)
        report.space = sp.name
        store.ensure_space(sp.name, sp.fingerprint, sp.dim, getattr(sp, "indexable", sp.modalities))
        if root.is_dir() and not any(_in_scope(str(root), Path(r)) for r in store.roots()):
            store.add_root(str(root))          # the folders `serve --watch` follows
        yield Run(root, scan(root), sp, store, report)
    finally:
        if own_store:
            store.close()
    report.seconds = time.perf_counter() - started


def _in_scope(stored_path: str, root: Path) -> bool:
    r = str(root)
    return stored_path == r or stored_path.startswith(r.rstrip(os.sep) + os.sep)


def plan_run(root: Path, files: list[ScannedFile], sp: "Space", store: Store,
             report: IndexReport, known: dict[str, str] | None = None,
             segments: dict[str, list[Record]] | None = None) -> list[Planned]:
    """Delete what left disk, count unchanged files, report what this space cannot take; return the
    files to read, each with its stored record (None: new). Shared by the local and the Ray indexer.

    `known`, when given, is filled with content hash -> id of every stored item (in scope or not) that has
    a vector in this space and whose file is still there: the copies `_prepare` may reuse (videos and
    their segments are never copies: a video item holds no vector of its own).

    `segments`, when given, is filled with the video segment points still stored per path (after the
    ones no item point vouches for are deleted; see `video_items.stale_segments`)."""
    from mcrsearch_indexer.video_items import stale_segments

    everything: list[Record] = []
    parts: list[Record] = []
    for r in store.scroll(fields=STATE_FIELDS):
        (parts if r.payload.get("modality") == VIDEO_SEGMENT else everything).append(r)
    # Only what this scan would have looked at by its own rules: items indexed from a hidden child
    # folder (or by a path outside the root) are not this run's to delete.
    stored = {r.payload.get("path"): r for r in everything if considered(str(r.payload.get("path", "")), root)}
    parts = [r for r in parts if considered(str(r.payload.get("path", "")), root)]
    on_disk = {f.path for f in files}

    # 1. files gone from disk (a video's segments with its item), and segments no item vouches for
    gone = [r.id for p, r in stored.items() if p not in on_disk]
    store.delete(gone)
    report.removed = len(gone)
    stale = set(stale_segments(parts, stored, on_disk))
    store.delete(sorted(stale))
    if segments is not None:
        for r in parts:
            if r.id not in stale:
                segments.setdefault(str(r.payload.get("path")), []).append(r)
    if known is not None:
        dropped = set(gone)
        known.update((str(r.payload["hash"]), r.id) for r in everything
                     if r.payload.get("hash") and r.id not in dropped and sp.name in r.payload.get("spaces", [])
                     and r.payload.get("modality") != Modality.VIDEO.value)

    # 2. plan: fast path on size + mtime, everything else goes to the workers
    todo: list[Planned] = []
    for f in files:
        old = stored.get(f.path)
        if f.modality not in getattr(sp, "indexable", sp.modalities):
            # Not a bad file: this space cannot embed it. Vectors another space made for it stay.
            report.failed.append(Failure(f.path, f"space '{sp.name}' does not embed {f.modality.value} files"))
            continue
        if (old is not None and old.payload.get("size") == f.size and old.payload.get("mtime_ns") == f.mtime_ns
                and old.payload.get("ino") == f.ino and old.payload.get("dev") == f.dev
                and sp.name in old.payload.get("spaces", [])):
            report.unchanged += 1
            if "ext" not in old.payload:       # indexed before the filter fields existed: add them, no re-embed
                store.set_payload([old.id], path_fields(f.path))
        elif not _storable_name(f.path):        # checked after the fast path: a stored path always was
            report.failed.append(Failure(f.path, "the file name is not valid UTF-8, which the index cannot "
                                                 "store; rename the file"))
        else:
            todo.append(Planned(f, old))
    return todo


def _run(root: Path, files: list[ScannedFile], sp: "Space", store: Store, settings: "Settings",
         report: IndexReport, progress: ProgressFn | None, on_batch: Callable[[int], None] | None,
         cancel: Callable[[], bool] | None) -> None:
    from mcrsearch.device import default_batch_size

    known: dict[str, str] = {}
    segments: dict[str, list[Record]] = {}
    todo = plan_run(root, files, sp, store, report, known, segments)
    workers = decode_workers(settings, sp)
    max_bytes = int(settings.max_file_mb * 2**20)
    limits = _media().Limits.from_settings(settings)
    batch_sizes = {m: default_batch_size(getattr(sp.routes[m].encoder, "device", "cpu"), m.value,
                                         settings.batch_size) for m in sp.modalities}
    if Modality.VIDEO in sp.indexable:
        batch_sizes[Modality.VIDEO] = 1          # a video is a batch of its own: its segments are batched inside
    pending: dict[Modality, list[ToEmbed]] = {m: [] for m in sp.indexable}
    max_video_bytes = int(settings.max_video_mb * 2**20)

    stages = report.stage_seconds

    def tell() -> None:
        if progress is not None:
            progress(report.progress(len(files)))

    def flush(modality: Modality) -> None:
        batch = pending[modality]
        if not batch:
            return
        pending[modality] = []
        if modality is Modality.VIDEO:
            _flush_videos(sp, store, batch, report, segments)
            tell()
            if on_batch is not None:
                on_batch(report.indexed)
            return
        t0 = time.perf_counter()
        ok, vectors = _embed(sp, modality, batch, report)
        t1 = time.perf_counter()
        points = [embedded_point(e, sp.name, vec) for e, vec in zip(ok, vectors)]
        embedded = {e.file.path for e in ok}
        failed_ids = [e.old.id for e in batch if e.old is not None and e.file.path not in embedded]
        store.set_vectors_keep_others(sp.name, sp.fingerprint, points,
                                      stored_ids=[e.old.id for e in ok if e.old is not None])
        store.delete(failed_ids)
        # a file stored as a video before (now decoded as another modality) or failed: drop its segments
        store.delete([r.id for e in batch for r in segments.pop(e.file.path, [])])
        known.update((str(p.payload["hash"]), p.id) for p in points)    # later copies in this run reuse them
        stages["encode"] += t1 - t0
        stages["write"] += time.perf_counter() - t1
        report.indexed += len(points)
        report.batches += 1
        tell()
        if on_batch is not None:
            on_batch(report.indexed)

    def prepare(job: Planned, reuse: bool = True) -> Prepared:
        return _prepare(job.file, job.old, sp.name, max_bytes, sp.mesh_points, limits, stages,
                        known if reuse else None, sp.segment_seconds, max_video_bytes)

    embedding: set[str] = set()          # content hashes sent to the encoder in this run
    later: list[ToEmbed] = []
    tell()
    window = max(4 * workers, 2 * max(batch_sizes.values(), default=8))
    for job, outcome in _prepared(todo, prepare, workers, window, cancel):
        f, old = job.file, job.old
        if isinstance(outcome, Cancelled) or (cancel is not None and cancel()):
            report.cancelled = True
            break
        if isinstance(outcome, BaseException):
            _fail(report, store, f, old, failure_reason(outcome), segments)
            tell()
            continue
        if isinstance(outcome, Copy):
            if _copy_point(store, sp, f, old, outcome.digest, outcome.source_id):
                report.indexed += 1
                report.reused += 1
                tell()
                continue
            try:                    # the source went away meanwhile: embed this file after all
                outcome = prepare(job, reuse=False)
            except Exception as exc:  # noqa: BLE001 - one bad file must never stop the run
                _fail(report, store, f, old, failure_reason(exc), segments)
                tell()
                continue
        if isinstance(outcome, Touch):
            assert old is not None          # a touch is a stored file whose content is unchanged
            store.set_payload([old.id], state_of(f))
            report.unchanged += 1
            tell()
            continue
        if not isinstance(outcome, Decoded):        # a copy is never answered when reuse is off
            raise TypeError(f"Unexpected outcome {outcome!r} for {f.path}.")
        modality = outcome.modality
        if modality not in pending:
            _fail(report, store, f, old, unembeddable_reason(modality, sp.name), segments)
            tell()
            continue
        entry = ToEmbed(f, old, outcome)
        if outcome.digest in embedding:  # the same content is already on its way to the encoder in this run
            later.append(entry)
            continue
        embedding.add(outcome.digest)
        pending[modality].append(entry)
        if len(pending[modality]) >= batch_sizes[modality]:
            flush(modality)
    for modality in list(pending):
        flush(modality)
    for entry in later:                 # their twins are written now: copy, or embed when a twin failed
        digest = entry.decoded.digest
        if digest in known and _copy_point(store, sp, entry.file, entry.old, digest, known[digest]):
            report.indexed += 1
            report.reused += 1
            tell()
        else:
            pending[entry.decoded.modality].append(entry)
    for modality in list(pending):
        flush(modality)

    finish_run(store, sp)


# Payload fields a copied point does not take from its source: they describe the file, not its content.
_OWN_FIELDS = frozenset(STATE_FIELDS) | {"folders"}


def _copy_point(store: Store, sp: "Space", f: ScannedFile, old: Record | None, digest: str, source_id: str) -> bool:
    """Write `f` with the vector (and content fields: duration, size, text) of the stored item `source_id`,
    whose content hash is the same; False when the source no longer holds a vector in this space."""
    found = store.retrieve([source_id], with_vectors=True)
    if not found or sp.name not in found[0].vectors or found[0].payload.get("hash") != digest:
        return False
    src = found[0]
    info = {k: v for k, v in src.payload.items() if k not in _OWN_FIELDS}
    point = new_point(f, digest, Modality.parse(src.payload["modality"]), info, sp.name, src.vectors[sp.name])
    store.set_vectors_keep_others(sp.name, sp.fingerprint, [point], stored_ids=[old.id] if old else [])
    return True


def finish_run(store: Store, sp: "Space") -> None:
    """Calibrate and optimize: always (not only when this run changed something), since a previous run may
    have been killed after its last upsert but before these steps. Both are cheap when there is nothing to do,
    and calibration is a pure function of the stored points, so the end state equals a clean run's."""
    store.set_calibration(sp.name, calibration.compute_calibration(store, sp.name))
    store.optimize()


def failure_reason(exc: BaseException) -> str:
    """The reason reported for a file whose read, hash or decode raised `exc`."""
    return exc.reason if isinstance(exc, MediaError) else f"{type(exc).__name__}: {exc}"


def unembeddable_reason(modality: Modality, space_name: str) -> str:
    """The reason reported for a file whose content decoded as a modality the space cannot embed."""
    return f"decoded as {modality.value}, which space '{space_name}' cannot embed"


def _storable_name(path: str) -> bool:
    """Whether a path can be stored: payload strings are UTF-8, and Linux file names are any bytes."""
    try:
        path.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def decode_workers(settings: "Settings", sp: "Space") -> int:
    """Decode threads for a run: the setting, else cores when an encoder runs on an accelerator, else none.

    Why none on CPU: the encoder's own threads already use every core, so decode threads only compete
    with it; measured on 2 cores, the tiny CLIP encoder ran 1.4-2x slower beside two decode threads (and
    beside a decode process), while full-size encoders gained nothing from them. On an accelerator the
    cores are free while the device computes, and decoding in threads overlaps with it.
    """
    if settings.workers > 0:
        return settings.workers
    devices = {str(getattr(route.encoder, "device", "cpu")) for route in sp.routes.values()}
    return (os.cpu_count() or 2) if any(d != "cpu" for d in devices) else 0


CANCEL_POLL_S = 0.1


def _wait(fut: Future, cancel: Callable[[], bool] | None) -> Any:
    """The future's result, or CANCELLED as soon as `cancel` says so (the stuck work is abandoned)."""
    while cancel is not None:
        try:
            return fut.result(timeout=CANCEL_POLL_S)
        except TimeoutError:
            if cancel():
                return CANCELLED
    return fut.result()


def _in_daemon_thread(fn: Callable[[], Any]) -> Future:
    """Run `fn` on a daemon thread: a read that blocks (a slow or hung file system) cannot keep the
    run, the server's job worker or the interpreter's exit waiting once the run is cancelled."""

    fut: Future = Future()

    def run() -> None:
        try:
            fut.set_result(fn())
        except BaseException as exc:  # noqa: BLE001 - handed to the consumer
            fut.set_exception(exc)

    threading.Thread(target=run, name="mcr-prepare", daemon=True).start()
    return fut


def _prepared(todo: list[Planned], prepare: Callable[[Planned], Prepared], workers: int, window: int,
              cancel: Callable[[], bool] | None = None
              ) -> Iterator[tuple[Planned, Prepared | BaseException | Cancelled]]:
    """(each planned file, prepare's result or the exception it raised), in `todo` order.

    With workers, up to `window` files are prepared ahead in threads (bounded memory); with none, each
    file is prepared when its turn comes (on a daemon thread when `cancel` is given, so that a cancel
    interrupts a file whose read hangs: the outcome is then CANCELLED and nothing more is yielded).
    """
    outcome: Prepared | BaseException | Cancelled
    if workers <= 0:
        for job in todo:
            try:
                outcome = (_wait(_in_daemon_thread(partial(prepare, job)), cancel)
                           if cancel is not None else prepare(job))
            except Exception as exc:  # noqa: BLE001 - one bad file must never stop the run
                outcome = exc
            yield job, outcome
            if outcome is CANCELLED:
                return
        return
    pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="mcr-decode")
    queue: deque[tuple[Planned, Future]] = deque()
    it = iter(todo)
    try:
        while True:
            while len(queue) < window and (nxt := next(it, None)) is not None:
                queue.append((nxt, pool.submit(prepare, nxt)))
            if not queue:
                return
            job, fut = queue.popleft()
            try:
                outcome = _wait(fut, cancel)
            except Exception as exc:  # noqa: BLE001
                outcome = exc
            yield job, outcome
            if outcome is CANCELLED:
                return
    finally:              # also when the consumer stops early (an error, an interrupt): drop unstarted work
        cancelled = cancel is not None and cancel()
        pool.shutdown(wait=not cancelled, cancel_futures=True)   # a cancelled run does not wait for a hung read


def _fail(report: IndexReport, store: Store, f: ScannedFile, old: Record | None, reason: str,
          segments: dict[str, list[Record]] | None = None) -> None:
    """Report a bad file and drop its stale points (a video's segments too): the store must match what a
    clean run would give."""
    report.failed.append(Failure(f.path, reason))
    ids = [r.id for r in (segments or {}).pop(f.path, [])]
    if old is not None:
        ids.append(old.id)
    store.delete(ids)


def _flush_videos(sp: "Space", store: Store, batch: list[ToEmbed], report: IndexReport,
                  segments: dict[str, list[Record]]) -> None:
    """Embed and write each video of a batch (see `video_items`); one failing video fails alone."""
    from mcrsearch_indexer.video_items import write_video

    from mcrsearch.video import embed_segments

    stages = report.stage_seconds
    for entry in batch:
        f, old, clip = entry.file, entry.old, entry.decoded.media
        t0 = time.perf_counter()
        try:
            pictures, sounds = embed_segments(sp, clip)
        except Exception as exc:  # noqa: BLE001 - one bad video must never stop the run
            _fail(report, store, f, old, f"the encoder failed on it ({type(exc).__name__}: {exc})", segments)
            continue
        t1 = time.perf_counter()
        write_video(store, sp, f, old, entry.decoded.digest, entry.decoded.info, clip, pictures, sounds,
                    segments.pop(f.path, []))
        stages["encode"] += t1 - t0
        stages["write"] += time.perf_counter() - t1
        report.indexed += 1
        report.batches += 1
        report.video_seconds += float(clip.duration)


def _embed(sp: "Space", modality: Modality, batch: list[ToEmbed],
           report: IndexReport) -> tuple[list[ToEmbed], list[np.ndarray]]:
    """Embed a batch: (the entries embedded, their vectors); when the batch fails, embed item by item so one
    bad item cannot sink the others (those are reported failed and left out)."""
    try:
        return batch, list(sp.embed(modality, [e.decoded.media for e in batch]))
    except Exception:  # noqa: BLE001 - isolate the culprit below
        pass
    ok: list[ToEmbed] = []
    vectors: list[np.ndarray] = []
    for entry in batch:
        try:
            vectors.append(sp.embed(modality, [entry.decoded.media])[0])
            ok.append(entry)
        except Exception as exc:  # noqa: BLE001
            report.failed.append(Failure(entry.file.path, f"the encoder failed on it ({type(exc).__name__}: {exc})"))
    return ok, vectors
