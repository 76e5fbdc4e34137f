"""`mcrsearch weights check`: the authors' demo reproduced through our spaces, compared under a stated tolerance.

The real check needs the real weights (absent here); these tests run the same comparison through the tiny test
space with demo files written in the authors' formats and made-up expected tables, so verdicts can go both ways.
"""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from mcrsearch import democheck
from mcrsearch.cli import main
from mcrsearch.config import Settings
from mcrsearch.errors import WeightsMissingError
from mcrsearch.modality import Modality
from mcrsearch.published_demo import EXPECTED, ITEMS, PublishedMatrix
from mcrsearch.space import Route, Space

PAIRS = (("Vision x Text", "image", "text"), ("Audio x Text", "audio", "text"), ("3D x Vision", "3d", "image"),
         ("Audio x 3D", "audio", "3d"))


@pytest.fixture()
def demo_assets(tmp_path):
    """toilet/BBQ/train as .jpeg, .wav (32 kHz, 16-bit, as released) and .npy pickled dicts (OpenShape format)."""
    import soundfile as sf
    from PIL import Image

    folder = tmp_path / "assets"
    folder.mkdir()
    rng = np.random.default_rng(0)
    for n, item in enumerate(ITEMS):
        pixels = np.full((32, 32, 3), 30, np.uint8)
        pixels[..., n] = 220
        Image.fromarray(pixels).save(folder / f"{item}.jpeg")
        t = np.arange(32000) / 32000
        sf.write(folder / f"{item}.wav", (0.4 * np.sin(2 * np.pi * (200 + 900 * n) * t)).astype(np.float32), 32000,
                 subtype="PCM_16")
        scale = np.full(3, 0.2)
        scale[n] = 1.0
        xyz = (rng.standard_normal((2000, 3)) * scale).astype(np.float16)
        np.save(folder / f"{item}.npy", {"xyz": xyz, "rgb": np.zeros_like(xyz), "id": item, "group": "demo",
                                          "retrieval_text": [f"a {item}"]}, allow_pickle=True)
    return folder


def _table(values_by_label, space="tiny"):
    return tuple(PublishedMatrix(space, label, a, b, values_by_label[label], "made up for the test")
                 for label, a, b in PAIRS)


def test_similarity_matrix_is_the_readmes_softmax():
    a = np.eye(3, 4)
    m = democheck.similarity_matrix(a, a)
    e = np.exp(10.0)
    assert m.shape == (3, 3) and np.allclose(m.sum(1), 1)
    assert m[0, 0] == pytest.approx(e / (e + 2)) and m[0, 1] == pytest.approx(1 / (e + 2))
    torch_m = torch.softmax(torch.tensor(a) @ torch.tensor(a).T * 10.0, dim=-1).numpy()
    assert np.allclose(m, torch_m)


def test_tolerance_follows_the_stated_derivation():
    class Enc:
        pass

    plain, headed = Route(Enc()), Route(Enc(), (torch.nn.Identity(),))
    exmcr_like = Space("x", {Modality.IMAGE: plain, Modality.TEXT: plain, Modality.AUDIO: headed,
                             Modality.POINTS: headed}, 512)
    cmcr_like = Space("y", {Modality.IMAGE: headed, Modality.TEXT: headed, Modality.AUDIO: headed}, 512)
    assert democheck.tolerance(exmcr_like, "image", "text") == pytest.approx(5 * 2e-3 + 5e-5)       # 0.01005
    assert democheck.tolerance(cmcr_like, "image", "text") == pytest.approx(5 * 4e-3 + 5e-5)        # 0.02005
    assert democheck.tolerance(cmcr_like, "audio", "text") == pytest.approx(5 * (6e-3 + 2e-3) + 5e-5)
    assert democheck.tolerance(exmcr_like, "3d", "image") == pytest.approx(5 * (15e-3 + 1e-3) + 5e-5)


