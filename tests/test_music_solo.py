"""The MUSIC-Solo test reader (issue 25) on a fixture in the released format (DSOL's music-exp/solotest.json),
and sound windows: each frame hears the second of its video it was taken in."""

from __future__ import annotations

import json

import numpy as np
import pytest
import soundfile as sf
from PIL import Image

from helpers import corpus as H
from mcrsearch.benchmark.localise import LocOptions, run_localisation
from mcrsearch.benchmark.readers.sources import read_loc_dataset
from mcrsearch.errors import ConfigError
from mcrsearch.media import decode


def _frame(path, red_left: bool = True) -> None:
    """A 64 x 48 frame: red on one half, blue on the other."""
    path.parent.mkdir(parents=True, exist_ok=True)
    arr = np.zeros((48, 64, 3), np.uint8)
    arr[..., 2] = 200
    (arr[:, :32] if red_left else arr[:, 32:])[:] = (220, 25, 25)
    Image.fromarray(arr).save(path)


def _soundtrack(path, seconds: int) -> None:
    """`seconds` of the tiny space's red tone (low), one second of silence at second 1."""
    path.parent.mkdir(parents=True, exist_ok=True)
    rate = 8000
    t = np.arange(seconds * rate) / rate
    wave = 0.5 * np.sin(2 * np.pi * H.FREQS[0] * t)
    wave[rate:2 * rate] = 0.0
    sf.write(path, wave.astype(np.float32), rate, format="FLAC")


def music_solo(root):
    """solotest.json as DSOL releases it: keys VIDEO/frame_SSS/NNNNN.jpg, boxes as normbox or pixel box."""
    entries = {
        "vidA_0_1000/frame_000/00014.jpg": {"bbox": [{"box": [0, 0, 32, 48], "normbox": [0.0, 0.0, 0.5, 1.0],
                                                      "category_id": 1}], "wdith": 64, "height": 48},
        "vidA_0_1000/frame_002/00061.jpg": {"bbox": [{"box": [0, 12, 32, 24], "category_id": 3}],   # pixels only
                                            "wdith": 64, "height": 48},
        "vidA_0_1000/frame_001/00030.jpg": {"bbox": [], "wdith": 64, "height": 48},             # not annotated
        "vidB_0_1000/frame_001/00031.jpg": {"bbox": [{"normbox": [0.5, 0.1, 0.4, 0.8], "category_id": 8}],
                                            "wdith": 64, "height": 48},
        "vidA_0_1000/frame_009/00270.jpg": {"bbox": [{"normbox": [0.1, 0.1, 0.2, 0.2], "category_id": 1}],
                                            "wdith": 64, "height": 48},                          # past the sound
        "vidC_0_1000/frame_000/00001.jpg": {"bbox": [{"normbox": [0.1, 0.1, 0.2, 0.2], "category_id": 1}],
                                            "wdith": 64, "height": 48},                          # no sound file
        "vidA_0_1000/frame_003/00090.jpg": {"bbox": [{"normbox": [0.1, 0.1]}], "wdith": 64, "height": 48},
        "../frame_000/00001.jpg": {"bbox": [{"normbox": [0.1, 0.1, 0.2, 0.2]}], "wdith": 64, "height": 48},
        "vidA_0_1000/00099.jpg": {"bbox": [{"normbox": [0.1, 0.1, 0.2, 0.2]}], "wdith": 64, "height": 48},
    }
    root.mkdir(parents=True, exist_ok=True)
    (root / "solotest.json").write_text(json.dumps(entries))
    for key in entries:
        if key.startswith(("vidA", "vidB", "vidC")) and "/frame_" in key:
            _frame(root / "video_frames" / key, red_left=not key.startswith("vidB"))
    _soundtrack(root / "audio" / "vidA_0_1000.flac", 4)
    _soundtrack(root / "audio" / "vidB_0_1000.flac", 3)
    return root


