"""The hard mini-world preset: confusable class groups, imbalanced unpaired corpora, look vs sound caption
vocabularies, degraded items, and mini MCRs whose training keeps a modality gap (issue 16)."""

from __future__ import annotations

from collections import Counter
from dataclasses import replace

import numpy as np
import pytest

from mcrsearch.miniworld.classes import HARD_CLASSES, VARIANTS, parse_class
from mcrsearch.miniworld.world import WorldConfig
from mcrsearch.modality import Modality

TINY = (("mcr-clip", 2), ("mcr-clap", 2), ("mcr-ulip", 1), ("unpaired", 2), ("test", 1))


def test_hard_preset_has_48_classes_in_confusable_groups():
    cfg = WorldConfig.preset("hard")
    assert len(cfg.classes) >= 48 and cfg.classes == HARD_CLASSES
    groups = Counter(parse_class(name)[0] for name in cfg.classes)
    assert set(groups.values()) == {len(VARIANTS)}          # every base class appears once per variant
    assert len({v.pitch_factor for v in VARIANTS}) == len(VARIANTS)
    assert cfg.imbalance > 0 and cfg.degrade > 0


def test_new_fields_leave_the_default_and_small_worlds_unchanged():
    for scale in ("default", "small"):
        data = WorldConfig.preset(scale).to_json()
        assert "imbalance" not in data and "degrade" not in data
        assert WorldConfig.from_json(data) == WorldConfig.preset(scale)
    assert "imbalance" in WorldConfig.preset("hard").to_json()


def test_unpaired_corpora_are_imbalanced_differently_per_modality():
    cfg = WorldConfig.preset("hard")
    counts = {m: [cfg.unpaired_count(label, m) for label in range(len(cfg.classes))] for m in
              (Modality.IMAGE, Modality.AUDIO)}
    for values in counts.values():
        assert max(values) >= 4 * min(values) and min(values) >= 2
        assert abs(np.mean(values) - cfg.count("unpaired")) <= 0.25 * cfg.count("unpaired")
    assert counts[Modality.IMAGE] != counts[Modality.AUDIO]
    assert WorldConfig.preset("default").unpaired_count(3, Modality.IMAGE) == WorldConfig.preset("default").count("unpaired")


@pytest.fixture(scope="module")
def tiny_hard_world(tmp_path_factory):
    from mcrsearch.miniworld.generate import generate_world

    cfg = replace(WorldConfig.preset("hard"), classes=HARD_CLASSES[:6], counts=TINY, image_size=32,
                  audio_seconds=0.5, points_per_cloud=256)
    return generate_world(tmp_path_factory.mktemp("hard"), cfg)


def _words(world, split: str) -> set[str]:
    from mcrsearch.miniworld.captions import tokenize

    return {w for it in world.select(split, "text") for w in tokenize(it.path.read_text())}


def test_clip_and_clap_captions_use_different_vocabularies(tiny_hard_world):
    from mcrsearch.miniworld.classes import COLOURS

    look = {w for v in VARIANTS for phrase in v.look for w in phrase.split()}
    pitch = {w for v in VARIANTS for phrase in v.pitch for w in phrase.split()} - look
    colours = {w for c in COLOURS for w in c.split()}
    clip, clap = _words(tiny_hard_world, "mcr-clip"), _words(tiny_hard_world, "mcr-clap")
    assert not clip & pitch and not clap & (look | colours)
    assert clip & look and clap & pitch


def test_variants_change_the_sound_and_items_are_degraded(tiny_hard_world):
    from mcrsearch.miniworld.hard import variant_sound

    cfg = tiny_hard_world.config
    sr = cfg.audio_rate

    def centroid(variant) -> float:
        sig, _ = variant_sound("bell", variant, np.random.default_rng(0), cfg, 0.0, ("bell",))
        spec = np.abs(np.fft.rfft(sig))
        return float((spec * np.fft.rfftfreq(len(sig), 1 / sr)).sum() / spec.sum())

    assert centroid(VARIANTS[0]) > centroid(VARIANTS[1]) > centroid(VARIANTS[2])
    files = {it.path.name for it in tiny_hard_world.items}
    assert len(files) == len(tiny_hard_world.items)
    assert {it.class_name for it in tiny_hard_world.items} == set(HARD_CLASSES[:6])


def test_geometry_measures_the_gap_of_matched_pairs():
    from mcrsearch.miniworld.metrics import geometry

    rng = np.random.default_rng(0)
    a = rng.normal(size=(50, 16))
    same = geometry(a, a)
    assert same["matched_cos"] == pytest.approx(1.0) and same["gap"] == pytest.approx(0.0, abs=1e-6)
    shifted = geometry(a + 5 * np.eye(16)[0], a + 5 * np.eye(16)[1])
    assert shifted["gap"] > 1.0 and shifted["matched_cos"] > shifted["unmatched_cos"]


def test_hard_mcrs_train_at_fixed_temperature_from_separate_cones():
    import torch

    from mcrsearch.miniworld.captions import hard_vocabulary
    from mcrsearch.miniworld.models import MiniMCRModel, default_configs

    cfg = default_configs("hard")["clip"]
    model = MiniMCRModel(cfg, hard_vocabulary())
    assert not model.logit_scale.requires_grad
    assert float(model.logit_scale.exp()) == pytest.approx(1 / cfg["train"]["temperature"])
    model.eval()
    with torch.no_grad():
        img = torch.nn.functional.normalize(model.forward_batch(Modality.IMAGE, torch.randn(16, 3, 32, 32)), dim=-1)
        txt = torch.nn.functional.normalize(
            model.forward_batch(Modality.TEXT, model.towers["text"].bag([[2, 3], [4, 5, 6]] * 8)), dim=-1)
    gap = float((img.mean(0) - txt.mean(0)).norm())
    assert gap > 0.5                     # two cones apart before any training
    default = MiniMCRModel(default_configs("default")["clip"], hard_vocabulary())
    assert default.logit_scale.requires_grad
