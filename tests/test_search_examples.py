"""The example scripts run end to end (embedded store, the test space standing in for a real one)."""

from __future__ import annotations

import runpy
import sys
from pathlib import Path

from helpers import corpus as H

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"


def _run(script: str, argv: list[str], monkeypatch, capsys) -> str:
    monkeypatch.setattr(sys, "argv", [script, *argv])
    runpy.run_path(str(EXAMPLES / script), run_name="__main__")
    return capsys.readouterr().out


def test_index_then_query_examples(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("MCRSEARCH_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("MCRSEARCH_DEVICE", "cpu")
    files = H.write_corpus(tmp_path / "media", per_class=2)
    out = _run("index_folder.py", [str(tmp_path / "media"), "--space", "tiny"], monkeypatch, capsys)
    assert "'indexed': 24" in out and "24 items" in out
    out = _run("query_across_modalities.py", ["--audio", str(files["audio"][5]), "--target", "3d", "-k", "2"],
               monkeypatch, capsys)
    lines = [line for line in out.splitlines() if line.strip()]
    assert len(lines) == 2 and all("/3d/blue_" in line for line in lines)
    out = _run("query_across_modalities.py", ["--like", str(files["image"][0]), "--target", "text", "-k", "1"],
               monkeypatch, capsys)
    assert "/text/red_" in out
