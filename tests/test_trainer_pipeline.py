"""The generic two-connection training and evaluation on synthetic features (fast)."""

from __future__ import annotations

import pytest

from mcrsearch_trainer.config import ExMCRConfig, make_config
from mcrsearch_trainer.pipeline import connection_data, evaluate_heads, fit_connections
from mcrsearch_trainer.synthetic import synthetic_feats


@pytest.fixture(autouse=True, scope="module")
def _one_thread(single_thread):
    """Every test here runs on one torch thread (see conftest.single_thread)."""


def test_connection_data_is_row_aligned_and_unpaired():
    feats = synthetic_feats(n_unpaired=100, n_test=40, n_oracle=40)
    d = connection_data(feats, "ulip")
    assert len(d.overlap_a) == len(d.overlap_b) == 100 and d.dim_a == d.dim_b == 32
    assert d.validation[0].name == "3d->text" and len(d.pairs_a) == 40


def test_exmcr_connections_make_audio_and_3d_meet():
    feats = synthetic_feats(n_unpaired=500, n_test=160, n_oracle=200)
    cfg = make_config(ExMCRConfig, device="cpu", batch_size=256, epochs=8, val_every=10 ** 6)
    heads, _ = fit_connections("exmcr", feats, cfg)
    m = evaluate_heads("exmcr", heads, feats)
    for pair in ("audio->3d", "3d->audio", "audio->image", "image->audio", "3d->text", "text->3d"):
        assert m[f"{pair}/map"] > 0.25, (pair, m[f"{pair}/map"])     # chance ~ 1/16
    oracle, _ = fit_connections("exmcr", feats, cfg, oracle=True)
    assert evaluate_heads("exmcr", oracle, feats)["audio->3d/map"] > 0.25


def test_scarce_unpaired_keeps_overlap_rows_aligned_and_cuts_per_class():
    import numpy as np

    from mcrsearch_trainer.pipeline import _aligned, scarce_unpaired

    rng = np.random.default_rng(0)
    labels = np.repeat(np.arange(4), 5)
    inst = np.arange(20) + 100
    feats = {("unpaired", "clap", "text"): (rng.normal(size=(20, 3)), labels, inst),
             ("unpaired", "clip", "text"): (rng.normal(size=(20, 5)), labels, inst[::-1].copy()[::-1]),
             ("unpaired", "clap", "audio"): (rng.normal(size=(20, 3)), labels, inst + 1000),
             ("test", "clap", "audio"): (rng.normal(size=(8, 3)), labels[:8], inst[:8])}
    cut = scarce_unpaired(feats, 2)
    for key in [k for k in feats if k[0] == "unpaired"]:
        _, kept_labels, _ = cut[key]
        assert np.bincount(kept_labels).tolist() == [2, 2, 2, 2]
    assert set(cut[("unpaired", "clap", "text")][2]) == set(cut[("unpaired", "clip", "text")][2])
    a, b = _aligned(cut, "unpaired", ("clap", "text"), ("clip", "text"))
    assert len(a) == len(b) == 8
    assert cut[("test", "clap", "audio")][0] is feats[("test", "clap", "audio")][0]
