"""Plug-ins through Python entry points: how the engine finds code that sits above it without naming it.

Spaces (group `mcrsearch.spaces`), encoder families (`mcrsearch.encoders`) and benchmark readers
(`mcrsearch.readers`) are declared in pyproject.toml's `[project.entry-points]` beside the import-linter
contracts, as `name = "module:attribute"`; the engine imports a target only when that name is asked for.
So the mini-world (and any other distribution's plug-in) adds spaces, encoders and readers while the engine's
code names no module above it (tests/test_architecture.py checks every declared target against the layers).

An editable install made before an entry point was added has stale metadata: for this project's own
distribution, a group missing from the installed metadata is read from the source tree's pyproject.toml.
"""

from __future__ import annotations

import importlib
import importlib.metadata
from functools import lru_cache
from pathlib import Path
from typing import Any

from mcrsearch.errors import ConfigError

GROUPS = ("mcrsearch.spaces", "mcrsearch.encoders", "mcrsearch.readers")
DISTRIBUTION = "mcrsearch"


def _own_declared(group: str) -> dict[str, str]:
    """The group as this source tree's pyproject.toml declares it ({} outside a source checkout)."""
    pyproject = Path(__file__).resolve().parent.parent / "pyproject.toml"
    if not pyproject.is_file():
        return {}
    try:
        import tomllib
    except ImportError:  # pragma: no cover - Python 3.10: an installed wheel's metadata is never stale
        return {}
    with pyproject.open("rb") as fh:
        project = tomllib.load(fh).get("project", {})
    if project.get("name") != DISTRIBUTION:
        return {}
    return dict(project.get("entry-points", {}).get(group, {}))


@lru_cache(maxsize=None)
def targets(group: str) -> dict[str, str]:
    """name -> "module:attribute" for every plug-in of `group`, from every installed distribution."""
    found = {ep.name: ep.value for ep in importlib.metadata.entry_points(group=group)}
    try:
        installed = bool(importlib.metadata.distribution(DISTRIBUTION).entry_points.select(group=group))
    except importlib.metadata.PackageNotFoundError:
        installed = False
    if not installed:
        found = {**_own_declared(group), **found}
    return found


def load(target: str) -> Any:
    """Import "module:attribute" and return the attribute."""
    module, _, attribute = target.partition(":")
    try:
        return getattr(importlib.import_module(module), attribute)
    except (ImportError, AttributeError) as exc:
        raise ConfigError(f"The plug-in '{target}' cannot be loaded ({exc}).") from exc
