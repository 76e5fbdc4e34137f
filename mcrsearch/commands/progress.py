"""Progress bars for the CLI. Library code (trainer, benchmark runner, mini-world demo) reports progress through
plain callbacks and never imports rich; the commands turn those callbacks into bars here, on stderr."""

from __future__ import annotations

from typing import Any, Callable

from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

from mcrsearch.commands.common import console


class Bars:
    """A group of transient rich bars on stderr; a context manager.

    Args:
        *extra: rich columns shown after the count (e.g. a loss field).
        disable: draw nothing (e.g. under `--json`).
        count: the column that shows the count (default "done/total"; e.g. rich's DownloadColumn for bytes).
        transient: remove the bars when done.
    """

    def __init__(self, *extra: Any, disable: bool = False, count: Any = None, transient: bool = True) -> None:
        self._p = Progress(TextColumn("{task.description}"), BarColumn(), count or MofNCompleteColumn(), *extra,
                           TimeRemainingColumn(), console=console, transient=transient, disable=disable)

    def __enter__(self) -> "Bars":
        self._p.__enter__()
        return self

    def __exit__(self, *exc: Any) -> None:
        self._p.__exit__(*exc)

    def add(self, label: str, total: int | None = None, **fields: Any) -> Any:
        """A new bar; returns its task id (for `update`)."""
        return self._p.add_task(label, total=total, **fields)

    def update(self, task: Any, **changes: Any) -> None:
        """Change a bar: `completed`, `total`, `description` or a custom field."""
        self._p.update(task, **changes)

    def counter(self, label: str, total: int | None) -> Callable[[int], None]:
        """A callback that advances a new bar by the amount just done (the benchmark runner's and fetch's kind)."""
        task = self.add(label, total)
        return lambda n: self._p.advance(task, n)

    def tracker(self, label: str, **fields: Any) -> Callable[..., None]:
        """A callback `(done, total, **fields)` that draws a bar, created on its first call (the trainer's kind)."""
        state: dict[str, Any] = {}

        def track(done: int, total: int, **values: Any) -> None:
            if "task" not in state:
                state["task"] = self.add(label, total, **{**fields, **values})
            self._p.update(state["task"], completed=done, total=total, **values)

        return track
