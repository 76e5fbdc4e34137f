"""The mini-world's held-out test items: every ordered pair of modalities, scored at class level.

Within-MCR pairs (image-text, audio-text, 3d-image) were seen paired by one small MCR; the others
(audio-3d, audio-image, 3d-text) are emergent: no model saw them paired.
"""

from __future__ import annotations

from itertools import permutations
from pathlib import Path

from mcrsearch.benchmark.dataset import ClassRetrieval, Dataset, Item
from mcrsearch.modality import Modality

WITHIN_MCR_PAIRS: frozenset[frozenset[Modality]] = frozenset({
    frozenset({Modality.IMAGE, Modality.TEXT}),
    frozenset({Modality.AUDIO, Modality.TEXT}),
    frozenset({Modality.POINTS, Modality.IMAGE}),
})


def pair_kind(a: Modality, b: Modality) -> str:
    """'within' for pairs some MCR was trained on, 'emergent' for pairs no model saw together."""
    return "within" if frozenset({a, b}) in WITHIN_MCR_PAIRS else "emergent"


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
        ds.tasks.append(ClassRetrieval(q, t))
    return ds
