"""Indexing real files: incremental runs, changes and deletions, bad files, SIGKILL mid-run, CLI JSON."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from helpers import corpus as H
from mcrsearch_indexer import index_path, scan
from mcrsearch_indexer.pipeline import decode_workers
from mcrsearch.cli import main
from mcrsearch.config import load_settings
from mcrsearch.errors import SpaceMismatchError
from mcrsearch.modality import Modality
from mcrsearch.store import Store, point_id

TESTS = Path(__file__).parent


def _settings(home: Path, **kw):
    return load_settings(home=home, device="cpu", **kw)


def _point_set(settings) -> dict[str, tuple]:
    """Everything that defines the collection's content: id -> (path, hash, modality, vector bytes)."""
    with Store.open(settings) as store:
        out = {}
        for r in store.scroll(with_vectors=True):
            out[r.id] = (r.payload["path"], r.payload["hash"], r.payload["modality"],
                         np.round(r.vectors["tiny"], 6).tobytes())
        calibration = store.spaces()["tiny"].calibration
    return {"points": out, "calibration": calibration}


def test_scan_skips_hidden_unsupported_and_symlink_loops(tmp_path):
    H.write_item(tmp_path / "a", "image", 0, 0)
    H.write_item(tmp_path / ".hidden", "image", 1, 0)
    (tmp_path / "a" / ".secret.txt").write_text("red")
    (tmp_path / "a" / "notes.docx").write_text("x")
    os.symlink(tmp_path, tmp_path / "a" / "loop")
    paths = [Path(f.path).name for f in scan(tmp_path)]
    assert paths == ["red_0.png"]


def test_incremental_modify_delete(tmp_path):
    corpus = tmp_path / "corpus"
    files = H.write_corpus(corpus, per_class=2)
    settings = _settings(tmp_path / "home")
    before = H.TinyEncoder.items_encoded
    report = index_path(corpus, settings, space="tiny", progress=False)
    assert (report.indexed, report.unchanged, report.removed, report.failed) == (24, 0, 0, [])
    assert H.TinyEncoder.items_encoded - before == 24

    # Unchanged tree: no model time at all.
    before = H.TinyEncoder.items_encoded
    report = index_path(corpus, settings, space="tiny", progress=False)
    assert (report.indexed, report.unchanged, report.removed) == (0, 24, 0)
    assert H.TinyEncoder.items_encoded == before

    # Touched but identical content: hashed, not embedded.
    os.utime(files["image"][0], ns=(1, 1))
    report = index_path(corpus, settings, space="tiny", progress=False)
    assert (report.indexed, report.unchanged) == (0, 24) and H.TinyEncoder.items_encoded == before

    # One file changed (now a blue caption), one deleted, one added.
    files["text"][0].write_text("a blue thing high")
    files["audio"][1].unlink()
    H.write_item(corpus / "text", "text", 1, 7)
    report = index_path(corpus, settings, space="tiny", progress=False)
    assert (report.indexed, report.unchanged, report.removed) == (2, 22, 1)
    assert H.TinyEncoder.items_encoded - before == 2
    with Store.open(settings) as store:
        assert store.count() == 24
        rec = store.retrieve([point_id(str(files["text"][0]))])[0]
        assert rec.payload["text"] == "a blue thing high"

    # The clean-run state equals the incremental state.
    clean = _settings(tmp_path / "clean")
    index_path(corpus, clean, space="tiny", progress=False)
    assert _point_set(clean) == _point_set(settings)


def test_bad_corpus_reported_and_good_files_searchable(tmp_path):
    from helpers.media import write_bad_corpus

    corpus = tmp_path / "corpus"
    good = H.write_corpus(corpus / "good", per_class=1)
    bad = write_bad_corpus(corpus / "bad")
    huge = H.write_item(corpus / "big", "audio", 2, 3)
    import soundfile as sf

    sf.write(huge, np.zeros(8000 * 100, np.float32), 8000)         # 1.6 MB (16-bit PCM) > 1 MB limit
    settings = _settings(tmp_path / "home", max_file_mb=1.0)
    report = index_path(corpus, settings, space="tiny", progress=False)
    failed = {f.path: f.reason for f in report.failed}
    scanned = {f.path for f in scan(corpus / "bad")}
    assert scanned and scanned <= set(failed), "every bad file is reported"
    assert all(reason.strip() for reason in failed.values())
    assert str(huge) in failed and "limit" in failed[str(huge)]
    assert report.indexed == sum(len(v) for v in good.values())
    assert not (corpus / "bad" / "PWNED_BY_PICKLE").exists()

    from mcrsearch.api import Client

    with Client(settings=settings) as client:
        for modality, paths in good.items():
            for path in paths:
                hits = client.query(like=str(path), target="any", k=50)
                assert str(path) not in {h.path for h in hits}
        assert client.info()["total"] == report.indexed
    assert set(map(str, bad.values())) & set(failed) == set(map(str, bad.values())) & scanned


