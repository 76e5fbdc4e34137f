"""Video as an item: bounded decoding into segments, indexing (one item, segment points), incremental and
interrupted runs, grouped search by moment, video queries, and hostile files refused with a reason."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from helpers import corpus as H
from helpers.media import write_class_video
from mcrsearch import video
from mcrsearch.config import load_settings
from mcrsearch.encoders.base import l2_normalize
from mcrsearch.errors import MediaError
from mcrsearch.media import Limits
from mcrsearch.modality import Modality, detect_modality
from mcrsearch.store import VIDEO_SEGMENT, Store, point_id, segment_id
from mcrsearch_indexer import index_path

pytest.importorskip("av")


def _settings(home: Path, **kw):
    return load_settings(home=home, device="cpu", **kw)


def _state(settings) -> dict[str, tuple]:
    """Every point of the collection: id -> (payload without mtime, vector bytes)."""
    with Store.open(settings) as store:
        return {r.id: (json.dumps({k: v for k, v in r.payload.items() if k not in ("mtime_ns",)}, sort_keys=True),
                       np.round(r.vectors.get("tiny", np.zeros(1)), 5).tobytes())
                for r in store.scroll(with_vectors=True)}


# ----------------------------------------------------------------------------- decoding

def test_segment_bounds_follow_the_window_and_fold_a_short_tail():
    assert video.segment_bounds(25.0, 10.0) == [(0.0, 10.0), (10.0, 20.0), (20.0, 25.0)]
    assert video.segment_bounds(20.3, 10.0) == [(0.0, 10.0), (10.0, 20.3)]
    assert video.segment_bounds(0.4, 10.0) == [(0.0, 0.4)]
    assert video.segment_bounds(0.0, 10.0) == []


def test_decode_gives_segments_with_sampled_frames_and_their_soundtrack(tmp_path):
    path = write_class_video(tmp_path / "v.mp4", [0, 1, 2], seconds_each=2.0, gop=4)
    assert detect_modality(path) is Modality.VIDEO
    mod, clip = video.decode(path, segment_seconds=2.0)
    assert mod is Modality.VIDEO and clip.has_audio and (clip.width, clip.height) == (48, 32)
    assert [(s.start, s.end) for s in clip.segments] == [(0.0, 2.0), (2.0, 4.0), (4.0, 6.0)]
    for cls, seg in zip(range(3), clip.segments):
        assert len(seg.frames) == Limits().video_frames
        means = [np.asarray(f, dtype=float)[8:, 8:].reshape(-1, 3).mean(0) for f in seg.frames]
        assert all(int(np.argmax(m)) == cls for m in means), "each frame comes from its own window"
        assert seg.audio is not None and abs(seg.audio.duration - 2.0) < 0.05
        spectrum = np.abs(np.fft.rfft(seg.audio.samples))
        peak = np.fft.rfftfreq(len(seg.audio.samples), 1 / seg.audio.sample_rate)[spectrum.argmax()]
        assert abs(peak - H.FREQS[cls]) < 20, "each window carries its own part of the soundtrack"
    assert video.describe(mod, clip)["segment_count"] == 3


def test_silent_video_has_no_sound_and_a_long_one_is_cut_at_the_cap(tmp_path):
    silent = write_class_video(tmp_path / "s.mkv", [0, 1], sounds=[None, None])
    _, clip = video.decode(silent, segment_seconds=1.0)
    assert not clip.has_audio and all(s.audio is None for s in clip.segments)
    long = write_class_video(tmp_path / "l.mp4", [0, 1, 2, 0], seconds_each=2.0)
    _, clip = video.decode(long, segment_seconds=1.0, limits=replace(Limits(), video_seconds=3.0))
    assert clip.duration == 3.0 and abs(clip.source_duration - 8.0) < 0.3
    info = video.describe(Modality.VIDEO, clip)
    assert info["embedded_seconds"] == [0.0, 3.0] and info["duration"] > 7.5


def test_a_lying_header_duration_is_not_trusted(tmp_path):
    path = write_class_video(tmp_path / "v.mp4", [0, 1], seconds_each=2.0)
    data = bytearray(path.read_bytes())
    at = data.find(b"mvhd")
    assert at > 0
    # mvhd v0: 4 version/flags, 4 created, 4 modified, 4 timescale, 4 duration
    data[at + 20:at + 24] = (0x7FFFFFFF).to_bytes(4, "big")
    liar = tmp_path / "liar.mp4"
    liar.write_bytes(bytes(data))
    _, clip = video.decode(liar, segment_seconds=1.0)
    assert abs(clip.duration - 4.0) < 0.3 and len(clip.segments) == 4



def test_undecodable_metadata_does_not_refuse_a_playable_video(tmp_path):
    # The hostile run's 13 mp4/webm findings: a mangled tag made PyAV's strict UTF-8 raise while opening.
    path = write_class_video(tmp_path / "v.mp4", [0, 1], seconds_each=1.0)
    data = bytearray(path.read_bytes())
    at = data.find(b"Lavf")   # the muxer's own "encoder" tag
    assert at > 0
    data[at:at + 4] = b"\xff\xfe\xaf\xd5"
    mangled = tmp_path / "mangled.mp4"
    mangled.write_bytes(bytes(data))
    _, clip = video.decode(mangled, segment_seconds=1.0)
    assert len(clip.segments) == 2 and clip.segments[0].frames


# ----------------------------------------------------------------------------- hostile files

def _many_streams(path: Path, n: int) -> Path:
    import av

    with av.open(str(path), mode="w", format="matroska") as out:
        vs = out.add_stream("mpeg4", rate=1)
        vs.width, vs.height, vs.pix_fmt = 16, 16, "yuv420p"
        for _ in range(n):
            out.add_stream("pcm_s16le", rate=8000)
        frame = av.VideoFrame.from_ndarray(np.zeros((16, 16, 3), np.uint8), format="rgb24")
        for packet in [*vs.encode(frame), *vs.encode(None)]:
            out.mux(packet)
    return path


@pytest.mark.parametrize("case", ["empty", "garbage", "truncated", "huge_frames", "streams", "image", "deadline"])
def test_hostile_video_refused_with_a_reason(tmp_path, case):
    good = write_class_video(tmp_path / "good.mp4", [0, 1, 2], seconds_each=2.0)
    lim = Limits()
    path = tmp_path / f"{case}.mp4"
    if case == "empty":
        path.write_bytes(b"")
        reason = "empty file"
    elif case == "garbage":
        path.write_bytes(b"\x00\x00\x00\x18ftypisom" + bytes(range(256)) * 40)
        reason = "corrupt video|no frames|could not decode|no video or audio"
    elif case == "truncated":
        path.write_bytes(good.read_bytes()[: good.stat().st_size // 3])
        reason = "corrupt|no frames|no video"
    elif case == "huge_frames":     # a raw-video header declaring 16000 x 16000 frames, and 2 KB of data
        path = tmp_path / "huge.mkv"
        path.write_bytes(b"YUV4MPEG2 W16000 H16000 F25:1 Ip A1:1 C420jpeg\nFRAME\n" + bytes(2000))
        reason = "frames too large to decode safely"
    elif case == "streams":
        path = _many_streams(tmp_path / "streams.mkv", 200)
        reason = "too many streams"
    elif case == "image":
        H.write_item(tmp_path, "image", 0, 0).rename(path)
        reason = "not a valid video file"
    else:
        path = good
        lim = replace(lim, decode_seconds=1e-9)
        reason = "longer than the"
    with pytest.raises(MediaError, match=reason):
        video.decode(path, segment_seconds=1.0, limits=lim)


# ----------------------------------------------------------------------------- indexing

def test_index_video_as_one_item_of_segment_points_equal_to_direct_embedding(tmp_path):
    folder = tmp_path / "media"
    path = write_class_video(folder / "v.mp4", [0, 1, 2], seconds_each=10.0, fps=2)
    write_class_video(folder / "quiet.webm", [2, 2], seconds_each=6.0, sounds=[None, None], codec="libvpx")
    H.write_item(folder, "image", 0, 0)
    settings = _settings(tmp_path / "home")
    space = H.build_tiny(settings)
    report = index_path(folder, settings, space=space, progress=False)
    assert (report.indexed, report.failed) == (3, []) and report.video_seconds == pytest.approx(42.0, abs=0.5)
    _, clip = video.decode(path, segment_seconds=space.segment_seconds)
    with Store.open(settings) as store:
        assert store.counts() == {"image": 1, "text": 0, "audio": 0, "3d": 0, "video": 2}
        item = store.retrieve([point_id(str(path))])[0]
        assert item.payload["modality"] == "video" and item.vectors == {}
        assert item.payload["segments"] == {"tiny": 3} and item.payload["has_audio"]
        for seg in clip.segments:
            pic, snd = store.retrieve([segment_id(str(path), "tiny", seg.index, "picture"),
                                       segment_id(str(path), "tiny", seg.index, "sound")], with_vectors=True)
            assert (pic.payload["start"], pic.payload["end"], pic.payload["item"]) == (seg.start, seg.end, item.id)
            direct = l2_normalize(space.embed(Modality.IMAGE, list(seg.frames)).mean(0, keepdims=True))[0]
            np.testing.assert_allclose(pic.vectors["tiny"], direct, atol=1e-5)
            np.testing.assert_allclose(snd.vectors["tiny"], space.embed(Modality.AUDIO, [seg.audio])[0], atol=1e-5)
        quiet = [r for r in store.scroll(modalities=[VIDEO_SEGMENT]) if r.payload["path"].endswith("quiet.webm")]
        assert {r.payload["channel"] for r in quiet} == {"picture"} and len(quiet) == 2


def test_incremental_change_and_delete_leave_what_a_clean_run_leaves(tmp_path):
    folder = tmp_path / "media"
    path = write_class_video(folder / "v.mp4", [0, 1, 2], seconds_each=10.0, fps=2)
    settings = _settings(tmp_path / "home")
    assert index_path(folder, settings, space="tiny", progress=False).indexed == 1
    again = index_path(folder, settings, space="tiny", progress=False)
    assert (again.indexed, again.unchanged) == (0, 1)
    write_class_video(path, [1], seconds_each=10.0, fps=2, sounds=[None])     # shorter, silent
    changed = index_path(folder, settings, space="tiny", progress=False)
    assert changed.indexed == 1
    clean = _settings(tmp_path / "clean")
    index_path(folder, clean, space="tiny", progress=False)
    assert _state(settings) == _state(clean) and len(_state(settings)) == 2     # item + one picture segment
    path.unlink()
    gone = index_path(folder, settings, space="tiny", progress=False)
    assert gone.removed == 1
    with Store.open(settings) as store:
        assert store.count() == 0


@pytest.mark.parametrize("die_at", ["segments", "stale", "item"])
def test_a_run_killed_inside_a_video_write_ends_as_a_clean_run(tmp_path, monkeypatch, die_at):
    from mcrsearch_indexer import video_items

    folder = tmp_path / "media"
    path = write_class_video(folder / "v.mp4", [0, 1, 2], seconds_each=10.0, fps=2)
    settings = _settings(tmp_path / "home")
    index_path(folder, settings, space="tiny", progress=False)
    write_class_video(path, [2, 0], seconds_each=10.0, fps=2)        # changed: two segments now

    calls = {"upsert": 0}
    real_upsert, real_delete = Store.upsert, Store.delete

    def upsert(self, space, fingerprint, points):
        calls["upsert"] += 1
        if die_at == "item" and any(p.payload.get("modality") == "video" for p in points):
            raise KeyboardInterrupt("killed before the item point")
        real_upsert(self, space, fingerprint, points)
        if die_at == "segments":
            raise KeyboardInterrupt("killed after the segments")

    def delete(self, ids):
        if die_at == "stale" and calls["upsert"]:
            raise KeyboardInterrupt("killed before the stale segments went")
        real_delete(self, ids)

    monkeypatch.setattr(video_items.Store, "upsert", upsert)
    monkeypatch.setattr(video_items.Store, "delete", delete)
    with pytest.raises(KeyboardInterrupt):
        index_path(folder, settings, space="tiny", progress=False)
    monkeypatch.setattr(video_items.Store, "upsert", real_upsert)
    monkeypatch.setattr(video_items.Store, "delete", real_delete)

    rerun = index_path(folder, settings, space="tiny", progress=False)
    assert rerun.failed == [] and rerun.indexed == 1
    clean = _settings(tmp_path / "clean")
    index_path(folder, clean, space="tiny", progress=False)
    assert _state(settings) == _state(clean) and len(_state(clean)) == 5      # item + 2 x (picture, sound)


# ----------------------------------------------------------------------------- searching

@pytest.fixture(scope="module")
def video_client(tmp_path_factory):
    import mcrsearch

    root = tmp_path_factory.mktemp("videos")
    media = root / "media"
    write_class_video(media / "rgb.mp4", [0, 1, 2], seconds_each=10.0, fps=2)
    write_class_video(media / "blue_silent.mp4", [2, 2], seconds_each=10.0, fps=2, sounds=[None, None])
    write_class_video(media / "red_dub.mp4", [0, 0], seconds_each=10.0, fps=2, sounds=[1, 1])   # green's sound
    H.write_corpus(media / "corpus", per_class=1)
    client = mcrsearch.Client(path=root / "index", spaces=[H.build_tiny()])
    report = client.index(media, space="tiny")
    assert report.failed == []
    yield client, root
    client.close()


def test_target_video_finds_the_video_and_the_moment_by_sound(video_client, tmp_path):
    client, root = video_client
    tone = H.write_item(tmp_path, "audio", 2, 7)              # the high tone: rgb.mp4's third window only
    hits = client.query(audio=str(tone), target="video", k=3)
    best = hits[0].to_dict()
    assert best["modality"] == "video" and best["path"].endswith("rgb.mp4")
    assert (best["start"], best["end"], best["matched"]) == (20.0, 30.0, "sound")
    assert len({h.id for h in hits}) == len(hits), "one hit per video"
    assert all(set(s) == {"start", "end", "matched", "score"} for s in best["segments"])
    mid = client.query(audio=str(H.write_item(tmp_path, "audio", 1, 7)), target="video", k=3)
    assert mid[0].path.endswith(("rgb.mp4", "red_dub.mp4")) and mid[0].payload["matched"] == "sound"
    assert {h.path.rsplit("/", 1)[-1] for h in mid[:2]} == {"rgb.mp4", "red_dub.mp4"}


def test_target_video_by_picture_and_any_mixes_videos_with_items(video_client, tmp_path):
    client, _ = video_client
    blue = H.write_item(tmp_path, "image", 2, 7)
    hits = client.query(image=str(blue), target="video", k=3)
    assert hits[0].payload["matched"] == "picture"
    assert {h.path.rsplit("/", 1)[-1] for h in hits[:2]} == {"rgb.mp4", "blue_silent.mp4"}
    rgb = next(h for h in hits if h.path.endswith("rgb.mp4"))
    assert (rgb.payload["start"], rgb.payload["end"]) == (20.0, 30.0)
    mixed = client.query(image=str(blue), target="any", k=8)
    assert {"video", "image"} <= {h.modality for h in mixed}


def test_a_video_and_a_moment_of_an_indexed_one_are_queries(video_client):
    client, root = video_client
    rgb = root / "media" / "rgb.mp4"
    item = point_id(str(rgb))
    at_start = client.query(like=f"{item}@3", target="image", k=1)
    at_end = client.query(like=f"{rgb}@25", target="image", k=1)
    assert H.class_of(at_start[0].path) == "red" and H.class_of(at_end[0].path) == "blue"
    assert all(h.id != item for h in client.query(like=f"{item}@25", target="video", k=5))
    by_file = client.query(video=str(root / "media" / "blue_silent.mp4"), target="image", k=1)
    assert H.class_of(by_file[0].path) == "blue"
    with pytest.raises(Exception, match="not a video"):
        client.query(like=f"{root / 'media' / 'corpus' / 'image' / 'red_0.png'}@3", target="image")


def test_counts_browse_and_delete_see_a_video_once(video_client, tmp_path):
    client, root = video_client
    assert client.count("video") == 3
    assert sum(i.modality == "video" for i in client.scroll(limit=100)) == 3
    assert all(i.modality != VIDEO_SEGMENT for i in client.scroll(limit=100))
