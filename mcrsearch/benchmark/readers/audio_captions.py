"""Audio-caption sets: AudioCaps (CSV rows youtube_id/start_time/caption) and Clotho (file_name, caption_1..5).

Protocol: audio<->text retrieval; each clip owns all its captions (5 in both test sets).
"""

from __future__ import annotations

import csv
from pathlib import Path

from mcrsearch.benchmark.dataset import Dataset, Item, PairedRetrieval
from mcrsearch.benchmark.files import find_file, index_by_name, index_by_stem
from mcrsearch.modality import AUDIO_EXTENSIONS, Modality


def _read_csv(path: Path, ds: Dataset) -> list[dict[str, str]]:
    try:
        with path.open(newline="", encoding="utf-8-sig") as fh:
            return [{(k or "").strip(): (v or "").strip() for k, v in row.items()} for row in csv.DictReader(fh)]
    except (OSError, csv.Error, UnicodeDecodeError) as exc:
        ds.missing(path, f"unreadable CSV ({exc})")
        return []


def _start_variants(start: str) -> list[str]:
    out = [start]
    try:
        value = float(start)
        out += [str(int(value)), f"{value:.1f}", f"{int(value) * 1000}"]
    except ValueError:
        pass
    return list(dict.fromkeys(out))


def read_audiocaps(root: Path, split: str = "test", **_: object) -> Dataset:
    """Audio files may be named `<youtube_id>`, `Y<youtube_id>`, `<youtube_id>_<start>` or `<audiocap_id>`."""
    ds = Dataset("audiocaps", root)
    ds.tasks.append(PairedRetrieval(Modality.AUDIO, Modality.TEXT))
    table = find_file(root, [f"{split}.csv", f"dataset/{split}.csv", f"audiocaps_{split}.csv"])
    if table is None:
        ds.missing(root / f"{split}.csv", "AudioCaps CSV not found under the root")
        return ds
    rows = _read_csv(table, ds)
    if rows and not {"youtube_id", "caption"} <= set(rows[0]):
        ds.missing(table, "CSV lacks the youtube_id and caption columns")
        return ds
    clips: dict[str, list[dict[str, str]]] = {}
    for row in rows:
        clips.setdefault(row["youtube_id"], []).append(row)
    audio = index_by_stem(root, AUDIO_EXTENSIONS)
    for yid, clip_rows in clips.items():
        start = clip_rows[0].get("start_time", "")
        stems = [yid, f"Y{yid}"]
        for s in _start_variants(start) if start else []:
            stems += [f"{yid}_{s}", f"Y{yid}_{s}"]
        stems += [r["audiocap_id"] for r in clip_rows if r.get("audiocap_id")]
        path = next((audio[s] for s in stems if s in audio), None)
        if path is None:
            ds.missing(root / f"{yid}.wav", f"audio for youtube_id {yid} not found (tried {', '.join(stems[:4])}...)")
            continue
        key = f"aud:{yid}"
        ds.items.append(Item(key, Modality.AUDIO, path=path))
        for j, row in enumerate(clip_rows):
            ds.items.append(Item(f"{key}:cap{j}", Modality.TEXT, text=row["caption"], owner=key))
    return ds


def read_clotho(root: Path, split: str = "evaluation", **_: object) -> Dataset:
    ds = Dataset("clotho", root)
    ds.tasks.append(PairedRetrieval(Modality.AUDIO, Modality.TEXT))
    table = find_file(root, [f"clotho_captions_{split}.csv", f"csv_files/clotho_captions_{split}.csv"])
    if table is None:
        ds.missing(root / f"clotho_captions_{split}.csv", "Clotho captions CSV not found under the root")
        return ds
    rows = _read_csv(table, ds)
    names = index_by_name(root)
    for row in rows:
        name = row.get("file_name", "")
        caps = [row[c] for c in sorted(k for k in row if k.startswith("caption_")) if row[c]]
        path = names.get(name)
        if path is None or path.suffix.lower() not in AUDIO_EXTENSIONS:
            ds.missing(root / split / name, "audio file listed in the captions CSV is missing")
            continue
        key = f"aud:{name}"
        ds.items.append(Item(key, Modality.AUDIO, path=path))
        for j, text in enumerate(caps):
            ds.items.append(Item(f"{key}:cap{j}", Modality.TEXT, text=text, owner=key))
    return ds
