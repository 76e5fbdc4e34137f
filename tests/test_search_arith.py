"""Negatives, weights over any modality, and filters: on both backends, checked against brute force."""

from __future__ import annotations

import json
import os
import shutil
import time
import uuid

import numpy as np
import pytest

from helpers import corpus as H
from mcrsearch.api import Client
from mcrsearch.calibration import pair_stats
from mcrsearch.cli import main
from mcrsearch.config import load_settings
from mcrsearch.errors import ConfigError
from mcrsearch.filters import parse_filters
from mcrsearch.search import parse_weights

pytestmark = pytest.mark.filterwarnings("ignore:Payload indexes have no effect:UserWarning",
                                        "ignore:Local mode performs exact:UserWarning")


def _tone(path, seconds: float, freq: float) -> None:
    import soundfile as sf

    rate = 8000
    t = np.arange(int(rate * seconds)) / rate
    sf.write(path, (0.5 * np.sin(2 * np.pi * freq * t)).astype(np.float32), rate)


@pytest.fixture(scope="module", params=["embedded", "qdrant-client"])
def world(request, tmp_path_factory):
    root = tmp_path_factory.mktemp("arith")
    url = ":memory:" if request.param == "qdrant-client" else None
    settings = load_settings(home=root / "home", device="cpu", space="tiny", qdrant_url=url,
                             collection=f"c{uuid.uuid4().hex[:8]}")
    files = H.write_corpus(root / "corpus", per_class=3)
    long = root / "corpus" / "long"
    long.mkdir()
    for i, (secs, freq) in enumerate([(2.5, 150.0), (4.0, 800.0), (6.0, 3000.0)]):
        _tone(long / f"{H.CLASSES[i]}_long.wav", secs, freq)
    old = files["image"][0]
    os.utime(old, (time.time() - 400 * 86400, time.time() - 400 * 86400))   # one file from last year
    with Client(settings=settings) as c:
        report = c.index(root / "corpus")
        assert report.indexed == 39 and not report.failed
        yield c, files, root


def _vectors(client):
    """Every stored item: id -> (unit vector, payload)."""
    store = client._handle
    out = {}
    for r in store.scroll(with_vectors=True):
        v = r.vectors["tiny"]
        out[r.id] = (v / np.linalg.norm(v), r.payload)
    return out


def _brute(client, pos, neg, target, filters=None, k=5, weights=None):
    """The documented score, computed over every stored item: sum s_i w_i z_i / sum of positive weights."""
    store = client._handle
    record = store.spaces()["tiny"]
    inputs = [(v, m, 1.0) for v, m in pos] + [(v, m, -1.0) for v, m in neg]
    w = np.array(weights or [1.0] * len(inputs))
    w = w / w[[s > 0 for *_, s in inputs]].sum()
    scored = []
    for rid, (x, payload) in _vectors(client).items():
        if payload.get("modality") != target or (filters and not filters.matches(payload)):
            continue
        s = 0.0
        for (q, m, sign), wi in zip(inputs, w):
            mean, std = pair_stats(record, m, target)
            s += sign * wi * (float(q @ x) / np.linalg.norm(q) - mean) / std
        scored.append((s, rid))
    return [rid for s, rid in sorted(scored, reverse=True)[:k]]


def _id(client, path):
    from mcrsearch.store import point_id

    return point_id(os.path.abspath(path))


def test_a_negative_removes_the_class_it_names(world):
    c, files, _ = world
    before = c.query(text="red blue", target="image", k=6)
    assert {H.class_of(h.path) for h in before} == {"red", "blue"}
    after = c.query(text="red blue", not_text="blue high z", target="image", k=6)
    assert [H.class_of(h.path) for h in after[:3]] == ["red"] * 3
    assert sum(H.class_of(h.path) == "blue" for h in after) < sum(H.class_of(h.path) == "blue" for h in before)
    assert after[0].inputs and after[0].inputs[1]["negative"] and after[0].inputs[1]["contribution"] > 0
    # the contributions add up to the score
    assert sum(p["contribution"] for p in after[0].inputs) == pytest.approx(after[0].score, abs=1e-3)


def test_fused_scores_with_negatives_and_weights_are_exact(world):
    c, files, _ = world
    audio = str(files["audio"][0])                     # red
    image_neg = str(files["image"][8])                 # blue
    like = files["3d"][4]                              # green
    got = c.query(audio=audio, like=str(like), not_image=image_neg, target="3d", k=4,
                  weights={"audio": 2, "not-image": 0.5})
    store = c._handle
    vec = {pid: v for pid, (v, _) in _vectors(c).items()}
    q_audio, q_img, q_like = (vec[_id(c, p)] for p in (audio, image_neg, like))
    expected = _brute(c, [(q_audio, "audio"), (q_like, "3d")], [(q_img, "image")], "3d", k=5,
                      weights=[2.0, 1.0, 0.5])
    expected = [e for e in expected if e != _id(c, like)][:4]      # the example is left out of its results
    assert [h.id for h in got] == expected
    assert store is c._handle


