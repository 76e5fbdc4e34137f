"""Each dataset reader on a tiny dataset written in its real public layout; missing files are reported."""

from __future__ import annotations

import csv
import json
import pickle
from pathlib import Path

import numpy as np
import pytest

from mcrsearch.benchmark.dataset import ClassRetrieval, PairedRetrieval, ZeroShot
from mcrsearch.benchmark.readers import read_dataset
from mcrsearch.media import _Refused as RefusedPickle
from mcrsearch.media import restricted_unpickle
from mcrsearch.benchmark.templates import POINT_CLOUD_TEMPLATES, load_templates
from mcrsearch.errors import ConfigError
from mcrsearch.modality import Modality


def _touch(path: Path, data: bytes = b"x") -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return path


def _write_csv(path: Path, header: list[str], rows: list[list[str]]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(header)
        w.writerows(rows)


def _problems(ds) -> dict[str, str]:
    return {Path(p.path).name: p.reason for p in ds.problems}


def test_coco_karpathy_split_caps_captions_and_reports_missing_images(tmp_path):
    sentences = [{"raw": f"caption {i}", "tokens": ["caption", str(i)]} for i in range(6)]
    data = {"images": [
        {"filepath": "val2014", "filename": "a.jpg", "split": "test", "cocoid": 1, "sentences": sentences},
        {"filepath": "val2014", "filename": "b.jpg", "split": "test", "cocoid": 2, "sentences": sentences[:5]},
        {"filepath": "val2014", "filename": "gone.jpg", "split": "test", "cocoid": 3, "sentences": sentences[:5]},
        {"filepath": "train2014", "filename": "t.jpg", "split": "train", "cocoid": 4, "sentences": sentences[:5]},
    ]}
    _touch(tmp_path / "dataset_coco.json", json.dumps(data).encode())
    _touch(tmp_path / "val2014" / "a.jpg")
    _touch(tmp_path / "images" / "val2014" / "b.jpg")       # the other common placement
    _touch(tmp_path / "train2014" / "t.jpg")
    ds = read_dataset("coco", tmp_path)
    assert ds.name == "coco-karpathy"
    assert ds.counts() == {"image": 2, "text": 10}           # 5 captions each, 6th dropped, train excluded
    assert all(i.owner == "img:1" for i in ds.of(Modality.TEXT)[:5])
    assert "gone.jpg" in _problems(ds)
    assert ds.tasks == [PairedRetrieval(Modality.IMAGE, Modality.TEXT)]


def test_coco_val2017_layout(tmp_path):
    data = {"images": [{"id": 7, "file_name": "000007.jpg"}, {"id": 9, "file_name": "000009.jpg"}],
            "annotations": [{"image_id": 7, "caption": f"c{i}"} for i in range(5)]
            + [{"image_id": 9, "caption": "only one"}]}
    _touch(tmp_path / "annotations" / "captions_val2017.json", json.dumps(data).encode())
    _touch(tmp_path / "val2017" / "000007.jpg")
    ds = read_dataset("coco-val2017", tmp_path)
    assert ds.counts() == {"image": 1, "text": 5}
    assert "000009.jpg" in _problems(ds)


def test_audiocaps_finds_audio_named_by_youtube_id_or_audiocap_id(tmp_path):
    rows = [["101", "yt_AAA", "30", "a dog barks"], ["102", "yt_AAA", "30", "barking dog"],
            ["201", "yt_BBB", "0", "rain falls"], ["202", "yt_BBB", "0", "rain on a roof"],
            ["301", "yt_CCC", "10", "a car passes"]]
    _write_csv(tmp_path / "test.csv", ["audiocap_id", "youtube_id", "start_time", "caption"], rows)
    _touch(tmp_path / "audio" / "test" / "yt_AAA.wav")
    _touch(tmp_path / "audio" / "test" / "201.wav")          # named by one of the clip's audiocap_ids
    ds = read_dataset("audiocaps", tmp_path)
    audio = {i.key: i.path.name for i in ds.of(Modality.AUDIO)}
    assert audio == {"aud:yt_AAA": "yt_AAA.wav", "aud:yt_BBB": "201.wav"}
    assert len(ds.of(Modality.TEXT)) == 4
    assert any("yt_CCC" in p.reason for p in ds.problems)


def test_audiocaps_start_time_suffix(tmp_path):
    _write_csv(tmp_path / "test.csv", ["audiocap_id", "youtube_id", "start_time", "caption"],
               [["1", "xyz", "30", "wind"]])
    _touch(tmp_path / "wavs" / "Yxyz_30.flac")
    ds = read_dataset("audiocaps", tmp_path)
    assert [i.path.name for i in ds.of(Modality.AUDIO)] == ["Yxyz_30.flac"]


def test_clotho_captions_csv(tmp_path):
    header = ["file_name"] + [f"caption_{i}" for i in range(1, 6)]
    _write_csv(tmp_path / "clotho_captions_evaluation.csv", header,
               [["birds.wav", "b1", "b2", "b3", "b4", "b5"], ["lost.wav", "l1", "l2", "l3", "l4", "l5"]])
    _touch(tmp_path / "evaluation" / "birds.wav")
    ds = read_dataset("clotho", tmp_path)
    assert ds.counts() == {"audio": 1, "text": 5}
    assert "lost.wav" in _problems(ds)


def _modelnet_names(root: Path) -> list[str]:
    names = ["airplane", "bathtub", "bed"]
    _touch(root / "modelnet40_shape_names.txt", "\n".join(names).encode())
    return names


def test_modelnet40_ulip_pickle_read_with_the_restricted_loader(tmp_path):
    _modelnet_names(tmp_path)
    rng = np.random.default_rng(0)
    points = [rng.normal(size=(64, 6)).astype(np.float32) * 3 + 1 for _ in range(3)] + [np.zeros((0, 6), np.float32)]
    labels = [np.array([2]), np.array([0]), np.array([1]), np.array([0])]
    with (tmp_path / "modelnet40_test_8192pts_fps.dat").open("wb") as fh:
        pickle.dump((points, labels), fh)
    ds = read_dataset("modelnet40", tmp_path)
    items = ds.of(Modality.POINTS)
    assert [i.label for i in items] == ["bed", "airplane", "bathtub"]
    cloud = items[0].loader()
    assert cloud.shape == (64, 3) and cloud.dtype == np.float32
    assert np.abs(cloud.mean(axis=0)).max() < 1e-5 and np.linalg.norm(cloud, axis=1).max() == pytest.approx(1.0, abs=1e-5)
    assert len(ds.problems) == 1 and "malformed" in ds.problems[0].reason     # the empty sample
    task = ds.tasks[0]
    assert isinstance(task, ZeroShot) and task.classes == ("airplane", "bathtub", "bed")
    assert len(task.templates) == 64 and task.templates == POINT_CLOUD_TEMPLATES


class _Evil:
    def __reduce__(self):
        import os

        return (os.system, ("echo pwned",))


def test_a_pickle_that_names_code_is_refused_and_reported(tmp_path):
    _modelnet_names(tmp_path)
    (tmp_path / "modelnet40_test_8192pts_fps.dat").write_bytes(pickle.dumps(([_Evil()], [np.array([0])])))
    with pytest.raises(RefusedPickle), (tmp_path / "modelnet40_test_8192pts_fps.dat").open("rb") as fh:
        restricted_unpickle(fh)
    ds = read_dataset("modelnet40", tmp_path)
    assert ds.of(Modality.POINTS) == [] and "refused" in ds.problems[0].reason


def test_modelnet40_class_folder_layout(tmp_path):
    _modelnet_names(tmp_path)
    base = tmp_path / "modelnet40_normal_resampled"
    _touch(base / "modelnet40_test.txt", b"airplane_0627\nbed_0516\nbed_0999\n")
    np.savetxt(_touch(base / "airplane" / "airplane_0627.txt"), np.ones((10, 6)) * np.arange(10)[:, None], delimiter=",")
    np.savetxt(_touch(base / "bed" / "bed_0516.txt"), np.arange(60).reshape(10, 6), delimiter=",")
    ds = read_dataset("modelnet40", tmp_path)
    assert [i.label for i in ds.of(Modality.POINTS)] == ["airplane", "bed"]
    assert ds.of(Modality.POINTS)[1].loader().shape == (10, 3)
    assert "bed_0999.txt" in _problems(ds)


def test_modelnet40_without_shape_names_reports_it(tmp_path):
    ds = read_dataset("modelnet40", tmp_path)
    assert not ds.items and "class names" in ds.problems[0].reason


def test_objaverse_lvis_openshape_records_with_views(tmp_path):
    records = [{"uid": "u1", "category": "mug", "data_path": "/objaverse-processed/u1.npy"},
               {"uid": "u2", "category": "owl", "data_path": "/elsewhere/u2.npy"},
               {"uid": "u3", "category": "owl", "data_path": "/objaverse-processed/u3.npy"}]
    _touch(tmp_path / "meta_data" / "split" / "lvis.json", json.dumps(records).encode())
    (tmp_path / "objaverse-processed").mkdir()
    np.save(tmp_path / "objaverse-processed" / "u1.npy", {"xyz": np.zeros((5, 3), np.float32)}, allow_pickle=True)
    (tmp_path / "points").mkdir()
    np.save(tmp_path / "points" / "u2.npy", np.zeros((5, 3), np.float32))      # found by uid, not data_path
    for view in ("000.png", "001.png"):
        _touch(tmp_path / "views" / "u1" / view)
    ds = read_dataset("objaverse-lvis", tmp_path)
    assert {i.key: i.label for i in ds.of(Modality.POINTS)} == {"obj:u1": "mug", "obj:u2": "owl"}
    assert [i.owner for i in ds.of(Modality.IMAGE)] == ["obj:u1", "obj:u1"]
    assert "u3.npy" in _problems(ds)
    zs = [t for t in ds.tasks if isinstance(t, ZeroShot)][0]
    assert zs.classes == ("mug", "owl")
    assert PairedRetrieval(Modality.POINTS, Modality.IMAGE) in ds.tasks


def test_objaverse_lvis_category_to_uids_annotations(tmp_path):
    _touch(tmp_path / "lvis-annotations.json", json.dumps({"banana": ["b1", "b2"], "ring": ["r1"]}).encode())
    for uid in ("b1", "r1"):
        _touch(tmp_path / "pc" / f"{uid}.npy", b"")
    ds = read_dataset("objaverse-lvis", tmp_path)
    assert sorted(i.label for i in ds.items) == ["banana", "ring"]
    assert "b2.glb" in _problems(ds) and ds.notes


def test_eshot_class_folders(tmp_path):
    for cls in ("dog", "bell"):
        _touch(tmp_path / cls / "audio" / f"{cls}1.wav")
        _touch(tmp_path / cls / "pointcloud" / f"{cls}1.npy")
    _touch(tmp_path / "bell" / "notes.md")
    ds = read_dataset("eshot", tmp_path)
    assert ds.counts() == {"audio": 2, "3d": 2}
    assert {i.label for i in ds.items} == {"dog", "bell"}
    assert ClassRetrieval(Modality.AUDIO, Modality.POINTS) in ds.tasks
    assert ClassRetrieval(Modality.POINTS, Modality.AUDIO) in ds.tasks


def test_eshot_manifest(tmp_path):
    _touch(tmp_path / "a" / "x.wav")
    _touch(tmp_path / "p" / "y.ply")
    _write_csv(tmp_path / "eshot.csv", ["path", "label", "modality"],
               [["a/x.wav", "drum", "audio"], ["p/y.ply", "drum", "3d"], ["a/missing.wav", "drum", "audio"]])
    ds = read_dataset("eshot", tmp_path)
    assert ds.counts() == {"audio": 1, "3d": 1}
    assert "missing.wav" in _problems(ds)


def test_miniworld_reader_uses_the_world_manifest(tmp_path):
    from mcrsearch.miniworld.world import World, WorldConfig, WorldItem

    config = WorldConfig.preset("small")
    items = []
    for n, (cls, label) in enumerate([("bell", 0), ("drum", 1)]):
        for modality, ext in ((Modality.IMAGE, "png"), (Modality.TEXT, "txt"), (Modality.AUDIO, "wav"), (Modality.POINTS, "npy")):
            path = _touch(tmp_path / "test" / f"{cls}_{n}.{ext}")
            items.append(WorldItem(f"{cls}{n}{ext}", label, cls, modality, path, "test", n))
    items.append(WorldItem("other", 0, "bell", Modality.IMAGE, _touch(tmp_path / "mcr-clip" / "x.png"), "mcr-clip", 9))
    World(tmp_path, config, items).save_manifest()
    ds = read_dataset("miniworld", tmp_path)
    assert ds.counts() == {"image": 2, "text": 2, "audio": 2, "3d": 2}
    assert len(ds.tasks) == 12 and ClassRetrieval(Modality.AUDIO, Modality.POINTS) in ds.tasks


def test_unknown_benchmark_and_missing_root_are_config_errors(tmp_path):
    with pytest.raises(ConfigError):
        read_dataset("imagenet", tmp_path)
    with pytest.raises(ConfigError):
        read_dataset("coco", tmp_path / "nope")


def test_templates_file_formats(tmp_path):
    ulip_style = tmp_path / "templates.json"
    ulip_style.write_text(json.dumps({"modelnet40_64": ["a {} here.", "the {}."], "other": []}))
    assert load_templates(ulip_style) == ("a {} here.", "the {}.")
    lines = tmp_path / "t.txt"
    lines.write_text("one {}\n\ntwo {}\n")
    assert load_templates(lines) == ("one {}", "two {}")
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps(["no placeholder"]))
    with pytest.raises(ConfigError):
        load_templates(bad)
