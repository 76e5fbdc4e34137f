"""Local and remote are one surface: every operation of `mcrsearch.surface.SearchClient` on `mcrsearch.Client`
and on `RemoteClient` (driven in process over FastAPI's TestClient, an httpx.Client) gives the same hits,
info, counts, pages, items, removals, reports and error classes on the same small collection (tiny space).

Both sides answer from one Client (the server's): the embedded engine allows one handle per collection, and
what is compared is the surface, not two stores. Writes (delete, index) run on two identical collections.
"""

from __future__ import annotations

import inspect
import shutil
import uuid

import numpy as np
import pytest
from fastapi.testclient import TestClient

from helpers import corpus as H
from mcrsearch.api import Client
from mcrsearch.config import load_settings
from mcrsearch.errors import ConfigError, MediaError, NotFoundError, RemoteError
from mcrsearch.search import MediaBytes
from mcrsearch.server.app import create_app
from mcrsearch.server.remote import RemoteClient
from mcrsearch.surface import QUERY_INPUTS, SearchClient


def authed(app) -> TestClient:
    """A test client that sends the server's token, as RemoteClient does from the server's record."""
    return TestClient(app, headers={"Authorization": f"Bearer {app.state.token}"})


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    root = tmp_path_factory.mktemp("congruence")
    files = H.write_corpus(root / "corpus", per_class=2)
    queries = {m: [H.write_item(root / "queries", m, c, 30 + c) for c in range(3)] for m in ("audio", "image", "3d")}
    settings = load_settings(home=root / "home", device="cpu", space="tiny")
    client = Client(settings=settings)
    assert client.index(root / "corpus").indexed == 24
    with authed(create_app(client)) as http:
        yield root, files, queries, client, RemoteClient(http=http)
    client.close()


@pytest.fixture(scope="module")
def both(world):
    return world[3], world[4]


def _hit(h) -> tuple:
    """What must agree: the item, its details, both scores exactly, each input's parts and labels."""
    return h.id, h.path, h.modality, h.details, h.score, h.cosine, h.inputs


def _item(i) -> tuple:
    return i.id, i.path, i.modality, i.details


def test_both_clients_declare_the_one_surface(both):
    local, remote = both
    assert isinstance(local, SearchClient) and isinstance(remote, SearchClient)
    declared = inspect.signature(SearchClient.query).parameters
    mine = inspect.signature(Client.query).parameters
    assert [(p.name, p.kind, p.default) for p in mine.values()] == \
        [(p.name, p.kind, p.default) for p in declared.values()], "Client.query must match SearchClient.query"
    assert set(QUERY_INPUTS) <= set(declared), "every input kind is a parameter of query"


def test_one_string_is_one_input_on_both(world, both):
    """`text="red"` is one text and `audio="dog.wav"` one file (RemoteClient once sent 'r', 'e', 'd')."""
    _, _, queries, _, _ = world
    local, remote = both
    for kwargs in ({"text": "red"}, {"audio": str(queries["audio"][2])}, {"points": queries["3d"][0]}):
        a = local.query(**kwargs, target="image", k=3)
        b = remote.query(**kwargs, target="image", k=3)
        assert [_hit(h) for h in a] == [_hit(h) for h in b] and len(a) == 3
        assert len(a[0].inputs) <= 1 and len(b[0].inputs) <= 1


@pytest.mark.parametrize("name, kwargs", [
    ("texts fused", {"text": ["red", "low"], "target": "3d", "k": 4}),
    ("any target", {"text": "blue", "target": "any", "k": 6}),
    ("paging", {"text": "green", "target": "audio", "k": 2, "offset": 1}),
    ("min score", {"text": "green", "target": "image", "k": 6, "min_score": 1.0}),
    ("files fused, weighted", {"audio": "Q:audio:0", "image": ["Q:image:0", "Q:image:1"], "target": "text", "k": 3,
                               "weights": {"audio": 2, "image": 0.5}}),
    ("upload bytes", {"image": "B:image:2", "target": "audio", "k": 2}),
    ("like by id and by path", {"like": ["ID:audio:0", "P:3d:3"], "target": "image", "k": 3}),
    ("negatives", {"text": "red", "not_text": "low", "not_like": "ID:image:0", "target": "image", "k": 4}),
    ("negative weight", {"text": ["red", "blue"], "weights": {"text": 1, "not-audio": 2},
                         "not_audio": "Q:audio:2", "target": "3d", "k": 3}),
    ("filters", {"text": "red", "target": "any", "k": 6, "where": {"types": ["wav", "txt"]}}),
    ("vectors", {"vectors": {"image": "V:image:0"}, "text": "red", "target": "3d", "k": 3}),
])
def test_queries_answer_the_same(world, both, name, kwargs):
    root, files, queries, client, _ = world
    local, remote = both
    items = {m: sorted(local.scroll(modality=m, limit=50), key=lambda i: i.path) for m in ("audio", "image", "3d")}

    def resolve(value):
        if isinstance(value, list):
            return [resolve(v) for v in value]
        if isinstance(value, dict):
            return {k: resolve(v) for k, v in value.items()}
        if not isinstance(value, str) or ":" not in value or value.count(":") != 2:
            return value
        how, modality, n = value.split(":")
        n = int(n)
        if how == "Q":
            return str(queries[modality][n])
        if how == "B":
            path = queries[modality][n]
            return MediaBytes(path.name, path.read_bytes())
        if how == "ID":
            return items[modality][n].id
        if how == "P":
            return items[modality][n].path
        if how == "V":            # an item's stored vector: what a benchmark replays
            rec = client._handle.retrieve([items[modality][n].id], with_vectors=True)[0]
            return np.asarray(rec.vectors["tiny"])
        raise AssertionError(value)

    args = resolve(kwargs)
    a = local.query(**args)
    b = remote.query(**args)
    assert a, f"{name}: the query finds something"
    assert [_hit(h) for h in a] == [_hit(h) for h in b], name


