"""MSR-VTT as people have it: a folder of videos (`video0.mp4` ... `video9999.mp4`, any container PyAV opens)
and the annotations, either the 1k-A test list `MSRVTT_JSFUSION_test.csv` (columns key, vid_key, video_id,
sentence: one sentence per video) or `MSRVTT_data.json` ({"videos": [{"video_id", "split"}], "sentences":
[{"video_id", "caption"}]}: the official splits, 20 captions a video).

Tasks (C-MCR's results card reports the first two as "emergent modality binding"):
- audio -> video and video -> audio: a video's soundtrack (its first audio-model window, CLAP's 10 s) against
  every video's picture (sampled frames pooled, as the indexer stores them); relevant = the same video. No
  model was trained on audio-video pairs: the match goes through the text-aligned space (mAP, R@k);
- video <-> text: the captions against the videos, R@1/5/10 (the standard sanity row).
A video missing from the folder, or one that does not decode, is named in the report and skipped (its
captions with it); a silent video loses only its audio item.
"""

from __future__ import annotations

import json
from pathlib import Path

from mcrsearch.benchmark.dataset import ClassRetrieval, Dataset, Item, PairedRetrieval, choose_split
from mcrsearch.benchmark.files import find_one, index_by_stem, tried
from mcrsearch.benchmark.tables import load_rows
from mcrsearch.modality import VIDEO_EXTENSIONS, Modality

JSFUSION = "MSRVTT_JSFUSION_test.csv"
DATA_JSON = "MSRVTT_data.json"
_SPLITS = ("1k-a", "test", "train", "validate")


def _soundtrack_loader(path: Path):
    def load():
        from mcrsearch.video import load_soundtrack

        return load_soundtrack(path)
    return load


def read_msrvtt(root: Path, split: str | None = None, **_: object) -> Dataset:
    """The 1k-A test list (default, when present) or a split of MSRVTT_data.json, and the videos under `root`."""
    default = "1k-a" if find_one(root, [JSFUSION], "MSR-VTT 1k-A list") is not None else "test"
    split = choose_split("msrvtt", split, _SPLITS, default, {"1ka": "1k-a", "jsfusion": "1k-a", "val": "validate"})
    ds = Dataset("msrvtt", root, split=split)
    captions: dict[str, list[str]] = {}
    if split == "1k-a":
        table = find_one(root, [JSFUSION], "MSR-VTT 1k-A list")
        if table is None:
            ds.missing(root / JSFUSION, f"MSR-VTT 1k-A list not found under the root (looked for {tried([JSFUSION])})")
            return ds
        for _line, row in load_rows(ds, table, "1k-A test list", ("video_id", "sentence")):
            vid, sentence = row["video_id"].strip(), row["sentence"].strip()
            if vid and sentence:
                captions.setdefault(vid, []).append(sentence)
    else:
        data_file = find_one(root, [DATA_JSON], "MSR-VTT annotations")
        if data_file is None:
            ds.missing(root / DATA_JSON, f"MSR-VTT annotations not found under the root (looked for {tried([DATA_JSON])})")
            return ds
        try:
            data = json.loads(data_file.read_text(encoding="utf-8"))
            chosen = {str(v["video_id"]) for v in data["videos"] if v.get("split") == split}
            for s in data["sentences"]:
                if str(s["video_id"]) in chosen and str(s.get("caption", "")).strip():
                    captions.setdefault(str(s["video_id"]), []).append(str(s["caption"]).strip())
        except (OSError, ValueError, KeyError, TypeError) as exc:
            ds.missing(data_file, f"MSR-VTT annotations unreadable ({type(exc).__name__}: {exc})")
            return ds
        ds.read_from("annotations", data_file, f"split {split}")
    videos = index_by_stem(root, VIDEO_EXTENSIONS)
    for vid in sorted(captions, key=lambda v: (len(v), v)):
        path = videos.paths.get(vid)
        if path is None:
            ds.missing(root / f"{vid}.mp4", f"video {vid} not found under the root (any of "
                                             f"{', '.join(sorted(VIDEO_EXTENSIONS))})")
            continue
        ds.items.append(Item(vid, Modality.VIDEO, path, label=vid))
        ds.items.append(Item(f"{vid}#audio", Modality.AUDIO, path, label=vid, loader=_soundtrack_loader(path)))
        ds.items += [Item(f"{vid}#{i}", Modality.TEXT, text=t, owner=vid) for i, t in enumerate(captions[vid])]
    ds.tasks += [ClassRetrieval(Modality.AUDIO, Modality.VIDEO, pair="emergent"),
                 ClassRetrieval(Modality.VIDEO, Modality.AUDIO, pair="emergent"),
                 PairedRetrieval(Modality.VIDEO, Modality.TEXT)]
    ds.note("Audio is each video's soundtrack (its first 10 s, one CLAP window); a video's picture vector pools "
            "its segments' sampled frames. Relevant for audio<->video: the same video.")
    return ds
