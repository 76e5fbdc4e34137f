"""Localisation metrics, the real test sets' readers (fixtures in their released formats), mini-world scenes."""

from __future__ import annotations

import json

import numpy as np
import pytest
from PIL import Image

from mcrsearch.benchmark import localisation as L
from mcrsearch.errors import ConfigError


# ----------------------------------------------------------------------------- metrics

def test_ciou_auc_and_predictions():
    gt = L.gt_map([(0.0, 0.0, 0.5, 0.5)])
    assert gt.sum() == 112 * 112
    assert L.ciou(gt, gt) == 1.0
    assert L.ciou(np.ones_like(gt), gt) == pytest.approx(0.25)        # uniform map: the box's share
    assert L.ciou(np.zeros_like(gt), gt) == 0.0
    flickr = L.gt_map([(0, 0, 0.5, 0.5), (0.25, 0.25, 0.75, 0.75)], consensus=2)
    assert flickr.max() == 1.0 and flickr[10, 10] == 0.5 and flickr[150, 150] == 0.5
    peak = np.zeros((224, 224), np.float32)
    peak[:112, :112] = 1.0
    assert L.ciou(L.predict(peak, "half-max"), gt) == 1.0
    assert L.predict(peak, "top-half").mean() >= 0.5                  # the published rule keeps half the pixels
    assert L.predict(np.full((224, 224), 3.0), "half-max").all()      # a flat map predicts everything
    assert L.ciou_at_half([0.6, 0.4, 0.5, 0.1]) == 0.5
    assert L.success_auc([1.0, 1.0]) == pytest.approx(1.0)
    assert L.success_auc([0.0, 0.0]) == pytest.approx(0.05 / 2)       # only t = 0 passes
    assert L.centre_prior().mean() == pytest.approx(0.5, abs=0.01)


def test_counterfactual_ap_and_f1():
    # Perfectly ranked: every confident sample a located positive, negatives last -> AP 1.
    perfect = L.counterfactual([0.9, 0.8, 0.2, 0.1], [0.7, 0.6, 0.0, 0.0], [True, True, False, False])
    assert perfect == {"ap": pytest.approx(1.0), "max_f1": pytest.approx(1.0)}
    # A negative ranked first halves the precision at the first positive.
    worse = L.counterfactual([0.9, 0.8, 0.7], [0.0, 0.9, 0.9], [False, True, True])
    assert worse["ap"] == pytest.approx(2 / 3) and worse["max_f1"] == pytest.approx(0.8)
    # A positive in the wrong place (cIoU < 0.5) never counts as found.
    misplaced = L.counterfactual([0.9, 0.1], [0.2, 0.9], [True, True])
    assert misplaced["ap"] == pytest.approx(0.5 * 0.5)              # recall stops at 1/2, precision 1/2 there
    # One confidence for everything (the baselines): one operating point.
    flat = L.counterfactual([1, 1, 1, 1], [0.9, 0.1, 0, 0], [True, True, False, False])
    assert flat["ap"] == pytest.approx(0.25 * 0.5)


# ----------------------------------------------------------------------------- readers (released formats)

def _frame(path, size=(32, 32)):
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.new("RGB", size, (100, 50, 20)).save(path)


def _wav(path):
    import soundfile as sf

    path.parent.mkdir(parents=True, exist_ok=True)
    sf.write(path, np.zeros(800, np.float32), 8000)


def _vggss(root):
    (root / "metadata").mkdir(parents=True)
    entries = [{"file": "aaa_000010", "class": "dog barking", "bbox": [[0.1, 0.2, 0.5, 0.9]]},
               {"file": "bbb_000020", "class": "cat purring", "bbox": [[0.0, 0.0, 1.2, 0.5], [0.5, 0.5, 0.9, 0.9]]},
               {"file": "ccc_000030", "class": "broken", "bbox": [[0.1, 0.2]]},
               {"file": "ddd_000040", "class": "no frame", "bbox": [[0.1, 0.1, 0.2, 0.2]]}]
    (root / "metadata" / "vggss.json").write_text(json.dumps(entries))
    (root / "metadata" / "vggss_test.csv").write_text(
        "aaa_000010,dog barking\nbbb_000020,cat purring\nccc_000030,broken\nddd_000040,x\neee_000050,y\n")
    for file in ("aaa_000010", "bbb_000020", "ccc_000030"):
        _frame(root / "frames" / f"{file}.jpg")
        _wav(root / "audio" / f"{file}.wav")
    _wav(root / "audio" / "ddd_000040.wav")


def test_vggss_reader_names_files_and_bad_rows_cost_only_themselves(tmp_path):
    from mcrsearch.benchmark.readers.sources import read_loc_dataset

    _vggss(tmp_path)
    ds = read_loc_dataset("vggss", tmp_path)
    assert [s.id for s in ds.samples] == ["aaa_000010", "bbb_000020"]
    assert ds.samples[0].boxes == [(0.1, 0.2, 0.5, 0.9)]
    assert ds.samples[1].boxes[0] == (0.0, 0.0, 1.0, 0.5)             # clipped to the frame
    reasons = {p["path"].rsplit("/", 1)[-1]: p["reason"] for p in ds.problems}
    assert "bad annotation" in reasons["vggss.json#2"]
    assert reasons["ddd_000040.jpg"] == "missing"
    assert any("no boxes" in r for r in reasons.values())              # eee: listed but not annotated
    roles = {s["role"] for s in ds.sources}
    assert {"annotations", "test list", "frames", "audio"} <= roles and ds.tasks == ("localisation",)


