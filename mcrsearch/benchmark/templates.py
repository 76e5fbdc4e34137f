"""Prompt templates for zero-shot classification.

`POINT_CLOUD_TEMPLATES` are 64 prompts written for mcrsearch in the style of ULIP's ModelNet40 set
(point-cloud / 3D-model phrasings crossed with size, quality and rendering qualifiers). They are not
ULIP's file verbatim: to reproduce a paper exactly, pass ULIP's own `templates.json` with
`--templates FILE` (`load_templates` reads a JSON list, or a JSON object with a `modelnet40_64` key,
or a text file with one template per line). Each template has exactly one `{}` for the class name.
"""

from __future__ import annotations

import json
from pathlib import Path

from mcrsearch.errors import ConfigError

_SUBJECTS = ("a point cloud of {}", "a 3D model of {}", "a point cloud model of {}", "a 3D scan of {}")
_QUALIFIERS = (
    "a {}", "the {}", "a small {}", "a large {}", "a clean {}", "a noisy {}", "a sparse {}", "a dense {}",
    "a simple {}", "a detailed {}", "a rough {}", "a cropped {}", "a tilted {}", "a centred {}",
    "a toy {}", "a real {}",
)

POINT_CLOUD_TEMPLATES: tuple[str, ...] = tuple(
    subject.replace("{}", qualifier) + "."
    for subject in _SUBJECTS
    for qualifier in _QUALIFIERS
)
assert len(POINT_CLOUD_TEMPLATES) == 64 and all(t.count("{}") == 1 for t in POINT_CLOUD_TEMPLATES)

AUDIO_TEMPLATES: tuple[str, ...] = ("the sound of a {}.", "a recording of a {}.", "this is a sound of {}.", "a {} making noise.")


def prompts(templates: tuple[str, ...] | list[str], class_name: str) -> list[str]:
    """All prompts for one class, with underscores in class names read as spaces (LVIS style)."""
    name = class_name.replace("_", " ").strip()
    return [t.format(name) for t in templates]


def load_templates(path: str | Path, key: str = "modelnet40_64") -> tuple[str, ...]:
    """Templates from a JSON list, a JSON object holding `key`, or a text file (one per line)."""
    p = Path(path)
    if not p.is_file():
        raise ConfigError(f"The templates file {p} does not exist.")
    text = p.read_text(encoding="utf-8")
    try:
        data = json.loads(text)
    except json.JSONDecodeError:
        data = [line.strip() for line in text.splitlines() if line.strip()]
    if isinstance(data, dict):
        if key not in data:
            raise ConfigError(f"The templates file {p} has no '{key}' entry (it has: {', '.join(sorted(data))}).")
        data = data[key]
    if not isinstance(data, list) or not data or not all(isinstance(t, str) and t.count("{}") == 1 for t in data):
        raise ConfigError(f"The templates file {p} must list templates that each contain one '{{}}'.")
    return tuple(data)