def test_info_count_scroll_and_retrieve_answer_the_same(both):
    local, remote = both
    local.space("tiny")                      # loaded: info shows the precision each route runs under
    assert local.info() == remote.info()
    assert remote.info()["spaces"][0]["precision"] == {m: "fp32" for m in ("image", "text", "audio", "3d")}
    for target in (None, "any", "image", "3d", "points", "text", "audio"):
        assert local.count(target) == remote.count(target)
    for modality, limit, offset in ((None, 50, 0), ("image", 4, 0), ("image", 4, 4), ("3d", 1, 5), ("audio", 3, 9)):
        assert [_item(i) for i in local.scroll(modality, limit, offset)] == \
            [_item(i) for i in remote.scroll(modality, limit, offset)]
    ids = [i.id for i in local.scroll(limit=3)] + ["00000000-0000-5000-8000-000000000000"]
    got = remote.retrieve(ids)
    assert [_item(i) for i in local.retrieve(ids)] == [_item(i) for i in got] and len(got) == 3


def _same_error(local_call, remote_call):
    with pytest.raises(Exception) as mine:
        local_call()
    with pytest.raises(Exception) as theirs:
        remote_call()
    assert type(theirs.value) is type(mine.value), (mine.value, theirs.value)
    assert theirs.value.exit_code == mine.value.exit_code
    return mine.value, theirs.value


@pytest.mark.parametrize("kwargs, kind, same_sentence", [
    ({"text": "red", "target": "smell"}, ConfigError, True),
    ({"target": "image"}, ConfigError, True),
    ({"like": "/nowhere/at/all.png"}, ConfigError, True),
    ({"text": "red", "weights": {"text": 0}}, ConfigError, True),
    ({"text": "red", "weights": {"smell": 1}}, ConfigError, True),
    ({"not_text": "red"}, ConfigError, True),
    ({"text": "red", "space": "nope"}, ConfigError, True),
    ({"audio": "/nowhere/q.wav"}, ConfigError, True),
    ({"text": "red", "where": {"min_duration": -1}}, ConfigError, True),
    ({"text": "red", "k": 0}, ConfigError, False),        # the server also caps k at 200: its own sentence
])
def test_errors_cross_the_wire_as_their_own_class(both, kwargs, kind, same_sentence):
    local, remote = both
    mine, theirs = _same_error(lambda: local.query(**kwargs), lambda: remote.query(**kwargs))
    assert isinstance(mine, kind)
    if same_sentence:
        assert str(theirs) == str(mine)


def test_a_bad_file_is_a_media_error_on_both(world, both, tmp_path):
    local, remote = both
    bad = tmp_path / "broken.wav"
    bad.write_bytes(b"RIFF not really a wav")
    mine, theirs = _same_error(lambda: local.query(audio=str(bad), target="image"),
                               lambda: remote.query(audio=str(bad), target="image"))
    assert isinstance(theirs, MediaError) and theirs.reason == mine.reason and theirs.path.endswith("broken.wav")
    assert str(theirs) == f"broken.wav: {mine.reason}"        # the server saw the upload, named by its file name


def test_http_refusals_without_a_class_keep_their_status(world):
    client = world[3]
    app = create_app(client, token="s3cret")
    with TestClient(app) as http:
        with pytest.raises(RemoteError) as refused:
            RemoteClient(http=http).info()
        assert refused.value.status == 401 and refused.value.exit_code == 2 and "token" in str(refused.value)
        with TestClient(app, headers={"Authorization": "Bearer s3cret"}) as good:
            remote = RemoteClient(http=good)
            assert remote.count() == 24
            with pytest.raises(NotFoundError):          # a 404 with its class, exit code 2 like any bad value
                remote._call("GET", "/api/items/00000000-0000-5000-8000-000000000000")
            with pytest.raises(ConfigError, match="Bad value for 'limit'"):
                remote._call("GET", "/api/items", params={"limit": "many"})


