"""Tiny datasets written as their usual download tools lay them out, with real (generated) media.

Formats follow the public releases (column names, JSON keys, folder and file names); the contents
(ids, captions, pictures, sounds, shapes) are made up here. Each builder returns the item counts
the benchmark must read and the names of the files it must report as missing or bad.
"""

from __future__ import annotations

import gzip
import json
import pickle
from pathlib import Path

import numpy as np

CAPTIONS = ["a dog barks twice near a road", "rain falls on a metal roof", "a crowd cheers loudly",
            "a small engine idles and stops", "birds sing in the early morning"]


def touch(path: Path, data: bytes = b"x") -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return path


def wav(path: Path, seed: int = 0, seconds: float = 0.25, rate: int = 16000) -> Path:
    import soundfile as sf

    path.parent.mkdir(parents=True, exist_ok=True)
    t = np.arange(int(rate * seconds)) / rate
    sf.write(path, 0.3 * np.sin(2 * np.pi * (220 + 40 * seed) * t).astype(np.float32), rate)
    return path


def flac(path: Path, seed: int = 0) -> Path:
    import soundfile as sf

    tmp = wav(path.with_suffix(".tmp.wav"), seed)
    data, rate = sf.read(tmp)
    tmp.unlink()
    sf.write(path, data, rate, format="FLAC")
    return path


def png(path: Path, seed: int = 0) -> Path:
    from PIL import Image

    path.parent.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    Image.fromarray(rng.integers(0, 255, size=(12, 16, 3), dtype=np.uint8)).save(path)
    return path


def glb(path: Path, seed: int = 0) -> Path:
    import trimesh

    path.parent.mkdir(parents=True, exist_ok=True)
    mesh = trimesh.creation.box(extents=(1.0 + seed, 1.0, 0.5)) if seed % 2 == 0 else trimesh.creation.icosphere(1)
    path.write_bytes(mesh.export(file_type="glb"))
    return path


def youtube_id(n: int) -> str:
    """An 11-character id of YouTube's alphabet (made up)."""
    alphabet = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_"
    rng = np.random.default_rng(1000 + n)
    return "".join(alphabet[i] for i in rng.integers(0, len(alphabet), 11))


def ogg(path: Path, seed: int = 0) -> Path:
    import soundfile as sf

    tmp = wav(path.with_suffix(".tmp.wav"), seed)
    data, rate = sf.read(tmp)
    tmp.unlink()
    sf.write(path, data, rate, format="OGG", subtype="VORBIS")
    return path


def audiocaps(root: Path, clips: int = 4, missing: int = 1) -> dict:
    """The repository's `dataset/test.csv` and clips as audiocaps-download (its default, Ogg Vorbis)
    writes them: `test/<audiocap_id>.ogg`, one copy per caption row; the last `missing` clips failed."""
    lines = ["audiocap_id,youtube_id,start_time,caption"]
    for n in range(clips):
        yid, start = youtube_id(n), 10 * n
        for j in range(5):
            cap_id = 100 + 5 * n + j
            lines.append(f"{cap_id},{yid},{start},{CAPTIONS[(n + j) % 5]}")
            if n < clips - missing and j < 2:
                ogg(root / "test" / f"{cap_id}.ogg", n)
    touch(root / "dataset" / "test.csv", ("\n".join(lines) + "\n").encode())
    return {"audio": clips - missing, "text": 5 * (clips - missing),
            "missing": [youtube_id(n) for n in range(clips - missing, clips)]}


def clotho(root: Path, clips: int = 3, missing: int = 1) -> dict:
    """Clotho v2 from Zenodo, unzipped: `clotho_captions_evaluation.csv` and `evaluation/<name>.wav`."""
    rows = ["file_name,caption_1,caption_2,caption_3,caption_4,caption_5"]
    for n in range(clips):
        name = f"field recording {n} öl.wav"
        rows.append(",".join([f'"{name}"'] + [f'"{CAPTIONS[(n + j) % 5]}, take {j}"' for j in range(5)]))
        if n < clips - missing:
            wav(root / "evaluation" / name, n)
    touch(root / "clotho_captions_evaluation.csv", ("\n".join(rows) + "\n").encode())
    return {"audio": clips - missing, "text": 5 * (clips - missing)}


def coco_karpathy(root: Path, images: int = 3, missing: int = 1, folders: str = "2014") -> dict:
    """Karpathy's `dataset_coco.json` with images in `val2014/` (or the 2017 folders, renamed by id)."""
    entries = []
    for n in range(images + 1):
        cocoid = 391000 + n
        split = "test" if n < images else "train"
        name = f"COCO_val2014_{cocoid:012d}.jpg"
        sentences = [{"tokens": CAPTIONS[(n + j) % 5].split(), "raw": CAPTIONS[(n + j) % 5].capitalize() + ".",
                      "imgid": n, "sentid": 5 * n + j} for j in range(6)]
        entries.append({"filepath": "val2014", "sentids": [s["sentid"] for s in sentences], "filename": name,
                        "imgid": n, "split": split, "sentences": sentences, "cocoid": cocoid})
        if n < images - missing or n == images:
            target = root / "val2014" / name if folders == "2014" else root / "val2017" / f"{cocoid:012d}.jpg"
            png(target, n)
    touch(root / "dataset_coco.json", json.dumps({"images": entries, "dataset": "coco"}).encode())
    return {"image": images - missing, "text": 5 * (images - missing)}


