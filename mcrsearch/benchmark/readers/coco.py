"""COCO captions: the Karpathy 5k test split (`dataset_coco.json`) or val2017 (`captions_val2017.json`).

Protocol: image<->text retrieval, first `max_captions` (5) captions per image, so the Karpathy test
split gives 5,000 images x 25,000 captions.
"""

from __future__ import annotations

import json
from pathlib import Path

from mcrsearch.benchmark.dataset import Dataset, Item, PairedRetrieval, choose_split
from mcrsearch.benchmark.files import find_one, index_by_name, tried
from mcrsearch.modality import IMAGE_EXTENSIONS, Modality


def _load_json(path: Path, ds: Dataset) -> dict | None:
    try:
        with path.open(encoding="utf-8") as fh:
            data = json.load(fh)
    except (OSError, json.JSONDecodeError) as exc:
        ds.missing(path, f"unreadable annotation file ({exc})")
        return None
    if not isinstance(data, dict):
        ds.missing(path, "annotation file is not a JSON object")
        return None
    return data


def _karpathy_file(root: Path) -> Path | None:
    return find_one(root, ["dataset_coco.json"], "Karpathy split")


def _image_names(cocoid: object) -> list[str]:
    """Every name COCO gives the picture `cocoid`: 2017 folders and both 2014 folders."""
    try:
        n = int(cocoid)  # type: ignore[call-overload]
    except (TypeError, ValueError):
        return []
    return [f"{n:012d}.jpg", f"COCO_val2014_{n:012d}.jpg", f"COCO_train2014_{n:012d}.jpg"]


def read_karpathy(root: Path, split: str | None = None, max_captions: int = 5, **_: object) -> Dataset:
    """Karpathy's `dataset_coco.json`; images from the 2014 folders it names or, by cocoid, from
    `train2017/`/`val2017/` (`000000391895.jpg`), wherever they are under the root."""
    ds = Dataset("coco-karpathy", root)
    ds.tasks.append(PairedRetrieval(Modality.IMAGE, Modality.TEXT))
    ann = _karpathy_file(root)
    if ann is None:
        ds.missing(root / "dataset_coco.json", "Karpathy split file dataset_coco.json not found under the root")
        return ds
    data = _load_json(ann, ds)
    if data is None:
        return ds
    entries = [e for e in data.get("images", []) if isinstance(e, dict)]
    splits = sorted({str(e.get("split")) for e in entries if e.get("split")}) or ["test"]
    split = choose_split("coco-karpathy", split, splits, "test")
    ds.split = split
    ds.read_from(f"annotations and split ({split})", ann)
    names = index_by_name(root, IMAGE_EXTENSIONS)
    ds.note(names.note("image"))
    renamed = 0
    for entry in entries:
        if entry.get("split") != split:
            continue
        filename = entry.get("filename", "")
        folder = entry.get("filepath", "")
        path = next((p for p in (root / folder / filename, root / "images" / folder / filename) if p.is_file()),
                    names.get(filename))
        if path is None:
            path = next((names[n] for n in _image_names(entry.get("cocoid")) if n in names), None)
            renamed += path is not None
        if path is None:
            ds.missing(root / folder / filename, "image listed in dataset_coco.json is missing (tried "
                                                 f"{tried([filename, *_image_names(entry.get('cocoid'))[:1]])})")
            continue
        key = f"img:{entry.get('cocoid', filename)}"
        ds.items.append(Item(key, Modality.IMAGE, path=path))
        sentences = entry.get("sentences", [])[:max_captions]
        if not sentences:
            ds.missing(path, "image has no captions")
        for j, sent in enumerate(sentences):
            text = sent.get("raw") or " ".join(sent.get("tokens", []))
            ds.items.append(Item(f"{key}:cap{j}", Modality.TEXT, text=text.strip(), owner=key))
    if renamed:
        ds.notes.append(f"{renamed} images found by cocoid under their other COCO names (e.g. train2017/val2017)")
    if not ds.of(Modality.IMAGE):
        ds.missing(ann, f"no images of split '{split}' were found")
    return ds


def read_val2017(root: Path, split: str | None = None, max_captions: int = 5, **_: object) -> Dataset:
    """`captions_val2017.json` (or, with --split train, `captions_train2017.json`) and its images."""
    split = choose_split("coco-val2017", split, ("val2017", "train2017"), "val2017",
                         {"val": "val2017", "train": "train2017"})
    ds = Dataset("coco-val2017", root, split=split)
    ds.tasks.append(PairedRetrieval(Modality.IMAGE, Modality.TEXT))
    name = f"captions_{split}.json"
    ann = find_one(root, [name], "COCO captions")
    if ann is None:
        ds.missing(root / "annotations" / name, f"captions file {name} not found under the root")
        return ds
    data = _load_json(ann, ds)
    if data is None:
        return ds
    ds.read_from(f"annotations ({split})", ann)
    captions: dict[int, list[str]] = {}
    for a in data.get("annotations", []):
        captions.setdefault(int(a["image_id"]), []).append(str(a.get("caption", "")).strip())
    names = index_by_name(root, IMAGE_EXTENSIONS)
    ds.note(names.note("image"))
    for img in sorted(data.get("images", []), key=lambda x: int(x["id"])):
        filename = img.get("file_name", "")
        path = next((p for p in (root / split / filename, root / "images" / split / filename) if p.is_file()),
                    None) or next((names[n] for n in [filename, *_image_names(img["id"])] if n in names), None)
        if path is None:
            ds.missing(root / split / filename, f"image listed in {name} is missing")
            continue
        key = f"img:{img['id']}"
        caps = captions.get(int(img["id"]), [])[:max_captions]
        if not caps:
            ds.missing(path, "image has no captions")
            continue
        ds.items.append(Item(key, Modality.IMAGE, path=path))
        for j, text in enumerate(caps):
            ds.items.append(Item(f"{key}:cap{j}", Modality.TEXT, text=text, owner=key))
    return ds


def read_coco(root: Path, **options: object) -> Dataset:
    """Karpathy split when `dataset_coco.json` is present, else val2017."""
    if _karpathy_file(root) is not None:
        return read_karpathy(root, **options)  # type: ignore[arg-type]
    return read_val2017(root, **options)  # type: ignore[arg-type]
