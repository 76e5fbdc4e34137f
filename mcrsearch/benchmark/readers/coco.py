"""COCO captions: the Karpathy 5k test split (`dataset_coco.json`) or val2017 (`captions_val2017.json`).

Protocol: image<->text retrieval, first `max_captions` (5) captions per image, so the Karpathy test
split gives 5,000 images x 25,000 captions.
"""

from __future__ import annotations

import json
from pathlib import Path

from mcrsearch.benchmark.dataset import Dataset, Item, PairedRetrieval
from mcrsearch.benchmark.files import find_file, index_by_name
from mcrsearch.modality import Modality


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


def read_karpathy(root: Path, split: str = "test", max_captions: int = 5, **_: object) -> Dataset:
    ds = Dataset("coco-karpathy", root)
    ds.tasks.append(PairedRetrieval(Modality.IMAGE, Modality.TEXT))
    ann = find_file(root, ["dataset_coco.json", "annotations/dataset_coco.json"])
    if ann is None:
        ds.missing(root / "dataset_coco.json", "Karpathy split file not found under the root")
        return ds
    data = _load_json(ann, ds)
    if data is None:
        return ds
    names = index_by_name(root)
    for entry in data.get("images", []):
        if entry.get("split") != split:
            continue
        filename = entry.get("filename", "")
        folder = entry.get("filepath", "")
        path = next((p for p in (root / folder / filename, root / "images" / folder / filename) if p.is_file()),
                    names.get(filename))
        if path is None:
            ds.missing(root / folder / filename, "image listed in dataset_coco.json is missing")
            continue
        key = f"img:{entry.get('cocoid', filename)}"
        ds.items.append(Item(key, Modality.IMAGE, path=path))
        sentences = entry.get("sentences", [])[:max_captions]
        if not sentences:
            ds.missing(path, "image has no captions")
        for j, sent in enumerate(sentences):
            text = sent.get("raw") or " ".join(sent.get("tokens", []))
            ds.items.append(Item(f"{key}:cap{j}", Modality.TEXT, text=text.strip(), owner=key))
    if not ds.of(Modality.IMAGE):
        ds.missing(ann, f"no images of split '{split}' were found")
    return ds


def read_val2017(root: Path, max_captions: int = 5, **_: object) -> Dataset:
    ds = Dataset("coco-val2017", root)
    ds.tasks.append(PairedRetrieval(Modality.IMAGE, Modality.TEXT))
    ann = find_file(root, ["annotations/captions_val2017.json", "captions_val2017.json"])
    if ann is None:
        ds.missing(root / "annotations" / "captions_val2017.json", "captions file not found under the root")
        return ds
    data = _load_json(ann, ds)
    if data is None:
        return ds
    captions: dict[int, list[str]] = {}
    for a in data.get("annotations", []):
        captions.setdefault(int(a["image_id"]), []).append(str(a.get("caption", "")).strip())
    names = index_by_name(root)
    for img in sorted(data.get("images", []), key=lambda x: int(x["id"])):
        filename = img.get("file_name", "")
        path = next((p for p in (root / "val2017" / filename, root / "images" / "val2017" / filename) if p.is_file()),
                    names.get(filename))
        if path is None:
            ds.missing(root / "val2017" / filename, "image listed in captions_val2017.json is missing")
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
    if find_file(root, ["dataset_coco.json", "annotations/dataset_coco.json"]) is not None:
        return read_karpathy(root, **options)
    return read_val2017(root, **options)