def test_not_like_leaves_its_item_out_and_pushes_its_class_down(world):
    c, files, _ = world
    red_image = files["image"][0]
    hits = c.query(text="red green", not_like=str(red_image), target="image", k=9)
    assert str(red_image) not in {h.path for h in hits}
    assert H.class_of(hits[0].path) == "green"


def test_weights_spellings_and_bad_values(world):
    c, files, _ = world
    assert parse_weights(["audio=2", "not-text=0.5", "like=3", "3d=1"]) == {
        "audio": 2.0, "not-text": 0.5, "like": 3.0, "3d": 1.0}
    # a negative number turns the text inputs into negatives: same ranking as --not-text
    flipped = c.query(image=str(files["image"][0]), text="red", target="audio", k=4, weights={"text": -1})
    explicit = c.query(image=str(files["image"][0]), not_text="red", target="audio", k=4)
    assert [h.id for h in flipped] == [h.id for h in explicit]
    with pytest.raises(ConfigError, match="positive query input"):
        c.query(not_text="red", target="image")
    with pytest.raises(ConfigError, match="weight of 0"):
        c.query(text="red", weights={"text": 0})
    with pytest.raises(ConfigError, match="Bad weight"):
        parse_weights(["audio"])


def test_filters_are_exact_against_brute_force(world):
    c, files, root = world
    corpus = root / "corpus"
    text_q = "a red thing low"
    q = c._handle
    cases = [
        ("audio", {"under": str(corpus / "long")}),
        ("audio", {"min_duration": 3}),
        ("audio", {"max_duration": 1.5}),
        ("3d", {"types": [".OBJ"]}),
        ("3d", {"types": "npy", "under": [str(corpus / "3d"), str(corpus / "nowhere")]}),
        ("image", {"modified_before": time.strftime("%Y-%m-%d", time.localtime(time.time() - 30 * 86400))}),
        ("image", {"modified_after": time.strftime("%Y-%m-%d", time.localtime(time.time() - 30 * 86400))}),
        ("image", {"min_width": 24, "min_height": 24}),
        ("image", {"min_width": 25}),
    ]
    record = q.spaces()["tiny"]
    assert record
    # the query vector, as the search makes it
    from mcrsearch.search import ContentInput, Searcher
    from mcrsearch.modality import Modality

    searcher = Searcher(q, c.settings, c._spaces)
    qv = searcher._vector(ContentInput(Modality.TEXT, text_q), record)
    for target, where in cases:
        filters = parse_filters(where)
        hits = c.query(text=text_q, target=target, k=3, where=where)
        expected = _brute(c, [(qv, "text")], [], target, filters=filters, k=3)
        assert [h.id for h in hits] == expected, (target, where)
        assert all(filters.matches(h.payload) for h in hits)
    assert len(c.query(text=text_q, target="image", k=5, where={"min_width": 25})) == 0
    one_year = c.query(text=text_q, target="image", k=5, where={"modified_before": time.time() - 300 * 86400})
    assert [h.path for h in one_year] == [str(files["image"][0])]
    long_ones = c.query(text="blue high", target="audio", k=5, where={"under": str(corpus / "long")})
    assert {h.path for h in long_ones} == {str(p) for p in (corpus / "long").iterdir()}
    assert H.class_of(long_ones[0].path) == "blue"


def test_filter_spellings(tmp_path):
    f = parse_filters({"under": ["rel", "/"], "type": [".WAV", "mp3"], "modified_after": "2024-05-01",
                       "min_duration": "2"})
    assert f.under == (os.path.abspath("rel"),) and f.types == ("mp3", "wav") and f.min_duration == 2.0
    assert f.modified_after == pytest.approx(time.mktime((2024, 5, 1, 0, 0, 0, 0, 0, -1)))
    assert not parse_filters({"under": "/"}) and bool(f)
    for bad, msg in (({"colour": "red"}, "Unknown filter"), ({"modified_after": "yesterday"}, "Bad modified-after"),
                     ({"min_duration": 5, "max_duration": 1}, "matches nothing"), ({"min_points": -1}, "zero or more")):
        with pytest.raises(ConfigError, match=msg):
            parse_filters(bad)


