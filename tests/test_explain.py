"""Explaining a match (issue 25): heat maps, the calibrated verdict, the overlay, Client and CLI."""

from __future__ import annotations

import io
import json
import uuid

import numpy as np
import pytest
from PIL import Image

from helpers import corpus as H
from mcrsearch.api import Client
from mcrsearch.config import load_settings
from mcrsearch.errors import ConfigError
from mcrsearch.explain import judge, upsample

pytestmark = pytest.mark.filterwarnings("ignore:Payload indexes have no effect:UserWarning",
                                        "ignore:Local mode performs exact:UserWarning")


def _scene(path, quadrant=(1, 0)) -> tuple:
    """A blue picture with a red square filling one quadrant (col, row); returns (path, box fractions)."""
    arr = np.zeros((64, 64, 3), np.uint8)
    arr[..., 2] = 200
    c, r = quadrant
    arr[r * 32:(r + 1) * 32, c * 32:(c + 1) * 32] = (220, 20, 20)
    Image.fromarray(arr).save(path)
    return path, (c * 0.5, r * 0.5, c * 0.5 + 0.5, r * 0.5 + 0.5)


@pytest.fixture(scope="module")
def indexed(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("explain")
    # Three classes: a true match sits about 1.2 standard deviations above the mean pair cosine here (a third
    # of the collection's pairs match), so the verdict's threshold is set for that.
    settings = load_settings(home=tmp / "home", device="cpu", space="tiny", collection=f"c{uuid.uuid4().hex[:8]}",
                             explain_present_z=1.0)
    files = H.write_corpus(tmp / "corpus", per_class=2)
    with Client(settings=settings) as c:
        c.index(tmp / "corpus")
        yield c, files, tmp


def _inside(xy, box) -> bool:
    return box[0] <= xy[0] <= box[2] and box[1] <= xy[1] <= box[3]


@pytest.mark.parametrize("quadrant", [(1, 0), (0, 1)])
def test_text_and_audio_light_up_the_red_square(indexed, quadrant):
    c, files, tmp = indexed
    picture, box = _scene(tmp / f"scene{quadrant}.png", quadrant)
    red_tone = next(str(p) for p in files["audio"] if H.class_of(str(p)) == "red")
    for query in ({"text": "a red thing low"}, {"audio": red_tone}):
        result = c.explain(image=str(picture), overlay=True, **query)
        assert result.values.shape == (4, 4) and result.method == "cells"
        assert _inside(result.peak_at, box), (query, result.peak_at)
        inside = [v for v, xy in zip(result.values.ravel(), result.centres) if _inside(xy, box)]
        outside = [v for v, xy in zip(result.values.ravel(), result.centres) if not _inside(xy, box)]
        assert min(inside) > max(outside)
        assert result.verdict is not None and result.verdict.present
        assert 0.5 < result.verdict.confidence <= 1.0
        overlay = Image.open(io.BytesIO(result.overlay))
        assert overlay.size == (64, 64) and overlay.mode == "RGB"


def test_absent_source_gets_a_lower_peak_and_no_verdict_of_presence(indexed):
    c, _, tmp = indexed
    picture, _ = _scene(tmp / "scene_absent.png")
    present = c.explain(image=str(picture), text="a red thing low")
    absent = c.explain(image=str(picture), text="a green thing mid")
    assert absent.peak < present.peak
    assert absent.verdict is not None and not absent.verdict.present
    assert absent.verdict.confidence < present.verdict.confidence


def test_explain_an_indexed_item_with_a_like_query(indexed):
    c, files, _ = indexed
    red_image = next(str(p) for p in files["image"] if H.class_of(str(p)) == "red")
    red_text = next(str(p) for p in files["text"] if H.class_of(str(p)) == "red")
    result = c.explain(item=red_image, like=red_text)
    assert result.verdict is not None and result.values.shape == (4, 4)
    data = result.as_dict()
    assert data["space"] == "tiny" and data["verdict"]["calibrated_by"] == "text->image"
    json.dumps(data)


def test_explain_refuses_what_it_cannot_do(indexed):
    c, files, tmp = indexed
    picture, _ = _scene(tmp / "scene_refuse.png")
    with pytest.raises(ConfigError, match="exactly one query"):
        c.explain(image=str(picture))
    with pytest.raises(ConfigError, match="exactly one query"):
        c.explain(image=str(picture), text="red", audio=str(files["audio"][0]))
    with pytest.raises(ConfigError, match="exactly one thing"):
        c.explain(text="red")
    with pytest.raises(ConfigError, match="only pictures, 3D shapes and video frames"):
        c.explain(item=str(files["audio"][0]), text="red")
    with pytest.raises(ConfigError, match="does not exist"):
        c.explain(image=str(tmp / "nope.png"), text="red")


def test_empty_collection_explains_in_a_named_space_without_a_verdict(tmp_path):
    settings = load_settings(home=tmp_path / "home", device="cpu", collection="nothing")
    picture, box = _scene(tmp_path / "scene.png")
    with Client(settings=settings) as c:
        result = c.explain(image=str(picture), text="a red thing low", space="tiny")
        with pytest.raises(Exception):
            c.explain(image=str(picture), text="a red thing low")        # which space? none to infer from
    assert result.verdict is None and result.notes and _inside(result.peak_at, box)


def test_cli_explain_prints_json_and_writes_the_overlay(tmp_path, capsys):
    from mcrsearch.cli import main

    picture, box = _scene(tmp_path / "scene.png")
    out = tmp_path / "heat.png"
    code = main(["--home", str(tmp_path / "home"), "--device", "cpu", "explain", "--text", "a red thing low",
                 "--image", str(picture), "--space", "tiny", "--out", str(out), "--json", "--no-server"])
    assert code in (0, None)
    data = json.loads(capsys.readouterr().out)
    assert data["overlay_path"] == str(out) and _inside(data["peak_at"], box)
    assert Image.open(out).size == (64, 64)


def test_judge_and_upsample():
    stats = {"audio->image": [0.1, 0.05], "*->image": [0.0, 1.0]}
    v = judge(0.25, stats, "audio", "image")
    assert v.present and v.calibrated_by == "audio->image" and abs(v.z - 3.0) < 1e-9 and v.confidence > 0.99
    assert not judge(0.15, stats, "audio", "image").present
    assert judge(0.5, stats, "text", "image").calibrated_by == "*->image"
    assert judge(0.5, {}, "text", "image") is None
    grid = np.array([[0.0, 1.0], [2.0, 3.0]])
    centres = np.array([[0.25, 0.25], [0.75, 0.25], [0.25, 0.75], [0.75, 0.75]])
    big = upsample(grid, centres, 8, 8)
    assert big.shape == (8, 8) and big[0, 0] == 0.0 and big[-1, -1] == 3.0
    assert np.all(np.diff(big, axis=1) >= 0) and np.all(np.diff(big, axis=0) >= 0)
