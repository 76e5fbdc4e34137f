"""Datasets as people have them on disk (issue 18): odd CSVs, other download tools' layouts and names,
ambiguous roots, splits, and every problem reported; then each benchmark end to end through the CLI."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import numpy as np
import pytest

from helpers import layouts as L
from mcrsearch.benchmark.readers import read_dataset
from mcrsearch.errors import ConfigError
from mcrsearch.modality import Modality


def _problems(ds) -> dict[str, str]:
    return {Path(p.path).name: p.reason for p in ds.problems}


# -- 1. one malformed CSV row costs that row, with its line number

def test_audiocaps_bad_rows_cost_only_themselves(tmp_path):
    yid = [L.youtube_id(n) for n in range(3)]
    text = ("audiocap_id,youtube_id,start_time,caption\n"
            f"1,{yid[0]},0,a dog barks\n"
            f"2,{yid[0]},0,a dog, then a cat\n"              # unquoted comma: 5 fields, header has 4
            f"3,{yid[1]},30,rain on a roof,\n"                # trailing comma: read, the empty field dropped
            f"4,{yid[2]},20,\n")                              # no caption
    L.touch(tmp_path / "dataset" / "test.csv", text.encode())
    for n in range(3):
        L.touch(tmp_path / "audio" / f"{yid[n]}.wav")
    ds = read_dataset("audiocaps", tmp_path)
    assert sorted(i.text for i in ds.of(Modality.TEXT)) == ["a dog barks", "rain on a roof"]
    assert "has 5 fields but the header has 4" in _problems(ds)["test.csv:3"]
    assert _problems(ds)["test.csv:5"] == "row has no caption"
    assert ds.sources == [{"role": "annotations (test)", "path": str(tmp_path / "dataset" / "test.csv"),
                           "detail": "utf-8, ',' delimited"}]


def test_clotho_excel_semicolon_export_is_read(tmp_path):
    rows = ["file_name;caption_1;caption_2;caption_3;caption_4;caption_5"]
    for n in range(3):
        rows.append(";".join([f"clip {n}.wav"] + [f"{L.CAPTIONS[j]}, heard from afar" for j in range(5)]))
        L.wav(tmp_path / "evaluation" / f"clip {n}.wav", n)
    rows.append("clip 9.wav;one;two;three;four;five;six;seven")
    L.touch(tmp_path / "clotho_captions_evaluation.csv", ("\r\n".join(rows) + "\r\n").encode())
    ds = read_dataset("clotho", tmp_path)
    assert ds.counts() == {"audio": 3, "text": 15}
    assert ds.of(Modality.TEXT)[0].text == "a dog barks twice near a road, heard from afar"
    assert "clotho_captions_evaluation.csv:5" in _problems(ds)
    assert any("';' delimited" in n for n in ds.notes)


# -- 2. Objaverse as the objaverse package stores it

def test_objaverse_package_cache_glb_and_gzipped_annotations(tmp_path):
    want = L.objaverse(tmp_path)
    ds = read_dataset("objaverse-lvis", tmp_path)
    assert ds.counts() == {"3d": want["3d"]}
    assert all(i.path.suffix == ".glb" for i in ds.items)
    assert ds.sources[0]["path"].endswith("lvis-annotations.json.gz")
    reason = _problems(ds)[f"{want['missing'][0]}.glb"]
    for name in (".npy", ".glb", ".obj"):
        assert f"{want['missing'][0]}{name}" in reason
    assert any("from meshes" in n for n in ds.notes)


def test_objaverse_meshes_are_sampled_as_the_indexer_samples_them(tmp_path):
    from mcrsearch import media
    from mcrsearch.benchmark.runner import MediaDecoder

    L.objaverse(tmp_path, per_class=1, missing=0)
    ds = read_dataset("objaverse-lvis", tmp_path)

    class Space:
        mesh_points = 777

    item = ds.items[0]
    got = MediaDecoder().for_space(Space())(item)
    _, expected = media.decode(item.path, Modality.POINTS, n_points=777)   # indexer/pipeline.py's call
    assert np.asarray(got).shape[0] == 777 and np.array_equal(np.asarray(got), np.asarray(expected))


def test_objaverse_prefers_point_files_and_names_the_other_annotation_file(tmp_path):
    L.objaverse(tmp_path, per_class=1, missing=0)
    uid = json.loads(gzip.decompress((tmp_path / "hf-objaverse-v1" / "lvis-annotations.json.gz").read_bytes()))["Bible"][0]
    (tmp_path / "points").mkdir()
    np.save(tmp_path / "points" / f"{uid}.npy", np.zeros((8, 3), dtype=np.float32))
    L.touch(tmp_path / "meta" / "lvis.json", json.dumps([{"uid": uid, "category": "Bible"}]).encode())
    ds = read_dataset("objaverse-lvis", tmp_path)
    assert [i.path.suffix for i in ds.items] == [".npy"]
    assert any("lvis-annotations.json.gz" in n and "not read" in n for n in ds.notes)


# -- 3. COCO Karpathy split with the 2017 image folders

def test_karpathy_split_finds_2017_file_names_by_cocoid(tmp_path):
    want = L.coco_karpathy(tmp_path, folders="2017")
    ds = read_dataset("coco", tmp_path)
    assert ds.counts() == {"image": want["image"], "text": want["text"]}
    assert {i.path.parent.name for i in ds.of(Modality.IMAGE)} == {"val2017"}
    assert any("by cocoid" in n for n in ds.notes)
    assert len(ds.problems) == 1 and "COCO_val2014_" in ds.problems[0].path


def test_val2017_captions_with_2014_folders(tmp_path):
    L.coco_val2017(tmp_path, missing=0)
    for path in sorted((tmp_path / "val2017").iterdir()):      # renamed as in the 2014 release
        path.rename(tmp_path / "val2017" / f"COCO_val2014_{path.name}")
    assert read_dataset("coco-val2017", tmp_path).counts() == {"image": 3, "text": 15}


# -- 4. AudioCaps clips named by other download tools

@pytest.mark.parametrize("name", ["{y}_{ms}_{end_ms}.wav", "Y{y}_{s}.000_{e}.000.wav", "{y}_{s}-{e}.flac",
                                  "{y}.m4a", "Y{y}.wav", "{cap}.ogg"])
def test_audiocaps_download_tool_names(tmp_path, name):
    yid, start = L.youtube_id(7), 30
    L.touch(tmp_path / "test.csv", f"audiocap_id,youtube_id,start_time,caption\n555,{yid},{start},a bell\n".encode())
    stem = name.format(y=yid, ms=start * 1000, end_ms=(start + 10) * 1000, s=start, e=start + 10, cap=555)
    L.touch(tmp_path / "waveforms" / stem)
    L.touch(tmp_path / "waveforms" / f"{L.youtube_id(8)}_{start * 1000}_{(start + 10) * 1000}.wav")  # another clip
    ds = read_dataset("audiocaps", tmp_path)
    assert [i.path.name for i in ds.of(Modality.AUDIO)] == [stem] and not ds.problems


def test_audiocaps_missing_clip_names_what_was_tried(tmp_path):
    yid, gone, found = L.youtube_id(1), L.youtube_id(2), L.youtube_id(3)
    L.touch(tmp_path / "test.csv", (f"audiocap_id,youtube_id,start_time,caption\n9,{yid},40,a bell\n"
                                    f"10,{gone},0,a horn\n11,{found},0,a drum\n").encode())
    L.touch(tmp_path / "audio" / f"{yid}_10000_20000.wav")      # the same video, another window
    L.touch(tmp_path / "audio" / f"Y{found}_0.000_10.000.wav")
    ds = read_dataset("audiocaps", tmp_path)
    reason = _problems(ds)[f"{yid}.wav"]
    assert f"Y{yid}" in reason and f"{yid}_40000_50000" in reason and "start 40" in reason and ".m4a" in reason
    assert f"{gone}.wav" in _problems(ds) and [i.key for i in ds.of(Modality.AUDIO)] == [f"aud:{found}"]


def test_m4a_clip_decodes_when_pyav_is_installed(tmp_path):
    av = pytest.importorskip("av")
    from mcrsearch import media
    from mcrsearch.errors import MediaError

    path = tmp_path / f"{L.youtube_id(2)}.m4a"
    with av.open(str(path), "w", format="ipod") as out:
        stream = out.add_stream("aac", rate=16000)
        frame = av.AudioFrame.from_ndarray((0.2 * np.sin(np.arange(8000) / 5)).astype(np.float32)[None],
                                           format="flt", layout="mono")
        frame.sample_rate = 16000
        for packet in list(stream.encode(frame)) + list(stream.encode(None)):
            out.mux(packet)
    try:
        _, clip = media.decode(path, Modality.AUDIO)
    except MediaError as exc:
        pytest.skip(f"this media.py does not decode m4a yet ({exc.reason})")
    assert len(clip.samples) > 1000


# -- 5. CSVs in legacy encodings

def test_latin1_audiocaps_csv_is_decoded_and_named(tmp_path):
    yid = L.youtube_id(3)
    text = ("audiocap_id,youtube_id,start_time,caption\n"
            + "".join(f"{n},{yid},0,un café crème à côté d'une rivière numéro {n}\n" for n in range(5)))
    L.touch(tmp_path / "test.csv", text.encode("latin-1"))
    L.touch(tmp_path / f"{yid}.wav")
    ds = read_dataset("audiocaps", tmp_path)
    assert ds.of(Modality.TEXT)[0].text == "un café crème à côté d'une rivière numéro 0"
    assert ds.sources[0]["detail"].split(",")[0] not in ("utf-8", "?")
    assert any("not UTF-8" in n for n in ds.notes)


@pytest.mark.parametrize("encoding", ["gb18030", "shift_jis"])
def test_cjk_encoded_clotho_csv(tmp_path, encoding):
    caps = {"gb18030": ["雨水落在铁皮屋顶上，远处有雷声", "一只狗在街上大声叫了两次", "人群在体育场里欢呼",
                        "小型发动机空转后停了下来", "清晨的鸟儿在树上歌唱"],
            "shift_jis": ["雨がトタン屋根に落ちて、遠くで雷が鳴っている", "犬が通りで二回大きく吠えた",
                          "スタジアムで観客が歓声を上げている", "小さなエンジンがアイドリングして止まる",
                          "早朝に鳥が木の上でさえずっている"]}[encoding]
    rows = ["file_name,caption_1,caption_2,caption_3,caption_4,caption_5"]
    for n in range(3):
        rows.append(",".join([f"rec{n}.wav"] + caps))
        L.touch(tmp_path / "evaluation" / f"rec{n}.wav")
    L.touch(tmp_path / "clotho_captions_evaluation.csv", ("\n".join(rows) + "\n").encode(encoding))
    ds = read_dataset("clotho", tmp_path)
    assert [i.text for i in ds.of(Modality.TEXT)][:5] == caps
    assert any("not UTF-8" in n for n in ds.notes)


# -- 6. ModelNet40 class names with spaces

def test_modelnet40_shape_names_with_spaces(tmp_path):
    want = L.modelnet40_resampled(tmp_path, spaced_names=True)
    ds = read_dataset("modelnet40", tmp_path)
    assert ds.counts() == {"3d": want["3d"]}
    assert {i.label for i in ds.items} == {"airplane", "bathtub", "night_stand", "flower_pot"}
    assert list(_problems(ds)) == [f"{want['missing'][0]}.txt"]
    assert "missing" in ds.problems[0].reason
    task = ds.tasks[0]
    assert "night stand" in task.prompt_names and "night_stand" in task.classes


def test_modelnet40_class_names_from_ulip_labels_json(tmp_path):
    L.modelnet40_ulip(tmp_path)
    names_file = tmp_path / "modelnet40_normal_resampled" / "modelnet40_shape_names.txt"
    names_file.unlink()
    L.touch(tmp_path / "data" / "labels.json",
            json.dumps({"modelnet40": [n.replace("_", " ") for n in L.SHAPE_NAMES], "other": ["x"]}).encode())
    ds = read_dataset("modelnet40", tmp_path)
    assert ds.counts() == {"3d": 6} and {i.label for i in ds.items} >= {"night_stand", "flower_pot"}


# -- 7. a root that holds two copies

def test_two_copies_of_the_annotation_file_are_refused_with_both_named(tmp_path):
    L.audiocaps(tmp_path / "copy-a")
    L.audiocaps(tmp_path / "copy-b")
    with pytest.raises(ConfigError) as err:
        read_dataset("audiocaps", tmp_path)
    assert "copy-a" in str(err.value) and "copy-b" in str(err.value)
    assert read_dataset("audiocaps", tmp_path / "copy-a").counts()["audio"] == 3


def test_an_unrelated_csv_of_the_same_name_is_not_a_candidate(tmp_path):
    L.audiocaps(tmp_path / "audiocaps")
    L.touch(tmp_path / "other" / "test.csv", b"id,label\n1,x\n")
    assert read_dataset("audiocaps", tmp_path).counts()["audio"] == 3


def test_two_copies_of_media_are_noted(tmp_path):
    L.modelnet40_resampled(tmp_path / "a")
    L.modelnet40_resampled(tmp_path / "b")
    (tmp_path / "b" / "modelnet40_normal_resampled" / "modelnet40_test.txt").unlink()
    with pytest.raises(ConfigError):          # two class-name files
        read_dataset("modelnet40", tmp_path)
    L.objaverse(tmp_path / "x", missing=0)
    L.objaverse(tmp_path / "y", missing=0)
    (tmp_path / "y" / "hf-objaverse-v1" / "lvis-annotations.json.gz").unlink()
    ds = read_dataset("objaverse-lvis", tmp_path / "x" / "..")
    assert any("occur more than once" in n for n in ds.notes)


# -- 8. --split refused or used

@pytest.mark.parametrize("name,split", [("modelnet40", "val"), ("objaverse-lvis", "train"),
                                        ("coco-val2017", "test"), ("audiocaps", "dev"), ("clotho", "eval"),
                                        ("eshot", "train")])
def test_a_split_the_dataset_lacks_is_refused(tmp_path, name, split):
    with pytest.raises(ConfigError, match="has no split"):
        read_dataset(name, tmp_path, split=split)


def test_splits_are_used_and_recorded(tmp_path):
    L.modelnet40_resampled(tmp_path)
    base = tmp_path / "modelnet40_normal_resampled"
    L.touch(base / "modelnet40_train.txt", b"airplane_0001\n")
    ds = read_dataset("modelnet40", tmp_path, split="train")
    assert ds.split == "train" and ds.counts() == {"3d": 1}
    assert any(s["path"].endswith("modelnet40_train.txt") for s in ds.sources)
    coco = tmp_path / "coco"
    L.coco_karpathy(coco)
    assert read_dataset("coco", coco, split="train").counts() == {"image": 1, "text": 5}
    with pytest.raises(ConfigError, match="restval|test, train"):
        read_dataset("coco", coco, split="validation")


# -- 9 and what must show: each benchmark through the CLI on its usual layout

def _register_stats_space():
    from mcrsearch.encoders.base import Encoder
    from mcrsearch.space import Route, Space, register_space

    class StatsEncoder(Encoder):
        """Cheap, deterministic vectors from simple statistics of each decoded input."""

        family = "stats-test"
        modalities = (Modality.IMAGE, Modality.TEXT, Modality.AUDIO, Modality.POINTS)
        dim = 4

        def _encode(self, modality, items):
            out = []
            for it in items:
                if modality is Modality.TEXT:
                    v = [len(it), it.count(" "), sum(map(ord, it)) % 97, 1.0]
                else:
                    a = np.asarray(getattr(it, "samples", it), dtype=np.float64).reshape(-1)
                    v = [a.mean(), a.std(), len(a) % 89, 1.0]
                out.append(v)
            return np.asarray(out, dtype=np.float32)

    register_space("stats-test")(lambda settings: Space(
        "stats-test", {m: Route(StatsEncoder({}, "none")) for m in StatsEncoder.modalities}, 4, mesh_points=256))


LAYOUTS = {     # layout -> (benchmark, builder, modalities read)
    "coco-karpathy": ("coco", L.coco_karpathy, {"image", "text"}),
    "coco-val2017": ("coco-val2017", L.coco_val2017, {"image", "text"}),
    "audiocaps-download": ("audiocaps", L.audiocaps, {"audio", "text"}),
    "clotho-zenodo": ("clotho", L.clotho, {"audio", "text"}),
    "objaverse-package": ("objaverse-lvis", L.objaverse, {"3d"}),
    "modelnet40-resampled": ("modelnet40", L.modelnet40_resampled, {"3d"}),
    "modelnet40-ulip": ("modelnet40", L.modelnet40_ulip, {"3d"}),
    "modelnet40-princeton": ("modelnet40", L.modelnet40_princeton, {"3d"}),
}


@pytest.mark.parametrize("layout", sorted(LAYOUTS))
def test_benchmark_cli_reads_the_usual_layout_in_full(tmp_path, capsys, layout):
    from mcrsearch.cli import main
    from mcrsearch.space import SPACE_BUILDERS

    name, build, modalities = LAYOUTS[layout]
    want = build(tmp_path / "data")
    _register_stats_space()
    try:
        problems_file = tmp_path / "problems.tsv"
        code = main(["benchmark", name, "--root", str(tmp_path / "data"), "--space", "stats-test", "--json",
                     "--no-index", "--problems", str(problems_file)])
        captured = capsys.readouterr()
    finally:
        SPACE_BUILDERS.pop("stats-test", None)
    assert code == 0, captured.err
    data = json.loads(captured.out)
    assert data["items"] == {m: want[m] for m in modalities}
    if layout != "modelnet40-ulip":                                     # one missing or broken file, never fatal
        assert data["problems"] == len(data["problem_list"]) >= 1
        assert "missing or unreadable" in captured.err and str(problems_file) in captured.err.replace("\n", "")
    assert problems_file.read_text().count("\n") == data["problems"] + 1
    assert data["sources"] and all(Path(s["path"]).exists() for s in data["sources"])
    assert data["split"]
    assert [r for r in data["results"] if "exact" in r], data["results"]
    assert "read annotations" in captured.err.replace("\n", " ") or "read class names" in captured.err


def test_json_keeps_every_problem(tmp_path):
    from mcrsearch.benchmark.runner import run_benchmark

    L.coco_val2017(tmp_path, images=60, missing=58)
    ds = read_dataset("coco-val2017", tmp_path)

    class Space:
        name = "s"
        modalities = (Modality.IMAGE, Modality.TEXT)

        def embed(self, modality, items):
            return np.ones((len(items), 2), dtype=np.float32)

    data = run_benchmark(ds, [Space()], decoder=lambda item: item.text or "x").as_dict()
    assert data["problems"] == 58 and len(data["problem_list"]) == 58
    from mcrsearch.benchmark.report import markdown_section

    text = markdown_section(data)
    assert "split `val2017`" in text and f"annotations (val2017): {ds.sources[0]['path']}" in text


def test_clotho_names_match_across_unicode_normal_forms(tmp_path):
    import unicodedata

    name = "Bäckerei Glocke.wav"
    L.wav(tmp_path / "evaluation" / unicodedata.normalize("NFD", name))       # as a Mac-made archive stores it
    L.touch(tmp_path / "clotho_captions_evaluation.csv",
            ("file_name,caption_1\n" + f"{unicodedata.normalize('NFC', name)},a bell rings\n").encode())
    ds = read_dataset("clotho", tmp_path)
    assert ds.counts() == {"audio": 1, "text": 1} and not ds.problems


def test_semicolon_audiocaps_export_with_commas_in_captions(tmp_path):
    yid = [L.youtube_id(n) for n in range(2)]
    rows = ["audiocap_id;youtube_id;start_time;caption"]
    rows += [f"{n};{yid[n % 2]};0;{L.CAPTIONS[n]}, then silence, then more" for n in range(5)]
    L.touch(tmp_path / "test.csv", ("\r\n".join(rows) + "\r\n").encode("cp1252"))
    for y in yid:
        L.touch(tmp_path / f"{y}.wav")
    ds = read_dataset("audiocaps", tmp_path)
    assert ds.counts() == {"audio": 2, "text": 5} and not ds.problems
    assert ds.of(Modality.TEXT)[0].text == "a dog barks twice near a road, then silence, then more"


def test_no_usable_items_is_one_sentence_and_still_writes_the_problems(tmp_path, capsys):
    from mcrsearch.cli import main

    L.coco_val2017(tmp_path / "data", images=2, missing=2)
    code = main(["benchmark", "coco-val2017", "--root", str(tmp_path / "data"), "--problems", str(tmp_path / "p.tsv")])
    err = capsys.readouterr().err
    assert code == 2 and "No usable items" in err and "Traceback" not in err
    assert (tmp_path / "p.tsv").read_text().count("\n") == 3
