"""`mcrsearch duplicates`: identical files by content hash, near-duplicates across formats by vector."""

from __future__ import annotations

import json
import shutil

import pytest

from helpers import corpus as H
from mcrsearch.api import Client
from mcrsearch.cli import main
from mcrsearch.config import load_settings
from mcrsearch.errors import ConfigError


@pytest.fixture(scope="module")
def indexed(tmp_path_factory):
    import soundfile as sf

    root = tmp_path_factory.mktemp("dups")
    files = H.write_corpus(root / "c", per_class=2)
    other = root / "c" / "elsewhere"
    other.mkdir()
    data, rate = sf.read(files["audio"][0])
    sf.write(other / "red_0.flac", data, rate)            # the same sound in another format (lossless)
    shutil.copy(files["text"][3], other / "copy.txt")     # the same bytes in another folder
    settings = load_settings(home=root / "home", device="cpu", space="tiny")
    with Client(settings=settings) as c:
        report = c.index(root / "c")
        assert report.indexed == 26 and report.reused == 1
    return root, files, settings


def test_identical_and_cross_format_groups_without_false_ones(indexed):
    root, files, settings = indexed
    with Client(settings=settings) as c:
        groups = c.duplicates(threshold=0.995)
        names = [(g.kind, g.modality, sorted(i["path"] for i in g.items)) for g in groups]
        assert names == [("identical", "text", sorted([str(root / "c" / "elsewhere" / "copy.txt"), str(files["text"][3])])),
                         ("near", "audio", sorted([str(files["audio"][0]), str(root / "c" / "elsewhere" / "red_0.flac")]))]
        assert groups[1].min_cosine >= 0.995
        only_identical = c.duplicates(near=False)
        assert [g.kind for g in only_identical] == ["identical"]
        assert c.duplicates(modality="image", threshold=0.995) == []
        loose = c.duplicates(modality="audio", threshold=0.5)          # a loose threshold joins a class
        assert any(len(g.items) > 2 for g in loose)
        with pytest.raises(ConfigError, match="between -1 and 1"):
            c.duplicates(threshold=2)


def test_cli_duplicates_json(indexed, capsys):
    root, files, settings = indexed
    assert main(["--home", str(settings.home), "--device", "cpu", "duplicates", "--threshold", "0.995",
                 "--modality", "audio", "--json"]) == 0
    groups = json.loads(capsys.readouterr().out)
    assert len(groups) == 1 and groups[0]["kind"] == "near" and len(groups[0]["items"]) == 2
    assert {"id", "path", "hash", "size"} <= set(groups[0]["items"][0])
    assert main(["--home", str(settings.home), "duplicates", "--identical"]) == 0
    assert "copy.txt" in capsys.readouterr().out


def test_saved_searches_hold_everything_and_mark_new_hits(indexed, capsys):
    root, files, settings = indexed
    with Client(settings=settings) as c:
        record = c.save_search("reds", text="red", not_text="blue", weights={"not-text": 0.5},
                               where={"types": ["wav", "flac"]}, target="audio", k=3, like=str(files["audio"][1]))
        assert record["query"]["where"] == {"types": ["flac", "wav"]} and record["query"]["like"] == [str(files["audio"][1])]
        assert [s["name"] for s in c.saved_searches()] == ["reds"]
        again = c.run_saved("reds")
        assert [h.id for h in again] == record["last"] and not any(h.new for h in again)
        assert all(h.path.endswith((".wav", ".flac")) for h in again)
        assert [H.class_of(h.path.split("/")[-1]) for h in again[:2]] == ["red", "red"]
        with pytest.raises(ConfigError, match="No saved search 'nope'"):
            c.run_saved("nope")
        with pytest.raises(ConfigError, match="cannot hold"):
            c.save_search("bad", colour="red")
        with pytest.raises(ConfigError, match="name is"):
            c.save_search("no spaces", text="red")
        from mcrsearch.search import MediaBytes

        with pytest.raises(ConfigError, match="by path"):
            c.save_search("upload", audio=MediaBytes("a.wav", b"x"))
    # a new red sound arrives: the re-run marks it new (the CLI, with the saved k)
    H.write_item(root / "c" / "audio", "audio", 0, 9)
    with Client(settings=settings) as c:
        c.index(root / "c")
    assert main(["--home", str(settings.home), "saved", "run", "reds", "--json"]) == 0
    hits = json.loads(capsys.readouterr().out)
    assert len(hits) == 3 and [h["path"].endswith("red_9.wav") for h in hits if h["new"]] == [True]
    assert main(["--home", str(settings.home), "query", "--text", "green", "--target", "image", "-k", "2",
                 "--save", "greens"]) == 0
    assert "Saved as 'greens'" in capsys.readouterr().err
    assert main(["--home", str(settings.home), "saved", "list", "--json"]) == 0
    assert [s["name"] for s in json.loads(capsys.readouterr().out)] == ["greens", "reds"]
    assert main(["--home", str(settings.home), "query", "--saved", "greens", "--json"]) == 0
    assert len(json.loads(capsys.readouterr().out)) == 2
    assert main(["--home", str(settings.home), "saved", "delete", "greens"]) == 0
    assert main(["--home", str(settings.home), "saved", "delete", "greens"]) == 2
    with Client(settings=settings) as c:
        assert [s["name"] for s in c.saved_searches()] == ["reds"]
        c.delete_saved("reds")
