"""Faults around the store (issue 15, part 3): a full disk, a damaged index, files changing under the
indexer, two index runs at once. Each ends in one clear sentence and a collection that is readable and
consistent, and the way back (free space, --rebuild, a rerun) ends as a clean run would."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
import uuid
from pathlib import Path

import numpy as np
import pytest

from helpers import corpus as H

from mcrsearch import media
from mcrsearch.cli import main
from mcrsearch.config import load_settings
from mcrsearch.errors import DamagedStoreError, StoreError
from mcrsearch.store import Store, sparse_bytes
from mcrsearch_indexer import index_path

H.register_tiny()

TESTS = Path(__file__).parent


def _settings(home: Path, **kw):
    return load_settings(home=home, device="cpu", **kw)


def _point_set(settings) -> dict[str, tuple]:
    with Store.open(settings) as store:
        return {r.id: (r.payload["path"], r.payload["hash"], np.round(r.vectors["tiny"], 6).tobytes())
                for r in store.scroll(with_vectors=True)}


def _clean_state(tmp_path: Path, corpus: Path) -> dict[str, tuple]:
    clean = _settings(tmp_path / f"clean-{uuid.uuid4().hex[:6]}")
    index_path(corpus, clean, space="tiny", progress=False)
    return _point_set(clean)


def _run(code: str, env: dict | None = None, timeout: float = 240) -> subprocess.CompletedProcess:
    """Python in a child process: a full disk or a damaged engine file may kill a process outright."""
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=timeout,
                          env=dict(os.environ, **(env or {})))


_INDEX_CHILD = textwrap.dedent("""
    import sys, json
    sys.path.insert(0, {tests!r})
    from helpers import corpus as H
    H.register_tiny()
    from mcrsearch_indexer import index_path
    from mcrsearch.config import load_settings
    from mcrsearch.errors import McrError
    settings = load_settings(home={home!r}, device="cpu", batch_size=4, min_free_disk_mb={reserve!r})
    try:
        report = index_path({corpus!r}, settings, space="tiny", progress=False)
        print(json.dumps({{"ok": True, "indexed": report.indexed, "failed": len(report.failed)}}))
    except McrError as exc:
        print(json.dumps({{"ok": False, "error": type(exc).__name__, "message": str(exc)}}))
""")


# ---------------------------------------------------------------------------------------------- disk full


@pytest.fixture()
def small_disk(tmp_path):
    """A real 256 MB filesystem (tmpfs, mounted as root); skipped where mounting is not allowed.

    256 MB, not less: with the filter fields' payload indexes (each with its own pre-sized null-flag files)
    a new index allocates about 70 MB and holds about 65 MB more of pre-sized, still unallocated segment
    files, which the store counts as taken; optimizing at the end of a run asks for the index's size again."""
    mount = tmp_path / "disk"
    mount.mkdir()
    try:
        done = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=256m", "tmpfs", str(mount)],
                              capture_output=True, text=True, timeout=30)
    except (OSError, subprocess.TimeoutExpired) as exc:
        pytest.skip(f"cannot mount a tmpfs here ({exc})")
    if done.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here ({done.stderr.strip() or done.returncode})")
    try:
        yield mount
    finally:
        subprocess.run(["umount", "-l", str(mount)], capture_output=True, timeout=30)


def _fill(disk: Path, leave: int) -> Path:
    """A ballast file that leaves `leave` bytes free on `disk`."""
    st = os.statvfs(disk)
    ballast = disk / "ballast"
    size = st.f_bavail * st.f_frsize - leave
    with open(ballast, "wb") as fh:
        block = b"\0" * (1 << 20)
        while size > 0:
            fh.write(block[: min(size, len(block))])
            size -= len(block)
    return ballast


