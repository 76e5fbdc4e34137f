"""Sound-source localisation test sets as their releases lay them out: VGGSS, Flickr-SoundNet, Ex-VGGSS,
Ex-FlickrNet, MUSIC-Solo.

Layouts (read from the public repositories that release them):
- VGGSS (hche11/Localizing-Visual-Sounds-the-Hard-Way): `metadata/vggss.json`, a list of
  `{"file": ID, "class": ..., "bbox": [[x0, y0, x1, y1], ...]}` with coordinates as fractions of the frame;
  `metadata/vggss_test.csv`, one ID per row (first column); frames `frames/ID.jpg`, sounds `audio/ID.wav`.
- Flickr-SoundNet test (same repository, `metadata/flickr_test.csv`; boxes from the dataset's own release):
  one XML file per ID (`Annotations/ID.xml` or `anno/ID.xml`), each `bbox` element holding an annotator
  field first and then xmin, ymin, xmax, ymax in pixels of a 256 x 256 frame; a pixel is ground truth when
  two annotators boxed it (half when one did).
- Ex-VGGSS / Ex-FlickrNet (stoneMo/SLAVC, "A Closer Look at Weakly-Supervised Audio-Visual Source
  Localization", 2022): the test set above plus `metadata/<vggss|flickr>_test_plus_silent.csv`, whose rows
  `image ID, audio ID, label` with label `non-sounding` pair a frame with a sound whose source is not in it
  (silence, noise or an off-screen sound; the file does not say which). Frames and sounds are looked for in
  `extend_frames/` and `extend_audio/` (the ACL-SSL layout) and else in `frames/` and `audio/`.
- MUSIC-Solo test (DTaoo/Discriminative-Sounding-Objects-Localization, Hu et al. 2020, `music-exp/solotest.json`):
  one JSON object keyed by a frame's path under the frames folder, `VIDEO/frame_SSS/NNNNN.jpg` (a frame taken
  in second SSS of VIDEO), each value `{"bbox": [{"box": [x, y, w, h] in pixels, "normbox": [x, y, w, h] as
  fractions, "category_id": N}], "wdith": W, "height": H}` (the width key is spelt so in the release).
  Frames are read from `video_frames/` (the release's layout) or `frames/`; the sound is second SSS to SSS + 1
  of `audio/VIDEO.flac` (its pairs list names the MUSIC sound files so) or `.wav`. Frames with an empty
  `bbox` list show an instrument the release did not annotate and are left out, as its evaluation does.
Every file read is named in `sources`; a missing or malformed row costs only itself (`problems`).
The metadata may sit in `metadata/` or at the root; the test folder of Flickr may be the root or `test/`.
"""

from __future__ import annotations

import csv
import json
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Iterable

from mcrsearch.benchmark.localisation import LocDataset, LocSample
from mcrsearch.errors import ConfigError

FLICKR_FRAME = 256.0


def _find(root: Path, names: Iterable[str]) -> Path | None:
    for name in names:
        for base in (root / "metadata", root, root / "test"):
            if (base / name).is_file():
                return base / name
    return None


def _folder(root: Path, *names: str) -> Path:
    for name in names:
        for base in (root, root / "test"):
            if (base / name).is_dir():
                return base / name
    return root / names[-1]


def _rows(path: Path, problems: list[dict]) -> list[list[str]]:
    try:
        with open(path, newline="", encoding="utf-8") as f:
            return [row for row in csv.reader(f) if row and row[0].strip()]
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        problems.append({"path": str(path), "reason": f"unreadable CSV ({exc})"})
        return []


def _pair(image: Path, audio: Path, problems: list[dict]) -> bool:
    for p in (image, audio):
        if not p.is_file():
            problems.append({"path": str(p), "reason": "missing"})
            return False
    return True