def test_reader_reads_the_released_format_and_bad_rows_cost_only_themselves(tmp_path):
    ds = read_loc_dataset("music-solo", music_solo(tmp_path))
    by_id = {s.id: s for s in ds.samples}
    assert sorted(by_id) == ["vidA_0_1000/frame_000/00014.jpg", "vidA_0_1000/frame_002/00061.jpg",
                             "vidA_0_1000/frame_009/00270.jpg", "vidB_0_1000/frame_001/00031.jpg"]
    first = by_id["vidA_0_1000/frame_000/00014.jpg"]
    assert first.boxes == [(0.0, 0.0, 0.5, 1.0)] and first.window == (0.0, 1.0)
    assert first.audio.name == "vidA_0_1000.flac" and first.image.parent.name == "frame_000"
    assert by_id["vidA_0_1000/frame_002/00061.jpg"].boxes == [(0.0, 0.25, 0.5, 0.75)]     # from pixels
    assert by_id["vidA_0_1000/frame_002/00061.jpg"].window == (2.0, 3.0)
    assert by_id["vidB_0_1000/frame_001/00031.jpg"].boxes == [pytest.approx((0.5, 0.1, 0.9, 0.9))]
    reasons = {p["path"].split("#")[-1].rsplit("/", 1)[-1]: p["reason"] for p in ds.problems}
    assert reasons["vidC_0_1000.flac"] == "missing"
    assert "bad annotation" in reasons["00090.jpg"]
    assert "VIDEO/frame_SSS" in reasons["00001.jpg"] and "VIDEO/frame_SSS" in reasons["00099.jpg"]
    annotations = next(s for s in ds.sources if s["role"] == "annotations")
    assert annotations["path"].endswith("solotest.json") and "1 without boxes" in annotations["detail"]
    assert {"annotations", "frames", "audio"} == {s["role"] for s in ds.sources}
    assert ds.tasks == ("localisation",)


def test_missing_or_broken_annotations_are_one_sentence(tmp_path):
    with pytest.raises(ConfigError, match="No solotest.json"):
        read_loc_dataset("music-solo", tmp_path)
    (tmp_path / "solotest.json").write_text("[1, 2]")
    with pytest.raises(ConfigError, match="not one JSON object"):
        read_loc_dataset("music-solo", tmp_path)
    (tmp_path / "solotest.json").write_text("{broken")
    with pytest.raises(ConfigError, match="cannot be read"):
        read_loc_dataset("music-solo", tmp_path)


def test_each_frame_hears_its_own_second_and_a_window_past_the_sound_costs_only_its_sample(tmp_path):
    from helpers.corpus import build_tiny

    ds = read_loc_dataset("music-solo", music_solo(tmp_path))
    data = run_localisation(ds, [build_tiny()], LocOptions(ablations=False),
                            lambda path, modality: decode(str(path), modality)[1])
    assert data["samples"] == {"positive": 3}
    assert data["published"] == [pytest.approx({**data["published"][0], "value": 0.5378})]
    assert data["published"][0]["method"] == "C-MCR" and data["published"][0]["metric"] == "ciou"
    past = [p for p in data["problem_list"] if "past the decoded sound" in p["reason"]]
    assert [p["path"].rsplit("#", 1)[-1] for p in past] == ["9-10"]
    rows = {(r["method"], r["task"]) for r in data["results"]}
    assert {("mcrsearch", "localisation"), ("centre-prior", "localisation"), ("uniform", "localisation")} <= rows
    ours = next(r for r in data["results"] if r["method"] == "mcrsearch")
    assert ours["ciou"] >= 2 / 3 - 1e-9, ours          # the tiny space finds the red half in the toned frames


def test_sound_windows_cut_the_decoded_clip(tmp_path):
    from mcrsearch.benchmark.localise import _window

    _soundtrack(tmp_path / "a.flac", 3)
    clip = decode(str(tmp_path / "a.flac"), "audio")[1]
    second = _window(clip, (1.0, 2.0))
    assert second.sample_rate == clip.sample_rate and len(second.samples) == clip.sample_rate
    assert np.abs(second.samples).max() == 0.0                    # the silent second
    assert np.abs(_window(clip, (0.0, 1.0)).samples).max() > 0.4
    assert _window(clip, (2.5, 3.5)) is None and _window(clip, (2.0, 2.0)) is None


def test_the_benchmark_command_reads_it_and_prints_the_published_row(tmp_path, capsys):
    from mcrsearch.cli import main

    root = music_solo(tmp_path / "music")
    code = main(["--home", str(tmp_path / "home"), "--device", "cpu", "benchmark", "music-solo", "--space", "tiny",
                 "--root", str(root), "--json"])
    assert code in (0, None)
    data = json.loads(capsys.readouterr().out)
    assert data["benchmark"] == "music-solo" and data["samples"] == {"positive": 3}
    assert [(p["method"], p["value"]) for p in data["published"]] == [("C-MCR", 0.5378)]
