"""Query filters as users spell them (`--under ~/media`, `--type .WAV`, `--modified-after 2024-05-01`) turned
into the store's exact `Filters` (absolute folders, lower-case extensions, POSIX seconds).

Parsed once, where a request enters (the Client); everything below takes `Filters`.
"""

from __future__ import annotations

import os
from datetime import date, datetime
from pathlib import Path
from typing import Any, Mapping

from mcrsearch.errors import ConfigError
from mcrsearch.store import Filters

#: The keys `where` accepts (Client.query, the API's query parameters, saved searches).
WHERE_KEYS = ("under", "types", "modified_after", "modified_before", "min_duration", "max_duration",
              "min_points", "max_points", "min_width", "min_height")
_ALIASES = {"type": "types", "ext": "types", "folder": "under"}


def _many(value: Any) -> list[Any]:
    if value is None:
        return []
    return list(value) if isinstance(value, (list, tuple, set)) else [value]


def parse_time(value: Any, name: str) -> float | None:
    """A date ('2024-05-01'), a date and time ('2024-05-01T12:00', with or without a zone; without one it
    is local time, as file times are shown), a `date`/`datetime`, or POSIX seconds -> POSIX seconds."""
    if value is None or value == "":
        return None
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return float(value)
    if isinstance(value, datetime):
        return value.timestamp()
    if isinstance(value, date):
        return datetime(value.year, value.month, value.day).timestamp()
    try:
        return datetime.fromisoformat(str(value).strip()).timestamp()
    except ValueError:
        try:
            return float(str(value))
        except ValueError:
            raise ConfigError(f"Bad {name.replace('_', '-')} '{value}'; write a date like 2024-05-01 "
                              "or 2024-05-01T12:30.") from None


def _number(value: Any, name: str) -> float | None:
    if value is None or value == "":
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise ConfigError(f"Bad {name.replace('_', '-')} '{value}'; give a number.") from None
    if number < 0 or number != number:
        raise ConfigError(f"{name.replace('_', '-')} must be zero or more.")
    return number


def _whole(value: Any, name: str) -> int | None:
    number = _number(value, name)
    return None if number is None else int(number)


def parse_filters(where: "Filters | Mapping[str, Any] | None") -> Filters:
    """User spellings -> Filters. Relative folders are taken from the working directory; a folder that
    is the file system's root is no restriction.

    Raises:
        ConfigError: an unknown key, a bad date or number, or a range whose low end is above its high end.
    """
    if where is None:
        return Filters()
    if isinstance(where, Filters):
        return where
    data = {_ALIASES.get(k, k): v for k, v in dict(where).items() if v is not None and v != [] and v != ""}
    unknown = sorted(set(data) - set(WHERE_KEYS))
    if unknown:
        raise ConfigError(f"Unknown filter {', '.join(unknown)}; the filters are {', '.join(WHERE_KEYS)}.")
    under = []
    for folder in _many(data.get("under")):
        path = Path(os.path.abspath(Path(str(folder)).expanduser()))
        if path != Path(path.anchor):
            under.append(str(path))
    types = sorted({str(t).strip().lower().lstrip(".") for t in _many(data.get("types")) if str(t).strip(". ")})
    filters = Filters(
        under=tuple(dict.fromkeys(under)), types=tuple(types),
        modified_after=parse_time(data.get("modified_after"), "modified_after"),
        modified_before=parse_time(data.get("modified_before"), "modified_before"),
        min_duration=_number(data.get("min_duration"), "min_duration"),
        max_duration=_number(data.get("max_duration"), "max_duration"),
        min_points=_whole(data.get("min_points"), "min_points"),
        max_points=_whole(data.get("max_points"), "max_points"),
        min_width=_whole(data.get("min_width"), "min_width"),
        min_height=_whole(data.get("min_height"), "min_height"))
    for lo, hi, what in ((filters.modified_after, filters.modified_before, "modified-after is later than "
                          "modified-before"), (filters.min_duration, filters.max_duration, "min-duration is "
                          "above max-duration"), (filters.min_points, filters.max_points, "min-points is above "
                          "max-points")):
        if lo is not None and hi is not None and lo > hi:
            raise ConfigError(f"The filter matches nothing: {what}.")
    return filters
