"""3D classification sets: ModelNet40 (ULIP's resampled test split) and Objaverse-LVIS (ULIP/OpenShape files).

ModelNet40 layouts: `modelnet40_test_8192pts_fps.dat` (a pickle of (points list, labels list), read with
the restricted loader), `modelnet40_normal_resampled/<class>/<class>_NNNN.txt` with `modelnet40_test.txt`,
or the original `<class>/test/*.off`; class names from `modelnet40_shape_names.txt` or ULIP's
`labels.json` (whose two-word names are written with spaces, the folders with underscores).
Objaverse-LVIS: OpenShape's `lvis.json` (records with uid, category, data_path) or Objaverse's
`lvis-annotations.json[.gz]` (category -> uids, as the `objaverse` package caches it); per uid a point
file (`<uid>.npy`, ...) or else a mesh (`hf-objaverse-v1/glbs/<group>/<uid>.glb`), anywhere under the
root, and optional rendered views in a folder named after the uid. Meshes are decoded by the runner
with media.decode and the space's mesh sample size, exactly as `mcrsearch index` samples them.
"""

from __future__ import annotations

import gzip
import json
import pickle
from pathlib import Path
from typing import Any, Callable

import numpy as np

from mcrsearch.benchmark.dataset import Dataset, Item, PairedRetrieval, ZeroShot, choose_split
from mcrsearch.benchmark.files import all_files, find_one, index_by_stem, locate, tried
from mcrsearch.benchmark.templates import POINT_CLOUD_TEMPLATES
from mcrsearch.media import _Refused as RefusedPickle
from mcrsearch.media import restricted_unpickle
from mcrsearch.media import prepare_cloud   # the one normalisation and subsampling of every 3D input
from mcrsearch.modality import IMAGE_EXTENSIONS, MESH_EXTENSIONS, POINT_EXTENSIONS, Modality


def _const(value: np.ndarray) -> Callable[[], Any]:
    return lambda: value


def _read_lines(path: Path, ds: Dataset) -> list[str]:
    """Non-empty stripped lines in any encoding; an unreadable file is a problem and gives none."""
    from mcrsearch.benchmark.tables import decode_text

    try:
        return [line.strip() for line in decode_text(path.read_bytes())[0].splitlines() if line.strip()]
    except (OSError, UnicodeError) as exc:
        ds.missing(path, f"unreadable list ({exc})")
        return []


def folder_name(class_name: str) -> str:
    """ModelNet40's folder and shape-id spelling of a class: 'night stand' -> 'night_stand'."""
    return "_".join(class_name.split())


