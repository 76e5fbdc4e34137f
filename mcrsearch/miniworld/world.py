"""The mini-world's public API: its configuration, its items on disk, and how to (re)generate or load it.

Splits (instances never cross splits):
- "mcr-clip" image+text, "mcr-clap" audio+text, "mcr-ulip" 3d+image: three disjoint paired sets, one per mini MCR;
- "unpaired": per-modality corpora from disjoint instances, so no cross-modal pair exists in it;
- "test": held-out instances with all four modalities; ground truth for every pair is the class.
Files of one (split, instance) are true cross-modal partners of each other.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Sequence

import numpy as np

from mcrsearch.atomic import write_json_atomic
from mcrsearch.errors import ConfigError
from mcrsearch.miniworld.classes import DEFAULT_CLASSES, HARD_CLASSES
from mcrsearch.modality import Modality
from mcrsearch.topology import MCRS


def mcr_split(mcr: str) -> str:
    """The paired split a mini MCR trains on (e.g. "mcr-clip")."""
    return f"mcr-{mcr}"


# One paired split per declared MCR, with that MCR's two modalities.
PAIRED_SPLITS: dict[str, tuple[Modality, Modality]] = {mcr_split(name): m.modalities for name, m in MCRS.items()}
SPLITS: tuple[str, ...] = (*PAIRED_SPLITS, "unpaired", "test")
MESH_POINTS = 2048           # surface samples when a mini-world space decodes a mesh file
ALL_MODALITIES: tuple[Modality, ...] = (Modality.IMAGE, Modality.TEXT, Modality.AUDIO, Modality.POINTS)
MANIFEST = "manifest.json"
FORMAT_VERSION = 3          # bump whenever the generator changes its output: it is part of key()

# Instances per class: paired splits and test count instances; "unpaired" counts instances PER MODALITY.
_SCALES: dict[str, dict[str, int]] = {
    "default": {"mcr-clip": 40, "mcr-clap": 40, "mcr-ulip": 40, "unpaired": 24, "test": 10},
    "small": {"mcr-clip": 10, "mcr-clap": 10, "mcr-ulip": 10, "unpaired": 4, "test": 3},
    # 48 confusable classes; "unpaired" is the MEAN count per class, spread by `imbalance`.
    "hard": {"mcr-clip": 24, "mcr-clap": 24, "mcr-ulip": 24, "unpaired": 12, "test": 8},
}
_SMALL_CLASSES = 8
# Fields added after format 3: left out of to_json (and so of key()) at their defaults, so the keys and
# bytes of the default and small worlds do not change.
_OPTIONAL = {"imbalance": 0.0, "degrade": 0.0}


@dataclass(frozen=True)
class WorldConfig:
    """Everything that determines the world's files; `key()` names it (same key -> same bytes)."""

    seed: int = 0
    classes: tuple[str, ...] = DEFAULT_CLASSES
    counts: tuple[tuple[str, int], ...] = tuple(_SCALES["default"].items())
    scale: str = "default"
    points_per_cloud: int = 2048
    image_size: int = 64
    audio_rate: int = 16_000
    audio_seconds: float = 1.0
    imbalance: float = 0.0      # Zipf exponent of the unpaired per-class counts (0: every class alike)
    degrade: float = 0.0        # how much items may lose of their class (noise, occlusion, vague captions)

    @classmethod
    def preset(cls, scale: str = "default", seed: int = 0, **overrides) -> "WorldConfig":
        """The "default" world (16 classes), the "small" one for tests (8 classes, few items, fast), or the
        "hard" one (48 confusable classes, degraded items, imbalanced unpaired corpora) that tells methods apart."""
        if scale not in _SCALES:
            raise ConfigError(f"Unknown mini-world scale '{scale}'; use one of {', '.join(_SCALES)}.")
        base = cls(seed=seed, counts=tuple(_SCALES[scale].items()), scale=scale)
        if scale == "small":
            base = replace(base, classes=DEFAULT_CLASSES[:_SMALL_CLASSES], points_per_cloud=1024,
                           image_size=48, audio_seconds=0.75)
        if scale == "hard":
            base = replace(base, classes=HARD_CLASSES, points_per_cloud=1024, imbalance=0.6, degrade=1.0)
        return replace(base, **overrides) if overrides else base

    def count(self, split: str) -> int:
        return dict(self.counts).get(split, 0)

    def unpaired_count(self, label: int, modality: Modality) -> int:
        """Unpaired items of one class and modality: Zipf-distributed over classes (a different class
        order per modality, seeded) when `imbalance` > 0, so some classes are common and some rare."""
        mean = self.count("unpaired")
        if self.imbalance <= 0 or mean <= 0:
            return mean

        n = len(self.classes)
        order = np.random.default_rng([self.seed, 77, ALL_MODALITIES.index(modality)]).permutation(n)
        weights = (np.arange(1, n + 1, dtype=float)) ** -self.imbalance
        weights *= n / weights.sum()
        return max(2, int(round(mean * weights[int(np.flatnonzero(order == label)[0])])))

    def to_json(self) -> dict:
        data = asdict(self)
        data["classes"] = list(self.classes)
        data["counts"] = [list(c) for c in self.counts]
        for name, default in _OPTIONAL.items():
            if data[name] == default:
                del data[name]
        return data

    @classmethod
    def from_json(cls, data: dict) -> "WorldConfig":
        data = dict(data)
        data["classes"] = tuple(data["classes"])
        data["counts"] = tuple((str(k), int(v)) for k, v in data["counts"])
        return cls(**data)

    def key(self) -> str:
        blob = json.dumps({"v": FORMAT_VERSION, **self.to_json()}, sort_keys=True)
        return hashlib.sha256(blob.encode()).hexdigest()[:12]


