"""Audio-caption sets: AudioCaps (CSV rows audiocap_id/youtube_id/start_time/caption) and Clotho
(file_name, caption_1..5).

Protocol: audio<->text retrieval; each clip owns all its captions (5 in both test sets). AudioCaps
clips are found under the names the common download tools give them (see docs/DATASETS.md):
`<ytid>`, `Y<ytid>`, `<ytid>_<start>`, `<ytid>_<startms>_<endms>`, AudioSet-style
`Y<ytid>_<start>.000_<end>.000`, or an `audiocap_id`, in any audio format mcrsearch lists plus `.m4a`.
"""

from __future__ import annotations

import re
from pathlib import Path

from mcrsearch.benchmark.dataset import Dataset, Item, PairedRetrieval, choose_split
from mcrsearch.benchmark.files import FileIndex, find_one, index_by_name, index_by_stem, nfc, tried
from mcrsearch.benchmark.tables import load_rows
from mcrsearch.modality import AUDIO_EXTENSIONS, Modality

AUDIO_FILES = AUDIO_EXTENSIONS | {".m4a"}      # yt-dlp's default audio download is AAC in .m4a
CLIP_SECONDS = 10.0                             # AudioCaps clips are 10 s windows of a YouTube video
_TIMED = re.compile(r"([A-Za-z0-9_-]{11})(?:_(\d+(?:\.\d+)?)(?:[_-](\d+(?:\.\d+)?))?)?")


def _has_column(column: str):
    def accept(path: Path) -> bool:
        try:
            with path.open("rb") as fh:
                return column.encode() in fh.read(4096)
        except OSError:
            return False
    return accept


def _start_names(yid: str, start: str) -> list[str]:
    """Stems the download tools write for a clip starting at `start` seconds."""
    try:
        value = float(start)
    except ValueError:
        return [f"{yid}_{start}", f"Y{yid}_{start}"]
    ms, end_ms = int(round(value * 1000)), int(round((value + CLIP_SECONDS) * 1000))
    names = [f"{yid}_{start}", f"{yid}_{int(value)}", f"{yid}_{value:.1f}", f"{yid}_{ms}",
             f"{yid}_{ms}_{end_ms}", f"{yid}_{value:.3f}_{value + CLIP_SECONDS:.3f}"]
    return names + ["Y" + n for n in names]


def _by_youtube_id(audio: FileIndex) -> dict[str, list[tuple[float | None, Path]]]:
    """Clips keyed by the 11-character YouTube id at the start of their stem (with or without `Y`),
    with the start written after it, if any; catches end times and number formats not listed above."""
    out: dict[str, list[tuple[float | None, Path]]] = {}
    for stem, path in audio.paths.items():
        for candidate in {stem, stem[1:] if stem.startswith("Y") else stem}:
            m = _TIMED.fullmatch(candidate)
            if m:
                out.setdefault(m.group(1), []).append((float(m.group(2)) if m.group(2) else None, path))
    return out


def _timed_match(entries: list[tuple[float | None, Path]], start: str) -> Path | None:
    try:
        value = float(start)
    except ValueError:
        value = None
    for found, path in entries:
        if found is None or value is None or abs(found - value) < 1e-6 or abs(found - value * 1000) < 1e-3:
            return path
    return None


def read_audiocaps(root: Path, split: str | None = None, **_: object) -> Dataset:
    """The AudioCaps CSV of `split` (train, val or test; default test) and its clips under `root`."""
    split = choose_split("audiocaps", split, ("train", "val", "test"), "test",
                         {"validation": "val", "valid": "val", "evaluation": "test"})
    ds = Dataset("audiocaps", root, split=split)
    ds.tasks.append(PairedRetrieval(Modality.AUDIO, Modality.TEXT))
    names = [f"{split}.csv", f"audiocaps_{split}.csv"]
    table = find_one(root, names, "AudioCaps CSV", accept=_has_column("youtube_id"))
    if table is None:
        ds.missing(root / names[0], f"AudioCaps CSV not found under the root (looked for {tried(names)} "
                                    "with a youtube_id column, at any depth)")
        return ds
    clips: dict[str, list[dict[str, str]]] = {}
    for _line, row in load_rows(ds, table, f"annotations ({split})", ("youtube_id", "caption")):
        clips.setdefault(row["youtube_id"], []).append(row)
    audio = index_by_stem(root, AUDIO_FILES)
    ds.note(audio.note("audio file"))
    timed = _by_youtube_id(audio)
    for yid, clip_rows in clips.items():
        start = clip_rows[0].get("start_time", "")
        stems = [yid, f"Y{yid}"] + (_start_names(yid, start) if start else [])
        stems += [r["audiocap_id"] for r in clip_rows if r.get("audiocap_id")]
        path = next((audio[s] for s in stems if s in audio), None) or _timed_match(timed.get(yid, []), start)
        if path is None:
            ids = [r["audiocap_id"] for r in clip_rows if r.get("audiocap_id")]
            spelled = _start_names(yid, start) if start else []
            shown = [yid, f"Y{yid}"] + ([spelled[0], spelled[4], "Y" + spelled[5]] if len(spelled) > 5
                                        else spelled[:1]) + ids
            ds.missing(root / f"{yid}.wav", f"audio for youtube_id {yid} (start {start or '?'}) not found: tried "
                                            f"{', '.join(shown)} (and other start/end spellings) with "
                                            f"{'/'.join(sorted(AUDIO_FILES))}, at any depth")
            continue
        key = f"aud:{yid}"
        ds.items.append(Item(key, Modality.AUDIO, path=path))
        for j, row in enumerate(clip_rows):
            ds.items.append(Item(f"{key}:cap{j}", Modality.TEXT, text=row["caption"], owner=key))
    return ds


def read_clotho(root: Path, split: str | None = None, **_: object) -> Dataset:
    """Clotho's `clotho_captions_<split>.csv` (development, validation or evaluation; default evaluation)."""
    split = choose_split("clotho", split, ("development", "validation", "evaluation"), "evaluation",
                         {"train": "development", "dev": "development", "val": "validation", "test": "evaluation"})
    ds = Dataset("clotho", root, split=split)
    ds.tasks.append(PairedRetrieval(Modality.AUDIO, Modality.TEXT))
    name = f"clotho_captions_{split}.csv"
    table = find_one(root, [name], "Clotho captions CSV")
    if table is None:
        ds.missing(root / name, f"Clotho captions CSV {name} not found under the root (at any depth)")
        return ds
    rows = load_rows(ds, table, f"annotations ({split})", ("file_name",))
    exact, by_stem = index_by_name(root, AUDIO_FILES), index_by_stem(root, AUDIO_FILES)
    ds.note(exact.note("audio file"))
    for line, row in rows:
        name = nfc(row["file_name"])
        caps = [row[c] for c in sorted(k for k in row if k.startswith("caption_")) if row[c]]
        path = exact.get(name) or by_stem.get(nfc(Path(name).stem))   # the same clip converted (.flac, .m4a)
        if path is None:
            others = "/".join(sorted(AUDIO_FILES))
            ds.missing(root / split / name, f"audio file listed on line {line} of {table.name} is missing "
                                            f"(tried {name} and {Path(name).stem} with {others})")
            continue
        if not caps:
            ds.missing(f"{table}:{line}", "row has no captions")
            continue
        key = f"aud:{name}"
        ds.items.append(Item(key, Modality.AUDIO, path=path))
        for j, text in enumerate(caps):
            ds.items.append(Item(f"{key}:cap{j}", Modality.TEXT, text=text, owner=key))
    return ds
