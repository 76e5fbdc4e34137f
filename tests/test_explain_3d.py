"""3D results coloured by match (issue 25): part vectors of a shape, their centres on what the viewer draws,
the map spread onto points, and the capped answer over the wire."""

from __future__ import annotations

import uuid

import numpy as np
import pytest
from fastapi.testclient import TestClient

from helpers import corpus as H
from mcrsearch.api import Client
from mcrsearch.config import load_settings
from mcrsearch.encoders.base import l2_normalize, point_groups
from mcrsearch.modality import Modality

pytestmark = pytest.mark.filterwarnings("ignore:Payload indexes have no effect:UserWarning",
                                        "ignore:Local mode performs exact:UserWarning")


def dumbbell(path, shift=(0.0, 0.0, 0.0), scale: float = 1.0):
    """A rod along x (the tiny space's red/x cue) beside a rod along z (blue/z), offset in y; returns the
    path and a mask of the x rod's points."""
    rng = np.random.default_rng(7)
    x_rod = rng.normal(size=(600, 3)) * (1.0, 0.06, 0.06)
    z_rod = rng.normal(size=(600, 3)) * (0.06, 0.06, 1.0) + (0.0, 2.5, 0.0)
    pts = (np.concatenate([x_rod, z_rod]) * scale + shift).astype(np.float32)
    np.save(path, pts)
    return path, np.arange(len(pts)) < len(x_rod)


@pytest.fixture(scope="module")
def indexed(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("explain3d")
    settings = load_settings(home=tmp / "home", device="cpu", space="tiny", collection=f"c{uuid.uuid4().hex[:8]}",
                             explain_present_z=1.0)
    H.write_corpus(tmp / "corpus", per_class=2)
    shape, x_mask = dumbbell(tmp / "corpus" / "3d" / "dumbbell.npy", shift=(5.0, -3.0, 1.0), scale=3.0)
    with Client(settings=settings) as c:
        c.index(tmp / "corpus")
        yield c, shape, x_mask, tmp


def test_point_groups_are_deterministic_farthest_point_parts():
    cloud = np.random.default_rng(0).normal(size=(300, 3))
    centres, members = point_groups(cloud, 8, 40)
    again = point_groups(cloud, 8, 40)
    assert np.array_equal(centres, again[0]) and np.array_equal(members, again[1])
    assert len(set(centres.tolist())) == 8 and members.shape == (8, 40)
    assert all(np.all(np.diff(row) > 0) for row in members)                  # the cloud's order kept
    for c, row in zip(centres, members):                                      # each part is its centre's nearest
        d = np.linalg.norm(cloud - cloud[c], axis=1)
        assert d[row].max() <= np.sort(d)[39] + 1e-12
    whole = point_groups(cloud, 1, 10_000)[1]
    assert np.array_equal(whole[0], np.arange(300))


def test_mini_shape_parts_pool_back_to_the_global_vector_with_one_part():
    import torch

    from mcrsearch.miniworld.encoder import build
    from mcrsearch.miniworld.models import DEFAULT_CONFIGS, MiniMCRModel

    torch.manual_seed(0)
    enc = build("ulip", model=MiniMCRModel(DEFAULT_CONFIGS["ulip"], vocab=["chair", "lamp"]).eval())
    cloud = np.random.default_rng(2).normal(size=(500, 3)).astype(np.float32) * (2.0, 0.5, 0.5)
    dense = enc.encode_dense(Modality.POINTS, cloud)
    assert dense.vectors.shape == (enc.dense_parts, enc.dim) and dense.centres.shape == (enc.dense_parts, 3)
    assert dense.method == "part" and np.ptp(dense.vectors, axis=0).max() > 1e-3     # parts, not copies
    assert all(any(np.allclose(c, p) for p in cloud) for c in dense.centres)        # centres in the cloud's frame
    enc.dense_parts, enc.dense_part_share = 1, 1.0
    one = enc.encode_dense(Modality.POINTS, cloud)
    np.testing.assert_allclose(l2_normalize(one.pooled[None])[0], enc.encode("3d", [cloud])[0], atol=1e-5)
    with pytest.raises(Exception, match="Unknown dense method"):
        enc.encode_dense(Modality.POINTS, cloud, "window")


def test_text_lights_up_the_matching_part_of_a_shape(indexed):
    from mcrsearch.server.geometry import load_shape

    client, shape, x_mask, _ = indexed
    drawn = load_shape(shape).positions                    # what the page's viewer draws, in its frame
    assert len(drawn) == len(x_mask)
    for text, on_x in (("a red thing low x", True), ("a blue thing high z", False)):
        heat = client.explain(points=str(shape), text=text)
        assert heat.modality is Modality.POINTS and heat.values.shape == (H.TinyEncoder.PARTS,)
        assert np.abs(heat.centres).max() <= 1.0 + 1e-4    # the viewer's unit sphere, not the file's metres
        scores = heat.point_scores(drawn)
        mine, other = (scores[x_mask], scores[~x_mask]) if on_x else (scores[~x_mask], scores[x_mask])
        assert np.median(mine) > np.median(other) + 0.1 * np.ptp(heat.values)
        # The peak part's centre sits on the matching rod as drawn (the x rod is at y < 0 in the box frame).
        assert (heat.peak_at[1] < 0) == on_x
        assert heat.verdict is not None


def test_point_scores_blend_the_nearest_parts(indexed):
    client, shape, _, _ = indexed
    heat = client.explain(points=str(shape), text="a red thing low x")
    np.testing.assert_allclose(heat.point_scores(heat.centres), heat.values, atol=1e-5)   # on a centre: its value
    point = (heat.centres[:1] + heat.centres[1:2]) / 2
    between = heat.point_scores(point, k=2)[0]
    near = heat.values[np.argsort(np.linalg.norm(heat.centres - point, axis=1))[:2]]
    assert near.min() - 1e-6 <= between <= near.max() + 1e-6            # a blend of its two nearest parts


def test_the_api_answers_a_shape_compactly_and_caps_its_parts(indexed, monkeypatch):
    from mcrsearch.server import schemas
    from mcrsearch.server.app import create_app

    client, shape, _, _ = indexed
    app = create_app(client)
    with TestClient(app) as anonymous:
        assert anonymous.post("/api/explain", data={"text": "red"}).status_code in (401, 403)
    with TestClient(app, headers={"Authorization": f"Bearer {app.state.token}"}) as http:
        item_id = _item_id(http, "dumbbell.npy")
        body = http.post("/api/explain", data={"item": item_id, "text": "a red thing low x"}).json()
        assert body["modality"] == "3d" and body["grid"] == [H.TinyEncoder.PARTS]
        assert len(body["values"]) == len(body["centres"]) == H.TinyEncoder.PARTS
        assert all(len(c) == 3 for c in body["centres"]) and body["overlay_png"] is None
        local = client.explain(points=str(shape), text="a red thing low x")
        np.testing.assert_allclose(body["values"], local.values, atol=1e-4)
        np.testing.assert_allclose(body["centres"], local.centres, atol=1e-4)
        monkeypatch.setattr(schemas, "MAX_PARTS", 5)
        capped = http.post("/api/explain", data={"item": item_id, "text": "a red thing low x"}).json()
        assert len(capped["values"]) == len(capped["centres"]) == 5 and capped["grid"] == [5]
        assert any("thinned" in n for n in capped["notes"])


def _item_id(http, name: str) -> str:
    items = http.get("/api/items", params={"modality": "3d", "limit": 100}).json()["items"]
    return next(i["id"] for i in items if i["name"] == name)
