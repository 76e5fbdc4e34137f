"""The full default demo (cold cache): each mini MCR must reach held-out class-level R@1 >= 0.9; the
mini-world connection recipe end to end on the small world."""

from __future__ import annotations

import json

import pytest


@pytest.mark.slow
def test_default_demo_mcrs_reach_090(tmp_path, capsys):
    from mcrsearch.cli import main

    code = main(["--home", str(tmp_path / "home"), "--device", "cpu", "demo", "--dir", str(tmp_path / "world"),
                 "--json"])
    out = capsys.readouterr().out
    assert code == 0, out
    summary = json.loads(out)
    for name in ("clip", "clap", "ulip"):
        for direction, m in summary["mcr"][name].items():
            assert m["r@1"] >= 0.9, (name, direction, m)
    if summary["connections"]["status"] != "unavailable":
        em = summary["emergent"]["audio->3d"]
        assert em["r@1"] > 3 * em["chance_r@1"], em


@pytest.mark.slow
def test_miniworld_small_end_to_end(tmp_path):
    from mcrsearch.config import load_settings
    from mcrsearch.miniworld.generate import generate_world
    from mcrsearch.miniworld.world import WorldConfig
    from mcrsearch.miniworld.connections import train_miniworld_connections

    settings = load_settings(home=tmp_path, device="cpu")
    world = generate_world(tmp_path / "world", WorldConfig.preset("small"))
    result = train_miniworld_connections(world, None, settings, method="exmcr")
    assert result["emergent"]["audio->3d/map"] > 2.0 / len(world.classes)
    assert all(p.endswith(".pt") for p in result["heads"].values())