def test_cli_negatives_weights_and_filters(world, capsys):
    c, files, root = world
    home = str(c.settings.home)
    c.close()
    base = ["--home", home, "query", "--no-server", "--collection", c.settings.collection]
    if c.settings.qdrant_url:          # qdrant-client's in-memory mode is one per process: the CLI sees it too
        base += ["--qdrant-url", c.settings.qdrant_url]
    args = [*base, "--text", "red blue",
            "--not-text", "blue high z", "--target", "image", "-k", "3", "--json"]
    assert main(args) == 0
    hits = json.loads(capsys.readouterr().out)
    assert [H.class_of(h["path"]) for h in hits] == ["red"] * 3 and hits[0]["inputs"][1]["negative"]
    assert main([*base, "--text", "blue",
                 "--under", str(root / "corpus" / "long"), "--type", "wav", "--min-duration", "3",
                 "--target", "audio", "--json"]) == 0
    hits = json.loads(capsys.readouterr().out)
    assert {os.path.basename(h["path"]) for h in hits} == {"green_long.wav", "blue_long.wav"}
    assert main([*base, "--text", "blue",
                 "--weight", "not-text=2", "--not-like", str(files["image"][0]), "--modified-after", "nonsense",
                 "--json"]) == 2
    assert "Bad modified-after" in " ".join(capsys.readouterr().err.split())


def test_identical_content_reuses_the_stored_vector(tmp_path):
    settings = load_settings(home=tmp_path / "home", device="cpu", space="tiny")
    files = H.write_corpus(tmp_path / "c", per_class=1)
    with Client(settings=settings) as c:
        c.index(tmp_path / "c")
        copies = tmp_path / "c" / "copies"
        copies.mkdir()
        for src in (files["audio"][0], files["3d"][0], files["image"][1]):
            shutil.copy(src, copies / ("copy_" + src.name))
        before = H.TinyEncoder.items_encoded
        report = c.index(tmp_path / "c")
        assert H.TinyEncoder.items_encoded == before, "no model time for content already stored"
        assert report.indexed == 3 and report.reused == 3 and not report.failed
        store = c._handle
        for src in (files["audio"][0], files["3d"][0], files["image"][1]):
            a, b = store.retrieve([_id(c, src), _id(c, copies / ("copy_" + src.name))], with_vectors=True)
            assert np.array_equal(a.vectors["tiny"], b.vectors["tiny"])
            assert a.payload["hash"] == b.payload["hash"] and b.payload["path"].startswith(str(copies))
            assert b.payload["folders"][0] == str(copies) and b.payload["ext"] == src.suffix.lstrip(".")
            assert {k: v for k, v in a.payload.items() if k in ("duration", "width", "point_count")} == \
                {k: v for k, v in b.payload.items() if k in ("duration", "width", "point_count")}
        # the same content twice in one new folder: the second copy reuses the first one's vector
        fresh = tmp_path / "c" / "fresh"
        fresh.mkdir()
        H.write_item(fresh, "audio", 2, 77)
        shutil.copy(fresh / "blue_77.wav", fresh / "blue_77_again.wav")
        before = H.TinyEncoder.items_encoded
        report = c.index(tmp_path / "c")
        assert report.indexed == 2 and report.reused == 1 and H.TinyEncoder.items_encoded - before == 1


def test_why_this_result_names_each_hop_and_the_share_of_each_input(world):
    c, files, _ = world
    hits = c.query(audio=str(files["audio"][0]), text="red", target="3d", k=2)
    parts = hits[0].inputs
    assert [p["modality"] for p in parts] == ["audio", "text"]
    audio = parts[0]
    assert audio["emergent"] is True and parts[1]["emergent"] is True       # no model saw text with 3D either
    assert audio["path"][0] == "audio" and audio["path"][-1] == "3d" and "tiny space" in audio["path"]
    assert audio["path"][1].startswith("tiny encoder [CLAP]") and audio["path"][-2].startswith("tiny encoder [ULIP]")
    assert sum(p["contribution"] for p in parts) == pytest.approx(hits[0].score, abs=1e-3)
    liked = c.query(like=str(files["image"][0]), target="image", k=1)[0].inputs
    assert liked[0]["emergent"] is False and liked[0]["input"].startswith("like ")
    from mcrsearch.modality import Modality
    from mcrsearch.why import path

    static = path(Modality.AUDIO, Modality.POINTS, "exmcr")
    assert static == {"emergent": True, "path": ["audio", "CLAP encoder", "head (CLAP->CLIP)", "exmcr space",
                                                 "head (ULIP->CLIP)", "ULIP encoder", "3d"]}
    assert path(Modality.TEXT, Modality.IMAGE, "exmcr")["emergent"] is False