def test_check_reproduces_a_table_and_fails_a_wrong_one(demo_assets, tmp_path):
    settings = Settings(home=tmp_path / "home")
    wrong = {label: ((.9, .05, .05), (.05, .9, .05), (.05, .05, .9)) for label, _, _ in PAIRS}
    first = democheck.check(settings, assets=demo_assets, expected=_table(wrong))
    assert [r.label for r in first] == [p[0] for p in PAIRS]
    for r in first:
        assert r.ours.shape == (3, 3) and np.allclose(r.ours.sum(1), 1)
    assert not all(r.ok for r in first)                                  # a made-up table is not reproduced
    printed = {r.label: tuple(tuple(round(float(v), 4) for v in row) for row in r.ours) for r in first}
    again = democheck.check(settings, assets=demo_assets, expected=_table(printed))
    assert all(r.ok for r in again) and all(r.max_diff <= 5e-5 + 1e-12 for r in again)   # printed to 4 decimals
    off = dict(printed)
    row = list(map(list, off["Audio x Text"]))
    row[1][1] += 0.05                                                      # one entry moved beyond tolerance
    off["Audio x Text"] = tuple(map(tuple, row))
    verdicts = {r.label: r.ok for r in democheck.check(settings, assets=demo_assets, expected=_table(off))}
    assert verdicts == {"Vision x Text": True, "Audio x Text": False, "3D x Vision": True, "Audio x 3D": True}


def test_cli_prints_both_matrices_and_fails_on_a_difference(demo_assets, tmp_path, monkeypatch, capsys):
    home = tmp_path / "home"
    first = democheck.check(Settings(home=home), assets=demo_assets,
                            expected=_table({p[0]: ((1, 0, 0), (0, 1, 0), (0, 0, 1)) for p in PAIRS}))
    printed = {r.label: tuple(tuple(round(float(v), 4) for v in row) for row in r.ours) for r in first}
    monkeypatch.setattr(democheck, "EXPECTED", _table(printed))
    assert main(["--home", str(home), "weights", "check", "--assets", str(demo_assets), "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert [r["verdict"] for r in rows] == ["match"] * 4 and rows[0]["expected"] == [list(v) for v in printed["Vision x Text"]]
    printed["3D x Vision"] = ((0.0, 0.0, 1.0),) * 3
    monkeypatch.setattr(democheck, "EXPECTED", _table(printed))
    assert main(["--home", str(home), "weights", "check", "--assets", str(demo_assets)]) != 0
    out = capsys.readouterr()
    text = " ".join((out.out + out.err).split())
    assert "tiny: 3D x Vision" in text and "DIFFERS" in text and "match" in text
    assert "1 of 4 demo matrices differ" in text


def test_missing_weights_and_assets_are_named_at_once(tmp_path, capsys):
    assert main(["--home", str(tmp_path / "home"), "weights", "check"]) != 0
    packed = "".join(capsys.readouterr().err.split())
    names = ["clip-vit-b-32-openai", "clap-630k-fusion-best", "cmcr-clap-clip", "ulip2-pointbert", "cmcr-ulip-clip",
             "exmcr-clap", "exmcr-ulip", "cmcr-demo-assets"]
    assert "8weightsartifactsaremissing" in packed
    assert "mcrsearchweightsfetch" + "".join(names) in packed
    with pytest.raises(WeightsMissingError, match="3 weights artifacts"):
        democheck.check(Settings(home=tmp_path / "home"), spaces=["cmcr-ulip-clip"], assets=tmp_path)


def test_published_table_is_complete_and_rows_are_distributions():
    assert len(EXPECTED) == 12
    assert {m.space for m in EXPECTED} == {"cmcr-clap-clip", "cmcr-ulip-clip", "exmcr"}
    for m in EXPECTED:
        assert len(m.values) == 3 and all(abs(sum(r) - 1) <= 2e-4 for r in m.values), m.label
