"""The mini MCRs on the small world: they train, cache, plug into the Encoder interface, beat chance widely;
the `miniworld` space and `mcrsearch demo` run end to end on the small world."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from mcrsearch.config import load_settings
from mcrsearch.media import AudioClip
from mcrsearch.miniworld.world import ALL_MODALITIES as WORLD_MODALITIES  # the world's four media (no video)
from mcrsearch.modality import Modality

# The small world has 8 classes and 24 test items per modality (chance R@1 = 0.125); R@1 varies widely per
# direction over training seeds, so the floors sit at >= 3x chance.
SMALL_R1_FLOOR = 0.4
SMALL_MEAN_R1_FLOOR = 0.5


@pytest.fixture(scope="session")
def small(tmp_path_factory):
    """The small world and its trained mini MCRs, shared by every test here (and reused by the demo test)."""
    from mcrsearch.miniworld.mcrs import load_or_train_mcrs
    from mcrsearch.miniworld.generate import generate_world
    from mcrsearch.miniworld.world import WorldConfig

    home = tmp_path_factory.getbasetemp() / "mcrsearch-home"
    settings = load_settings(home=home, device="cpu")
    world = generate_world(home / "miniworld", WorldConfig.preset("small"))
    return world, load_or_train_mcrs(world, settings), settings


def test_small_mcrs_beat_chance_widely(small):
    world, mcrs, _ = small
    assert mcrs.dims == {"clip": 64, "clap": 48, "ulip": 32}
    for name in ("clip", "clap", "ulip"):
        metrics = mcrs.metrics[name]
        directions = [k for k, v in metrics.items() if isinstance(v, dict) and "r@1" in v]
        assert len(directions) == 2
        for d in directions:
            m = metrics[d]
            assert m["chance_r@1"] == pytest.approx(1 / len(world.classes))
            assert m["r@1"] >= SMALL_R1_FLOOR, (name, d, m)
        assert np.mean([metrics[d]["r@1"] for d in directions]) >= SMALL_MEAN_R1_FLOOR, (name, metrics)


def test_checkpoints_are_cached_and_reloaded(small):
    from mcrsearch.miniworld.mcrs import load_or_train_mcrs
    from mcrsearch.miniworld.record import read_current

    world, mcrs, settings = small
    again = load_or_train_mcrs(world, settings)               # cached: no training, same weights
    assert again.timings == {}
    assert again.clip.fingerprint == mcrs.clip.fingerprint and again.ulip.weights_id == mcrs.ulip.weights_id
    current = read_current(settings)
    assert current["world_key"] == world.key() and Path(current["checkpoints"]["clap"]).is_file()


def test_mini_encoders_take_any_decoded_media(small):
    from mcrsearch.encoders import create_encoder

    world, mcrs, _ = small
    clap = create_encoder("mini", mcr="clap", checkpoint=mcrs.cache_dir / "clap.pt", device="cpu")
    assert clap.fingerprint == mcrs.clap.fingerprint
    rng = np.random.default_rng(0)
    clips = [AudioClip(rng.normal(0, 0.1, 44_100 * 3).astype(np.float32), 44_100),   # long, other rate
             AudioClip(rng.normal(0, 0.1, 800).astype(np.float32), 8_000)]          # very short
    va = clap.encode(Modality.AUDIO, clips)
    vt = clap.encode("text", ["a bell rings", "", "zzz unknown words"])
    assert va.shape == (2, 48) and vt.shape == (3, 48)
    assert np.allclose(np.linalg.norm(va, axis=1), 1, atol=1e-5)
    from PIL import Image

    imgs = [Image.new("L", (17, 90), 128), Image.new("RGBA", (300, 200))]
    assert mcrs.clip.encode("image", imgs).shape == (2, 64)
    assert mcrs.ulip.encode("image", imgs).shape == (2, 32)
    clouds = [rng.normal(size=(50, 3)).astype(np.float32) * 100, rng.normal(size=(20000, 3)).astype(np.float32)]
    v1 = mcrs.ulip.encode("3d", clouds)
    assert v1.shape == (2, 32) and np.array_equal(v1, mcrs.ulip.encode("3d", clouds))   # deterministic


def test_encode_items_caches(small, tmp_path):
    from mcrsearch.miniworld.mcrs import encode_items

    world, mcrs, _ = small
    items = world.select("test", "3d")
    v = encode_items(mcrs.ulip, "3d", items, cache_dir=tmp_path)
    files = list((tmp_path / "features").rglob("vectors.f32"))     # the trainer's feature cache
    assert len(files) == 1 and v.shape == (len(items), 32)
    assert np.array_equal(encode_items(mcrs.ulip, "3d", items, cache_dir=tmp_path), v)


def test_space_refuses_without_heads(small, tmp_path):
    from mcrsearch.errors import McrError
    from mcrsearch.miniworld.mcrs import current_record
    from mcrsearch.miniworld.space import build_miniworld_space

    world, mcrs, settings = small
    record = current_record(world, mcrs)
    record["heads"] = {"clap": str(tmp_path / "none.pt"), "ulip": str(tmp_path / "none2.pt")}
    with pytest.raises(McrError, match="mcrsearch demo"):
        build_miniworld_space(settings, record)
    empty = load_settings(home=tmp_path / "empty-home")
    with pytest.raises(McrError, match="mcrsearch demo"):
        build_miniworld_space(empty)


def test_demo_on_the_small_world_via_cli(small, capsys):
    from mcrsearch.cli import main

    world, mcrs, settings = small
    code = main(["--home", str(settings.home), "--device", "cpu", "demo", "--scale", "small",
                 "--dir", str(world.root), "--json"])
    out = capsys.readouterr().out
    assert code == 0, out
    summary = json.loads(out)
    assert set(summary["mcr"]) == {"clip", "clap", "ulip"}
    assert summary["mcr"]["clip"]["image->text"]["r@1"] >= SMALL_R1_FLOOR
    assert "timings" in summary and summary["world"]["key"] == world.key()
    if summary["connections"]["status"] != "unavailable":
        em = summary["emergent"]["audio->3d"]
        assert 0.0 <= em["map"] <= 1.0 and em["emergent"] is True
        assert len(summary["examples"]) >= 3 and all(ex["hits"] for ex in summary["examples"])
        through_index = summary["query_layer"]["audio->3d"]            # real query layer over the real index
        assert through_index["queries"] == len(world.select("test", "audio"))
        assert through_index["p@10"] >= 2 * through_index["chance"]
        from mcrsearch.space import create_space

        space = create_space("miniworld", settings)          # the space is now a named space like any other
        assert space.dim == 64 and set(space.modalities) == set(WORLD_MODALITIES)
        v = space.embed("3d", [np.random.default_rng(1).normal(size=(300, 3)).astype(np.float32)])
        assert v.shape == (1, 64)


# The four spaces of the mini-world table and the modalities each one serves.
TABLE_SPACES = {"miniworld": set(WORLD_MODALITIES), "miniworld-oracle": set(WORLD_MODALITIES),
                "miniworld-cmcr-clap-clip": {Modality.IMAGE, Modality.TEXT, Modality.AUDIO},
                "miniworld-cmcr-ulip-clip": {Modality.IMAGE, Modality.TEXT, Modality.POINTS}}


def _demo_heads(small):
    """Every head the demo trains (cached when the demo test above already ran)."""
    from mcrsearch.miniworld.demo import stage_connections

    world, mcrs, settings = small
    assert stage_connections(world, mcrs, settings)["status"] in ("trained", "cached")
    return world, mcrs, settings


def test_demo_heads_build_every_miniworld_space(small):
    from mcrsearch.miniworld.world import decode_items
    from mcrsearch.miniworld.record import read_current
    from mcrsearch.space import create_space

    world, mcrs, settings = _demo_heads(small)
    current = read_current(settings)
    for key in ("heads", "cmcr_heads", "oracle_heads"):
        assert all(Path(p).is_file() for p in current[key].values()), key
    oracle_side = json.loads(Path(current["oracle_heads"]["clap"]).with_suffix(".json").read_text())
    assert oracle_side["oracle"] is True and oracle_side["head"] == "ExMCRHead"
    fingerprints = set()
    for name, modalities in TABLE_SPACES.items():
        space = create_space(name, settings)
        assert set(space.modalities) == modalities and space.dim == 64 and space.mesh_points == 2048, name
        assert getattr(space, "label", "")
        fingerprints.add(space.fingerprint)
        for mod in modalities:
            items = world.select("test", mod)[:3]
            v = space.embed(mod, decode_items(items, mod))
            assert v.shape == (3, 64) and np.allclose(np.linalg.norm(v, axis=1), 1, atol=1e-5), (name, mod)
    assert len(fingerprints) == len(TABLE_SPACES)          # the oracle's heads are not Ex-MCR's


def test_new_spaces_refuse_missing_heads_and_the_benchmark_skips_them(small, tmp_path):
    from mcrsearch.commands.benchmark_cmd import _spaces
    from mcrsearch.errors import McrError
    from mcrsearch.miniworld.mcrs import current_record
    from mcrsearch.miniworld.record import CURRENT, miniworld_cache
    from mcrsearch.miniworld.space import build_cmcr_space, build_miniworld_space

    world, mcrs, _ = _demo_heads(small)
    record = current_record(world, mcrs)
    record["cmcr_heads"] = {"clap": str(tmp_path / "none.pt"), "ulip": str(tmp_path / "none2.pt")}
    del record["oracle_heads"]                               # a record written before the oracle space existed
    settings = load_settings(home=tmp_path / "home", device="cpu")
    for build in (lambda: build_cmcr_space(settings, "clap", record),
                  lambda: build_cmcr_space(settings, "ulip", record),
                  lambda: build_miniworld_space(settings, record, oracle=True)):
        with pytest.raises(McrError, match="mcrsearch demo"):
            build()
    (miniworld_cache(settings) / CURRENT).parent.mkdir(parents=True)
    (miniworld_cache(settings) / CURRENT).write_text(json.dumps(record))
    spaces, notes = _spaces("miniworld", None, settings)
    assert [s.name for s in spaces] == ["miniworld"] and len(notes) == 3
    assert all("skipped" in n and "mcrsearch demo" in n for n in notes)


def test_benchmark_table_covers_the_four_spaces_and_index_equals_exact(small, capsys):
    from mcrsearch.cli import main

    world, _, settings = _demo_heads(small)
    capsys.readouterr()
    assert main(["--home", str(settings.home), "benchmark", "miniworld", "--root", str(world.root), "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert {s["space"] for s in data["spaces"]} == set(TABLE_SPACES)
    assert {s["label"] for s in data["spaces"]} == {"Ex-MCR", "Ex-MCR paired oracle", "C-MCR CLAP-CLIP",
                                                    "C-MCR ULIP-CLIP"}
    rows = [r for r in data["results"] if r.get("kind") == "class" and "exact" in r]
    for name, modalities in TABLE_SPACES.items():
        served = {r["task"] for r in rows if r["space"] == name}
        assert len(served) == len(modalities) * (len(modalities) - 1), name
        assert {r["pair"] for r in rows if r["space"] == name} == {"within", "emergent"}, name
    for row in rows:
        assert row["chance"]["map"] > 0
        for metric, delta in row["diff"].items():          # index path == exact path to 3 decimals
            assert abs(delta) < 1e-3, (row["space"], row["task"], metric, delta)
    emergent = [r for r in rows if r["pair"] == "emergent"]
    assert all(r["exact"]["map"] > 2 * r["chance"]["map"] for r in emergent)
