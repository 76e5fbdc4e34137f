"""Queries over a real indexed corpus: every modality to every target, fusion, --like, calibration, CLI."""

from __future__ import annotations

import json

import pytest

from helpers import corpus as H
from mcrsearch_indexer import index_path
from mcrsearch.cli import main
from mcrsearch.config import load_settings
from mcrsearch.errors import ConfigError, SpaceMismatchError

MODALITIES = ("image", "audio", "3d", "text")


@pytest.fixture(scope="module")
def indexed(tmp_path_factory):
    root = tmp_path_factory.mktemp("search")
    files = H.write_corpus(root / "corpus", per_class=3)
    queries = {m: [H.write_item(root / "queries", m, c, 20 + c) for c in range(3)] for m in MODALITIES}
    settings = load_settings(home=root / "home", device="cpu")
    report = index_path(root / "corpus", settings, space="tiny", progress=False)
    assert report.indexed == 36 and not report.failed
    return root, files, queries, settings


@pytest.fixture()
def client(indexed):
    import mcrsearch

    with mcrsearch.Client(settings=indexed[3]) as c:
        yield c


@pytest.mark.parametrize("source", MODALITIES)
def test_each_modality_finds_its_class_in_each_target(indexed, client, source):
    _, _, queries, _ = indexed
    arg = {"image": "image", "audio": "audio", "3d": "points", "text": "text"}[source]
    for query in queries[source]:
        value = query.read_text() if source == "text" else str(query)
        for target in MODALITIES:
            hits = client.query(**{arg: value}, target=target, k=3)
            assert len(hits) == 3 and {h.modality for h in hits} == {target}
            assert [H.class_of(h.path) for h in hits] == [H.class_of(str(query))] * 3, (source, target, hits)
            assert hits[0].score >= hits[-1].score


def test_target_any_ranks_on_calibrated_scores(indexed, client):
    _, _, queries, _ = indexed
    hits = client.query(text="a green thing", target="any", k=12)
    assert {h.modality for h in hits} == set(MODALITIES), "calibration lets every modality compete"
    assert all(H.class_of(h.path) == "green" for h in hits)
    assert [h.score for h in hits] == sorted((h.score for h in hits), reverse=True)
    # raw cosines are not comparable across pairs: their order differs from the calibrated order
    from mcrsearch.store import Store

    with Store.open(client.settings) as store:
        record = store.spaces()["tiny"]
    means = {m: record.calibration[f"text->{m}"][0] for m in MODALITIES}
    assert max(means.values()) - min(means.values()) > 0.1


def test_fused_query_and_weights(indexed, client):
    _, _, queries, _ = indexed
    red_audio, blue_image = str(queries["audio"][0]), str(queries["image"][2])
    fused = client.query(audio=red_audio, image=blue_image, target="3d", k=6)
    assert {H.class_of(h.path) for h in fused[:6]} >= {"red", "blue"}
    audio_heavy = client.query(audio=red_audio, image=blue_image, target="3d", k=3, weights={"audio": 10})
    image_heavy = client.query(audio=red_audio, image=blue_image, target="3d", k=3, weights={"image": 10})
    assert all(H.class_of(h.path) == "red" for h in audio_heavy)
    assert all(H.class_of(h.path) == "blue" for h in image_heavy)


def test_like_reuses_stored_vector_without_encoding(indexed, client):
    _, files, _, _ = indexed
    item = files["audio"][4]                     # green
    before = H.TinyEncoder.items_encoded
    hits = client.query(like=str(item), target="image", k=3)
    assert H.TinyEncoder.items_encoded == before
    assert [H.class_of(h.path) for h in hits] == ["green"] * 3
    same = client.query(like=str(item), target="audio", k=3)
    assert str(item) not in {h.path for h in same}
    with pytest.raises(ConfigError, match="not in collection"):
        client.query(like=str(item) + ".missing")


def test_space_choice_and_mismatch(indexed, client):
    with pytest.raises(ConfigError, match="no space 'other'"):
        client.query(text="red", space="other")
    root, _, _, settings = indexed
    import mcrsearch

    foreign = H.build_tiny(variant=3)
    with mcrsearch.Client(settings=settings, spaces=[foreign]) as c:
        with pytest.raises(SpaceMismatchError, match="differs"):
            c.query(text="red", target="image")


def test_cli_query_and_info_json(indexed, capsys):
    root, files, queries, settings = indexed
    home = str(settings.home)
    assert main(["--home", home, "query", "--audio", str(queries["audio"][1]), "--target", "3d", "-k", "3",
                 "--json"]) == 0
    hits = json.loads(capsys.readouterr().out)
    assert len(hits) == 3 and {h["modality"] for h in hits} == {"3d"}
    assert all(H.class_of(h["path"]) == "green" for h in hits)
    assert {"path", "modality", "score", "cosine"} <= set(hits[0])

    assert main(["--home", home, "query", "--text", "blue high", "--image", str(queries["image"][2]),
                 "--weight", "text=2", "--target", "any", "--json"]) == 0
    fused = json.loads(capsys.readouterr().out)
    assert len(fused) == 10 and H.class_of(fused[0]["path"]) == "blue"
    text_hits = [h for h in fused if h["modality"] == "text"]
    assert all("text" in h for h in text_hits), "caption text is shown"

    assert main(["--home", home, "query", "--like", str(files["3d"][0]), "--target", "audio", "--json"]) == 0
    liked = json.loads(capsys.readouterr().out)
    assert liked[0]["modality"] == "audio" and liked[0]["duration"] == pytest.approx(1.0)

    assert main(["--home", home, "info", "--json"]) == 0
    info = json.loads(capsys.readouterr().out)
    assert info["collection"] == "mcrsearch" and info["counts"] == {m: 9 for m in ("image", "text", "audio", "3d")}
    assert info["spaces"][0]["name"] == "tiny" and info["storage_bytes"] > 0
    assert info["precision_setting"] == "auto" and info["spaces"][0]["precision"] == {}   # encoders not loaded
    assert main(["--home", home, "info", "--json", "--encoders", "--precision", "fp32"]) == 0
    loaded = json.loads(capsys.readouterr().out)
    assert loaded["precision_setting"] == "fp32"
    assert loaded["spaces"][0]["precision"] == {m: "fp32" for m in ("image", "text", "audio", "3d")}
    assert main(["--home", home, "info", "--encoders"]) == 0
    shown = " ".join(capsys.readouterr().out.split())
    assert all(f"{m} fp32" in shown for m in ("image", "text", "audio", "3d")) and "not loaded" not in shown

    assert main(["--home", home, "query", "--target", "image"]) == 2        # no input: one sentence
    assert "at least one query input" in " ".join(capsys.readouterr().err.split())


def test_audio_hits_carry_duration(indexed, client):
    hits = client.query(text="red", target="audio", k=2)
    assert all(h.details.get("duration") == pytest.approx(1.0) for h in hits)


def test_delete_by_path(tmp_path):
    import mcrsearch

    files = H.write_corpus(tmp_path / "c", per_class=1)
    settings = load_settings(home=tmp_path / "home", device="cpu")
    index_path(tmp_path / "c", settings, space="tiny", progress=False)
    with mcrsearch.Client(settings=settings) as c:
        assert c.delete([files["image"][0], tmp_path / "c" / "audio"]) == 4
        assert c.count() == 8 and c.count("audio") == 0
