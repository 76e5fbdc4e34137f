"""The mini-world table by one command (slow: it needs `mcrsearch demo` to build and train the world)."""

from __future__ import annotations

import json

import pytest


@pytest.mark.slow
def test_miniworld_table_with_index_agreement(tmp_path, capsys):
    from mcrsearch.cli import main

    world = tmp_path / "world"
    if main(["demo", "--dir", str(world), "--json"]) != 0:
        pytest.skip("'mcrsearch demo' could not build a trained mini-world in this build")
    capsys.readouterr()
    assert main(["benchmark", "miniworld", "--root", str(world), "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    rows = [r for r in data["results"] if r.get("kind") == "class" and "exact" in r]   # C-MCR spaces skip pairs
    assert {r["task"] for r in rows} >= {"audio->3d", "3d->audio", "audio->image", "image->text"}
    for row in rows:
        for metric, delta in row["diff"].items():          # index path == exact path to 3 decimals
            assert abs(delta) < 5e-4, (row["space"], row["task"], metric, delta)
    emergent = [r for r in rows if r["task"] == "audio->3d"]
    assert all(r["exact"]["map"] > 2 * r["chance"]["map"] for r in emergent)
