"""The mini-world's held-out test items as a benchmark dataset: every ordered pair of modalities, class level.

Each task carries its pair kind: "within" where one small MCR was trained on such pairs (image-text,
audio-text, 3d-image, see `mcrsearch.topology`), "emergent" where no model saw the two modalities together.
The benchmark reports that tag; it knows nothing else about the mini-world.
"""

from __future__ import annotations

from itertools import permutations
from pathlib import Path

from mcrsearch.benchmark.dataset import ClassRetrieval, Dataset, Item
from mcrsearch.modality import Modality
from mcrsearch.topology import within_mcr


def pair_kind(a: Modality, b: Modality) -> str:
    """'within' for pairs some MCR was trained on, 'emergent' for pairs no model saw together."""
    return "within" if within_mcr(a, b) else "emergent"


def read_miniworld(root: Path, split: str = "test", **_: object) -> Dataset:
    from mcrsearch.miniworld.world import World

    ds = Dataset("miniworld", root)
    world = World.load(root)
    present: list[Modality] = []
    for modality in (Modality.IMAGE, Modality.TEXT, Modality.AUDIO, Modality.POINTS):
        selected = list(world.select(split=split, modality=modality))
        if not selected:
            ds.missing(root, f"the world has no {split} {modality.value} items")
            continue
        present.append(modality)
        for n, it in enumerate(selected):
            path = Path(it.path) if getattr(it, "path", None) else None
            text = getattr(it, "text", None)
            if path is not None and not path.is_file():
                ds.missing(path, "world item file is missing")
                continue
            key = f"{modality.value}:{path.relative_to(root).as_posix() if path and path.is_relative_to(root) else n}"
            ds.items.append(Item(key, modality, path=path, text=text, label=str(getattr(it, "class_name", None) or it.label)))
    for q, t in permutations(present, 2):
        ds.tasks.append(ClassRetrieval(q, t, pair=pair_kind(q, t)))
    return ds