def _modelnet_classes(root: Path, ds: Dataset) -> list[str] | None:
    """Class names in label order, from the shape-names list or ULIP's labels.json (key modelnet40)."""
    names_file = find_one(root, ["modelnet40_shape_names.txt", "shape_names.txt"], "ModelNet40 class names")
    if names_file is not None:
        ds.read_from("class names", names_file)
        return _read_lines(names_file, ds) or None
    labels = find_one(root, ["labels.json"], "ULIP labels")
    if labels is not None:
        try:
            data = json.loads(labels.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
            ds.missing(labels, f"unreadable labels file ({exc})")
            return None
        names = data.get("modelnet40") if isinstance(data, dict) else None
        if isinstance(names, list) and all(isinstance(n, str) for n in names):
            ds.read_from("class names (labels.json, key modelnet40)", labels)
            return names
        ds.missing(labels, "labels.json has no 'modelnet40' list of class names")
        return None
    bases = sorted({p.parents[2] for pattern in ("*/test/*.off", "*/*/test/*.off") for p in root.glob(pattern)})
    if len(bases) == 1:             # Princeton's ModelNet40.zip: no names file; the class folders name them
        ds.read_from("class names (folder names, sorted)", bases[0])
        return sorted(p.name for p in bases[0].iterdir() if (p / "test").is_dir() or (p / "train").is_dir())
    ds.missing(root / "modelnet40_shape_names.txt",
               "class names file not found (looked for modelnet40_shape_names.txt, shape_names.txt or ULIP's "
               "labels.json, and for <class>/test/*.off folders); zero-shot needs it")
    return None


def read_modelnet40(root: Path, templates: tuple[str, ...] | None = None, split: str | None = None,
                    **_: object) -> Dataset:
    split = choose_split("modelnet40", split, ("test", "train"), "test")
    ds = Dataset("modelnet40", root, split=split)
    names = _modelnet_classes(root, ds)
    if names is None:
        return ds
    classes = [folder_name(n) for n in names]
    if any(" " in n for n in names):
        ds.notes.append("class names with spaces (e.g. 'night stand') matched to their folders with underscores")
    ds.tasks.append(ZeroShot(Modality.POINTS, tuple(classes), tuple(templates or POINT_CLOUD_TEMPLATES),
                             tuple(" ".join(n.replace("_", " ").split()) for n in names)))
    dat = find_one(root, [f"modelnet40_{split}_8192pts_fps.dat"], "ModelNet40 split")
    if dat is not None:
        ds.read_from(f"points and labels ({split})", dat)
        _modelnet_from_pickle(dat, classes, ds)
    else:
        _modelnet_from_folders(root, classes, split, ds)
    return ds


def _modelnet_from_pickle(dat: Path, classes: list[str], ds: Dataset) -> None:
    try:
        with dat.open("rb") as fh:          # media's unpickler: arrays and plain containers only
            data = restricted_unpickle(fh)
    except RefusedPickle as exc:
        ds.missing(dat, f"refused pickle: it refers to {exc.name}, and only arrays and plain containers are read")
        return
    except (OSError, EOFError, ValueError, TypeError, pickle.UnpicklingError) as exc:
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
                             loader=_const(prepare_cloud(arr))))


def _load_txt_points(path: Path) -> Callable[[], Any]:
    return lambda: prepare_cloud(np.loadtxt(path, delimiter=",", dtype=np.float32, ndmin=2))


def _modelnet_from_folders(root: Path, classes: list[str], split: str, ds: Dataset) -> None:
    known = set(classes)
    listing = find_one(root, [f"modelnet40_{split}.txt"], "ModelNet40 split list")
    if listing is not None:
        ds.read_from(f"split list ({split})", listing)
        base = listing.parent          # the shapes sit next to the list that names them
        for shape_id in _read_lines(listing, ds):
            shape_id = folder_name(shape_id)
            cls = shape_id.rsplit("_", 1)[0]
            path = base / cls / f"{shape_id}.txt"
            if cls not in known:
                ds.missing(path, f"shape listed in {listing.name} is of class '{cls}', which the class names lack")
            elif not path.is_file():
                ds.missing(path, f"shape listed in {listing.name} is missing")
            else:
                ds.items.append(Item(f"mn40:{shape_id}", Modality.POINTS, path=path, label=cls,
                                     loader=_load_txt_points(path)))
        return
    bases = sorted({p.parent.parent for p in root.glob(f"**/{split}") if p.is_dir() and p.parent.name in known})
    if len(bases) > 1:
        from mcrsearch.errors import ConfigError

        raise ConfigError(f"Found {len(bases)} ModelNet40 class-folder trees under {root} "
                          f"({', '.join(map(str, bases[:4]))}); give --root the folder of one copy.")
    found = False
    for cls in classes:      # original ModelNet40 layout: <class>/<split>/*.off
        folder = bases[0] / cls / split if bases else root / cls / split
        for path in sorted(folder.glob("*")) if folder.is_dir() else []:
            if path.suffix.lower() in MESH_EXTENSIONS | POINT_EXTENSIONS:
                ds.items.append(Item(f"mn40:{cls}/{path.name}", Modality.POINTS, path=path, label=cls))
                found = True
    if found:
        ds.read_from(f"class folders ({split})", bases[0] if bases else root)
    else:
        ds.missing(root / f"modelnet40_{split}_8192pts_fps.dat",
                   f"no {split} split found (looked for modelnet40_{split}_8192pts_fps.dat, modelnet40_{split}.txt "
                   f"and <class>/{split}/ folders)")


