"""The MSR-VTT reader on fixtures in the real formats (1k-A CSV and MSRVTT_data.json, videoN.mp4 files): the
emergent audio<->video rows and text<->video through the runner and the index, missing and undecodable
videos named and skipped, published figures beside ours."""

from __future__ import annotations

import csv
import json

import pytest

from helpers.media import write_class_video
from mcrsearch.benchmark.readers import read_dataset

pytest.importorskip("av")

WORDS = {0: "a red low x scene", 1: "a green mid y scene", 2: "a blue high z scene"}


@pytest.fixture(scope="module")
def msrvtt(tmp_path_factory):
    root = tmp_path_factory.mktemp("msrvtt")
    videos = root / "MSRVTT" / "videos" / "all"
    for n, cls in enumerate([0, 1, 2]):
        write_class_video(videos / f"video{n}.mp4", [cls], seconds_each=4.0, fps=2)
    write_class_video(videos / "video3.mkv", [2], seconds_each=4.0, fps=2, sounds=[None])     # silent
    (videos / "video5.mp4").write_bytes(b"\x00\x00\x00\x18ftypisom" + bytes(range(256)) * 8)  # undecodable
    rows = [{"key": f"ret{n}", "vid_key": f"msr{n}", "video_id": f"video{n}", "sentence": WORDS[c]}
            for n, c in [(0, 0), (1, 1), (2, 2), (3, 2), (4, 0), (5, 1)]]          # video4 is missing
    with (root / "MSRVTT" / "MSRVTT_JSFUSION_test.csv").open("w", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=["key", "vid_key", "video_id", "sentence"])
        writer.writeheader()
        writer.writerows(rows)
    data = {"videos": [{"video_id": f"video{n}", "split": "test" if n < 3 else "train"} for n in range(6)],
            "sentences": [{"video_id": f"video{n}", "caption": WORDS[c], "sen_id": n} for n, c in
                          [(0, 0), (1, 1), (2, 2)]] + [{"video_id": "video0", "caption": "red low", "sen_id": 9}]}
    (root / "MSRVTT" / "annotation").mkdir()
    (root / "MSRVTT" / "annotation" / "MSRVTT_data.json").write_text(json.dumps(data))
    return root


def test_reader_finds_videos_names_missing_ones_and_reads_both_formats(msrvtt):
    ds = read_dataset("msrvtt", msrvtt)
    assert ds.split == "1k-a"
    assert ds.counts() == {"video": 5, "audio": 5, "text": 5}
    assert [p.path.rsplit("/", 1)[-1] for p in ds.problems] == ["video4.mp4"]
    assert {t.name for t in ds.tasks} == {"audio->video", "video->audio", "video<->text"}
    full = read_dataset("msrvtt", msrvtt, split="test")
    assert full.counts() == {"video": 3, "audio": 3, "text": 4} and full.sources[0]["role"] == "annotations"


def test_benchmark_msrvtt_rows_with_published_figures(msrvtt, capsys, tmp_path):
    from mcrsearch.cli import main

    md = tmp_path / "BENCHMARKS.md"
    code = main(["benchmark", "msrvtt", "--root", str(msrvtt), "--space", "tiny", "--json", "--markdown", str(md)])
    out = capsys.readouterr().out
    assert code == 0, out
    data = json.loads(out)
    rows = {r["task"]: r for r in data["results"]}
    names = {p["path"].rsplit("/", 1)[-1]: p["reason"] for p in data["problem_list"]}
    assert "video4.mp4" in names and "video5.mp4" in names and "video3.mkv" in names   # missing, corrupt, silent
    assert "soundtrack" in names["video3.mkv"]
    a2v = rows["audio->video"]
    assert a2v["exact"]["queries"] == 3 and a2v["exact"]["r@1"] == 1.0, a2v     # each soundtrack finds its video
    assert a2v["exact"]["map"] == pytest.approx(1.0)
    assert any(p["method"] == "C-MCR" and p["value"] == 0.085 for p in a2v["published"])
    assert any(p["value"] == 0.098 for p in rows["video->audio"]["published"])
    t2v = rows["text->video"]
    assert t2v["exact"]["r@1"] >= 0.5 and {"r@1", "r@5", "r@10"} <= set(t2v["exact"])
    assert rows["audio->video"]["diff"] == {k: 0.0 for k in rows["audio->video"]["diff"]}   # index == exact
    assert data["items"] == {"video": 5, "audio": 5, "text": 5}      # as read; the undecodable are problems
    assert "<!-- BEGIN benchmark:msrvtt -->" in md.read_text()