def _vggss_boxes(path: Path, problems: list[dict]) -> dict[str, list[tuple[float, ...]]]:
    try:
        entries = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ConfigError(f"The VGGSS annotations {path} cannot be read ({exc}).") from exc
    boxes: dict[str, list[tuple[float, ...]]] = {}
    for i, entry in enumerate(entries if isinstance(entries, list) else []):
        try:
            file = str(entry["file"])
            found = [tuple(min(max(float(v), 0.0), 1.0) for v in b) for b in entry["bbox"]]
            if not found or any(len(b) != 4 for b in found):
                raise ValueError("a box needs four numbers")
            boxes[file] = found
        except (KeyError, TypeError, ValueError) as exc:
            problems.append({"path": f"{path}#{i}", "reason": f"bad annotation ({exc})"})
    return boxes


def _test_ids(root: Path, name: str, problems: list[dict]) -> tuple[Path, list[str]]:
    path = _find(root, [name])
    if path is None:
        raise ConfigError(f"No {name} under {root} (looked in metadata/ and the root).")
    return path, [row[0].strip() for row in _rows(path, problems)]


def read_vggss(root: Path, split: str | None = None, extended: bool = False) -> LocDataset:
    """VGGSS test (localisation); with `extended`, Ex-VGGSS (localisation and counterfactual)."""
    problems: list[dict] = []
    ann = _find(root, ["vggss.json"])
    if ann is None:
        raise ConfigError(f"No vggss.json under {root} (looked in metadata/ and the root).")
    boxes = _vggss_boxes(ann, problems)
    test_csv, ids = _test_ids(root, "vggss_test.csv", problems)
    frames, audio = _folder(root, "frames"), _folder(root, "audio")
    sources = [{"role": "annotations", "path": str(ann), "detail": f"{len(boxes)} annotated files"},
               {"role": "test list", "path": str(test_csv), "detail": f"{len(ids)} rows"}]
    samples = []
    for file in ids:
        if file not in boxes:
            problems.append({"path": f"{test_csv}:{file}", "reason": "no boxes in vggss.json"})
            continue
        image, sound = frames / f"{file}.jpg", audio / f"{file}.wav"
        if _pair(image, sound, problems):
            samples.append(LocSample(id=file, image=image, audio=sound, boxes=boxes[file]))
    name = "vggss"
    if extended:
        name = "ex-vggss"
        samples += _negatives(root, "vggss_test_plus_silent.csv", sources, problems)
    sources += [{"role": "frames", "path": str(frames)}, {"role": "audio", "path": str(audio)}]
    tasks = ("localisation", "counterfactual") if extended else ("localisation",)
    return LocDataset(name=name, samples=samples, sources=sources, problems=problems, split="test", tasks=tasks)


def read_ex_vggss(root: Path, split: str | None = None) -> LocDataset:
    return read_vggss(root, split, extended=True)


def flickr_boxes(path: Path) -> list[tuple[float, ...]]:
    """The boxes of one Flickr-SoundNet XML file, as fractions of the frame (raises ValueError if malformed)."""
    try:
        tree = ET.parse(path).getroot()
    except (ET.ParseError, OSError) as exc:
        raise ValueError(f"unreadable XML ({exc})") from exc
    out = []
    for box in tree.iter("bbox"):
        named = {child.tag: child.text for child in box}
        if all(k in named for k in ("xmin", "ymin", "xmax", "ymax")):
            values = [named[k] for k in ("xmin", "ymin", "xmax", "ymax")]
        else:
            values = [child.text for child in list(box)[1:5]]       # annotator first, then the corners
        if len(values) != 4:
            raise ValueError("a bbox needs four coordinates")
        out.append(tuple(min(max(float(str(v).strip()) / FLICKR_FRAME, 0.0), 1.0) for v in values))
    if not out:
        raise ValueError("no bbox element")
    return out


