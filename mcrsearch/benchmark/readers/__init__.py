"""Dataset readers by benchmark name. Each takes the dataset root and returns a `Dataset`."""

from __future__ import annotations

import importlib
from pathlib import Path
from typing import Any

from mcrsearch.benchmark.dataset import Dataset
from mcrsearch.errors import ConfigError

# name -> "module:function", imported on demand.
READERS: dict[str, str] = {
    "coco": "mcrsearch.benchmark.readers.coco:read_coco",
    "coco-karpathy": "mcrsearch.benchmark.readers.coco:read_karpathy",
    "coco-val2017": "mcrsearch.benchmark.readers.coco:read_val2017",
    "audiocaps": "mcrsearch.benchmark.readers.audio_captions:read_audiocaps",
    "clotho": "mcrsearch.benchmark.readers.audio_captions:read_clotho",
    "objaverse-lvis": "mcrsearch.benchmark.readers.points3d:read_objaverse_lvis",
    "modelnet40": "mcrsearch.benchmark.readers.points3d:read_modelnet40",
    "eshot": "mcrsearch.benchmark.readers.eshot:read_eshot",
    "miniworld": "mcrsearch.miniworld.reader:read_miniworld",      # a plug-in: the mini-world sits on top
}


def register_reader(name: str, target: str) -> None:
    """Make `read_dataset(name, root)` call the reader at `target` ("module:function", imported on demand).

    A benchmark name already taken is refused (ConfigError) rather than replaced.
    """
    if name in READERS:
        raise ConfigError(f"A benchmark reader named '{name}' is already registered; choose another name.")
    READERS[name] = target


def read_dataset(name: str, root: str | Path, **options: Any) -> Dataset:
    """Read a benchmark dataset; missing files are recorded in `Dataset.problems`, never raised."""
    if name not in READERS:
        raise ConfigError(f"Unknown benchmark '{name}'; available: {', '.join(sorted(READERS))}.")
    root = Path(root).expanduser()
    if not root.is_dir():
        raise ConfigError(f"The dataset root {root} is not a folder.")
    module, _, func = READERS[name].partition(":")
    return getattr(importlib.import_module(module), func)(root, **{k: v for k, v in options.items() if v is not None})
