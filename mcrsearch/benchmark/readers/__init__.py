"""Dataset readers by benchmark name. Each takes the dataset root and returns a `Dataset`."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from mcrsearch import plugins
from mcrsearch.benchmark.dataset import Dataset
from mcrsearch.errors import ConfigError

# The built-in readers: name -> "module:function", imported on demand. Readers from above the benchmark
# package (the mini-world's `miniworld`) are entry points (mcrsearch.plugins).
READERS: dict[str, str] = {
    "coco": "mcrsearch.benchmark.readers.coco:read_coco",
    "coco-karpathy": "mcrsearch.benchmark.readers.coco:read_karpathy",
    "coco-val2017": "mcrsearch.benchmark.readers.coco:read_val2017",
    "audiocaps": "mcrsearch.benchmark.readers.audio_captions:read_audiocaps",
    "clotho": "mcrsearch.benchmark.readers.audio_captions:read_clotho",
    "objaverse-lvis": "mcrsearch.benchmark.readers.points3d:read_objaverse_lvis",
    "modelnet40": "mcrsearch.benchmark.readers.points3d:read_modelnet40",
    "eshot": "mcrsearch.benchmark.readers.eshot:read_eshot",
    "msrvtt": "mcrsearch.benchmark.readers.msrvtt:read_msrvtt",
}
READER_GROUP = "mcrsearch.readers"


def available_readers() -> dict[str, str]:
    """Every reader: the built-in ones, those registered at run time, and installed plug-ins'."""
    return {**plugins.targets(READER_GROUP), **READERS}


def register_reader(name: str, target: str) -> None:
    """Make `read_dataset(name, root)` call the reader at `target` ("module:function", imported on demand).

    A benchmark name already taken is refused (ConfigError) rather than replaced.
    """
    if name in available_readers():
        raise ConfigError(f"A benchmark reader named '{name}' is already registered; choose another name.")
    READERS[name] = target


def read_dataset(name: str, root: str | Path, **options: Any) -> Dataset:
    """Read a benchmark dataset; missing files are recorded in `Dataset.problems`, never raised."""
    readers = available_readers()
    if name not in readers:
        raise ConfigError(f"Unknown benchmark '{name}'; available: {', '.join(sorted(readers))}.")
    root = Path(root).expanduser()
    if not root.is_dir():
        raise ConfigError(f"The dataset root {root} is not a folder.")
    return plugins.load(readers[name])(root, **{k: v for k, v in options.items() if v is not None})
