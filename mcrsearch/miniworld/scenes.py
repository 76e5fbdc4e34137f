"""Mini-world scenes: pictures of 2-4 objects of different classes with known boxes, and sounds to explain.

Each scene places objects in the four quadrants of a square canvas (with jitter) over one background,
drawn as the world's renderer draws single objects. Queries, each a picture with one sound:
- positive: the sound of one object in the picture; its box is the ground truth (the others stay silent);
- offscreen: the sound of a class not in the picture; silence; white noise.
Objects and sounds are new instances (their seeds never meet the world's), so nothing here was seen in
training. Written under `<world>/scenes/` with `scenes.json`; the same world and seed give the same bytes.
"""

from __future__ import annotations

import hashlib
import io
import json
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from mcrsearch.errors import ConfigError
from mcrsearch.miniworld.world import World

SCENES_DIR = "scenes"
MANIFEST = "scenes.json"
FORMAT = 1
_SEED_TAG = 25_001           # keeps scene instances apart from the world's (world seed, label, instance)


@dataclass(frozen=True)
class SceneConfig:
    scenes: int = 96
    size: int = 128              # canvas side, pixels
    min_objects: int = 2
    max_objects: int = 4
    object_min: int = 50         # object sprite side, pixels (a quadrant is size / 2)
    object_max: int = 62
    noise_level: float = 0.2


def generate_scenes(world: World, config: SceneConfig | None = None, force: bool = False) -> Path:
    """Write the scenes of `world` (a no-op when the same ones are there); returns the manifest's path."""
    config = config or SceneConfig()
    out = Path(world.root) / SCENES_DIR
    manifest = out / MANIFEST
    key = _key(world, config)
    if not force and manifest.is_file():
        try:
            if json.loads(manifest.read_text()).get("key") == key:
                return manifest
        except (OSError, ValueError):
            pass
    from mcrsearch.miniworld.classes import PALETTES

    classes = list(world.classes)
    if any(name not in PALETTES for name in classes):
        raise ConfigError("Scenes are made from the default and small worlds' classes; this world has others.")
    (out / "images").mkdir(parents=True, exist_ok=True)
    (out / "audio").mkdir(parents=True, exist_ok=True)
    scenes, queries = [], []
    rate, seconds = world.config.audio_rate, world.config.audio_seconds
    for index in range(config.scenes):
        scene, sounds = _scene(world, config, index, classes)
        scenes.append(scene)
        for q in sounds:
            path = out / "audio" / f"{q['id']}.wav"
            path.write_bytes(_wav(q.pop("samples"), rate))
            q["audio"] = path.relative_to(out).as_posix()
            queries.append(q)
    data = {"format": FORMAT, "key": key, "world_key": world.key(), "config": asdict(config),
            "audio_rate": rate, "audio_seconds": seconds, "scenes": scenes, "queries": queries}
    manifest.write_text(json.dumps(data, indent=1))
    return manifest


def _key(world: World, config: SceneConfig) -> str:
    blob = json.dumps({"format": FORMAT, "world": world.key(), "config": asdict(config)}, sort_keys=True)
    return hashlib.sha256(blob.encode()).hexdigest()[:12]


