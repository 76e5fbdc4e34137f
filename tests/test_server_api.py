"""The server's JSON API over a real indexed corpus (tiny space), through FastAPI's test client."""

from __future__ import annotations

import json
import time

import pytest

pytest.importorskip("fastapi")

from fastapi.testclient import TestClient

from helpers import corpus as H
from mcrsearch.api import Client
from mcrsearch.config import load_settings
from mcrsearch.server.app import create_app


def authed(app) -> TestClient:
    """A test client that sends the server's token, as the CLI does."""
    return TestClient(app, headers={"Authorization": f"Bearer {app.state.token}"})


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    root = tmp_path_factory.mktemp("serve")
    files = H.write_corpus(root / "corpus", per_class=2)
    queries = {m: [H.write_item(root / "queries", m, c, 30 + c) for c in range(3)] for m in ("audio", "image", "3d")}
    settings = load_settings(home=root / "home", device="cpu", space="tiny")
    with Client(settings=settings) as client:
        report = client.index(root / "corpus")
    assert report.indexed == 24 and not report.failed
    return root, files, queries, settings


@pytest.fixture()
def api(world):
    client = Client(settings=world[3])
    with authed(create_app(client)) as http:
        yield http
    client.close()


def test_health_info_and_openapi(api, world):
    health = api.get("/api/health").json()
    assert health["status"] == "ok" and health["collection"] == "mcrsearch" and health["total"] == 24
    info = api.get("/api/info").json()
    assert info["counts"] == {"image": 6, "text": 6, "audio": 6, "3d": 6}
    schema = api.get("/openapi.json").json()
    assert {"/api/search", "/api/items/{item_id}/media", "/api/jobs/{job_id}/events"} <= set(schema["paths"])
    answers = schema["paths"]["/api/search"]["get"]["responses"]["200"]["content"]["application/json"]["schema"]
    assert answers == {"$ref": "#/components/schemas/SearchOut"}, "search publishes its response shape"
    hit = schema["components"]["schemas"]["HitOut"]
    assert {"id", "path", "modality", "details", "media_url", "score", "cosine"} <= set(hit["required"])
    files = {"/api/items/{item_id}/media", "/api/items/{item_id}/thumb", "/api/jobs/{job_id}/events"}
    for path, ops in schema["paths"].items():
        for method, op in ops.items():
            ok = next(r for code, r in op["responses"].items() if code.startswith("2"))
            shape = ok.get("content", {}).get("application/json", {}).get("schema", {})
            assert path in files or "$ref" in shape, f"{method} {path} declares no response schema"
    assert api.get("/docs").status_code == 404, "the CDN-based Swagger page stays off"


def test_text_search_by_url_pages_and_filters(api):
    first = api.get("/api/search", params={"text": "red", "target": "image", "k": 1}).json()
    assert len(first["hits"]) == 1 and first["more"] is True
    hit = first["hits"][0]
    assert H.class_of(hit["path"]) == "red" and hit["modality"] == "image"
    assert hit["media_url"] == f"/api/items/{hit['id']}/media" and hit["thumb_url"] and hit["geometry_url"] is None
    second = api.get("/api/search", params={"text": "red", "target": "image", "k": 1, "offset": 1}).json()
    assert H.class_of(second["hits"][0]["path"]) == "red" and second["hits"][0]["id"] != hit["id"]
    everything = api.get("/api/search", params={"text": "red", "target": "image", "k": 6}).json()["hits"]
    assert [h["id"] for h in everything[:2]] == [hit["id"], second["hits"][0]["id"]]
    floor = everything[2]["score"]
    kept = api.get("/api/search", params={"text": "red", "target": "image", "k": 6, "min_score": floor}).json()
    assert [h["score"] for h in kept["hits"]] == [h["score"] for h in everything if h["score"] >= floor]


def test_uploaded_audio_finds_3d_and_like_excludes_the_item(api, world):
    _, _, queries, _ = world
    path = queries["audio"][2]
    r = api.post("/api/search", data={"target": "3d", "k": "2"},
                 files=[("audio", (path.name, path.read_bytes(), "audio/wav"))])
    assert r.status_code == 200, r.text
    hits = r.json()["hits"]
    assert [H.class_of(h["path"]) for h in hits] == ["blue", "blue"]
    assert all(h["geometry_url"] for h in hits)
    like = api.get("/api/search", params={"like": hits[0]["id"], "target": "3d", "k": 1}).json()["hits"]
    assert like[0]["id"] != hits[0]["id"] and H.class_of(like[0]["path"]) == "blue"


def test_media_by_id_with_range_and_items(api):
    page = api.get("/api/items", params={"modality": "audio", "limit": 4}).json()
    assert page["total"] == 6 and len(page["items"]) == 4
    more = api.get("/api/items", params={"modality": "audio", "limit": 4, "offset": 4}).json()["items"]
    assert len(more) == 2 and not {i["id"] for i in more} & {i["id"] for i in page["items"]}
    item = page["items"][0]
    assert api.get(f"/api/items/{item['id']}").json()["path"] == item["path"]
    whole = api.get(item["media_url"])
    assert whole.status_code == 200 and whole.headers["content-type"].startswith("audio/")
    with open(item["path"], "rb") as fh:
        assert whole.content == fh.read()
    part = api.get(item["media_url"], headers={"Range": "bytes=4-11"})
    assert part.status_code == 206 and part.content == whole.content[4:12]
    assert api.get("/api/items/00000000-0000-5000-8000-000000000000/media").status_code == 404


