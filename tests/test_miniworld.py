"""The mini-world generator: deterministic, every file decodes, splits keep the pairing promises."""

from __future__ import annotations

import hashlib
import json
from dataclasses import replace

import numpy as np
import pytest

from mcrsearch.miniworld.generate import POINT_FORMATS
from mcrsearch.miniworld.generate import generate_world
from mcrsearch.miniworld.world import PAIRED_SPLITS, World, WorldConfig
from mcrsearch.miniworld.world import ALL_MODALITIES as WORLD_MODALITIES  # the world's four media (no video)
from mcrsearch.modality import Modality

TINY_COUNTS = (("mcr-clip", 2), ("mcr-clap", 2), ("mcr-ulip", 3), ("unpaired", 1), ("test", 1))


def tiny_config(seed: int = 0) -> WorldConfig:
    return replace(WorldConfig.preset("small", seed=seed), counts=TINY_COUNTS)


@pytest.fixture(scope="module")
def tiny_world(tmp_path_factory):
    return generate_world(tmp_path_factory.mktemp("tiny") / "world", tiny_config())


def _manifest_without_paths(world: World) -> list[dict]:
    return [it.to_json(world.root) for it in world.items]


def test_generation_is_deterministic_and_a_no_op_when_repeated(tiny_world, tmp_path):
    again = generate_world(tmp_path / "again", tiny_config())
    assert _manifest_without_paths(again) == _manifest_without_paths(tiny_world)
    for it in tiny_world.items[::7]:                       # the manifest hashes are the files' real hashes
        assert hashlib.sha1(it.path.read_bytes()).hexdigest() == it.sha1
    before = {it.path: it.path.stat().st_mtime_ns for it in again.items}
    reloaded = generate_world(tmp_path / "again", tiny_config())   # same config: nothing rewritten
    assert {it.path: it.path.stat().st_mtime_ns for it in reloaded.items} == before
    micro = (("test", 1),)
    seed0 = generate_world(tmp_path / "seed0", replace(tiny_config(seed=0), counts=micro))
    seed1 = generate_world(tmp_path / "seed1", replace(tiny_config(seed=1), counts=micro))
    assert len(seed0.items) == len(seed1.items)
    assert sum(a.sha1 != b.sha1 for a, b in zip(seed0.items, seed1.items)) >= len(seed0.items) - 2


def test_config_key_and_presets():
    small, default = WorldConfig.preset("small"), WorldConfig.preset("default")
    assert small.key() != default.key() and len(default.classes) >= 16
    assert WorldConfig.from_json(json.loads(json.dumps(default.to_json()))) == default
    assert default.key() == WorldConfig.preset("default").key()


def test_every_file_kind_decodes(tiny_world):
    from mcrsearch import media
    from mcrsearch.media import AudioClip

    suffixes = set()
    for it in tiny_world.items:
        modality, decoded = media.decode(it.path, n_points=256)
        assert modality is it.modality
        suffixes.add(it.path.suffix)
        if modality is Modality.IMAGE:
            assert decoded.size == (tiny_world.config.image_size,) * 2
        elif modality is Modality.AUDIO:
            assert isinstance(decoded, AudioClip) and decoded.sample_rate == tiny_world.config.audio_rate
            assert np.abs(decoded.samples).max() > 0.1
        elif modality is Modality.POINTS:
            assert decoded.ndim == 2 and decoded.shape[1] == 3 and len(decoded) >= 256
        else:
            assert tiny_world.config.classes and isinstance(decoded, str) and len(decoded.split()) >= 1
    assert {".png", ".wav", ".txt", ".npy", ".ply", ".obj", ".glb"} <= suffixes
    assert len(POINT_FORMATS) == 5
    assert (tiny_world.root / "captions.tsv").read_text().count("\n") == len(tiny_world.select(modality="text")) + 1


def test_captions_name_their_class(tiny_world):
    from mcrsearch.miniworld.classes import SYNONYMS

    for it in tiny_world.select(modality="text"):
        text = it.path.read_text()
        assert any(s in text for s in SYNONYMS[it.class_name]), text


def test_splits_are_disjoint_and_paired_as_promised(tiny_world):
    w = tiny_world
    by_split: dict[str, set[int]] = {}
    for it in w.items:
        by_split.setdefault(it.split, set()).add(it.instance)
    splits = list(by_split)
    for i, a in enumerate(splits):
        for b in splits[i + 1:]:
            assert not by_split[a] & by_split[b], (a, b)
    for split, (ma, mb) in PAIRED_SPLITS.items():
        pairs = w.partners(split, ma, mb)
        assert len(pairs) == len(w.classes) * w.config.count(split)
        assert all(a.label == b.label and a.instance == b.instance for a, b in pairs)
        assert {it.modality for it in w.select(split)} == {ma, mb}
    unpaired: dict[int, set[Modality]] = {}
    for it in w.select("unpaired"):
        unpaired.setdefault(it.instance, set()).add(it.modality)
    assert all(len(m) == 1 for m in unpaired.values())        # no cross-modal pair in the unpaired corpora
    assert {m for ms in unpaired.values() for m in ms} == set(WORLD_MODALITIES)
    test_instances: dict[int, set[Modality]] = {}
    for it in w.select("test"):
        test_instances.setdefault(it.instance, set()).add(it.modality)
    assert all(m == set(WORLD_MODALITIES) for m in test_instances.values())


def test_load_roundtrip_and_select(tiny_world):
    w = World.load(tiny_world.root)
    assert w.config == tiny_world.config and len(w.items) == len(tiny_world.items)
    assert w.select("test", "3d") == [it for it in w.items if it.split == "test" and it.modality is Modality.POINTS]
    assert all(it.class_name == w.classes[it.label] for it in w.items)
