"""Negatives, filters, why-this-result, duplicates, saved searches and the watch state over the JSON API,
and RemoteClient answering them as Client does."""

from __future__ import annotations

import shutil

import pytest

pytest.importorskip("fastapi")


from helpers import corpus as H
from mcrsearch.api import Client
from mcrsearch.config import load_settings
from mcrsearch.errors import ConfigError
from mcrsearch.server.app import create_app
from mcrsearch.server.remote import RemoteClient
from test_server_api import authed


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    root = tmp_path_factory.mktemp("library")
    files = H.write_corpus(root / "corpus", per_class=2)
    (root / "corpus" / "copies").mkdir()
    shutil.copy(files["image"][0], root / "corpus" / "copies" / "red_0_copy.png")
    settings = load_settings(home=root / "home", device="cpu", space="tiny")
    with Client(settings=settings) as client:
        assert client.index(root / "corpus").indexed == 25
    return root, files, settings


@pytest.fixture()
def api(world):
    client = Client(settings=world[2])
    with authed(create_app(client)) as http:
        yield http, client
    client.close()


@pytest.fixture()
def remote(api):
    http, client = api
    return RemoteClient(http=http), client      # the same API, through FastAPI's test transport


def test_negatives_filters_and_why_by_url_and_form(api, world):
    http, _ = api
    root, files, _ = world
    before = http.get("/api/search", params={"text": "red blue", "target": "image", "k": 4}).json()["hits"]
    assert {H.class_of(h["path"]) for h in before} == {"red", "blue"}
    after = http.get("/api/search", params={"text": "red blue", "not_text": "blue high z", "target": "image",
                                            "k": 3, "weight": "not-text=1.5"}).json()["hits"]
    assert [H.class_of(h["path"]) for h in after] == ["red"] * 3
    why = after[0]["inputs"]
    assert why[1]["negative"] and why[1]["weight"] == pytest.approx(1.5) and why[0]["path"][0] == "text"
    filtered = http.get("/api/search", params={"text": "red", "target": "image", "k": 5,
                                               "under": str(root / "corpus" / "copies")}).json()["hits"]
    assert [h["name"] for h in filtered] == ["red_0_copy.png"]
    with open(files["image"][4], "rb") as fh:              # a blue image upload as a negative
        form = http.post("/api/search", data={"text": "red blue", "target": "image", "k": "3", "type": "png"},
                         files=[("not_image", ("neg.png", fh.read(), "image/png"))]).json()["hits"]
    assert [H.class_of(h["path"]) for h in form] == ["red"] * 3 and form[0]["inputs"][1]["input"] == "not neg.png"
    bad = http.get("/api/search", params={"text": "red", "modified_after": "soon"})
    assert bad.status_code == 400 and "Bad modified-after" in bad.json()["detail"]
    none = http.get("/api/search", params={"not_text": "red"})
    assert none.status_code == 400 and "positive" in none.json()["detail"]


def test_duplicates_saved_and_watch_endpoints(api, world):
    http, _ = api
    root, files, _ = world
    groups = http.get("/api/duplicates", params={"identical": "true"}).json()
    assert groups["total"] == 1 and groups["groups"][0]["kind"] == "identical"
    assert sorted(i["path"] for i in groups["groups"][0]["items"]) == sorted(
        [str(files["image"][0]), str(root / "corpus" / "copies" / "red_0_copy.png")])
    saved = http.post("/api/saved", json={"name": "reds", "query": {"text": ["red"], "not_like": [str(files["image"][4])],
                                                                    "target": "image", "k": 2,
                                                                    "where": {"types": ["png"]}}}).json()
    assert saved["name"] == "reds" and saved["query"]["where"] == {"types": ["png"]}
    assert [s["name"] for s in http.get("/api/saved").json()["saved"]] == ["reds"]
    ran = http.post("/api/saved/reds/run").json()
    assert len(ran["hits"]) == 2 and all(h["new"] is False for h in ran["hits"])
    refused = http.post("/api/saved", json={"name": "files", "query": {"audio": ["/etc/passwd"]}})
    assert refused.status_code == 400 and "only" in refused.json()["detail"]
    assert http.delete("/api/saved/reds").json() == {"deleted": "reds"}
    assert http.delete("/api/saved/reds").status_code == 404
    assert http.get("/api/watch").json() == {"watching": [], "pending": [], "batches": 0}


def test_remote_client_answers_as_client(remote, world):
    rc, client = remote
    root, files, _ = world
    kwargs = dict(text="red blue", not_text="blue high z", target="image", k=3, weights={"not-text": 2},
                  where={"types": ["png"], "under": str(root / "corpus")}, not_like=str(files["image"][5]))
    here = client.query(**kwargs)
    there = rc.query(**kwargs)
    assert [h.id for h in there] == [h.id for h in here]
    assert [h.inputs for h in there] == [[{k: v for k, v in p.items()} for p in h.inputs] for h in here]
    up = rc.query(image=str(files["image"][0]), not_image=str(files["image"][4]), target="image", k=2)
    assert [h.id for h in up] == [h.id for h in client.query(image=str(files["image"][0]),
                                                            not_image=str(files["image"][4]), target="image", k=2)]
    assert [g.to_dict() for g in rc.duplicates(near=False)] == [g.to_dict() for g in client.duplicates(near=False)]
    rec = rc.save_search("blues", text="blue", target="3d", k=2, like=str(files["3d"][4]), where={"under": None})
    assert rec["query"]["like"] == [str(files["3d"][4])]
    assert [h.id for h in rc.run_saved("blues")] == rec["last"]
    assert [s["name"] for s in rc.saved_searches()] == ["blues"]
    with pytest.raises(ConfigError, match="only"):         # the server's ConfigError, raised as itself
        rc.save_search("bad", audio=[str(files["audio"][0])])
    assert rc.delete_saved("blues") and not rc.delete_saved("blues")
    with pytest.raises(ConfigError, match="Bad modified-before"):
        rc.query(text="red", where={"modified_before": "later"})
