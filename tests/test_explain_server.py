"""Explain over the wire (issue 25): `POST /api/explain` and RemoteClient.explain answer as Client.explain does."""

from __future__ import annotations

import numpy as np
import pytest
from fastapi.testclient import TestClient
from PIL import Image

from helpers import corpus as H
from mcrsearch.api import Client
from mcrsearch.config import load_settings
from mcrsearch.errors import ConfigError, NotFoundError
from mcrsearch.server.app import create_app
from mcrsearch.server.remote import RemoteClient


@pytest.fixture(scope="module")
def both(tmp_path_factory):
    root = tmp_path_factory.mktemp("explain-wire")
    files = H.write_corpus(root / "corpus", per_class=2)
    settings = load_settings(home=root / "home", device="cpu", space="tiny", explain_present_z=1.0)
    client = Client(settings=settings)
    client.index(root / "corpus")
    app = create_app(client)
    with TestClient(app, headers={"Authorization": f"Bearer {app.state.token}"}) as http:
        yield client, RemoteClient(http=http), files, root, http
    client.close()


def _same(a, b):
    np.testing.assert_allclose(a.values, b.values, atol=1e-5)
    np.testing.assert_allclose(a.centres, b.centres, atol=1e-5)
    assert (a.space, a.method, a.modality, a.peak_at) == (b.space, b.method, b.modality, b.peak_at)
    assert a.score == pytest.approx(b.score, abs=1e-5)
    assert (a.verdict is None) == (b.verdict is None)
    if a.verdict:
        assert a.verdict.present == b.verdict.present and a.verdict.z == pytest.approx(b.verdict.z, abs=1e-4)


def test_remote_explain_answers_as_local(both):
    local, remote, files, root, _ = both
    red_image = next(str(p) for p in files["image"] if H.class_of(str(p)) == "red")
    red_tone = next(str(p) for p in files["audio"] if H.class_of(str(p)) == "red")
    red_text = next(str(p) for p in files["text"] if H.class_of(str(p)) == "red")
    for kwargs in ({"item": red_image, "text": "a red thing low"}, {"image": red_image, "audio": red_tone},
                   {"item": red_image, "like": red_text}):
        a, b = local.explain(**kwargs), remote.explain(**kwargs)
        _same(a, b)
    with_overlay = remote.explain(item=red_image, text="red", overlay=True)
    assert with_overlay.overlay[:8] == b"\x89PNG\r\n\x1a\n"


def test_refusals_cross_the_wire(both):
    local, remote, files, root, http = both
    audio_item = str(files["audio"][0])
    for c in (local, remote):
        with pytest.raises(ConfigError, match="only pictures, 3D shapes and video frames"):
            c.explain(item=audio_item, text="red")
        with pytest.raises(ConfigError, match="exactly one query"):
            c.explain(item=str(files["image"][0]))
    # The server takes indexed items by id only: a path sent as `like` or `item` is no item.
    r = http.post("/api/explain", data={"item": str(files["image"][0]), "text": "red"})
    assert r.status_code == 404
    with pytest.raises(NotFoundError):
        remote.explain(item="0" * 8 + "-0000-0000-0000-" + "0" * 12, text="red")


def test_explain_needs_the_token(both):
    _, _, files, _, http = both
    app = http.app
    with TestClient(app) as anonymous:
        r = anonymous.post("/api/explain", data={"text": "red"})
    assert r.status_code in (401, 403)


def test_an_uploaded_picture_is_explained_without_reading_any_path(both, tmp_path):
    _, remote, _, _, _ = both
    arr = np.zeros((32, 32, 3), np.uint8)
    arr[..., 2] = 200
    arr[:16, 16:] = (220, 20, 20)
    path = tmp_path / "upload.png"
    Image.fromarray(arr).save(path)
    heat = remote.explain(image=str(path), text="a red thing low")
    assert heat.peak_at[0] > 0.5 and heat.peak_at[1] < 0.5
