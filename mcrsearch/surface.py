"""The search surface, declared once: what `mcrsearch.Client` (in this process) and
`mcrsearch.server.remote.RemoteClient` (a running `mcrsearch serve`) both offer, and the one reading of
`query`'s inputs they share.

`SearchClient.query` is the parameter list: `Client.query` repeats it (tests/test_congruence.py checks the
two signatures are equal) and `RemoteClient.query` binds its arguments to it (`query_arguments`). A new
input kind is one row of `QUERY_INPUTS`; a new parameter is one line here and one in `Client.query`.
"""

from __future__ import annotations

import inspect
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Iterable, Mapping, Protocol, Sequence, Union, runtime_checkable

from mcrsearch.modality import Modality

if TYPE_CHECKING:
    from mcrsearch_indexer.report import IndexProgress, IndexReport
    from mcrsearch.duplicates import DuplicateGroup
    from mcrsearch.explain import HeatMap
    from mcrsearch.search import Hit, Item, MediaBytes
    from mcrsearch.store import Filters

#: A query file: a path, an upload (`MediaBytes`), or media already decoded (PIL image, AudioClip, xyz array).
MediaInput = Union[str, Path, "MediaBytes", Any]


@dataclass(frozen=True)
class InputKind:
    """One input parameter of `query`: what it holds and how it counts."""

    name: str                   # the parameter's name: 'audio', 'not_text', 'like' ...
    modality: Modality | None   # None: indexed items (`like`), given by id or path
    negative: bool = False      # "less like this"

    @property
    def is_like(self) -> bool:
        return self.modality is None

    @property
    def is_file(self) -> bool:
        """Whether its values are query files (uploaded to a server; texts and item ids are sent as fields)."""
        return self.modality is not None and self.modality is not Modality.TEXT

    @property
    def weight_key(self) -> str:
        """The key of `weights` that weighs it: a modality or 'like', with 'not-' for a negative input."""
        base = "like" if self.modality is None else self.modality.value
        return f"not-{base}" if self.negative else base


def _input_kinds() -> dict[str, InputKind]:
    media = (("audio", Modality.AUDIO), ("image", Modality.IMAGE), ("text", Modality.TEXT),
             ("points", Modality.POINTS), ("video", Modality.VIDEO))
    kinds = [InputKind(name, m) for name, m in media] + [InputKind(f"not_{name}", m, True) for name, m in media]
    kinds += [InputKind("like", None), InputKind("not_like", None, True)]
    return {kind.name: kind for kind in kinds}


#: Every input parameter of `query`, in the order its inputs are fused (media, negative media, items).
QUERY_INPUTS: dict[str, InputKind] = _input_kinds()


def many(value: Any) -> list[Any]:
    """None -> [], one value -> [value], a list or tuple -> its items. A string, a path, bytes or an array
    count as one value (so `text="red"` is one text, not three letters)."""
    if value is None:
        return []
    return list(value) if isinstance(value, (list, tuple)) else [value]


def gather_inputs(arguments: Mapping[str, Any]) -> dict[str, list[Any]]:
    """Each input parameter of `QUERY_INPUTS` (missing ones empty) as a list of its values.

    Args:
        arguments: a `query` call's arguments by name (other names are ignored).
    Returns:
        {parameter name: [values]} for every input kind, in `QUERY_INPUTS` order.
    """
    return {name: many(arguments.get(name)) for name in QUERY_INPUTS}


def query_arguments(*args: Any, **kwargs: Any) -> dict[str, Any]:
    """A `query` call's arguments by name, defaults filled in, bound as `SearchClient.query` declares them
    (an unknown or doubled argument is a TypeError, as for any Python call)."""
    bound = inspect.signature(SearchClient.query).bind(None, *args, **kwargs)
    bound.apply_defaults()
    return {name: value for name, value in bound.arguments.items() if name != "self"}


@runtime_checkable
class SearchClient(Protocol):
    """What every client of a collection answers, in process or over HTTP, with the same results and the
    same error classes (see mcrsearch.errors): indexing, searching, reading, removing, duplicates and saved
    searches."""

    def index(self, path: str | Path, space: str | None = None, *,
              progress: "Callable[[IndexProgress], None] | None" = None,
              cancel: Callable[[], bool] | None = None, ray: str | bool | None = None,
              rebuild: bool = False) -> "IndexReport":
        """Bring the collection in line with the files under `path`; see `mcrsearch.Client.index`."""
        ...

    def query(self, audio: MediaInput | Sequence[MediaInput] | None = None,
              image: MediaInput | Sequence[MediaInput] | None = None,
              text: str | Sequence[str] | None = None,
              points: MediaInput | Sequence[MediaInput] | None = None,
              like: str | Path | Sequence[str | Path] | None = None, target: str | Modality = "any",
              k: int = 10, weights: Mapping[str | Modality, float] | None = None, space: str | None = None,
              offset: int = 0, min_score: float | None = None,
              vectors: Mapping[str | Modality, Any] | None = None, *,
              not_audio: MediaInput | Sequence[MediaInput] | None = None,
              not_image: MediaInput | Sequence[MediaInput] | None = None,
              not_text: str | Sequence[str] | None = None,
              not_points: MediaInput | Sequence[MediaInput] | None = None,
              not_like: str | Path | Sequence[str | Path] | None = None,
              where: "Filters | Mapping[str, Any] | None" = None,
              video: MediaInput | Sequence[MediaInput] | None = None,
              not_video: MediaInput | Sequence[MediaInput] | None = None) -> list["Hit"]:
        """Search with one or several inputs, fused on calibrated scores; see `mcrsearch.Client.query`."""
        ...

    def explain(self, image: MediaInput | None = None, points: MediaInput | None = None, *,
                item: str | None = None, audio: MediaInput | None = None, text: str | None = None,
                like: str | Path | None = None, space: str | None = None, method: str = "",
                overlay: bool = False, at: float | None = None) -> "HeatMap":
        """Where a query lights up a picture, shape or video frame, and whether its source is there; see `Client.explain`."""
        ...

    def info(self) -> dict[str, Any]:
        """Collection, backend, spaces, counts per modality, storage size."""
        ...

    def retrieve(self, ids: Sequence[str]) -> list["Item"]:
        """The stored items with these ids (unknown ids are left out)."""
        ...

    def scroll(self, modality: str | Modality | None = None, limit: int = 50, offset: int = 0) -> list["Item"]:
        """Stored items in a stable order: `limit` of them after skipping `offset`, of one modality or all."""
        ...

    def count(self, target: str | Modality | None = None) -> int:
        """How many items the collection holds, of one modality or of all."""
        ...

    def delete(self, paths: Iterable[str | Path]) -> int:
        """Remove items by path (files, or folders with everything under them); how many were removed."""
        ...

    def duplicates(self, modality: str | Modality | None = None, threshold: float | None = None,
                   near: bool = True, space: str | None = None) -> list["DuplicateGroup"]:
        """Groups of identical files and near-duplicates; see `mcrsearch.Client.duplicates`."""
        ...

    def save_search(self, name: str, **query: Any) -> dict[str, Any]:
        """Save a search (`query`'s keyword arguments) under a name in the collection."""
        ...

    def saved_searches(self) -> list[dict[str, Any]]:
        ...

    def run_saved(self, name: str, k: int | None = None) -> list["Hit"]:
        """Run a saved search again; each hit's `new` says whether the last run missed it."""
        ...

    def delete_saved(self, name: str) -> bool:
        ...

    def close(self) -> None:
        ...

    def __enter__(self) -> "SearchClient":
        ...

    def __exit__(self, *exc: Any) -> None:
        ...