def test_errors_are_one_sentence(api, world):
    r = api.get("/api/search", params={"target": "image"})
    assert r.status_code == 400 and "at least one query input" in r.json()["detail"]
    bad = api.post("/api/search", data={"target": "3d"}, files=[("audio", ("x.wav", b"not a wav", "audio/wav"))])
    assert bad.status_code == 422 and "x.wav" in bad.json()["detail"]
    assert api.get("/api/search", params={"text": "red", "target": "smell"}).status_code == 400
    assert api.post("/api/jobs", json={"path": "relative/folder"}).status_code == 400


def test_upload_cap(world):
    settings = world[3].with_overrides(max_upload_mb=0.001)
    client = Client(settings=settings)
    with authed(create_app(client)) as http:
        r = http.post("/api/search", data={"target": "3d"}, files=[("audio", ("big.wav", b"0" * 5000, "audio/wav"))])
    client.close()
    assert r.status_code == 413 and "upload limit" in r.json()["detail"]


def test_token_host_and_origin_guards(world):
    client = Client(settings=world[3])
    app = create_app(client, token="s3cret", allowed_hosts=["testserver"])
    with TestClient(app) as http:
        assert http.get("/api/info").status_code == 401
        assert http.get("/api/info", headers={"Authorization": "Bearer s3cret"}).status_code == 200
        assert http.get("/api/info", headers={"Authorization": "Bearer wrong"}).status_code == 401
        page = http.get("/", params={"token": "s3cret"}, follow_redirects=False)
        assert page.status_code == 303 and page.headers["location"] == "/"     # the token leaves the URL
        assert "mcrsearch_token_" in page.headers["set-cookie"] and "httponly" in page.headers["set-cookie"].lower()
        assert http.get("/api/info").status_code == 200     # the page's cookie authorises same-origin calls
        assert http.get("/api/info", headers={"Host": "evil.example:8765"}).status_code == 403
        cross = http.post("/api/jobs", json={"path": "/tmp"}, headers={"Authorization": "Bearer s3cret",
                                                                       "Origin": "http://evil.example"})
        assert cross.status_code == 403
    client.close()


def test_index_job_runs_while_searching_and_streams_progress(world, tmp_path, monkeypatch):
    root, _, _, settings = world
    folder = tmp_path / "more"
    H.write_corpus(folder, per_class=3)
    monkeypatch.setenv("MCRSEARCH_TEST_ENCODE_SLEEP", "0.05")
    s = settings.with_overrides(collection="jobs", batch_size=2)
    client = Client(settings=s)
    with authed(create_app(client)) as http:
        job = http.post("/api/jobs", json={"path": str(folder)}).json()
        assert job["state"] in ("queued", "running")
        answered = 0
        while http.get(f"/api/jobs/{job['id']}").json()["state"] in ("queued", "running"):
            r = http.get("/api/search", params={"text": "green", "target": "image", "k": 1})
            if r.status_code == 200:          # the collection exists once the job's first batch is in
                answered += 1
            else:
                assert r.status_code == 409, r.text
            time.sleep(0.02)
        events = []
        with http.stream("GET", f"/api/jobs/{job['id']}/events") as stream:
            for line in stream.iter_lines():
                if line.startswith("event:"):
                    events.append(line.split(":", 1)[1].strip())
                elif line.startswith("data:"):
                    last = json.loads(line[5:])
        assert events[-1] == "end" and last["state"] == "done" and last["indexed"] == 36
        assert last["report"]["failed"] == [] and last["done"] == last["total"] == 36
        assert answered > 0, "searches were answered while the job ran"
        hits = http.get("/api/search", params={"text": "green", "target": "3d", "k": 3}).json()["hits"]
        assert [H.class_of(h["path"]) for h in hits] == ["green"] * 3
        assert http.get("/api/jobs").json()["jobs"][0]["id"] == job["id"]
    client.close()


def test_cancel_stops_a_job_with_whole_items(world, tmp_path, monkeypatch):
    folder = tmp_path / "slow"
    H.write_corpus(folder, per_class=4)
    monkeypatch.setenv("MCRSEARCH_TEST_ENCODE_SLEEP", "0.2")
    s = world[3].with_overrides(collection="cancel", batch_size=2)
    client = Client(settings=s)
    with authed(create_app(client)) as http:
        job = http.post("/api/jobs", json={"path": str(folder)}).json()
        while http.get(f"/api/jobs/{job['id']}").json()["indexed"] == 0:
            time.sleep(0.05)
        assert http.delete(f"/api/jobs/{job['id']}").status_code == 200
        while (state := http.get(f"/api/jobs/{job['id']}").json())["state"] == "running":
            time.sleep(0.05)
        assert state["state"] == "cancelled" and 0 < state["indexed"] < 48
        assert http.get("/api/health").json()["total"] == state["indexed"]
    client.close()
