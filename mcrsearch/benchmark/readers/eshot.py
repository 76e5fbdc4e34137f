"""EShot: audio <-> point-cloud zero-shot set (about 3,500 samples in 112 classes, E-MM1 release).

The release's own file layout was not available to us, so two documented layouts are read:
1. a manifest CSV (`eshot.csv`, `manifest.csv` or `metadata.csv`) with columns `path` (or `file`),
   `label` (or `class`) and optionally `modality` (audio / 3d); paths are relative to the root;
2. class folders: `<root>/<class>/**/<file>`, audio and point/mesh files told apart by extension.
Protocol: class-level retrieval audio->3d and 3d->audio (mAP, R@k), plus text-prompt zero-shot for
each modality when the space also embeds text.
"""

from __future__ import annotations

from pathlib import Path

from mcrsearch.benchmark.dataset import ClassRetrieval, Dataset, Item, ZeroShot, choose_split
from mcrsearch.benchmark.files import all_files, find_one
from mcrsearch.benchmark.tables import load_rows
from mcrsearch.benchmark.templates import AUDIO_TEMPLATES, POINT_CLOUD_TEMPLATES
from mcrsearch.modality import AUDIO_EXTENSIONS, MESH_EXTENSIONS, POINT_EXTENSIONS, Modality, detect_modality

_MEDIA = AUDIO_EXTENSIONS | MESH_EXTENSIONS | POINT_EXTENSIONS


def read_eshot(root: Path, split: str | None = None, **_: object) -> Dataset:
    choose_split("eshot", split, ("test",), "test")
    ds = Dataset("eshot", root, split="test")
    manifest = find_one(root, ["eshot.csv", "manifest.csv", "metadata.csv"], "EShot manifest")
    if manifest is not None:
        _from_manifest(root, manifest, ds)
    else:
        ds.read_from("class folders", root)
        _from_folders(root, ds)
    classes = tuple(sorted({i.label for i in ds.items if i.label}))
    ds.tasks += [ClassRetrieval(Modality.AUDIO, Modality.POINTS), ClassRetrieval(Modality.POINTS, Modality.AUDIO),
                 ZeroShot(Modality.AUDIO, classes, AUDIO_TEMPLATES), ZeroShot(Modality.POINTS, classes, POINT_CLOUD_TEMPLATES)]
    for modality in (Modality.AUDIO, Modality.POINTS):
        if not ds.of(modality):
            ds.missing(root, f"no {modality.value} files found")
    return ds


def _from_manifest(root: Path, manifest: Path, ds: Dataset) -> None:
    for line, row in load_rows(ds, manifest, "manifest", ()):
        rel = row.get("path") or row.get("file") or ""
        label = row.get("label") or row.get("class") or ""
        path = root / rel
        if not rel or not label:
            ds.missing(f"{manifest}:{line}", "row lacks a path or a label")
            continue
        if not path.is_file():
            ds.missing(path, "file listed in the manifest is missing")
            continue
        given = row.get("modality") or ""
        modality = Modality.parse(given) if given else detect_modality(path)
        if modality not in (Modality.AUDIO, Modality.POINTS):
            ds.missing(path, "neither an audio nor a 3D file")
            continue
        ds.items.append(Item(f"{modality.value}:{rel}", modality, path=path, label=label))


def _from_folders(root: Path, ds: Dataset) -> None:
    for folder in sorted(p for p in root.iterdir() if p.is_dir() and not p.name.startswith(".")) if root.is_dir() else []:
        for path in all_files(folder, _MEDIA):
            modality = detect_modality(path)
            if modality is None:        # all_files keeps media files only; a guard for the type
                continue
            rel = path.relative_to(root).as_posix()
            ds.items.append(Item(f"{modality.value}:{rel}", modality, path=path, label=folder.name))
