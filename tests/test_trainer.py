"""Trainer: pseudo partners, noise, C-MCR / Ex-MCR quality on synthetic MCRs, ablations, checkpoints."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from mcrsearch.errors import WeightsInvalidError
from mcrsearch_trainer.cmcr import fit_cmcr, sides
from mcrsearch_trainer.config import CMCRConfig, ExMCRConfig, load_config, make_config
from mcrsearch_trainer.evaluate import chance_map, evaluate_set, retrieval_metrics
from mcrsearch_trainer.exmcr import build_tuples, fit_exmcr
from mcrsearch_trainer.pseudo import add_noise, cross_space_pseudo, pseudo_embeddings
from mcrsearch_trainer.synthetic import synthetic_connection


def _unit(n, d, seed):
    x = np.random.default_rng(seed).standard_normal((n, d)).astype(np.float32)
    return x / np.linalg.norm(x, axis=1, keepdims=True)


@pytest.fixture(autouse=True, scope="module")
def _one_thread(single_thread):
    """Every test here runs on one torch thread (see conftest.single_thread)."""


@pytest.fixture(scope="module")
def data():
    return synthetic_connection(n_overlap=800, n_memory=800, n_val=300)


def test_pseudo_chunked_equals_unchunked():
    q, mem, vals = _unit(50, 16, 0), _unit(1000, 16, 1), _unit(1000, 8, 2)
    full = pseudo_embeddings(q, mem, 0.01, chunk=10 ** 9)
    chunked = pseudo_embeddings(q, mem, 0.01, chunk=37, query_chunk=7)
    np.testing.assert_allclose(full.numpy(), chunked.numpy(), atol=1e-5)
    w = torch.softmax(torch.from_numpy(q) @ torch.from_numpy(mem).T / 0.01, dim=1)
    direct = torch.nn.functional.normalize(w @ torch.from_numpy(mem), dim=-1)
    np.testing.assert_allclose(full.numpy(), direct.numpy(), atol=1e-5)
    cross = cross_space_pseudo(q, mem, vals, 0.05, chunk=100)
    direct = torch.nn.functional.normalize(torch.softmax(torch.from_numpy(q) @ torch.from_numpy(mem).T / 0.05, 1)
                                           @ torch.from_numpy(vals), dim=-1)
    assert cross.shape == (50, 8)
    np.testing.assert_allclose(cross.numpy(), direct.numpy(), atol=1e-5)


def test_pseudo_accepts_memmap(tmp_path):
    mem = _unit(300, 8, 3)
    mm = np.memmap(tmp_path / "m.f32", dtype=np.float32, mode="w+", shape=mem.shape)
    mm[:] = mem
    a = pseudo_embeddings(_unit(5, 8, 4), mm, 0.02, chunk=64)
    b = pseudo_embeddings(_unit(5, 8, 4), mem, 0.02)
    np.testing.assert_allclose(a.numpy(), b.numpy(), atol=1e-6)


def test_noise_keeps_unit_norm_and_moves_vectors():
    x = torch.from_numpy(_unit(200, 64, 5))
    y = add_noise(x, 0.05, torch.Generator().manual_seed(0))
    np.testing.assert_allclose(y.norm(dim=-1).numpy(), 1.0, atol=1e-5)
    assert (x - y).norm(dim=-1).mean() > 0.1
    assert torch.equal(add_noise(x, 0.0), x)


def test_metrics_perfect_and_chance():
    labels = np.repeat(np.arange(4), 5)
    x = np.eye(4, dtype=np.float32)[labels] + 0.01 * _unit(20, 4, 6)
    m = retrieval_metrics(x, labels, x, labels)
    assert m["map"] > 0.99 and m["r@1"] == 1.0
    assert abs(chance_map(labels, labels) - 0.25) < 1e-6


def test_config_toml_and_overrides(tmp_path):
    f = tmp_path / "t.toml"
    f.write_text("sigma = 0.2\n[exmcr]\nlambda = 0.5\ndense = false\n")
    cfg = load_config(ExMCRConfig, f, epochs=3)
    assert (cfg.sigma, cfg.lam, cfg.dense, cfg.epochs) == (0.2, 0.5, False, 3)
    with pytest.raises(Exception):
        make_config(CMCRConfig, nonsense=1)


FAST = dict(device="cpu", batch_size=256, epochs=6, val_every=10 ** 6)


def _emergent_map(history):
    val = history.final_val()
    return val["audio->image/a2b/map"], val["audio->image/b2a/map"]


def test_cmcr_beats_chance_by_wide_margin(data):
    vs = data.validation[0]
    chance = chance_map(vs.labels_a, vs.labels_b)
    heads, hist = fit_cmcr(data, make_config(CMCRConfig, **dict(FAST, epochs=20, lr=3e-3)))
    a2b, b2a = _emergent_map(hist)
    assert a2b > 5 * chance and b2a > 5 * chance, (a2b, b2a, chance)
    assert set(k.split(".")[0] for k in heads.state_dict()) == {"Head_A", "Head_B"}


def test_exmcr_beats_chance_by_wide_margin(data):
    vs = data.validation[0]
    chance = chance_map(vs.labels_a, vs.labels_b)
    head, hist = fit_exmcr(data, make_config(ExMCRConfig, **FAST))
    a2b, b2a = _emergent_map(hist)
    assert a2b > 5 * chance and b2a > 5 * chance, (a2b, b2a, chance)
    assert {k.split(".")[0] for k in head.state_dict()} == {"Head1", "Head2"}


def test_exmcr_tuples_pool_every_centre(data):
    cfg = make_config(ExMCRConfig, device="cpu")
    t = build_tuples(data, cfg, torch.device("cpu"))
    assert len(t["o_a"]) == len(data.overlap_a) + len(data.memory_a) + len(data.memory_b)
    assert len(build_tuples(data, make_config(ExMCRConfig, various_centric=False), torch.device("cpu"))["o_a"]) \
        == len(data.overlap_a)
    for v in t.values():
        np.testing.assert_allclose(v.norm(dim=-1).numpy(), 1.0, atol=1e-4)


def test_ablation_switches_change_behaviour(data):
    small = dict(FAST, steps=3)
    base = fit_exmcr(data, make_config(ExMCRConfig, **small))[1]
    for switch in ("use_pseudo", "use_noise", "use_intra", "dense"):
        other = fit_exmcr(data, make_config(ExMCRConfig, **small, **{switch: False}))[1]
        assert other.loss != base.loss, switch
    # without pseudo partners only the overlap is aligned: across a wide modality gap the emergent pair suffers
    full = _emergent_map(fit_exmcr(data, make_config(ExMCRConfig, **FAST))[1])[0]
    nopseudo = _emergent_map(fit_exmcr(data, make_config(ExMCRConfig, **FAST, use_pseudo=False))[1])[0]
    assert full > nopseudo + 0.2, (full, nopseudo)


def test_checkpoint_round_trip(tmp_path, data):
    from mcrsearch.heads import CMCRClapClipHeads, ExMCRHead
    from mcrsearch_trainer.head_files import load_checkpoint, plot_curves, save_checkpoint, sidecar_path

    head, hist = fit_exmcr(data, make_config(ExMCRConfig, **dict(FAST, epochs=1)))
    path = save_checkpoint(head, tmp_path / "ex_clap.pt", config={"x": 1}, data_fingerprint=data.fingerprint(),
                           metrics=hist.final_val(), history=hist)
    x = torch.from_numpy(data.validation[0].x_a)
    again = load_checkpoint(ExMCRHead(data.dim_a, data.dim_b), path)
    with torch.no_grad():
        assert torch.equal(head(x), again(x))
    assert sidecar_path(path).exists() and plot_curves(hist, tmp_path / "c.png").stat().st_size > 1000
    raw = torch.load(path, weights_only=True)
    assert isinstance(raw, dict) and all(isinstance(v, torch.Tensor) for v in raw.values())
    heads, _ = fit_cmcr(data, make_config(CMCRConfig, **dict(FAST, epochs=1)))
    p2 = save_checkpoint(heads, tmp_path / "clap_clip.pt")
    again2 = load_checkpoint(CMCRClapClipHeads(data.dim_a, data.dim_b, data.dim_b), p2)
    fa, _ = sides(heads, "cmcr-clap-clip")
    fa2, _ = sides(again2, "cmcr-clap-clip")
    with torch.no_grad():
        assert torch.equal(fa(x), fa2(x))


def test_checkpoint_import_via_weights_module(tmp_path):
    """A trained 512-d head saved by the trainer imports under its own name (never as the released file, which
    it is not) and reloads bit-identically."""
    weights = pytest.importorskip("mcrsearch.weights")
    from mcrsearch.config import load_settings
    from mcrsearch_trainer.head_files import save_checkpoint
    from mcrsearch_trainer.synthetic import SyntheticWorld

    small = synthetic_connection(n_overlap=200, n_memory=200, n_val=50, world=SyntheticWorld(dim=512))
    head, _ = fit_exmcr(small, make_config(ExMCRConfig, **dict(FAST, epochs=1)))
    path = save_checkpoint(head, tmp_path / "ex_clap.pt")
    settings = load_settings()
    with pytest.raises(WeightsInvalidError, match="not a released file"):
        weights.import_file(path, settings)
    assert weights.import_file(path, settings, name="my-ex-clap") == "my-ex-clap"
    again = weights.load_own_head("my-ex-clap", settings)
    x = torch.from_numpy(small.validation[0].x_a)
    with torch.no_grad():
        assert torch.equal(head(x), again(x))


def test_evaluate_set_both_directions(data):
    out = evaluate_set(data.validation[0], None, None)
    assert {k.split("/")[1] for k in out} == {"a2b", "b2a"}