def test_file_name_that_is_not_utf8_is_reported_not_fatal(tmp_path):
    """Linux names are bytes; the store's payload is UTF-8. Such a file fails alone, the others index."""
    corpus = tmp_path / "corpus"
    good = H.write_item(corpus, "text", 0, 0)
    bad = os.path.join(os.fsencode(corpus), b"caption-\xff.txt")
    try:
        with open(bad, "wb") as fh:
            fh.write(b"a red thing")
    except OSError:
        pytest.skip("this file system refuses names that are not UTF-8")
    settings = _settings(tmp_path / "home")
    report = index_path(corpus, settings, space="tiny", progress=False)
    assert report.indexed == 1
    assert [(f.path, "UTF-8" in f.reason) for f in report.failed] == [(os.fsdecode(bad), True)]
    with Store.open(settings) as store:
        assert [r.payload["path"] for r in store.scroll()] == [str(good)]
    assert index_path(corpus, settings, space="tiny", progress=False).failed == report.failed   # rerun: same


def test_foreign_space_refused(tmp_path):
    corpus = tmp_path / "corpus"
    H.write_corpus(corpus, per_class=1)
    settings = _settings(tmp_path / "home")
    index_path(corpus, settings, space="tiny", progress=False)
    with pytest.raises(SpaceMismatchError, match="different 'tiny' space"):
        index_path(corpus, settings, space=H.build_tiny(variant=1), progress=False)


_CHILD = textwrap.dedent("""
    import sys
    sys.path.insert(0, {tests!r})
    from helpers import corpus as H
    H.register_tiny()
    from mcrsearch_indexer import index_path
    from mcrsearch.config import load_settings
    settings = load_settings(home={home!r}, device="cpu", batch_size=2, workers=2)
    index_path({corpus!r}, settings, space="tiny", progress=False,
               on_batch=lambda n: print("batch", n, flush=True))
    print("done", flush=True)
""")


@pytest.mark.parametrize("kill_after", [1, 5])
def test_sigkill_mid_index_then_rerun_equals_clean_run(tmp_path, kill_after):
    corpus = tmp_path / "corpus"
    files = H.write_corpus(corpus, per_class=2)
    home = tmp_path / "home"
    # A previous state with one file that is now gone, so the killed run has deletions to do too.
    settings = _settings(home)
    extra = H.write_item(corpus / "old", "image", 0, 9)
    index_path(corpus / "old", settings, space="tiny", progress=False)
    extra.unlink()

    env = dict(os.environ, MCRSEARCH_TEST_ENCODE_SLEEP="0.15")
    code = _CHILD.format(tests=str(TESTS), home=str(home), corpus=str(corpus))
    child = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True, env=env)
    seen = 0
    for line in child.stdout:
        if line.startswith("batch"):
            seen += 1
            if seen >= kill_after:
                os.kill(child.pid, signal.SIGKILL)
                break
        assert not line.startswith("done"), "the child finished before it could be killed"
    child.wait(timeout=60)
    assert child.returncode == -signal.SIGKILL

    with Store.open(settings) as store:
        partial = store.count()
    assert partial < 24, "the kill happened mid-way"

    report = index_path(corpus, settings, space="tiny", progress=False)
    assert report.failed == []
    assert report.indexed + report.unchanged == 24
    clean = _settings(tmp_path / "clean")
    index_path(corpus, clean, space="tiny", progress=False)
    state, expected = _point_set(settings), _point_set(clean)
    assert len(state["points"]) == 24
    assert state == expected
    assert sum(len(v) for v in files.values()) == 24


