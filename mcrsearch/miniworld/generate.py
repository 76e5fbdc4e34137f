"""Write the mini-world's files: meshes/point clouds, renders, sounds and captions, plus the manifest.

Every instance draws from its own RNG seeded by (world seed, label, instance), so output is identical
whatever the order or the number of worker processes.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

import numpy as np

from mcrsearch.errors import ConfigError
from mcrsearch.miniworld.world import (
    ALL_MODALITIES,
    FORMAT_VERSION,
    MANIFEST,
    PAIRED_SPLITS,
    SPLITS,
    World,
    WorldConfig,
    WorldItem,
)
from mcrsearch.modality import Modality

# 3D file kinds, cycled by instance so every reader path gets exercised.
POINT_FORMATS = ("npy", "obj", "ply-points", "glb", "ply-mesh")
_DIRS = {Modality.IMAGE: "images", Modality.TEXT: "texts", Modality.AUDIO: "audio", Modality.POINTS: "3d"}
_STYLE = {"mcr-clip": "visual", "mcr-clap": "sound"}


def plan(config: WorldConfig) -> list[tuple[str, int, int, tuple[Modality, ...]]]:
    """(split, label, instance, modalities) for every instance, in manifest order."""
    jobs = []
    instance = 0
    for split in SPLITS:
        for label, _ in enumerate(config.classes):
            groups: list[tuple[Modality, ...]]
            if split == "unpaired":
                groups = [(m,) for m in ALL_MODALITIES]
            elif split == "test":
                groups = [ALL_MODALITIES]
            else:
                groups = [PAIRED_SPLITS[split]]
            for modalities in groups:
                n = config.unpaired_count(label, modalities[0]) if split == "unpaired" else config.count(split)
                for _ in range(n):
                    jobs.append((split, label, instance, modalities))
                    instance += 1
    return jobs


def generate_world(root: str | Path, config: WorldConfig | None = None, progress=None,
                   force: bool = False) -> World:
    """Write the world's files under `root` (a no-op when a complete world of this config is there).

    `progress(done, total)` is called as instances are written.
    """
    root = Path(root)
    config = config or WorldConfig.preset("default")
    if not force and (root / MANIFEST).is_file():
        try:
            world = World.load(root)
        except (ConfigError, KeyError, ValueError, TypeError):
            world = None
        if (world is not None and world.format == FORMAT_VERSION and world.config == config
                and all(it.path.is_file() for it in world.items)):
            return world
    return write_world(root, config, progress=progress)


def write_world(root: Path, config: WorldConfig, progress=None, workers: int | None = None) -> World:
    start = time.perf_counter()
    root.mkdir(parents=True, exist_ok=True)
    _remove_previous(root)
    jobs = plan(config)
    chunks = [jobs[i:i + 64] for i in range(0, len(jobs), 64)]
    workers = workers if workers is not None else min(2, os.cpu_count() or 1)
    rows: list[dict] = []
    done = 0
    if workers > 1 and len(jobs) >= 300:          # each pool worker pays the imports again: only for big worlds
        with ProcessPoolExecutor(workers) as pool:
            for result in pool.map(_write_chunk, [(str(root), config, c) for c in chunks]):
                rows.extend(result)
                done += len(result)
                if progress:
                    progress(min(done, len(jobs)), len(jobs))
    else:
        for c in chunks:
            rows.extend(_write_chunk((str(root), config, c)))
            if progress:
                progress(len(rows), len(jobs))
    items = [WorldItem.from_json(r, root) for r in rows]
    _write_captions(root, items, {r["id"]: r["caption"] for r in rows if "caption" in r})
    world = World(root=root, config=config, items=items,
                  timings={"generate_s": round(time.perf_counter() - start, 2)})
    world.save_manifest()
    return world


def _remove_previous(root: Path) -> None:
    """Delete the files an earlier world listed (a different config), never anything else."""
    manifest = root / MANIFEST
    if not manifest.is_file():
        return
    try:
        old = World.load(root)
    except Exception:  # noqa: BLE001 - an unreadable manifest is simply replaced
        return
    for it in old.items:
        try:
            if it.path.resolve().is_relative_to(root.resolve()):
                it.path.unlink(missing_ok=True)
        except OSError:
            pass
    manifest.unlink(missing_ok=True)


def _write_chunk(args) -> list[dict]:
    root, config, jobs = args
    root = Path(root)
    rows = []
    for split, label, instance, modalities in jobs:
        rows.extend(_write_instance(root, config, split, label, instance, modalities))
    return rows


def _write_instance(root: Path, config: WorldConfig, split: str, label: int, instance: int,
                    modalities: tuple[Modality, ...]) -> list[dict]:
    from mcrsearch.miniworld.captions import caption
    from mcrsearch.miniworld.classes import COLOURS, PALETTES
    from mcrsearch.miniworld.render import render, sample_surface
    from mcrsearch.miniworld.shapes import build_object
    from mcrsearch.miniworld.sounds import synthesize

    name = config.classes[label]
    if config.degrade > 0 or "-" in name:
        from mcrsearch.miniworld.hard import hard_payloads

        hard_mesh, payloads = hard_payloads(config, split, label, instance, modalities)
        return [write_item(root, config, split, label, instance, m, p, hard_mesh) for m, p in payloads.items()]
    rng = np.random.default_rng([config.seed, label, instance])
    # Instance attributes, drawn in a fixed order so every modality agrees on them.
    bodies, accent = PALETTES[name]
    colour = bodies[int(rng.integers(len(bodies)))]
    colours = np.array([COLOURS[colour], COLOURS[accent]], dtype=np.float32)
    colours = np.clip(colours + rng.uniform(-18, 18, size=(2, 3)), 0, 255)
    # Separate RNG streams per part: building only what this instance needs changes no bytes.
    mesh: Any = None
    roles: Any = None
    audio: Any = None
    events = 1
    if Modality.IMAGE in modalities or Modality.POINTS in modalities:
        mesh, roles = build_object(name, np.random.default_rng([config.seed, label, instance, 1]))
    if Modality.AUDIO in modalities or Modality.TEXT in modalities:
        audio, events = synthesize(name, np.random.default_rng([config.seed, label, instance, 2]),
                                   config.audio_rate, config.audio_seconds)
    rows = []
    for modality in modalities:
        sub = np.random.default_rng([config.seed, label, instance, 3, ALL_MODALITIES.index(modality)])
        payload: Any
        if modality is Modality.IMAGE:
            payload = render(mesh, roles, colours, sub, config.image_size)
        elif modality is Modality.AUDIO:
            payload = audio
        elif modality is Modality.TEXT:
            payload = caption(name, colour, events, _STYLE.get(split, "neutral"), sub)
        else:
            payload = sample_surface(mesh, config.points_per_cloud, sub)
        rows.append(write_item(root, config, split, label, instance, modality, payload, mesh))
    return rows


def write_item(root: Path, config: WorldConfig, split: str, label: int, instance: int, modality: Modality,
               payload, mesh) -> dict:
    """Write one file (`payload`: a PIL image, audio samples, a caption, or a point cloud) and its manifest row."""
    name = config.classes[label]
    stem = f"{name}_{instance:05d}"
    folder = root / split / _DIRS[modality] / name
    folder.mkdir(parents=True, exist_ok=True)
    row = {"id": f"{split}/{modality.value}/{stem}", "label": label, "class_name": name,
           "modality": modality.value, "split": split, "instance": instance}
    if modality is Modality.IMAGE:
        path = folder / f"{stem}.png"
        buf = io.BytesIO()
        payload.save(buf, format="PNG")
        data = buf.getvalue()
    elif modality is Modality.AUDIO:
        path = folder / f"{stem}.wav"
        data = _wav_bytes(payload, config.audio_rate)
    elif modality is Modality.TEXT:
        path = folder / f"{stem}.txt"
        row["caption"] = payload
        data = (payload + "\n").encode()
    else:
        kind = POINT_FORMATS[instance % len(POINT_FORMATS)]
        path, data = _points_file(folder / stem, kind, mesh, payload)
    path.write_bytes(data)
    row["path"] = path.relative_to(root).as_posix()
    row["sha1"] = hashlib.sha1(data).hexdigest()
    return row


def _wav_bytes(samples: np.ndarray, rate: int) -> bytes:
    import soundfile as sf

    buf = io.BytesIO()
    sf.write(buf, samples, rate, format="WAV", subtype="PCM_16")
    return buf.getvalue()


def _points_file(stem: Path, kind: str, shape, cloud: np.ndarray) -> tuple[Path, bytes]:
    import trimesh

    mesh: Any = shape.to_trimesh() if kind != "npy" and kind != "ply-points" else None

    if kind == "npy":
        buf = io.BytesIO()
        np.save(buf, cloud.astype(np.float32))
        return stem.with_suffix(".npy"), buf.getvalue()
    if kind == "ply-points":
        return stem.with_suffix(".ply"), trimesh.PointCloud(cloud).export(file_type="ply")
    if kind == "ply-mesh":
        return stem.with_suffix(".ply"), mesh.export(file_type="ply")
    if kind == "obj":
        text = mesh.export(file_type="obj", include_normals=False, include_texture=False)
        return stem.with_suffix(".obj"), text.encode() if isinstance(text, str) else text
    return stem.with_suffix(".glb"), mesh.export(file_type="glb")


def _write_captions(root: Path, items: list[WorldItem], captions: dict[str, str]) -> None:
    lines = ["id\tsplit\tclass\tinstance\tpath\tcaption"]
    records = []
    for it in items:
        if it.id in captions:
            rel = it.path.relative_to(root).as_posix()
            lines.append(f"{it.id}\t{it.split}\t{it.class_name}\t{it.instance}\t{rel}\t{captions[it.id]}")
            records.append({"id": it.id, "split": it.split, "class": it.class_name, "instance": it.instance,
                            "path": rel, "caption": captions[it.id]})
    (root / "captions.tsv").write_text("\n".join(lines) + "\n")
    (root / "captions.json").write_text(json.dumps(records, indent=1))
