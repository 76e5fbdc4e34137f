"""The hard world's instances: a base class's object and sound, changed by its variant (proportions, pitch,
colour), with per-item degradation so that an item's caption, sound and look carry different amounts of
its class (noise, a competing sound, low contrast, an occluder, a vague caption).

Every modality of an instance draws its own "clarity" in [0, 1] (1: clean); `WorldConfig.degrade` scales
how much a low clarity costs. Same RNG discipline as `generate`: one seeded stream per part.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from mcrsearch.miniworld.world import ALL_MODALITIES, WorldConfig
from mcrsearch.modality import Modality

_STYLE = {"mcr-clip": "look", "mcr-clap": "sound"}      # other splits: "mixed"
_JITTER = 0.12                                          # per-instance spread of proportions and pitch


def hard_payloads(config: WorldConfig, split: str, label: int, instance: int,
                  modalities: tuple[Modality, ...]) -> tuple[Any, dict[Modality, Any]]:
    """(mesh, {modality: payload}) of one hard-world instance; `generate.write_item` writes the files."""
    from mcrsearch.miniworld.captions import hard_caption
    from mcrsearch.miniworld.classes import BASE_CLASSES, COLOURS, class_colours, parse_class
    from mcrsearch.miniworld.render import render, sample_surface

    name = config.classes[label]
    base, variant = parse_class(name)
    rng = np.random.default_rng([config.seed, label, instance])
    colour, accent = class_colours(name)
    colours = np.array([COLOURS[colour], COLOURS[accent]], dtype=np.float32)
    colours = np.clip(colours + rng.uniform(-30, 30, size=(2, 3)), 0, 255)
    clarity = {m: float(rng.uniform(0, 1)) for m in ALL_MODALITIES}
    loss = {m: config.degrade * (1 - c) for m, c in clarity.items()}
    mesh: Any = None
    roles: Any = None
    audio: Any = None
    events = 1
    if Modality.IMAGE in modalities or Modality.POINTS in modalities:
        mesh, roles = variant_object(base, variant, np.random.default_rng([config.seed, label, instance, 1]),
                                     loss[Modality.POINTS])
    if Modality.AUDIO in modalities or Modality.TEXT in modalities:
        audio, events = variant_sound(base, variant, np.random.default_rng([config.seed, label, instance, 2]),
                                      config, loss[Modality.AUDIO], BASE_CLASSES)
    payloads: dict[Modality, Any] = {}
    for modality in modalities:
        sub = np.random.default_rng([config.seed, label, instance, 3, ALL_MODALITIES.index(modality)])
        if modality is Modality.IMAGE:
            payload = degrade_image(render(mesh, roles, colours, sub, config.image_size), loss[modality], sub)
        elif modality is Modality.AUDIO:
            payload = audio
        elif modality is Modality.TEXT:
            payload = hard_caption(name, colour, events, _STYLE.get(split, "mixed"), clarity[modality], sub)
        else:
            payload = sample_surface(mesh, config.points_per_cloud, sub)
        payloads[modality] = payload
    return mesh, payloads


def variant_object(base: str, variant, rng: np.random.Generator, loss: float):
    """The base recipe's mesh stretched to the variant's proportions (with per-instance spread) and,
    for a degraded item, its vertices jittered."""
    from mcrsearch.miniworld.shapes import build_object

    mesh, roles = build_object(base, rng)
    if variant is not None:
        spread = rng.uniform(1 - _JITTER, 1 + _JITTER, size=3)
        mesh.vertices = mesh.vertices * np.array([variant.width, variant.width, variant.height]) * spread
    if loss > 0:
        extent = float(np.abs(mesh.vertices).max())
        mesh.vertices = mesh.vertices + rng.normal(0, 0.015 * loss * extent, size=mesh.vertices.shape)
    return mesh, roles


def variant_sound(base: str, variant, rng: np.random.Generator, config: WorldConfig, loss: float,
                  bases: tuple[str, ...]) -> tuple[np.ndarray, int]:
    """The base sound played `pitch_factor` times faster (pitch up, by resampling), plus noise and, for a
    badly degraded item, a competing sound of another class."""
    from mcrsearch.miniworld.sounds import synthesize

    sr, seconds = config.audio_rate, config.audio_seconds
    n = int(sr * seconds)
    factor = (variant.pitch_factor if variant is not None else 1.0) * rng.uniform(1 - _JITTER, 1 + _JITTER)
    raw, events = synthesize(base, rng, sr, seconds * factor)
    sig = np.interp(np.linspace(0, len(raw) - 1, n), np.arange(len(raw)), raw)
    if loss > 0.7:
        other = bases[int(rng.integers(len(bases)))]
        distractor, _ = synthesize(other, rng, sr, seconds)
        sig = sig + rng.uniform(0.3, 0.8) * distractor[:n]
    sig = sig + rng.normal(0, 0.2 * loss * (np.abs(sig).max() + 1e-9), size=n)
    sig = sig / (np.abs(sig).max() + 1e-9) * rng.uniform(0.4, 0.9)
    return sig.astype(np.float32), events


def degrade_image(img, loss: float, rng: np.random.Generator):
    """Lower the contrast and, for a degraded item, paste an occluding box over part of the object."""
    from PIL import Image

    if loss <= 0:
        return img
    arr = np.asarray(img, dtype=np.float32)
    arr = arr * (1 - 0.35 * loss) + arr.mean() * 0.35 * loss
    if loss > 0.6:
        s = arr.shape[0]
        w, h = (rng.uniform(0.2, 0.4, size=2) * s).astype(int)
        x, y = rng.integers(0, s - w), rng.integers(0, s - h)
        arr[y:y + h, x:x + w] = rng.uniform(40, 220, size=3)
    return Image.fromarray(np.clip(arr, 0, 255).astype(np.uint8), "RGB")