def coco_val2017(root: Path, images: int = 3, missing: int = 1) -> dict:
    """cocodataset.org's zips unpacked: `annotations/captions_val2017.json` and `val2017/`."""
    data = {"info": {"description": "made-up subset"}, "licenses": [], "images": [], "annotations": []}
    for n in range(images):
        image_id = 397000 + n
        name = f"{image_id:012d}.jpg"
        data["images"].append({"license": 1, "file_name": name, "height": 12, "width": 16, "id": image_id})
        data["annotations"] += [{"image_id": image_id, "id": 10 * n + j, "caption": CAPTIONS[(n + j) % 5]}
                                for j in range(5)]
        if n < images - missing:
            png(root / "val2017" / name, n)
    touch(root / "annotations" / "captions_val2017.json", json.dumps(data).encode())
    return {"image": images - missing, "text": 5 * (images - missing)}


def objaverse(root: Path, per_class: int = 2, missing: int = 1) -> dict:
    """The `objaverse` package's cache: `hf-objaverse-v1/lvis-annotations.json.gz` and
    `hf-objaverse-v1/glbs/000-NNN/<uid>.glb`; the last `missing` objects were not downloaded."""
    base = root / "hf-objaverse-v1"
    ann: dict[str, list[str]] = {}
    uids = []
    for c, cat in enumerate(("Bible", "armchair", "coffee_table")):
        for n in range(per_class):
            uid = f"{c:02x}{n:02x}" + "5f3a9c0d1e7b4a26" + "8c1d0e9f7a6b"
            ann.setdefault(cat, []).append(uid)
            uids.append(uid)
    for n, uid in enumerate(uids[: len(uids) - missing]):
        glb(base / "glbs" / f"000-{n % 2:03d}" / f"{uid}.glb", n)
    touch(base / "lvis-annotations.json.gz", gzip.compress(json.dumps(ann).encode()))
    return {"3d": len(uids) - missing, "missing": uids[len(uids) - missing:]}


SHAPE_NAMES = ["airplane", "bathtub", "night_stand", "flower_pot"]


def modelnet40_resampled(root: Path, per_class: int = 2, missing: int = 1, spaced_names: bool = False) -> dict:
    """`modelnet40_normal_resampled/` (PointNet++'s download): shape names, `modelnet40_test.txt`,
    `<class>/<class>_NNNN.txt` with `x,y,z,nx,ny,nz` rows."""
    base = root / "modelnet40_normal_resampled"
    names = [n.replace("_", " ") for n in SHAPE_NAMES] if spaced_names else SHAPE_NAMES
    touch(base / "modelnet40_shape_names.txt", ("\n".join(names) + "\n").encode())
    ids, rng = [], np.random.default_rng(0)
    for cls in SHAPE_NAMES:
        for n in range(per_class):
            ids.append(f"{cls}_{n + 1:04d}")
    for shape in ids[: len(ids) - missing]:
        cls = shape.rsplit("_", 1)[0]
        rows = np.concatenate([rng.normal(size=(64, 3)), np.tile([0.0, 0.0, 1.0], (64, 1))], axis=1)
        touch(base / cls / f"{shape}.txt", "\n".join(",".join(f"{v:.6f}" for v in r) for r in rows).encode())
    touch(base / "modelnet40_test.txt", ("\n".join(ids) + "\n").encode())
    return {"3d": len(ids) - missing, "missing": ids[len(ids) - missing:]}


def modelnet40_ulip(root: Path, shapes: int = 6) -> dict:
    """ULIP's `modelnet40_test_8192pts_fps.dat` (a pickle of (points list, labels list)) with
    `modelnet40_shape_names.txt` beside it (points shrunk to 32 per shape here)."""
    rng = np.random.default_rng(1)
    points = [rng.normal(size=(32, 6)).astype(np.float32) for _ in range(shapes)]
    labels = [np.array([n % len(SHAPE_NAMES)], dtype=np.int64) for n in range(shapes)]
    base = root / "modelnet40_normal_resampled"
    touch(base / "modelnet40_shape_names.txt", ("\n".join(SHAPE_NAMES) + "\n").encode())
    touch(base / "modelnet40_test_8192pts_fps.dat", pickle.dumps((points, labels), protocol=4))
    return {"3d": shapes}


def modelnet40_princeton(root: Path, per_class: int = 2) -> dict:
    """Princeton's `ModelNet40.zip` unpacked: `ModelNet40/<class>/{train,test}/<class>_NNNN.off`, no
    class-names file; one test mesh is an empty file (as a broken download leaves it)."""
    import trimesh

    for c, cls in enumerate(SHAPE_NAMES):
        for n in range(per_class):
            mesh = trimesh.creation.box(extents=(1 + c, 1, 1 + n)) if c % 2 else trimesh.creation.icosphere(1)
            for split, number in (("test", n + 1), ("train", n + 100)):
                touch(root / "ModelNet40" / cls / split / f"{cls}_{number:04d}.off", mesh.export(file_type="off").encode())
    touch(root / "ModelNet40" / "airplane" / "test" / "airplane_0003.off", b"")
    return {"3d": per_class * len(SHAPE_NAMES) + 1}