def _scene(world: World, config: SceneConfig, index: int, classes: list[str]) -> tuple[dict, list[dict]]:
    from PIL import Image

    from mcrsearch.miniworld.render import _background

    seed = world.config.seed
    rng = np.random.default_rng([seed, _SEED_TAG, index])
    count = int(rng.integers(config.min_objects, config.max_objects + 1))
    labels = [int(v) for v in rng.choice(len(classes), size=count, replace=False)]
    quadrants = [int(v) for v in rng.choice(4, size=count, replace=False)]
    canvas = np.array(_background(rng, config.size), dtype=np.float32)
    half = config.size // 2
    objects: list[dict] = []
    for j, (label, quadrant) in enumerate(zip(labels, quadrants)):
        side = int(rng.integers(config.object_min, config.object_max + 1))
        x = (quadrant % 2) * half + int(rng.integers(0, half - side + 1))
        y = (quadrant // 2) * half + int(rng.integers(0, half - side + 1))
        sprite = _sprite(world, classes[label], label, index, j, side)
        alpha = np.asarray(sprite, dtype=np.float32)[..., 3:] / 255.0
        rgb = np.asarray(sprite, dtype=np.float32)[..., :3]
        region = canvas[y:y + side, x:x + side]
        canvas[y:y + side, x:x + side] = region * (1 - alpha) + rgb * alpha
        rows, cols = np.nonzero(alpha[..., 0] > 0.2)
        box = [x + int(cols.min()), y + int(rows.min()), x + int(cols.max()) + 1, y + int(rows.max()) + 1]
        objects.append({"class": classes[label], "label": label,
                        "box": [round(v / config.size, 5) for v in box]})
    canvas += rng.normal(0, rng.uniform(3, 8), size=canvas.shape)
    image = Image.fromarray(np.clip(canvas, 0, 255).astype(np.uint8), "RGB")
    name = f"scene_{index:04d}"
    path = Path(world.root) / SCENES_DIR / "images" / f"{name}.png"
    image.save(path, format="PNG")
    scene = {"id": name, "image": f"images/{name}.png", "objects": objects}
    rate, seconds = world.config.audio_rate, world.config.audio_seconds
    sounds = [{"id": f"{name}_{k:02d}_{classes[label]}", "scene": name, "kind": "positive", "class": classes[label],
               "box_index": k, "samples": _sound(world, classes[label], label, index, k)}
              for k, label in enumerate(labels)]
    absent = [c for c in range(len(classes)) if c not in labels]
    other = int(rng.choice(absent))
    n = int(rate * seconds)
    sounds += [
        {"id": f"{name}_offscreen_{classes[other]}", "scene": name, "kind": "offscreen", "class": classes[other],
         "box_index": None, "samples": _sound(world, classes[other], other, index, 9)},
        {"id": f"{name}_silence", "scene": name, "kind": "silence", "class": None, "box_index": None,
         "samples": np.zeros(n, dtype=np.float32)},
        {"id": f"{name}_noise", "scene": name, "kind": "noise", "class": None, "box_index": None,
         "samples": np.clip(rng.normal(0, config.noise_level, n), -1, 1).astype(np.float32)},
    ]
    return scene, sounds


def _sprite(world: World, name: str, label: int, index: int, j: int, side: int):
    from mcrsearch.miniworld.classes import COLOURS, PALETTES
    from mcrsearch.miniworld.render import render_cutout
    from mcrsearch.miniworld.shapes import build_object

    rng = np.random.default_rng([world.config.seed, _SEED_TAG, index, j, label])
    bodies, accent = PALETTES[name]
    colour = bodies[int(rng.integers(len(bodies)))]
    colours = np.array([COLOURS[colour], COLOURS[accent]], dtype=np.float32)
    colours = np.clip(colours + rng.uniform(-18, 18, size=(2, 3)), 0, 255)
    mesh, roles = build_object(name, np.random.default_rng([world.config.seed, _SEED_TAG, index, j, label, 1]))
    return render_cutout(mesh, roles, colours, rng, side)


def _sound(world: World, name: str, label: int, index: int, k: int) -> np.ndarray:
    from mcrsearch.miniworld.sounds import synthesize

    rng = np.random.default_rng([world.config.seed, _SEED_TAG, index, k, label, 2])
    audio, _ = synthesize(name, rng, world.config.audio_rate, world.config.audio_seconds)
    return np.asarray(audio, dtype=np.float32)


def _wav(samples: np.ndarray, rate: int) -> bytes:
    import soundfile as sf

    buf = io.BytesIO()
    sf.write(buf, samples, rate, format="WAV", subtype="PCM_16")
    return buf.getvalue()


def read_scenes(root: str | Path, generate: bool = True):
    """The scenes of the world at `root` as a localisation dataset (generated first when missing).

    Returns:
        LocDataset named 'miniworld-scenes' with both tasks; every file it names is checked to exist.
    """
    from mcrsearch.benchmark.localisation import LocDataset, LocSample

    world = World.load(root)
    manifest = generate_scenes(world) if generate else Path(world.root) / SCENES_DIR / MANIFEST
    data = json.loads(Path(manifest).read_text())
    base = Path(manifest).parent
    scenes = {s["id"]: s for s in data["scenes"]}
    samples, problems = [], []
    for q in data["queries"]:
        scene = scenes.get(q.get("scene"))
        if scene is None:
            problems.append({"path": str(manifest), "reason": f"query {q.get('id')} names an unknown scene"})
            continue
        image, audio = base / scene["image"], base / q["audio"]
        missing = [p for p in (image, audio) if not p.is_file()]
        if missing:
            problems.append({"path": str(missing[0]), "reason": "missing"})
            continue
        boxes = [tuple(scene["objects"][q["box_index"]]["box"])] if q.get("box_index") is not None else []
        samples.append(LocSample(id=q["id"], image=image, audio=audio, boxes=boxes, kind=q["kind"]))
    sources = [{"role": "scenes", "path": str(manifest),
                "detail": f"{len(scenes)} scenes of world {data.get('world_key')}, {len(samples)} queries"}]
    return LocDataset(name="miniworld-scenes", samples=samples, sources=sources, problems=problems,
                      split="scenes", tasks=("localisation", "counterfactual"))
