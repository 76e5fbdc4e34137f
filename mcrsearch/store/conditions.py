"""Search restrictions beside the target modality (`Filters`) and the payload fields they match, in one
backend-neutral form each backend turns into its own filter."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any



def path_fields(path: str) -> dict[str, Any]:
    """The payload fields filters use that follow from a path alone: its extension and the folders above it."""
    p = Path(path)
    folders = [str(d) for d in p.parents if d != Path(d.anchor)]
    return {"ext": p.suffix.lower().lstrip("."), "folders": folders}


@dataclass(frozen=True)
class Filters:
    """Restrictions on a search beside the target modality, each an exact payload condition (all must hold).

    `under`: absolute folders (an item matches when it lies under any of them); `types`: extensions, lower
    case without the dot (any of them); times are POSIX seconds compared with the file's modification time;
    durations in seconds (audio); point counts (3D); image width and height in pixels. None: no bound.
    """

    under: tuple[str, ...] = ()
    types: tuple[str, ...] = ()
    modified_after: float | None = None
    modified_before: float | None = None
    min_duration: float | None = None
    max_duration: float | None = None
    min_points: int | None = None
    max_points: int | None = None
    min_width: int | None = None
    min_height: int | None = None

    def __bool__(self) -> bool:
        return any(v not in (None, ()) for v in self.to_dict().values())

    def to_dict(self) -> dict[str, Any]:
        """The JSON form (saved searches, the API): only the bounds that are set."""
        out = {k: (list(v) if isinstance(v, tuple) else v) for k, v in self.__dict__.items()}
        return {k: v for k, v in out.items() if v not in (None, [])}

    def conditions(self) -> list[tuple[str, str, Any]]:
        """Backend-neutral conditions: ('any', field, values) or ('range', field, (gte, lte))."""
        out: list[tuple[str, str, Any]] = []
        if self.under:
            out.append(("any", "folders", list(self.under)))
        if self.types:
            out.append(("any", "ext", list(self.types)))
        ns = [None if t is None else float(t) * 1e9 for t in (self.modified_after, self.modified_before)]
        for name, lo, hi in (("mtime_ns", ns[0], ns[1]), ("duration", self.min_duration, self.max_duration),
                             ("point_count", self.min_points, self.max_points), ("width", self.min_width, None),
                             ("height", self.min_height, None)):
            if lo is not None or hi is not None:
                out.append(("range", name, (lo, hi)))
        return out

    def matches(self, payload: dict[str, Any]) -> bool:
        """Whether a payload passes every condition (the brute-force reference the tests compare with)."""
        for kind, name, value in self.conditions():
            have = payload.get(name)
            if kind == "any":
                vals = have if isinstance(have, list) else [have]
                if not set(vals) & set(value):
                    return False
            else:
                if have is None or (value[0] is not None and have < value[0]) or \
                        (value[1] is not None and have > value[1]):
                    return False
        return True
