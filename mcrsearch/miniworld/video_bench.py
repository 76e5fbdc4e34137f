"""Mini-world video measured offline: audio -> video, text -> video, video -> 3D and "find the moment", each
beside chance and the paired oracle (the same routes with heads trained on true cross-modal pairs).

Everything goes through the public surface (`mcrsearch.Client`: index, query with `target="video"`), so the
figures are what a user of the mini-world gets. A query is graded on the clips of `videos.write_clips`:
- audio -> video: relevant clips are those whose soundtrack plays the query's class somewhere;
- text -> video: relevant clips are those that show the caption's class;
- video -> 3D: a clip (its picture and sound) as the query; relevant 3D items are of a class it shows;
- moment: for a relevant top video, whether its best segment is a part that plays (audio) or shows (text) the
  query's class. Chance is the expected value of each figure under a random ranking (and a random segment).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable

import numpy as np

from mcrsearch.miniworld.videos import Clip
from mcrsearch.modality import Modality

if TYPE_CHECKING:
    from mcrsearch.config import Settings
    from mcrsearch.miniworld.world import World

DIRECTIONS = ("audio->video", "text->video", "video->3d")


def average_precision(relevant: list[bool]) -> float:
    """AP of one ranking (1 where the item at that rank is relevant); 0 when nothing relevant was ranked."""
    hits = np.flatnonzero(np.asarray(relevant, dtype=bool))
    if hits.size == 0:
        return 0.0
    return float(np.mean(np.arange(1, hits.size + 1) / (hits + 1)))


def _part_at(clip: Clip, start: float) -> Any:
    return min(clip.parts, key=lambda p: abs(p.start - start))


def measure_space(settings: "Settings", space: str, world: "World", clips: list[Clip], clips_dir: Path,
                  index_dir: Path, log: Callable[[str], None] | None = None) -> dict[str, Any]:
    """Index the clips and the world's test 3D items with `space`, then grade every direction.

    Returns:
        {"space", "directions": {name: {"r@1", "r@5", "map", "queries"}}, "moment": {"audio", "text"},
         "index_seconds", "video_seconds", "video_seconds_per_second"}.
    """
    import mcrsearch

    by_path = {str((clips_dir / c.path).resolve()): c for c in clips}
    with mcrsearch.Client(path=index_dir, collection=f"video-{space}", settings=settings) as client:
        report = client.index(clips_dir, space=space)
        seconds = report.seconds            # the run itself: scan, decode, embed, write (not loading models)
        if report.failed:
            raise RuntimeError(f"mini-world clips failed to index: {report.failed[:3]}")
        points_dir = Path(world.select("test", Modality.POINTS)[0].path).parents[1]
        client.index(points_dir, space=space)
        out: dict[str, Any] = {"space": space, "directions": {}, "moment": {},
                               "index_seconds": round(seconds, 3), "video_seconds": report.video_seconds,
                               "video_seconds_per_second": round(report.video_seconds / seconds, 2) if seconds else None}
        n_clips = len(clips)
        for modality, key in ((Modality.AUDIO, "audio->video"), (Modality.TEXT, "text->video")):
            ranks, moments = [], []
            for item in world.select("test", modality):
                query = {"audio": item.path} if modality is Modality.AUDIO else {"text": _caption(item)}
                hits = client.query(**query, target="video", k=n_clips, space=space)
                graded = [_relevant(by_path.get(str(Path(h.path).resolve())), item.class_name, modality) for h in hits]
                ranks.append(graded)
                if graded and graded[0]:
                    part = _part_at(by_path[str(Path(hits[0].path).resolve())], float(hits[0].payload["start"]))
                    moments.append((part.sounds if modality is Modality.AUDIO else part.shows) == item.class_name)
            out["directions"][key] = _summary(ranks)
            out["moment"][modality.value] = round(float(np.mean(moments)), 4) if moments else None
            if log:
                log(f"{space} {key}: {out['directions'][key]}")
        ranks = []
        for clip in clips:
            hits = client.query(video=str(clips_dir / clip.path), target="3d", k=10, space=space)
            ranks.append([_class_of(h.path, world) in clip.classes_shown() for h in hits])
        out["directions"]["video->3d"] = _summary(ranks)
    return out


def chance(world: "World", clips: list[Clip]) -> dict[str, Any]:
    """Expected R@1 (= mAP's order of magnitude) of a random ranking, and of a random segment for the moment."""
    n = len(clips)
    audio = [sum(c in clip.classes_heard() for clip in clips) / n for c in world.config.classes]
    text = [sum(c in clip.classes_shown() for clip in clips) / n for c in world.config.classes]
    points = world.select("test", Modality.POINTS)
    shapes = [sum(it.class_name in clip.classes_shown() for it in points) / len(points) for clip in clips]

    def moment(kind: str) -> float:
        fractions = []
        for c in world.config.classes:
            for clip in clips:
                match = [(p.sounds if kind == "audio" else p.shows) == c for p in clip.parts]
                if any(match):
                    fractions.append(sum(match) / len(match))
        return round(float(np.mean(fractions)), 4)

    return {"directions": {"audio->video": {"r@1": round(float(np.mean(audio)), 4)},
                           "text->video": {"r@1": round(float(np.mean(text)), 4)},
                           "video->3d": {"r@1": round(float(np.mean(shapes)), 4)}},
            "moment": {"audio": moment("audio"), "text": moment("text")}}


def _caption(item: Any) -> str:
    return Path(item.path).read_text(encoding="utf-8").strip()


def _class_of(path: str, world: "World") -> str:
    return Path(path).parent.name          # the world's files sit in <split>/<modality>/<class>/


def _relevant(clip: Clip | None, class_name: str, modality: Modality) -> bool:
    if clip is None:
        return False
    return class_name in (clip.classes_heard() if modality is Modality.AUDIO else clip.classes_shown())


def _summary(ranks: list[list[bool]]) -> dict[str, Any]:
    return {"r@1": round(float(np.mean([bool(r[:1]) and r[0] for r in ranks])), 4),
            "r@5": round(float(np.mean([any(r[:5]) for r in ranks])), 4),
            "map": round(float(np.mean([average_precision(r) for r in ranks])), 4), "queries": len(ranks)}


def markdown(results: list[dict[str, Any]], chance_row: dict[str, Any], command: str, labels: dict[str, str],
             clips: list[Clip], world_key: str) -> str:
    """The docs/BENCHMARKS.md section: one row per space and chance; throughput in seconds of video a second."""
    kinds = {k: sum(c.kind == k for c in clips) for k in ("sound", "silent", "dubbed")}
    lines = [f"Mini-world video (world {world_key}, the world of the last `mcrsearch demo`): {len(clips)} clips ({kinds['sound']} with three objects and "
             f"their sounds, {kinds['silent']} silent, {kinds['dubbed']} dubbed with another class's sound), one "
             "segment per part. R@1 / mAP per direction; moment: share of relevant top videos whose best segment "
             "is the part that plays (audio) or shows (text) the query's class. Regenerate with:",
             "", f"    {command}", "",
             "| space | audio→video R@1 | mAP | text→video R@1 | mAP | video→3D R@1 | mAP | moment (audio) | "
             "moment (text) | video s / s |", "|---|---|---|---|---|---|---|---|---|---|"]
    for r in results:
        d, m = r["directions"], r["moment"]
        lines.append(f"| {labels.get(r['space'], r['space'])} | {d['audio->video']['r@1']:.3f} | "
                     f"{d['audio->video']['map']:.3f} | {d['text->video']['r@1']:.3f} | {d['text->video']['map']:.3f} | "
                     f"{d['video->3d']['r@1']:.3f} | {d['video->3d']['map']:.3f} | {_fmt(m.get('audio'))} | "
                     f"{_fmt(m.get('text'))} | {_fmt(r.get('video_seconds_per_second'), 1)} |")
    c = chance_row
    lines.append(f"| chance | {c['directions']['audio->video']['r@1']:.3f} | – | "
                 f"{c['directions']['text->video']['r@1']:.3f} | – | {c['directions']['video->3d']['r@1']:.3f} | – | "
                 f"{c['moment']['audio']:.3f} | {c['moment']['text']:.3f} | – |")
    lines += ["", "Indexing throughput (last column) is seconds of video indexed per second of wall time on this "
                  "machine (2 cores shared with other work when measured; models loaded before the run); the clips "
                  "are tiny (mini-world frames), so it says little about full-size video."]
    return "\n".join(lines)


def _fmt(value: Any, digits: int = 3) -> str:
    return "–" if value is None else f"{value:.{digits}f}"
