"""Folders that stay in step: the watcher batches bursts and the collection follows the folder."""

from __future__ import annotations

import shutil
import time

import pytest

from helpers import corpus as H
from mcrsearch.api import Client
from mcrsearch.config import load_settings
from mcrsearch.errors import ConfigError
from mcrsearch_indexer.watch import Watcher, affected_folders


def _wait(check, timeout=30.0):
    end = time.time() + timeout
    while time.time() < end:
        if check():
            return True
        time.sleep(0.1)
    return False


def test_affected_folders_are_the_fewest_existing_ones(tmp_path):
    (tmp_path / "a" / "b").mkdir(parents=True)
    root = str(tmp_path)
    paths = [f"{root}/a/b/x.wav", f"{root}/a/y.png", f"{root}/gone/deeper/z.wav", "/elsewhere/q.wav"]
    assert affected_folders(paths, [root]) == [root]            # the deleted folder: its parent, the root
    assert affected_folders(paths[:2], [root]) == [f"{root}/a"]
    assert affected_folders([f"{root}/a/b/x.wav"], [root]) == [f"{root}/a/b"]


@pytest.mark.parametrize("poll", [False, True])
def test_watch_follows_new_changed_moved_and_deleted_files(tmp_path, poll):
    settings = load_settings(home=tmp_path / "home", device="cpu", space="tiny")
    files = H.write_corpus(tmp_path / "c", per_class=1)
    with Client(settings=settings) as c:
        c.index(tmp_path / "c")
        batches = []
        watcher = Watcher([tmp_path / "c"], lambda f: c.index(f), quiet_s=0.3, poll=poll,
                          on_batch=batches.append).start()
        try:
            time.sleep(0.5)
            burst = tmp_path / "c" / "new"
            burst.mkdir()
            for i in range(6):                                  # a burst: batched, not one run per file
                H.write_item(burst, "audio", i % 3, 30 + i)
            # the points show before the batch is reported (on_batch runs after the index run returns)
            assert _wait(lambda: c.count("audio") == 9 and batches), (c.count("audio"), batches)
            assert 1 <= len(batches) <= 3 and not any(b.errors for b in batches)
            hits = c.query(text="blue", target="audio", k=9, where={"under": str(burst)})
            assert len(hits) == 6
            shutil.move(str(burst / "blue_32.wav"), str(tmp_path / "c" / "moved.wav"))   # a move
            (tmp_path / "c" / "text" / "red_0.txt").unlink()                             # a deletion
            assert _wait(lambda: {h.path for h in c.query(text="blue", target="audio", k=20)} >=
                         {str(tmp_path / "c" / "moved.wav")} and c.count("text") == 2)
            assert str(burst / "blue_32.wav") not in {h.path for h in c.query(text="blue", target="audio", k=20)}
            assert _wait(lambda: watcher.pending() == [])            # emptied once the run returns
        finally:
            watcher.stop()
    assert files


def test_watch_refuses_a_missing_folder(tmp_path):
    with pytest.raises(ConfigError, match="does not exist"):
        Watcher([tmp_path / "nope"], lambda f: None)


def test_serve_watch_applies_batches_as_index_jobs(tmp_path):
    from mcrsearch.commands.serve_cmd import start_watch
    from mcrsearch.server.app import create_app
    from test_server_api import authed

    settings = load_settings(home=tmp_path / "home", device="cpu", space="tiny")
    H.write_corpus(tmp_path / "c", per_class=1)
    client = Client(settings=settings)
    try:
        client.index(tmp_path / "c")
        assert client.indexed_folders() == [str(tmp_path / "c")]
        app = create_app(client)
        with authed(app) as http:
            app.state.watcher = start_watch(app, client)
            try:
                time.sleep(0.5)
                H.write_item(tmp_path / "c" / "image", "image", 1, 50)
                assert _wait(lambda: client.count("image") == 4)
                jobs = http.get("/api/jobs").json()["jobs"]
                assert [j["path"] for j in jobs] == [str(tmp_path / "c" / "image")] and jobs[0]["indexed"] == 1
                state = http.get("/api/watch").json()
                assert state["watching"] == [str(tmp_path / "c")] and state["pending"] == []
                assert _wait(lambda: http.get("/api/watch").json()["batches"] == 1)
            finally:
                app.state.watcher.stop()
    finally:
        client.close()
