"""Mini-world video: clips of the world's objects (turning, with their sounds, silent, dubbed) are found by
sound, words and picture at the right moment, well above chance; the CLI answers `query --audio --target video`."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from mcrsearch.modality import Modality
from test_miniworld_mcrs import _demo_heads, small  # noqa: F401 - the session's small world and its heads

pytest.importorskip("av")


@pytest.fixture(scope="module")
def clips(small, tmp_path_factory):  # noqa: F811
    from mcrsearch.miniworld.videos import read_clips, write_clips

    world, _mcrs, settings = _demo_heads(small)
    folder = tmp_path_factory.mktemp("mw-videos")
    written = write_clips(world, folder)
    assert read_clips(folder) == written
    return world, settings, folder, written


def test_clips_are_what_the_manifest_says(clips):
    from mcrsearch import video

    world, _settings, folder, written = clips
    kinds = {c.kind for c in written}
    assert kinds == {"sound", "silent", "dubbed"} and len(written) == 3 * len(world.config.classes)
    for clip in written[:3]:
        _, decoded = video.decode(folder / clip.path, segment_seconds=world.config.audio_seconds)
        assert [(s.start, s.end) for s in decoded.segments] == [(p.start, p.end) for p in clip.parts]
        assert decoded.has_audio == clip.has_audio


def test_cli_audio_query_finds_the_video_and_the_moment(clips, capsys):
    from mcrsearch.cli import main

    world, settings, folder, written = clips
    by_name = {c.path: c for c in written}
    base = ["--home", str(settings.home), "--device", "cpu"]
    assert main([*base, "index", str(folder), "--space", "miniworld", "--collection", "mwvideo", "--json"]) == 0
    capsys.readouterr()
    right = 0
    queries = [next(it for it in world.select("test", Modality.AUDIO) if it.class_name == c)
               for c in world.config.classes]
    for item in queries:
        code = main([*base, "query", "--audio", str(item.path), "--target", "video", "--json", "-k", "3",
                     "--space", "miniworld", "--collection", "mwvideo", "--no-server"])
        hits = json.loads(capsys.readouterr().out)
        assert code == 0 and hits and all(h["modality"] == "video" for h in hits)
        top = hits[0]
        assert {"start", "end", "matched", "segments"} <= set(top)
        clip = by_name[Path(top["path"]).name]
        part = min(clip.parts, key=lambda p: abs(p.start - top["start"]))
        right += item.class_name in clip.classes_heard() and part.sounds == item.class_name
    # chance of the right video and moment at rank 1 is about 0.17 x 0.5; measured 6/8 on the small world
    assert right >= len(queries) // 2, right


def test_measured_directions_beat_chance(clips, tmp_path):
    from mcrsearch.miniworld import video_bench

    world, settings, folder, written = clips
    result = video_bench.measure_space(settings, "miniworld", world, written, folder, tmp_path)
    chance = video_bench.chance(world, written)
    for direction in video_bench.DIRECTIONS:
        got, floor = result["directions"][direction]["r@1"], chance["directions"][direction]["r@1"]
        assert got >= 2.5 * floor, (direction, got, floor)
    assert result["moment"]["audio"] >= chance["moment"]["audio"] + 0.1
    assert result["video_seconds"] == pytest.approx(sum(c.parts[-1].end for c in written), abs=1.0)
    body = video_bench.markdown([result], chance, "mcrsearch benchmark miniworld-video", {}, written, world.key())
    assert "| chance |" in body and "audio→video" in body