_LVIS_FILES = ("lvis.json", "lvis-annotations.json.gz", "lvis-annotations.json", "lvis_annotations.json")


def _lvis_records(path: Path, ds: Dataset) -> list[tuple[str, str, str | None]]:
    try:
        raw = gzip.decompress(path.read_bytes()) if path.suffix == ".gz" else path.read_bytes()
        data = json.loads(raw.decode("utf-8"))
    except (OSError, EOFError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        ds.missing(path, f"unreadable LVIS annotation file ({exc})")
        return []
    if isinstance(data, dict):                    # objaverse: {category: [uid, ...]}
        return [(str(uid), cat, None) for cat in sorted(data) for uid in data[cat]]
    if isinstance(data, list):                    # OpenShape: [{"uid", "category", "data_path"}, ...]
        return [(r["uid"], r["category"], r.get("data_path")) for r in data if isinstance(r, dict) and "uid" in r]
    ds.missing(path, "LVIS annotation file is neither a category->uids object nor a list of records")
    return []


def read_objaverse_lvis(root: Path, templates: tuple[str, ...] | None = None, split: str | None = None,
                        **_: object) -> Dataset:
    choose_split("objaverse-lvis", split, ("test",), "test", {"lvis": "test"})
    ds = Dataset("objaverse-lvis", root, split="test")
    ds.notes.append("objaverse-lvis has one split: every LVIS-annotated object (the papers' test set)")
    ann = find_one(root, _LVIS_FILES, "LVIS annotation")
    if ann is None:
        ds.missing(root / "lvis-annotations.json.gz", f"LVIS annotation file not found under the root "
                                                      f"(looked for {tried(_LVIS_FILES)} at any depth)")
        return ds
    others = [n for n, paths in locate(root, _LVIS_FILES).items() if paths and n != ann.name]
    ds.read_from("annotations", ann)
    if others:
        ds.notes.append(f"read {ann.name}; also present and not read: {', '.join(others)}")
    records = _lvis_records(ann, ds)
    points = index_by_stem(root, POINT_EXTENSIONS)
    meshes = index_by_stem(root, MESH_EXTENSIONS)
    ds.note(points.note("point file"))
    ds.note(meshes.note("mesh"))
    views_by_uid: dict[str, list[Path]] = {}
    for path in all_files(root, IMAGE_EXTENSIONS):
        views_by_uid.setdefault(path.parent.name, []).append(path)
    categories: set[str] = set()
    from_meshes = 0
    for uid, cat, data_path in records:
        categories.add(cat)
        found: Path | None = None
        if data_path:
            candidate = root / data_path.lstrip("/")
            found = candidate if candidate.is_file() else None
        found = found or points.get(uid)
        if found is None and uid in meshes:
            found, from_meshes = meshes[uid], from_meshes + 1
        if found is None:
            names = [f"{uid}{e}" for e in sorted(POINT_EXTENSIONS)] + [f"{uid}{e}" for e in sorted(MESH_EXTENSIONS)]
            where = f"{data_path} or " if data_path else ""
            expected = root / data_path.lstrip("/") if data_path else root / f"{uid}.glb"
            ds.missing(expected, f"3D object {uid} ({cat}) not found: tried {where}{tried(names)} at any depth")
            continue
        key = f"obj:{uid}"
        ds.items.append(Item(key, Modality.POINTS, path=found, label=cat))
        for j, view in enumerate(sorted(views_by_uid.get(uid, []))):
            ds.items.append(Item(f"{key}:view{j}", Modality.IMAGE, path=view, label=cat, owner=key))
    if from_meshes:
        ds.notes.append(f"{from_meshes} objects read from meshes (surface-sampled as `mcrsearch index` samples them)")
    ds.tasks.append(ZeroShot(Modality.POINTS, tuple(sorted(categories)), tuple(templates or POINT_CLOUD_TEMPLATES)))
    if ds.of(Modality.IMAGE):
        ds.tasks.append(PairedRetrieval(Modality.POINTS, Modality.IMAGE))
    else:
        ds.notes.append("no rendered views found; image<->3d retrieval skipped")
    return ds