def test_ex_vggss_adds_the_non_sounding_pairs(tmp_path):
    from mcrsearch.benchmark.readers.sources import read_loc_dataset

    _vggss(tmp_path)
    (tmp_path / "metadata" / "vggss_test_plus_silent.csv").write_text(
        "video,audio,label\naaa_000010,aaa_000010,sounding\nfff_000060,silence_01,non-sounding\n"
        "ggg_000070,noise_02,non-sounding\nhhh_000080\n")
    _frame(tmp_path / "extend_frames" / "fff_000060.jpg")
    _wav(tmp_path / "extend_audio" / "silence_01.wav")
    ds = read_loc_dataset("ex-vggss", tmp_path)
    negatives = [s for s in ds.samples if not s.positive]
    assert [s.id for s in negatives] == ["fff_000060_silence_01"] and negatives[0].kind == "non-sounding"
    assert ds.tasks == ("localisation", "counterfactual")
    assert any(p["reason"] == "fewer than three columns" for p in ds.problems)
    assert any(p["path"].endswith("ggg_000070.jpg") for p in ds.problems)
    assert any(s["role"] == "negatives" for s in ds.sources)


def _flickr_xml(boxes):
    body = "".join(f"<bbox><annotator>{i}</annotator><xmin>{b[0]}</xmin><ymin>{b[1]}</ymin><xmax>{b[2]}</xmax>"
                   f"<ymax>{b[3]}</ymax></bbox>" for i, b in enumerate(boxes))
    return f"<annotation><filename>x.jpg</filename><object>{body}</object></annotation>"


def test_flickr_reader_reads_the_xml_boxes_with_consensus(tmp_path):
    from mcrsearch.benchmark.readers.sources import flickr_boxes, read_loc_dataset

    root = tmp_path
    (root / "metadata").mkdir()
    (root / "metadata" / "flickr_test.csv").write_text("10000130166,202\n10007936344,0\n10008553263,309\n")
    anno = root / "test" / "Annotations"
    anno.mkdir(parents=True)
    (anno / "10000130166.xml").write_text(_flickr_xml([(0, 0, 128, 128), (64, 64, 192, 192)]))
    (anno / "10007936344.xml").write_text("<annotation><object>")      # truncated
    for file in ("10000130166", "10007936344", "10008553263"):
        _frame(root / "test" / "frames" / f"{file}.jpg")
        _wav(root / "test" / "audio" / f"{file}.wav")
    ds = read_loc_dataset("flickr-soundnet", root)
    assert [s.id for s in ds.samples] == ["10000130166"] and ds.samples[0].consensus == 2
    assert ds.samples[0].boxes == [(0.0, 0.0, 0.5, 0.5), (0.25, 0.25, 0.75, 0.75)]
    reasons = sorted(p["reason"] for p in ds.problems)
    assert reasons[0] == "missing" and reasons[1].startswith("unreadable XML")
    assert flickr_boxes(anno / "10000130166.xml")[1] == (0.25, 0.25, 0.75, 0.75)


def test_unknown_layouts_are_one_sentence(tmp_path):
    from mcrsearch.benchmark.readers.sources import read_loc_dataset

    with pytest.raises(ConfigError, match="vggss.json"):
        read_loc_dataset("vggss", tmp_path)
    with pytest.raises(ConfigError, match="Unknown localisation benchmark"):
        read_loc_dataset("music-duet", tmp_path)


# ----------------------------------------------------------------------------- mini-world scenes

def test_scenes_are_deterministic_with_boxes_around_the_objects(tmp_path):
    from mcrsearch.miniworld.scenes import SceneConfig, generate_scenes, read_scenes
    from mcrsearch.miniworld.world import World, WorldConfig

    config = WorldConfig.preset("small")
    world = World(root=tmp_path / "w", config=config)
    world.save_manifest()
    manifest = generate_scenes(world, SceneConfig(scenes=4))
    data = json.loads(manifest.read_text())
    first = (manifest.parent / data["scenes"][0]["image"]).read_bytes()
    generate_scenes(world, SceneConfig(scenes=4), force=True)
    assert (manifest.parent / data["scenes"][0]["image"]).read_bytes() == first
    for scene in data["scenes"]:
        classes = [o["class"] for o in scene["objects"]]
        assert 2 <= len(classes) <= 4 and len(set(classes)) == len(classes)
        for o in scene["objects"]:
            x0, y0, x1, y1 = o["box"]
            assert 0 <= x0 < x1 <= 1 and 0 <= y0 < y1 <= 1 and (x1 - x0) * (y1 - y0) > 0.02
    kinds = [q["kind"] for q in data["queries"]]
    assert kinds.count("silence") == kinds.count("noise") == kinds.count("offscreen") == 4
    offscreen = [q for q in data["queries"] if q["kind"] == "offscreen"]
    scenes = {s["id"]: s for s in data["scenes"]}
    assert all(q["class"] not in [o["class"] for o in scenes[q["scene"]]["objects"]] for q in offscreen)
    ds = read_scenes(world.root, generate=False)
    assert len(ds.samples) == len(data["queries"]) and ds.tasks == ("localisation", "counterfactual")
    assert sum(s.positive for s in ds.samples) == kinds.count("positive")