def test_disk_full_stops_cleanly_stays_readable_and_a_rerun_ends_clean(tmp_path, small_disk):
    corpus = tmp_path / "corpus"
    H.write_corpus(corpus / "first", per_class=1)
    home = small_disk / "home"
    reserve = 4.0                                         # MB kept free by the guard on this small disk
    first = _run(_INDEX_CHILD.format(tests=str(TESTS), home=str(home), corpus=str(corpus), reserve=reserve))
    assert '"ok": true' in first.stdout, first.stdout + first.stderr
    H.write_corpus(corpus / "second", per_class=3)
    index = home / "index" / "mcrsearch"
    # room for the unallocated segment files, the reserve and a batch or two, not for 36 more items
    ballast = _fill(small_disk, leave=sparse_bytes(index) + int(reserve * 2**20) + 40_000)

    full = _run(_INDEX_CHILD.format(tests=str(TESTS), home=str(home), corpus=str(corpus), reserve=reserve))
    assert full.returncode == 0, f"the run must not die (rc {full.returncode}): {full.stderr[-2000:]}"
    assert '"error": "DiskFullError"' in full.stdout, full.stdout
    assert "free some space" in full.stdout and "Traceback" not in full.stdout

    readable = _run(textwrap.dedent(f"""
        from mcrsearch.config import load_settings
        from mcrsearch.store import Store
        with Store.open(load_settings(home={str(home)!r}, device="cpu")) as store:
            records = list(store.scroll(with_vectors=True))
            assert all("tiny" in r.vectors and r.payload.get("hash") for r in records)
            print("readable", len(records))
    """))
    assert readable.returncode == 0 and "readable" in readable.stdout, readable.stderr[-2000:]
    assert int(readable.stdout.split()[-1]) >= 12            # nothing already indexed was lost

    ballast.unlink()
    again = _run(_INDEX_CHILD.format(tests=str(TESTS), home=str(home), corpus=str(corpus), reserve=reserve))
    assert '"ok": true' in again.stdout and '"failed": 0' in again.stdout, again.stdout + again.stderr
    assert _point_set(_settings(home)) == _clean_state(tmp_path, corpus)


def test_opening_on_a_full_disk_is_an_error_not_a_crash(tmp_path, small_disk):
    corpus = tmp_path / "corpus"
    H.write_corpus(corpus, per_class=1)
    home = small_disk / "home"
    assert '"ok": true' in _run(_INDEX_CHILD.format(tests=str(TESTS), home=str(home), corpus=str(corpus),
                                                    reserve=4.0)).stdout
    _fill(small_disk, leave=0)
    opened = _run(textwrap.dedent(f"""
        from mcrsearch.config import load_settings
        from mcrsearch.errors import StoreError
        from mcrsearch.store import Store
        try:
            Store.open(load_settings(home={str(home)!r}, device="cpu"))
        except StoreError as exc:
            print(type(exc).__name__, exc)
    """))
    assert opened.returncode == 0, opened.stderr[-2000:]
    assert opened.stdout.startswith("DiskFullError") and "free some space" in opened.stdout


# ---------------------------------------------------------------------------------------------- damage


def _segment_file(index: Path, name: str) -> Path:
    return next(index.glob(f"segments/*/{name}"))


DAMAGE = {
    # what was damaged -> how; each was seen to make the engine fail at open or at the first read
    "wal-zeroed": lambda idx: (idx / "wal" / "open-1").write_bytes(b""),
    "wal-garbage": lambda idx: (idx / "wal" / "open-1").write_bytes(os.urandom(4096)),
    "segment-json-garbage": lambda idx: _segment_file(idx, "segment.json").write_bytes(os.urandom(200)),
    "vectors-truncated": lambda idx: _segment_file(idx, "vector_storage-tiny/vectors/chunk_0.mmap").write_bytes(b""),
    "status-truncated": lambda idx: _segment_file(idx, "vector_storage-tiny/vectors/status.dat").write_bytes(b""),
}


@pytest.mark.parametrize("damage", sorted(DAMAGE))
def test_damaged_index_names_the_collection_and_rebuild_recovers(tmp_path, damage, capsys):
    corpus = tmp_path / "corpus"
    H.write_corpus(corpus, per_class=1)
    settings = _settings(tmp_path / "home", collection="photos")
    index_path(corpus, settings, space="tiny", progress=False)
    index = Path(settings.index_dir) / "photos"
    with Store.open(settings) as store:
        store.optimize()                                  # segments on disk, not only in the WAL
    DAMAGE[damage](index)

    with pytest.raises(DamagedStoreError) as err:
        with Store.open(settings) as store:
            store.check_space("tiny", None)
            list(store.scroll(with_vectors=True))
    message = str(err.value)
    assert "'photos'" in message and "--rebuild" in message and "\n" not in message

    code = main(["--home", str(settings.home), "query", "--text", "red", "--collection", "photos"])
    out = capsys.readouterr()
    assert code == 5 and "damaged" in out.out + out.err and "Traceback" not in out.out + out.err

    code = main(["--home", str(settings.home), "--device", "cpu", "index", str(corpus), "--collection", "photos",
                 "--space", "tiny", "--rebuild", "--json"])
    out = capsys.readouterr()
    report = json.loads(out.out)
    assert code == 0 and report["failed"] == [] and report["indexed"] == 12
    assert _point_set(settings) == _clean_state(tmp_path, corpus)
    kept = [p.name for p in index.parent.iterdir() if p.name.startswith("photos.damaged-")]
    assert len(kept) == 1, "the damaged index is moved aside, never deleted"