def read_flickr(root: Path, split: str | None = None, extended: bool = False) -> LocDataset:
    """Flickr-SoundNet test (localisation); with `extended`, Ex-FlickrNet (and counterfactual)."""
    problems: list[dict] = []
    test_csv, ids = _test_ids(root, "flickr_test.csv", problems)
    annotations = _folder(root, "anno", "Annotations")
    frames, audio = _folder(root, "frames"), _folder(root, "audio")
    sources = [{"role": "test list", "path": str(test_csv), "detail": f"{len(ids)} rows"},
               {"role": "annotations", "path": str(annotations), "detail": "one XML file per test ID"}]
    samples = []
    for file in ids:
        xml = annotations / f"{file}.xml"
        if not xml.is_file():
            problems.append({"path": str(xml), "reason": "missing"})
            continue
        try:
            boxes = flickr_boxes(xml)
        except ValueError as exc:
            problems.append({"path": str(xml), "reason": str(exc)})
            continue
        image, sound = frames / f"{file}.jpg", audio / f"{file}.wav"
        if _pair(image, sound, problems):
            samples.append(LocSample(id=file, image=image, audio=sound, boxes=boxes, consensus=2))
    name = "flickr-soundnet"
    if extended:
        name = "ex-flickrnet"
        samples += _negatives(root, "flickr_test_plus_silent.csv", sources, problems)
    sources += [{"role": "frames", "path": str(frames)}, {"role": "audio", "path": str(audio)}]
    tasks = ("localisation", "counterfactual") if extended else ("localisation",)
    return LocDataset(name=name, samples=samples, sources=sources, problems=problems, split="test", tasks=tasks)


def read_ex_flickrnet(root: Path, split: str | None = None) -> LocDataset:
    return read_flickr(root, split, extended=True)


def _negatives(root: Path, name: str, sources: list[dict], problems: list[dict]) -> list[LocSample]:
    """The `non-sounding` rows of the extended test list: a frame with a sound whose source is not in it."""
    path = _find(root, [name])
    if path is None:
        raise ConfigError(f"No {name} under {root}: the extended test set needs it (SLAVC's metadata).")
    frames, audio = _folder(root, "extend_frames", "frames"), _folder(root, "extend_audio", "audio")
    rows = _rows(path, problems)
    out = []
    for i, row in enumerate(rows):
        if len(row) < 3:
            problems.append({"path": f"{path}:{i + 1}", "reason": "fewer than three columns"})
            continue
        if row[2].strip() != "non-sounding":
            continue
        image, sound = frames / f"{row[0].strip()}.jpg", audio / f"{row[1].strip()}.wav"
        if _pair(image, sound, problems):
            out.append(LocSample(id=f"{row[0].strip()}_{row[1].strip()}", image=image, audio=sound, boxes=[],
                                 kind="non-sounding"))
    sources.append({"role": "negatives", "path": str(path), "detail": f"{len(out)} non-sounding pairs usable"})
    if frames != _folder(root, "frames"):
        sources.append({"role": "negative frames", "path": str(frames)})
    if audio != _folder(root, "audio"):
        sources.append({"role": "negative audio", "path": str(audio)})
    return out


def _music_boxes(key: str, entry: object) -> list[tuple[float, ...]]:
    """One solotest.json entry's boxes as (x0, y0, x1, y1) fractions ([] when it has none; ValueError if bad)."""
    if not isinstance(entry, dict) or not isinstance(entry.get("bbox"), list):
        raise ValueError("an entry needs a 'bbox' list")
    width = float(entry.get("wdith", entry.get("width", 0)) or 0)
    height = float(entry.get("height", 0) or 0)
    out = []
    for box in entry["bbox"]:
        if not isinstance(box, dict):
            raise ValueError("a bbox item must be an object")
        if isinstance(box.get("normbox"), list) and len(box["normbox"]) == 4:
            x, y, w, h = (float(v) for v in box["normbox"])
        elif isinstance(box.get("box"), list) and len(box["box"]) == 4 and width > 0 and height > 0:
            px, py, pw, ph = (float(v) for v in box["box"])
            x, y, w, h = px / width, py / height, pw / width, ph / height
        else:
            raise ValueError("a box needs 'normbox' [x, y, w, h] or 'box' with the frame's size")
        if w <= 0 or h <= 0:
            raise ValueError("a box needs a positive width and height")
        out.append(tuple(min(max(v, 0.0), 1.0) for v in (x, y, x + w, y + h)))
    return out