def test_decode_threads_only_when_an_encoder_is_on_an_accelerator(tmp_path):
    settings = _settings(tmp_path)
    space = H.build_tiny(settings)
    assert decode_workers(settings, space) == 0            # CPU: decode in the encoding thread
    assert decode_workers(replace(settings, workers=3), space) == 3
    space.routes[Modality.AUDIO].encoder.device = "cuda:0"
    assert decode_workers(settings, space) == (os.cpu_count() or 2)


def test_cli_index_json(tmp_path, capsys):
    corpus = tmp_path / "corpus"
    H.write_corpus(corpus, per_class=1)
    (corpus / "broken.png").write_bytes(b"not a png at all")
    code = main(["--home", str(tmp_path / "home"), "--device", "cpu", "index", str(corpus), "--space", "tiny",
                 "--json", "--workers", "2", "--batch-size", "3"])
    assert code == 0
    out = json.loads(capsys.readouterr().out)
    assert set(out) == {"indexed", "unchanged", "removed", "failed"}
    assert out["indexed"] == 12 and out["unchanged"] == 0 and out["removed"] == 0
    assert [f["path"] for f in out["failed"]] == [str(corpus / "broken.png")] and out["failed"][0]["reason"]
    assert main(["--home", str(tmp_path / "home"), "index", str(corpus), "--json"]) == 0   # auto space
    again = json.loads(capsys.readouterr().out)
    assert again["unchanged"] == 12 and again["indexed"] == 0


def test_cli_missing_path_is_one_sentence(tmp_path, capsys):
    code = main(["--home", str(tmp_path), "index", str(tmp_path / "nope"), "--space", "tiny"])
    assert code == 2
    assert "does not exist" in " ".join(capsys.readouterr().err.split())


def test_two_spaces_share_one_collection(tmp_path):
    from mcrsearch.space import Route, Space

    corpus = tmp_path / "corpus"
    files = H.write_corpus(corpus, per_class=1)
    settings = _settings(tmp_path / "home")
    index_path(corpus, settings, space="tiny", progress=False)
    enc = H.TinyEncoder(variant=5)
    image_only = Space("tinyimg", {"image": Route(enc)}, H.DIM)
    report = index_path(corpus, settings, space=image_only, progress=False)
    assert report.indexed == 3 and len(report.failed) == 9
    assert all("does not embed" in f.reason for f in report.failed)
    with Store.open(settings) as store:
        assert store.count() == 12, "files the second space cannot embed keep their first-space vectors"
        image = store.retrieve([point_id(str(files["image"][0]))], True)[0]
        assert set(image.vectors) == {"tiny", "tinyimg"} and image.payload["spaces"] == ["tiny", "tinyimg"]
    import mcrsearch

    with mcrsearch.Client(settings=settings) as client:
        hits = client.query(text="red", target="image", k=1)          # only 'tiny' covers text -> image
        assert H.class_of(hits[0].path) == "red"
        with pytest.raises(Exception, match="Several spaces"):
            client.query(like=str(files["image"][1]), target="image")
        assert client.query(like=str(files["image"][1]), target="image", space="tinyimg", k=1)
    # both runs again: nothing to embed in either space
    before = H.TinyEncoder.items_encoded
    assert index_path(corpus, settings, space="tiny", progress=False).unchanged == 12
    assert index_path(corpus, settings, space=image_only, progress=False).unchanged == 3
    assert H.TinyEncoder.items_encoded == before


def test_crash_after_last_upsert_is_repaired_by_rerun(tmp_path, monkeypatch):
    import mcrsearch.calibration

    corpus = tmp_path / "corpus"
    H.write_corpus(corpus, per_class=1)
    settings = _settings(tmp_path / "home")

    def crash(*args, **kwargs):
        raise RuntimeError("killed after the last upsert")

    monkeypatch.setattr(mcrsearch.calibration, "compute_calibration", crash)
    with pytest.raises(RuntimeError):
        index_path(corpus, settings, space="tiny", progress=False)
    monkeypatch.undo()
    report = index_path(corpus, settings, space="tiny", progress=False)
    assert report.unchanged == 12 and report.indexed == 0
    clean = _settings(tmp_path / "clean")
    index_path(corpus, clean, space="tiny", progress=False)
    assert _point_set(settings) == _point_set(clean)