@pytest.fixture()
def twins(world, tmp_path):
    """Two identical collections: A written through a Client, B through a RemoteClient over B's server."""
    root = world[0]
    settings = world[3].settings
    made = []
    run = uuid.uuid4().hex[:8]
    for name in (f"twin_a_{run}", f"twin_b_{run}"):           # fresh collections for every test
        c = Client(settings=settings.with_overrides(collection=name))
        assert c.index(root / "corpus").indexed == 24
        made.append(c)
    with authed(create_app(made[1])) as http:
        yield made[0], RemoteClient(http=http), tmp_path
    for c in made:
        c.close()


def test_delete_and_index_answer_the_same(world, twins):
    local, remote, tmp_path = twins
    files = world[1]
    gone = [files["text"][0], files["audio"][1].parent]       # a file, and a folder with everything under it
    assert local.delete(gone) == remote.delete(gone) > 1
    assert local.delete([files["text"][0]]) == remote.delete([files["text"][0]]) == 0
    assert [_item(i) for i in local.scroll(limit=50)] == [_item(i) for i in remote.scroll(limit=50)]

    more = tmp_path / "more"
    H.write_corpus(more, per_class=1)
    shutil.copy(H.write_item(tmp_path / "x", "audio", 0, 77), more / "extra.wav")
    (more / "broken.png").write_bytes(b"\x89PNG not an image")
    seen: dict[str, list] = {"local": [], "remote": []}
    a = local.index(more, progress=seen["local"].append)
    b = remote.index(more, progress=seen["remote"].append)
    assert a.to_dict() == b.to_dict() and a.indexed == 13 and len(a.failed) == 1
    assert seen["remote"] and seen["remote"][-1].done == seen["local"][-1].done == 14
    assert local.count() == remote.count()
    _same_error(lambda: local.index(tmp_path / "nowhere"), lambda: remote.index(tmp_path / "nowhere"))


def test_duplicates_and_saved_searches_answer_the_same(world, twins):
    local, remote, _ = twins
    files = world[1]
    for near in (False, True):
        assert [g.to_dict() for g in local.duplicates(near=near)] == [g.to_dict() for g in remote.duplicates(near=near)]
    spec = dict(text="blue", not_text="high", target="3d", k=3, like=str(files["3d"][4]), weights={"text": 2})
    saved = [c.save_search("blues", **spec) for c in (local, remote)]
    assert saved[0]["query"] == saved[1]["query"] and saved[0]["last"] == saved[1]["last"]
    assert [_hit(h) for h in local.run_saved("blues", k=2)] == [_hit(h) for h in remote.run_saved("blues", k=2)]
    assert [s["name"] for s in local.saved_searches()] == [s["name"] for s in remote.saved_searches()] == ["blues"]
    assert local.delete_saved("blues") and remote.delete_saved("blues")
    assert not local.delete_saved("blues") and not remote.delete_saved("blues")
    _same_error(lambda: local.run_saved("nope"), lambda: remote.run_saved("nope"))


def test_every_error_class_crosses_the_wire_as_itself():
    from mcrsearch import errors as E

    for cls in E._classes():
        if cls is E.RemoteError:
            continue
        exc = cls("x.wav", "cannot decode") if issubclass(cls, E.MediaError) else cls("One sentence.")
        back = E.from_wire(E.to_wire(exc), cls.http_status)
        assert type(back) is cls and str(back) == str(exc) and back.exit_code == exc.exit_code
        if isinstance(exc, E.MediaError):
            assert (back.path, back.reason) == (exc.path, exc.reason)
    unknown = E.from_wire({"detail": "Refused.", "error": "SomethingNew"}, 409)
    assert type(unknown) is E.RemoteError and unknown.exit_code == E.StoreError.exit_code
    assert E.exit_code_for_status(401) == 2 and E.exit_code_for_status(502) == 1


def test_a_video_query_answers_the_same(both, tmp_path):
    from helpers.media import write_class_video

    local, remote = both
    clip = write_class_video(tmp_path / "red.mp4", [0], seconds_each=1.0)
    for kwargs in ({"video": str(clip), "target": "image", "k": 3},
                   {"text": "red", "not_video": clip, "target": "3d", "k": 3}):
        a, b = local.query(**kwargs), remote.query(**kwargs)
        assert a and [_hit(h) for h in a] == [_hit(h) for h in b]
    labels = [p["input"] for p in a[0].inputs]
    assert labels[1:] == [f"not {clip} (picture)", f"not {clip} (sound)"], "a negative video is 'not' once"
