"""The modalities mcrsearch searches across (four media, plus video made of both sound and picture), and
file-type detection by extension."""

from __future__ import annotations

import os
from enum import Enum
from pathlib import Path


class Modality(str, Enum):
    IMAGE = "image"
    TEXT = "text"
    AUDIO = "audio"
    POINTS = "3d"
    VIDEO = "video"       # one item made of time segments, each with a picture and (when it has sound) a sound vector

    @classmethod
    def parse(cls, value: "str | Modality") -> "Modality":
        """Accept the CLI spellings ('3d', 'points', 'pc', 'image', ...)."""
        if isinstance(value, Modality):
            return value
        key = value.strip().lower()
        aliases = {"3d": cls.POINTS, "points": cls.POINTS, "pc": cls.POINTS, "point": cls.POINTS,
                   "pointcloud": cls.POINTS, "mesh": cls.POINTS, "image": cls.IMAGE, "img": cls.IMAGE,
                   "text": cls.TEXT, "caption": cls.TEXT, "audio": cls.AUDIO, "sound": cls.AUDIO,
                   "video": cls.VIDEO, "movie": cls.VIDEO}
        if key not in aliases:
            from mcrsearch.errors import ConfigError

            raise ConfigError(f"Unknown modality '{value}'; use one of image, text, audio, 3d, video.")
        return aliases[key]


IMAGE_EXTENSIONS = frozenset({".jpg", ".jpeg", ".png", ".webp", ".bmp", ".gif"})
AUDIO_EXTENSIONS = frozenset({".wav", ".flac", ".ogg", ".mp3", ".m4a", ".aac", ".opus", ".wma", ".aif", ".aiff"})
MESH_EXTENSIONS = frozenset({".obj", ".stl", ".off", ".glb", ".gltf"})
POINT_EXTENSIONS = frozenset({".ply", ".xyz", ".pts", ".npy", ".npz"})
TEXT_EXTENSIONS = frozenset({".txt"})
# Containers FFmpeg (PyAV) opens; an audio-only one decodes as audio.
VIDEO_EXTENSIONS = frozenset({".mp4", ".mkv", ".webm", ".mov", ".avi", ".m4v", ".mpg", ".mpeg", ".ts", ".wmv",
                              ".flv", ".3gp", ".ogv"})

_BY_EXTENSION: dict[str, Modality] = {
    **{e: Modality.IMAGE for e in IMAGE_EXTENSIONS},
    **{e: Modality.AUDIO for e in AUDIO_EXTENSIONS},
    **{e: Modality.POINTS for e in MESH_EXTENSIONS | POINT_EXTENSIONS},
    **{e: Modality.TEXT for e in TEXT_EXTENSIONS},
    **{e: Modality.VIDEO for e in VIDEO_EXTENSIONS},
}

SUPPORTED_EXTENSIONS = frozenset(_BY_EXTENSION)


def detect_modality(path: str | Path) -> Modality | None:
    """The modality a file is indexed as, from its extension; None for files mcrsearch skips.

    The suffix is taken as `Path.suffix` takes it, from the string: the scan asks this of every file in a
    tree, and building a Path for it cost as much as the scan's stat.
    """
    name = os.path.basename(os.fspath(path))
    dot = name.rfind(".")
    return _BY_EXTENSION.get(name[dot:].lower()) if 0 < dot < len(name) - 1 else None
