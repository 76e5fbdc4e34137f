"""What a dataset reader hands the runner: items, the tasks to score on them, and what was missing.

Readers never raise for missing or partial data: each absent or unreadable file (or CSV row) becomes
a `Problem` (path + reason) and the benchmark runs on what is there, saying so in the report. They
raise only for what the user must decide: an ambiguous root (two copies of a file) or a split the
dataset does not have. Every annotation or split file read is recorded in `sources` for the report.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterable

from mcrsearch.errors import ConfigError
from mcrsearch.modality import Modality


@dataclass(frozen=True)
class Item:
    """One thing to embed: a media file, or a caption given inline (`text`)."""

    key: str                          # unique within the dataset
    modality: Modality
    path: Path | None = None          # None for inline texts
    text: str | None = None
    label: str | None = None          # class name for class-labelled sets
    owner: str | None = None          # key of the item this one is paired with (caption -> image)
    loader: Callable[[], Any] | None = field(default=None, compare=False, repr=False)
    # ^ decoded data for items that live inside an archive (ModelNet40's pickle) rather than in a file


@dataclass(frozen=True)
class Problem:
    path: str
    reason: str


@dataclass(frozen=True)
class PairedRetrieval:
    """`owners` (e.g. images) each own one or more `members` (e.g. captions); scored both directions."""

    owners: Modality
    members: Modality

    @property
    def name(self) -> str:
        return f"{self.owners.value}<->{self.members.value}"


@dataclass(frozen=True)
class ClassRetrieval:
    """Queries of one modality against targets of another; relevant = same class."""

    query: Modality
    target: Modality
    pair: str | None = field(default=None, compare=False)   # the reader's tag: "within" one MCR or "emergent"

    @property
    def name(self) -> str:
        return f"{self.query.value}->{self.target.value}"


@dataclass(frozen=True)
class ZeroShot:
    """Classify items of `modality` by text prompts built from class names and templates."""

    modality: Modality
    classes: tuple[str, ...]
    templates: tuple[str, ...]
    prompt_names: tuple[str, ...] = ()    # optional display names used in prompts (same order as classes)

    @property
    def name(self) -> str:
        return f"zero-shot {self.modality.value} ({len(self.classes)} classes, {len(self.templates)} templates)"


Task = PairedRetrieval | ClassRetrieval | ZeroShot


@dataclass
class Dataset:
    name: str
    root: Path
    items: list[Item] = field(default_factory=list)
    tasks: list[Task] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    sources: list[dict[str, str]] = field(default_factory=list)   # {"role", "path", "detail"}: files read
    split: str | None = None

    def missing(self, path: Path | str, reason: str) -> None:
        self.problems.append(Problem(str(path), reason))

    def read_from(self, role: str, path: Path | str, detail: str = "") -> None:
        """Record that `path` was read as the dataset's `role` (e.g. "annotations", "split list")."""
        entry = {"role": role, "path": str(path)}
        if detail:
            entry["detail"] = detail
        self.sources.append(entry)

    def note(self, text: str | None) -> None:
        if text:
            self.notes.append(text)

    def of(self, modality: Modality) -> list[Item]:
        return [i for i in self.items if i.modality == modality]

    def counts(self) -> dict[str, int]:
        out: dict[str, int] = {}
        for item in self.items:
            out[item.modality.value] = out.get(item.modality.value, 0) + 1
        return out

    def without(self, keys: Iterable[str]) -> "Dataset":
        """A copy without the given items (e.g. files that failed to decode) and orphaned members."""
        drop = set(keys)
        kept = [i for i in self.items if i.key not in drop]
        owners = {i.key for i in kept}
        kept = [i for i in kept if i.owner is None or i.owner in owners]
        return Dataset(self.name, self.root, kept, list(self.tasks), list(self.problems), list(self.notes),
                       list(self.sources), self.split)


def choose_split(dataset: str, split: str | None, available: Iterable[str], default: str,
                 aliases: dict[str, str] | None = None) -> str:
    """The split to read: `default` when none is given, else the given one (or its alias).

    Raises:
        ConfigError: the dataset has no such split; the message lists the ones it has.
    """
    if split is None:
        return default
    names = list(available)
    chosen = (aliases or {}).get(split, split)
    if chosen not in names:
        raise ConfigError(f"Benchmark '{dataset}' has no split '{split}'; use one of: {', '.join(names)}.")
    return chosen
