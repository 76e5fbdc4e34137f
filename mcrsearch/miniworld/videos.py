"""Mini-world video: clips of the world's objects turning, with their sounds, and what they are made of.

Each clip is a run of parts, one audio window long each (the world's `audio_seconds`, which is the miniworld
spaces' segment window, so one part is one segment): a test-split object of some class, rendered turning, and
the sound of some class (its own, another object's, or none). Three kinds of clip:
- `sound`: three different objects, each with its own sound (the moment a sound or a picture is found);
- `silent`: one object, no soundtrack at all (found by its picture only);
- `dubbed`: one object with another class's sound (sound and picture disagree).
The manifest (`videos.json`) records every part's class and sound, which is what the measurements grade.
Deterministic: the same world and seed give the same pictures and sounds (encoders may vary the bytes).
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from mcrsearch.miniworld.world import World

MANIFEST = "videos.json"
FPS = 12


@dataclass(frozen=True)
class Part:
    """One window of a clip: the object shown and the class whose sound plays (None: silence)."""

    start: float
    end: float
    shows: str
    sounds: str | None


@dataclass(frozen=True)
class Clip:
    name: str
    kind: str             # sound | silent | dubbed
    path: str             # relative to the clips folder
    parts: tuple[Part, ...]
    has_audio: bool

    def classes_shown(self) -> set[str]:
        return {p.shows for p in self.parts}

    def classes_heard(self) -> set[str]:
        return {p.sounds for p in self.parts if p.sounds is not None}


def plan_clips(world: World, seed: int = 0) -> list[tuple[str, str, list[tuple[str, str | None]]]]:
    """(name, kind, [(shown class, sounding class)]) for every clip: per class, one `sound` clip starting with
    it (then the next two classes), one `silent` and one `dubbed` clip (the sound of the class half-way round)."""
    classes = list(world.config.classes)
    n = len(classes)
    out: list[tuple[str, str, list[tuple[str, str | None]]]] = []
    for i, c in enumerate(classes):
        trio = [classes[(i + j) % n] for j in range(3)]
        heard: list[tuple[str, str | None]] = [(k, k) for k in trio]
        out.append((f"sound_{c}", "sound", heard))
        out.append((f"silent_{c}", "silent", [(c, None), (c, None)]))
        out.append((f"dubbed_{c}", "dubbed", [(c, classes[(i + n // 2) % n])]))
    return out


def write_clips(world: World, folder: str | Path, seed: int = 0) -> list[Clip]:
    """Write every planned clip as H.264/AAC MP4 under `folder`, and the manifest; returns the clips."""
    from mcrsearch.miniworld.classes import COLOURS, PALETTES
    from mcrsearch.miniworld.clips import write_video
    from mcrsearch.miniworld.render import render
    from mcrsearch.miniworld.shapes import build_object
    from mcrsearch.miniworld.sounds import synthesize

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    cfg = world.config
    window = float(cfg.audio_seconds)
    per_part = max(1, int(round(window * FPS)))
    size = cfg.image_size + cfg.image_size % 2
    clips = []
    for number, (name, kind, parts) in enumerate(plan_clips(world, seed)):
        frames, audio, made = [], [], []
        for j, (shows, sounds) in enumerate(parts):
            label = cfg.classes.index(shows)
            rng = np.random.default_rng([seed, 9100, number, j])
            mesh, roles = build_object(shows, np.random.default_rng([seed, 9101, number, j, label]))
            bodies, accent = PALETTES[shows]
            colours = np.array([COLOURS[bodies[int(rng.integers(len(bodies)))]], COLOURS[accent]], dtype=np.float32)
            view = int(rng.integers(2**31))
            start = float(rng.uniform(0, 2 * np.pi))
            for f in range(per_part):       # a quarter turn per part
                img = render(mesh, roles, colours, np.random.default_rng(view), size,
                             yaw=start + 0.5 * np.pi * f / per_part)
                frames.append(np.asarray(img))
            if sounds is not None:
                samples, _ = synthesize(sounds, np.random.default_rng([seed, 9102, number, j]), cfg.audio_rate, window)
            else:
                samples = np.zeros(int(cfg.audio_rate * window), np.float32)
            audio.append(samples)
            made.append(Part(round(j * window, 3), round((j + 1) * window, 3), shows, sounds))
        has_audio = any(p.sounds is not None for p in made)
        path = folder / f"{name}.mp4"
        write_video(path, frames, FPS, np.concatenate(audio) if has_audio else None, cfg.audio_rate)
        clips.append(Clip(name, kind, path.name, tuple(made), has_audio))
    (folder / MANIFEST).write_text(json.dumps({"world": world.key(), "window": window,
                                               "clips": [asdict(c) for c in clips]}, indent=1))
    return clips


def read_clips(folder: str | Path) -> list[Clip]:
    """The clips of a folder written by `write_clips`."""
    data = json.loads((Path(folder) / MANIFEST).read_text())
    return [Clip(c["name"], c["kind"], c["path"], tuple(Part(**p) for p in c["parts"]), c["has_audio"])
            for c in data["clips"]]
