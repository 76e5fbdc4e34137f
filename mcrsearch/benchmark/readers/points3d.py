"""3D classification sets: ModelNet40 (ULIP's resampled test split) and Objaverse-LVIS (ULIP/OpenShape files).

ModelNet40 layouts: `modelnet40_test_8192pts_fps.dat` (a pickle of (points list, labels list), read with
the restricted loader) or `modelnet40_normal_resampled/<class>/<class>_NNNN.txt` with `modelnet40_test.txt`;
class names from `modelnet40_shape_names.txt`. Objaverse-LVIS: OpenShape's `lvis.json` (records with uid,
category, data_path) or Objaverse's `lvis-annotations.json` (category -> uids), point files `<uid>.npy`
anywhere under the root, and optional rendered views in a folder named after the uid.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Callable

import numpy as np

from mcrsearch.benchmark.dataset import Dataset, Item, PairedRetrieval, ZeroShot
from mcrsearch.benchmark.files import all_files, find_file, index_by_stem
from mcrsearch.benchmark.safe_pickle import RefusedPickle, load_restricted
from mcrsearch.benchmark.templates import POINT_CLOUD_TEMPLATES
from mcrsearch.media import prepare_cloud as normalize_points   # the one normalisation of every 3D input
from mcrsearch.modality import IMAGE_EXTENSIONS, MESH_EXTENSIONS, POINT_EXTENSIONS, Modality


def _const(value: np.ndarray) -> Callable[[], Any]:
    return lambda: value


def _read_lines(path: Path) -> list[str]:
    return [line.strip() for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def read_modelnet40(root: Path, templates: tuple[str, ...] | None = None, **_: object) -> Dataset:
    ds = Dataset("modelnet40", root)
    names_file = find_file(root, ["modelnet40_shape_names.txt", "modelnet40_normal_resampled/modelnet40_shape_names.txt"])
    if names_file is None:
        ds.missing(root / "modelnet40_shape_names.txt", "class names file not found; zero-shot needs it")
        return ds
    classes = _read_lines(names_file)
    ds.tasks.append(ZeroShot(Modality.POINTS, tuple(classes), tuple(templates or POINT_CLOUD_TEMPLATES)))
    dat = find_file(root, ["modelnet40_test_8192pts_fps.dat", "modelnet40_normal_resampled/modelnet40_test_8192pts_fps.dat"])
    if dat is not None:
        _modelnet_from_pickle(dat, classes, ds)
    else:
        _modelnet_from_folders(root, classes, ds)
    return ds


def _modelnet_from_pickle(dat: Path, classes: list[str], ds: Dataset) -> None:
    try:
        data = load_restricted(dat)
    except (RefusedPickle, OSError, EOFError, ValueError, TypeError) as exc:
        ds.missing(dat, f"unreadable test split ({exc})")
        return
    if not (isinstance(data, (list, tuple)) and len(data) == 2 and len(data[0]) == len(data[1])):
        ds.missing(dat, "expected a pickle of (points list, labels list) of equal length")
        return
    points, labels = data
    for i, (pts, lab) in enumerate(zip(points, labels)):
        arr = np.asarray(pts)
        label = int(np.asarray(lab).reshape(-1)[0])
        if arr.ndim != 2 or arr.shape[1] < 3 or len(arr) == 0 or not (0 <= label < len(classes)):
            ds.missing(f"{dat}#{i}", "sample has a malformed point array or label")
            continue
        ds.items.append(Item(f"mn40:{i}", Modality.POINTS, path=dat, label=classes[label],
                             loader=_const(normalize_points(arr))))


def _load_txt_points(path: Path) -> Callable[[], Any]:
    return lambda: normalize_points(np.loadtxt(path, delimiter=",", dtype=np.float32, ndmin=2))


def _modelnet_from_folders(root: Path, classes: list[str], ds: Dataset) -> None:
    base = root / "modelnet40_normal_resampled" if (root / "modelnet40_normal_resampled").is_dir() else root
    split = find_file(root, ["modelnet40_test.txt", "modelnet40_normal_resampled/modelnet40_test.txt"])
    if split is not None:
        for shape_id in _read_lines(split):
            cls = shape_id.rsplit("_", 1)[0]
            path = base / cls / f"{shape_id}.txt"
            if cls not in classes or not path.is_file():
                ds.missing(path, "shape listed in modelnet40_test.txt is missing")
                continue
            ds.items.append(Item(f"mn40:{shape_id}", Modality.POINTS, path=path, label=cls, loader=_load_txt_points(path)))
        return
    found = False
    for cls in classes:      # original ModelNet40 layout: <class>/test/*.off
        folder = base / cls / "test"
        for path in sorted(folder.glob("*")) if folder.is_dir() else []:
            if path.suffix.lower() in MESH_EXTENSIONS | POINT_EXTENSIONS:
                ds.items.append(Item(f"mn40:{cls}/{path.name}", Modality.POINTS, path=path, label=cls))
                found = True
    if not found:
        ds.missing(root / "modelnet40_test_8192pts_fps.dat",
                   "no test split found (neither the ULIP pickle, modelnet40_test.txt, nor <class>/test folders)")


def _lvis_records(path: Path, ds: Dataset) -> list[tuple[str, str, str | None]]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        ds.missing(path, f"unreadable LVIS annotation file ({exc})")
        return []
    if isinstance(data, dict):                    # objaverse: {category: [uid, ...]}
        return [(uid, cat, None) for cat in sorted(data) for uid in data[cat]]
    if isinstance(data, list):                    # OpenShape: [{"uid", "category", "data_path"}, ...]
        return [(r["uid"], r["category"], r.get("data_path")) for r in data if isinstance(r, dict) and "uid" in r]
    ds.missing(path, "LVIS annotation file is neither a category->uids object nor a list of records")
    return []


def read_objaverse_lvis(root: Path, templates: tuple[str, ...] | None = None, **_: object) -> Dataset:
    ds = Dataset("objaverse-lvis", root)
    ann = find_file(root, ["meta_data/split/lvis.json", "lvis.json", "lvis-annotations.json", "lvis_annotations.json"])
    if ann is None:
        ds.missing(root / "lvis.json", "LVIS annotation file not found under the root")
        return ds
    records = _lvis_records(ann, ds)
    points = index_by_stem(root, POINT_EXTENSIONS)
    views_by_uid: dict[str, list[Path]] = {}
    for path in all_files(root, IMAGE_EXTENSIONS):
        views_by_uid.setdefault(path.parent.name, []).append(path)
    categories: set[str] = set()
    for uid, cat, data_path in records:
        categories.add(cat)
        path = None
        if data_path:
            candidate = root / data_path.lstrip("/")
            path = candidate if candidate.is_file() else None
        path = path or points.get(uid)
        if path is None:
            ds.missing(root / f"{uid}.npy", f"point cloud for uid {uid} ({cat}) is missing")
            continue
        key = f"obj:{uid}"
        ds.items.append(Item(key, Modality.POINTS, path=path, label=cat))
        for j, view in enumerate(sorted(views_by_uid.get(uid, []))):
            ds.items.append(Item(f"{key}:view{j}", Modality.IMAGE, path=view, label=cat, owner=key))
    ds.tasks.append(ZeroShot(Modality.POINTS, tuple(sorted(categories)), tuple(templates or POINT_CLOUD_TEMPLATES)))
    if ds.of(Modality.IMAGE):
        ds.tasks.append(PairedRetrieval(Modality.POINTS, Modality.IMAGE))
    else:
        ds.notes.append("no rendered views found; image<->3d retrieval skipped")
    return ds