@dataclass(frozen=True)
class WorldItem:
    """One file of the world. Items sharing (split, instance) are cross-modal partners."""

    id: str
    label: int
    class_name: str
    modality: Modality
    path: Path
    split: str
    instance: int
    sha1: str = ""

    def to_json(self, root: Path) -> dict:
        return {"id": self.id, "label": self.label, "class_name": self.class_name,
                "modality": self.modality.value, "path": self.path.relative_to(root).as_posix(),
                "split": self.split, "instance": self.instance, "sha1": self.sha1}

    @classmethod
    def from_json(cls, data: dict, root: Path) -> "WorldItem":
        return cls(id=data["id"], label=int(data["label"]), class_name=data["class_name"],
                   modality=Modality.parse(data["modality"]), path=root / data["path"], split=data["split"],
                   instance=int(data["instance"]), sha1=data.get("sha1", ""))


@dataclass
class World:
    root: Path
    config: WorldConfig
    items: list[WorldItem] = field(default_factory=list)
    timings: dict = field(default_factory=dict)
    format: int = FORMAT_VERSION

    @property
    def classes(self) -> list[str]:
        return list(self.config.classes)

    def key(self) -> str:
        return self.config.key()

    def select(self, split: str | Sequence[str] | None = None,
               modality: Modality | str | None = None) -> list[WorldItem]:
        """Items of a split (or several) and/or a modality, in stable manifest order."""
        splits = None if split is None else ({split} if isinstance(split, str) else set(split))
        mod = None if modality is None else Modality.parse(modality)
        return [it for it in self.items
                if (splits is None or it.split in splits) and (mod is None or it.modality is mod)]

    def partners(self, split: str, a: Modality | str, b: Modality | str) -> list[tuple[WorldItem, WorldItem]]:
        """(a, b) item pairs of one split that come from the same instance."""
        a, b = Modality.parse(a), Modality.parse(b)
        by_inst = {it.instance: it for it in self.select(split, b)}
        return [(it, by_inst[it.instance]) for it in self.select(split, a) if it.instance in by_inst]

    @classmethod
    def load(cls, root: str | Path) -> "World":
        root = Path(root)
        manifest = root / MANIFEST
        if not manifest.is_file():
            raise ConfigError(f"{root} holds no mini-world (no {MANIFEST}); run `mcrsearch demo` to generate one.")
        data = json.loads(manifest.read_text())
        config = WorldConfig.from_json(data["config"])
        items = [WorldItem.from_json(d, root) for d in data["items"]]
        return cls(root=root, config=config, items=items, timings=data.get("timings", {}),
                   format=int(data.get("format", 0)))

    def save_manifest(self) -> None:
        data = {"format": FORMAT_VERSION, "key": self.config.key(), "config": self.config.to_json(),
                "classes": self.classes, "timings": self.timings,
                "items": [it.to_json(self.root) for it in self.items]}
        write_json_atomic(self.root / MANIFEST, data, indent=1)


def decode_items(items: Sequence[WorldItem], modality: Modality | str | None = None) -> list:
    """Decode world files through `mcrsearch.media.decode` (meshes sampled to the spaces' `MESH_POINTS`)."""
    from mcrsearch.media import decode

    mod = Modality.parse(modality) if modality is not None else None
    return [decode(it.path, mod or it.modality, n_points=MESH_POINTS)[1] for it in items]
