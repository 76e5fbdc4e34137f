"""Video through the server and RemoteClient: upload a video as the query, video hits carry their moment, the
poster frame at a moment, media by id with HTTP Range, `ID@SECONDS` likes; RemoteClient answers as Client."""

from __future__ import annotations

import io

import numpy as np
import pytest

pytest.importorskip("fastapi")
pytest.importorskip("av")

from fastapi.testclient import TestClient

from helpers import corpus as H
from helpers.media import write_class_video
from mcrsearch.api import Client
from mcrsearch.config import load_settings
from mcrsearch.server.app import create_app
from mcrsearch.server.discovery import ServerInfo
from mcrsearch.server.remote import RemoteClient
from mcrsearch.store import point_id


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    root = tmp_path_factory.mktemp("video-serve")
    media = root / "media"
    write_class_video(media / "rgb.mp4", [0, 1, 2], seconds_each=10.0, fps=2)
    write_class_video(media / "blue.mkv", [2, 2], seconds_each=10.0, fps=2, sounds=[None, None])
    H.write_corpus(media / "corpus", per_class=1)
    query = write_class_video(root / "query" / "green.mp4", [1], seconds_each=10.0, fps=2)
    settings = load_settings(home=root / "home", device="cpu", space="tiny")
    with Client(settings=settings) as client:
        assert client.index(media).failed == []
    return root, settings, query


@pytest.fixture()
def api(world):
    client = Client(settings=world[1])
    app = create_app(client)
    with TestClient(app, headers={"Authorization": f"Bearer {app.state.token}"}) as http:
        yield http, client
    client.close()


def test_uploaded_video_query_and_video_hits_with_their_moment(api, world):
    http, _ = api
    root, _, query = world
    r = http.post("/api/search", data={"target": "video", "k": "5"},
                  files=[("video", (query.name, query.read_bytes(), "video/mp4"))])
    assert r.status_code == 200, r.text
    hits = r.json()["hits"]
    best = hits[0]
    assert best["modality"] == "video" and best["path"].endswith("rgb.mp4")
    assert (best["details"]["start"], best["details"]["end"]) == (10.0, 20.0)
    assert best["details"]["matched"] in ("picture", "sound") and isinstance(best["details"]["segments"], list)
    tone = H.write_item(root / "q2", "audio", 2, 3)
    by_sound = http.post("/api/search", data={"target": "video", "k": "2"},
                         files=[("audio", (tone.name, tone.read_bytes(), "audio/wav"))]).json()["hits"]
    assert by_sound[0]["details"]["matched"] == "sound" and by_sound[0]["details"]["start"] == 20.0


def test_poster_at_the_moment_and_media_with_range(api, world):
    from PIL import Image

    http, _ = api
    root, _, _ = world
    item = point_id(str(root / "media" / "rgb.mp4"))
    colours = []
    for at in (5, 15, 25):
        r = http.get(f"/api/items/{item}/thumb", params={"at": at, "size": 64})
        assert r.status_code == 200 and r.headers["content-type"] == "image/png"
        img = np.asarray(Image.open(io.BytesIO(r.content)).convert("RGB"), dtype=float)
        colours.append(int(np.argmax(img[8:, 8:].reshape(-1, 3).mean(0))))
    assert colours == [0, 1, 2], "the poster is the frame at the moment asked for"
    whole = http.get(f"/api/items/{item}/media")
    assert whole.status_code == 200 and whole.headers["content-type"] == "video/mp4"
    part = http.get(f"/api/items/{item}/media", headers={"Range": "bytes=100-199"})
    assert part.status_code == 206 and part.content == whole.content[100:200]


def test_remote_client_answers_video_queries_as_client_does(api, world):
    http, client = api
    root, _, query = world
    rc = RemoteClient(ServerInfo("http://testserver", 0, "mcrsearch", "", None))
    rc._http.close()
    rc._http = http
    local = client.query(video=str(query), target="video", k=2)
    remote = rc.query(video=[str(query)], target="video", k=2)
    assert [(h.id, h.payload["start"], h.payload["matched"]) for h in local] == \
        [(h.id, h.payload["start"], h.payload["matched"]) for h in remote]
    item = point_id(str(root / "media" / "rgb.mp4"))
    moment = rc.query(like=[f"{item}@25"], target="image", k=1)
    local_moment = client.query(like=f"{item}@25", target="image", k=1)
    assert H.class_of(moment[0].path) == "blue"
    assert [(h.id, round(h.score, 4)) for h in moment] == [(h.id, round(h.score, 4)) for h in local_moment]