def read_music_solo(root: Path, split: str | None = None) -> LocDataset:
    """MUSIC-Solo test (localisation): DSOL's `solotest.json` boxes, its frames, and one second of sound each."""
    import re

    problems: list[dict] = []
    ann = _find(root, ["solotest.json"])
    if ann is None:
        raise ConfigError(f"No solotest.json under {root} (looked in metadata/, the root and test/).")
    try:
        entries = json.loads(ann.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ConfigError(f"The MUSIC-Solo annotations {ann} cannot be read ({exc}).") from exc
    if not isinstance(entries, dict):
        raise ConfigError(f"The MUSIC-Solo annotations {ann} are not one JSON object keyed by frame.")
    frames, audio = _folder(root, "frames", "video_frames"), _folder(root, "audio")
    samples, unannotated = [], 0
    for key, entry in entries.items():
        where = f"{ann}#{key}"
        found = re.fullmatch(r"([^/\\]+)/frame_(\d+)/[^/\\]+\.(?:jpg|jpeg|png)", str(key), re.IGNORECASE)
        if found is None or found.group(1) in (".", ".."):
            problems.append({"path": where, "reason": "a key must be VIDEO/frame_SSS/NAME.jpg"})
            continue
        try:
            boxes = _music_boxes(key, entry)
        except (TypeError, ValueError) as exc:
            problems.append({"path": where, "reason": f"bad annotation ({exc})"})
            continue
        if not boxes:
            unannotated += 1
            continue
        video, second = found.group(1), int(found.group(2))
        sound = next((audio / f"{video}{ext}" for ext in (".flac", ".wav") if (audio / f"{video}{ext}").is_file()),
                     audio / f"{video}.flac")
        image = frames / key
        if _pair(image, sound, problems):
            samples.append(LocSample(id=key, image=image, audio=sound, boxes=boxes,
                                     window=(float(second), float(second + 1))))
    sources = [{"role": "annotations", "path": str(ann),
                "detail": f"{len(entries)} frames; {unannotated} without boxes left out (instrument not annotated)"},
               {"role": "frames", "path": str(frames)},
               {"role": "audio", "path": str(audio), "detail": "second SSS to SSS + 1 of VIDEO.flac (or .wav)"}]
    return LocDataset(name="music-solo", samples=samples, sources=sources, problems=problems, split="test")


LOC_READERS: dict[str, str] = {
    "vggss": "mcrsearch.benchmark.readers.sources:read_vggss",
    "flickr-soundnet": "mcrsearch.benchmark.readers.sources:read_flickr",
    "ex-vggss": "mcrsearch.benchmark.readers.sources:read_ex_vggss",
    "ex-flickrnet": "mcrsearch.benchmark.readers.sources:read_ex_flickrnet",
    "music-solo": "mcrsearch.benchmark.readers.sources:read_music_solo",
    "miniworld-scenes": "mcrsearch.miniworld.scenes:read_scenes",     # a plug-in: the mini-world sits on top
}


def read_loc_dataset(name: str, root: str | Path) -> LocDataset:
    import importlib

    if name not in LOC_READERS:
        raise ConfigError(f"Unknown localisation benchmark '{name}'; available: {', '.join(sorted(LOC_READERS))}.")
    root = Path(root).expanduser()
    if not root.is_dir():
        raise ConfigError(f"The dataset root {root} is not a folder.")
    module, _, func = LOC_READERS[name].partition(":")
    return getattr(importlib.import_module(module), func)(root)