def test_an_index_that_lost_its_metadata_is_reported_damaged_not_empty(tmp_path):
    """Seen with a zeroed id tracker: the engine opens it with no points, which a query would call empty."""
    from mcrsearch.store import META_ID

    corpus = tmp_path / "corpus"
    H.write_item(corpus, "image", 0, 0)
    settings = _settings(tmp_path / "home")
    index_path(corpus, settings, space="tiny", progress=False)
    with Store.open(settings) as store:
        store.backend.delete([META_ID])
    with Store.open(settings) as store, pytest.raises(DamagedStoreError, match="no mcrsearch metadata"):
        store.check_space("tiny", None)


def test_rebuild_refuses_an_index_in_use(tmp_path):
    corpus = tmp_path / "corpus"
    H.write_item(corpus, "image", 0, 0)
    settings = _settings(tmp_path / "home")
    index_path(corpus, settings, space="tiny", progress=False)
    store = Store.open(settings)
    try:
        with pytest.raises(StoreError, match="close it before rebuilding"):
            index_path(corpus, settings, space="tiny", progress=False, rebuild=True)
    finally:
        store.close()
    assert Store.open(settings).count() == 1


# ---------------------------------------------------------------------------------------------- changing files


def _mutating_read(monkeypatch, target: Path, action):
    """Make the indexer's read of `target` coincide with a change to it (before or after the read)."""
    original = media.read_hashed

    def read_hashed(path):
        if Path(path) == target:
            return action(original, path)
        return original(path)

    monkeypatch.setattr(media, "read_hashed", read_hashed)


def _deleted_before(original, path):
    Path(path).unlink()
    return original(path)


def _truncated_before(original, path):
    Path(path).write_bytes(b"")
    return original(path)


def _rewritten_after(original, path):
    out = original(path)
    data = Path(path).read_bytes()
    Path(path).write_bytes(data[: len(data) // 2])       # cut while the old bytes are being decoded
    return out


@pytest.mark.parametrize("action", [_deleted_before, _truncated_before, _rewritten_after])
def test_files_changing_under_the_indexer_never_leave_a_vector_for_gone_content(tmp_path, monkeypatch, action):
    corpus = tmp_path / "corpus"
    files = H.write_corpus(corpus, per_class=1)
    settings = _settings(tmp_path / "home")
    index_path(corpus, settings, space="tiny", progress=False)
    target = files["3d"][0]
    os.utime(target, ns=(1, 1))                           # the next run must read it again
    _mutating_read(monkeypatch, target, action)
    report = index_path(corpus, settings, space="tiny", progress=False)
    monkeypatch.undo()

    assert [f.path for f in report.failed] == [str(target)]
    with Store.open(settings) as store:
        hashes = {r.payload["path"]: r.payload["hash"] for r in store.scroll()}
    for path, digest in hashes.items():                   # every vector is for content that exists
        assert Path(path).exists() and media.read_hashed(path)[0] == digest, path
    assert str(target) not in hashes

    report = index_path(corpus, settings, space="tiny", progress=False)     # what the file is now
    assert _point_set(settings) == _clean_state(tmp_path, corpus)


def test_a_large_file_rewritten_between_hash_and_decode_is_not_stored(tmp_path, monkeypatch):
    """Files over HASH_BLOCK are hashed streaming and decoded from the path: a rewrite in between is caught."""
    corpus = tmp_path / "corpus"
    target = H.write_item(corpus, "3d", 0, 0)
    settings = _settings(tmp_path / "home")
    original_decode = media.decode

    def decode(path, *args, **kwargs):
        if Path(path) == target:
            np.save(target.with_suffix(".npy") if target.suffix == ".npy" else target, np.random.rand(50, 3))
            kwargs["data"] = None
        return original_decode(path, *args, **kwargs)

    monkeypatch.setattr(media, "decode", decode)
    report = index_path(corpus, settings, space="tiny", progress=False)
    assert [f.reason for f in report.failed] == ["the file changed while it was being indexed; the next run "
                                                 "indexes it as it then is"]
    with Store.open(settings) as store:
        assert store.count() == 0


# ---------------------------------------------------------------------------------------------- concurrency


def test_a_second_index_run_on_the_same_collection_is_refused_clearly(tmp_path):
    corpus = tmp_path / "corpus"
    H.write_corpus(corpus, per_class=1)
    home = tmp_path / "home"
    settings = _settings(home)
    index_path(corpus, settings, space="tiny", progress=False)
    with Store.open(settings):                            # the first run, still going
        second = _run(_INDEX_CHILD.format(tests=str(TESTS), home=str(home), corpus=str(corpus), reserve=0.0))
    assert '"ok": false' in second.stdout and "in use by another mcrsearch process" in second.stdout, \
        second.stdout + second.stderr[-2000:]
    again = _run(_INDEX_CHILD.format(tests=str(TESTS), home=str(home), corpus=str(corpus), reserve=0.0))
    assert '"ok": true' in again.stdout                   # and once the first is done, it runs
