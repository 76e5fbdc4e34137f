"""Published numbers of the papers, shown beside ours in reports.

Only numbers read from a citable public source belong here, each with that source. The C-MCR and
Ex-MCR repository READMEs (MCR-PEFT/C-MCR, MCR-PEFT/Ex-MCR, read for this table) give demo softmax
matrices only, no benchmark tables, so every value is None until someone transcribes a paper table
and cites it here. Never fill a value from memory.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Published:
    method: str                 # e.g. "C-MCR", "Ex-MCR"
    metric: str                 # key as our rows spell it: "r@1", "map", "top1", ...
    value: float | None         # fraction in [0, 1]; None = not available from the sources we could read
    source: str


_README_NOTE = "MCR-PEFT/{repo} README: no benchmark table (demo outputs only)"

# (benchmark, task) -> entries. Tasks are spelled as the runner names them.
PUBLISHED: dict[tuple[str, str], tuple[Published, ...]] = {
    ("audiocaps", "audio->text"): (
        Published("C-MCR", "r@1", None, _README_NOTE.format(repo="C-MCR")),
        Published("Ex-MCR", "r@1", None, _README_NOTE.format(repo="Ex-MCR")),
    ),
    ("audiocaps", "text->audio"): (
        Published("C-MCR", "r@1", None, _README_NOTE.format(repo="C-MCR")),
        Published("Ex-MCR", "r@1", None, _README_NOTE.format(repo="Ex-MCR")),
    ),
    ("modelnet40", "zero-shot 3d"): (
        Published("C-MCR", "top1", None, _README_NOTE.format(repo="C-MCR")),
        Published("Ex-MCR", "top1", None, _README_NOTE.format(repo="Ex-MCR")),
    ),
    ("objaverse-lvis", "zero-shot 3d"): (
        Published("Ex-MCR", "top1", None, _README_NOTE.format(repo="Ex-MCR")),
    ),
    ("coco-karpathy", "image->text"): (
        Published("Ex-MCR", "r@1", None, _README_NOTE.format(repo="Ex-MCR")),
    ),
    ("coco-karpathy", "text->image"): (
        Published("Ex-MCR", "r@1", None, _README_NOTE.format(repo="Ex-MCR")),
    ),
}


def published_for(benchmark: str, task: str) -> list[dict[str, object]]:
    """Entries for one row as plain dicts (JSON-ready); empty when the paper reports nothing we hold."""
    entries = PUBLISHED.get((benchmark, task), ())
    if benchmark == "coco" and not entries:
        entries = PUBLISHED.get(("coco-karpathy", task), ())
    return [{"method": e.method, "metric": e.metric, "value": e.value, "source": e.source} for e in entries]
