"""Video frames get "where?" (issue 25): an indexed video is explained at the frame of a moment, through the
same guarded decode as a hit's poster; Client, CLI, API and RemoteClient answer alike."""

from __future__ import annotations

import json
import uuid

import numpy as np
import pytest

pytest.importorskip("av")

from fastapi.testclient import TestClient

from helpers import corpus as H
from mcrsearch.api import Client
from mcrsearch.config import load_settings
from mcrsearch.errors import ConfigError, MediaError
from mcrsearch.modality import Modality
from mcrsearch.server.app import create_app
from mcrsearch.server.remote import RemoteClient
from mcrsearch.store import point_id

pytestmark = pytest.mark.filterwarnings("ignore:Payload indexes have no effect:UserWarning",
                                        "ignore:Local mode performs exact:UserWarning")


def swap_video(path):
    """10 s of frames red on the left and blue on the right, then 10 s the other way round (no sound)."""
    from mcrsearch.miniworld.clips import write_video

    frames = []
    for part in range(2):
        for _ in range(20):
            img = np.zeros((32, 48, 3), np.uint8)
            img[..., 2] = 200
            red = slice(0, 24) if part == 0 else slice(24, 48)
            img[:, red] = (220, 25, 25)
            frames.append(img)
    return write_video(path, frames, 2, None, 8000)


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    root = tmp_path_factory.mktemp("explain-video")
    H.write_corpus(root / "media" / "corpus", per_class=2)
    video = swap_video(root / "media" / "swap.mp4")
    settings = load_settings(home=root / "home", device="cpu", space="tiny", collection=f"c{uuid.uuid4().hex[:8]}",
                             explain_present_z=1.0)
    client = Client(settings=settings)
    assert client.index(root / "media").failed == []
    app = create_app(client)
    with TestClient(app, headers={"Authorization": f"Bearer {app.state.token}"}) as http:
        yield client, RemoteClient(http=http), http, video, root
    client.close()


def test_the_frame_at_the_moment_is_explained(world):
    client, _, _, video, _ = world
    first = client.explain(item=str(video), text="a red thing low", at=5.0, overlay=True)
    later = client.explain(item=str(video), text="a red thing low", at=15.0)
    assert first.modality is Modality.IMAGE and first.at == 5.0 and later.at == 15.0
    assert first.peak_at[0] < 0.5 < later.peak_at[0], "red is on the left at 5 s and on the right at 15 s"
    assert first.overlay[:8] == b"\x89PNG\r\n\x1a\n" and later.overlay is None
    assert first.verdict is not None and first.verdict.calibrated_by.endswith("->video")
    by_id = client.explain(item=point_id(str(video)), text="a blue thing high", at=5.0)
    assert by_id.peak_at[0] > 0.5                                  # blue is on the right at 5 s
    start = client.explain(item=str(video), text="a red thing low")      # no time: the first frame
    assert start.at == 0.0 and start.peak_at[0] < 0.5


def test_a_time_is_refused_for_pictures_and_a_broken_video_is_one_sentence(world, tmp_path):
    client, _, _, video, root = world
    picture = next((root / "media" / "corpus" / "image").glob("red_*.png"))
    with pytest.raises(ConfigError, match="picks a frame of an indexed video"):
        client.explain(item=str(picture), text="red", at=3.0)
    from mcrsearch.video import guarded_frame

    broken = tmp_path / "broken.mp4"
    broken.write_bytes(video.read_bytes()[:300])
    with pytest.raises(MediaError, match="broken.mp4"):
        guarded_frame(str(broken), 1.0)


def test_the_api_and_remote_client_answer_as_the_client(world):
    client, remote, http, video, _ = world
    item = point_id(str(video))
    body = http.post("/api/explain", data={"item": item, "text": "a red thing low", "at": "15", "overlay": "true"})
    assert body.status_code == 200, body.text
    data = body.json()
    assert data["at"] == 15.0 and data["modality"] == "image" and data["overlay_png"]
    assert data["peak_at"][0] > 0.5
    local = client.explain(item=str(video), text="a red thing low", at=15.0)
    there = remote.explain(item=str(video), text="a red thing low", at=15.0)
    np.testing.assert_allclose(there.values, local.values, atol=1e-5)
    assert there.at == local.at == 15.0 and there.peak_at == local.peak_at
    assert http.post("/api/explain", data={"item": item, "text": "red", "at": "-1"}).status_code in (400, 422)
    picture = http.get("/api/items", params={"modality": "image", "limit": 1}).json()["items"][0]["id"]
    refused = http.post("/api/explain", data={"item": picture, "text": "red", "at": "2"})
    assert refused.status_code == 400 and "frame of an indexed video" in refused.text
    with TestClient(http.app) as anonymous:
        assert anonymous.post("/api/explain", data={"item": item, "text": "red", "at": "1"}).status_code in (401, 403)


def test_cli_explains_a_video_frame(world, tmp_path, capsys):
    from mcrsearch.cli import main

    client, _, _, video, root = world
    out = tmp_path / "frame.png"
    code = main(["--home", str(root / "home"), "--device", "cpu", "explain", "--collection", client.settings.collection,
                 "--no-server", "--item", str(video), "--at", "15", "--text", "a red thing low", "--out", str(out),
                 "--json"])
    assert code in (0, None)
    data = json.loads(capsys.readouterr().out)
    assert data["at"] == 15.0 and data["peak_at"][0] > 0.5 and out.read_bytes()[:4] == b"\x89PNG"
