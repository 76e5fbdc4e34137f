"""Published numbers of the papers, shown beside ours in reports.

Only numbers read from a citable public source belong here, each with that source and, where it
comes from a paper, the table it was read from. Never fill a value from memory.

State of the transcription: the papers' own tables are still unread (below); the only values held are the
C-MCR results card's rows that match a benchmark we run (`_CARD_ROWS`), with the card's caveats. Sources checked:
- MCR-PEFT/C-MCR and MCR-PEFT/Ex-MCR READMEs: demo softmax matrices only, no benchmark tables.
- C-MCR (Wang et al., NeurIPS 2023, arXiv 2305.14381) and Ex-MCR (Zhang, Wang et al., NeurIPS 2024,
  arXiv 2310.08884), looked up through the stored page corpus (ar5iv, NeurIPS full-text copies,
  OpenReview): only each page's opening (abstract and start of the introduction) was readable, so
  no results table could be read. The abstracts confirm what is reported (C-MCR: zero-shot
  ModelNet40 and audio-image retrieval; Ex-MCR: audio-visual, 3D-image, audio-text and visual-text
  retrieval plus 3D classification) but give no values.
- The arXiv v1 of Ex-MCR and its NeurIPS 2024 version have different abstracts, so their tables may
  differ too: transcribe from the NeurIPS version and name the table in `table`.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Published:
    method: str                 # e.g. "C-MCR", "Ex-MCR"
    metric: str                 # key as our rows spell it: "r@1", "map", "top1", ...
    value: float | None         # fraction in [0, 1]; None = not available from the sources we could read
    source: str
    table: str | None = None    # table number / caption the value was read from; None while value is None


_CMCR = ("C-MCR (Wang et al., NeurIPS 2023, arXiv 2305.14381); MCR-PEFT/C-MCR README has no table; "
         "paper results table not readable in the sources searched")
_EXMCR = ("Ex-MCR (Zhang, Wang et al., NeurIPS 2024, arXiv 2310.08884); MCR-PEFT/Ex-MCR README has no table; "
          "paper results table not readable in the sources searched")

# (benchmark, task) -> entries. Tasks are spelled as the runner names them.
PUBLISHED: dict[tuple[str, str], tuple[Published, ...]] = {
    ("audiocaps", "audio->text"): (
        Published("C-MCR", "r@1", None, _CMCR),
        Published("Ex-MCR", "r@1", None, _EXMCR),
    ),
    ("audiocaps", "text->audio"): (
        Published("C-MCR", "r@1", None, _CMCR),
        Published("Ex-MCR", "r@1", None, _EXMCR),
    ),
    ("modelnet40", "zero-shot 3d"): (
        Published("C-MCR", "top1", None, _CMCR),
        Published("Ex-MCR", "top1", None, _EXMCR),
    ),
    ("objaverse-lvis", "zero-shot 3d"): (
        Published("Ex-MCR", "top1", None, _EXMCR),
    ),
    ("coco-karpathy", "image->text"): (
        Published("Ex-MCR", "r@1", None, _EXMCR),
    ),
    ("coco-karpathy", "text->image"): (
        Published("Ex-MCR", "r@1", None, _EXMCR),
    ),
}


# The C-MCR results card of the paper-tracking page the project was founded on (transcribed in
# ../shared/PUBLISHED.md; it showed 10 of its 20 rows). Values as printed there (percent -> fraction).
# The card names neither the retrieval direction nor the split protocol, and some rows may come from later
# papers that used C-MCR as a baseline: each entry is therefore attached to every direction it could mean.
_CARD = ("C-MCR results card, paper-tracking page 'Related benchmarks' (transcribed in shared/PUBLISHED.md)")


# (benchmark, the tasks the row could mean, metric, value as a fraction, the card's row as printed + caveats)
_CARD_ROWS = (
    ("coco-val2017", ("image->text", "text->image"), "r@1", 0.1434,
     "'Image-Text Retrieval, COCO (val), R@1 14.34'; direction not stated"),
    ("audiocaps", ("audio->text", "text->audio"), "map", 0.095,
     "'Audio-Text Retrieval, AudioCaps (val), mAP 9.5'; direction not stated; val split, ours may differ"),
    ("objaverse-lvis", ("3d->image", "image->3d"), "r@1", 0.0136,
     "'3D-Image Retrieval, Objaverse LVIS, R@1 1.36'; direction not stated; may come from a later paper"),
    ("modelnet40", ("zero-shot 3d",), "top1", 0.649, "'3D Point Cloud Classification, ModelNet40, Top-1 Accuracy 64.9'"),
    ("msrvtt", ("audio->video",), "map", 0.085,
     "'Emergent modality binding (au -> te -> vi), MSRVTT (test), mAP 8.5'; split protocol not stated"),
    ("msrvtt", ("video->audio",), "map", 0.098,
     "'Emergent modality binding (vi -> te -> au), MSRVTT (test), mAP 9.8'; split protocol not stated"),
)
for _bench, _tasks, _metric, _value, _row in _CARD_ROWS:
    for _task in _tasks:
        _others = tuple(p for p in PUBLISHED.get((_bench, _task), ()) if (p.method, p.metric) != ("C-MCR", _metric))
        PUBLISHED[(_bench, _task)] = (Published("C-MCR", _metric, _value, _CARD, _row),) + _others


def published_for(benchmark: str, task: str) -> list[dict[str, object]]:
    """Entries for one row as plain dicts (JSON-ready); empty when the paper reports nothing we hold."""
    entries = PUBLISHED.get((benchmark, task), ())
    if benchmark == "coco" and not entries:
        entries = PUBLISHED.get(("coco-karpathy", task), ())
    return [{"method": e.method, "metric": e.metric, "value": e.value, "source": e.source, "table": e.table}
            for e in entries]
