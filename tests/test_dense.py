"""Part-level vectors (issue 25): image patches and 3D point groups through the same route as the global vector."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from mcrsearch.encoders.base import l2_normalize
from mcrsearch.errors import ConfigError
from mcrsearch.modality import Modality


def _picture(size: int = 32, seed: int = 0) -> Image.Image:
    return Image.fromarray((np.random.default_rng(seed).random((size, size, 3)) * 255).astype(np.uint8))


@pytest.fixture(scope="module")
def clip():
    from mcrsearch.encoders.openclip import build

    return build("tiny", random_init=True)


def test_clip_tokens_cls_is_the_image_vector(clip):
    """CLS after ln_post and proj is exactly what encode_image returns (same pass): tolerance 1e-5."""
    picture = _picture()
    dense = clip.encode_dense(Modality.IMAGE, picture, "tokens")
    assert dense.grid == (4, 4) and dense.vectors.shape == (16, clip.dim)
    np.testing.assert_allclose(l2_normalize(dense.pooled[None])[0], clip.encode("image", [picture])[0], atol=1e-5)


def test_clip_value_path_differs_from_tokens_and_is_local(clip):
    picture = _picture()
    value = clip.encode_dense(Modality.IMAGE, picture, "value")
    tokens = clip.encode_dense(Modality.IMAGE, picture, "tokens")
    assert value.pooled is None and value.vectors.shape == tokens.vectors.shape
    assert not np.allclose(value.vectors, tokens.vectors)
    # The value path drops the last block's attention mixing: changing one corner patch moves that patch's
    # vector far more than the others (earlier blocks still mix), and more selectively than plain tokens.
    arr = np.asarray(picture).copy()
    arr[:8, :8] = 255 - arr[:8, :8]
    changed = Image.fromarray(arr)

    def selectivity(method: str, before) -> float:
        moved = np.abs(clip.encode_dense(Modality.IMAGE, changed, method).vectors - before.vectors).max(axis=1)
        return float(moved[0] / moved[1:].max())

    assert selectivity("value", value) > 5
    assert selectivity("value", value) > selectivity("tokens", tokens)
    # Centres are cell centres in picture fractions, row-major.
    np.testing.assert_allclose(value.centres[0], [0.125, 0.125])
    np.testing.assert_allclose(value.centres[5], [0.375, 0.375])


def test_clip_dense_refuses_text_and_unknown_method(clip):
    with pytest.raises(ConfigError):
        clip.encode_dense(Modality.TEXT, "a dog")
    with pytest.raises(ConfigError, match="Unknown dense method"):
        clip.encode_dense(Modality.IMAGE, _picture(), "gradcam")


def test_pointbert_groups_pool_back_to_the_global_vector():
    from mcrsearch.encoders.ulip import build

    enc = build("tiny", random_init=True)
    cloud = np.random.default_rng(1).normal(size=(400, 3)).astype(np.float32)
    dense = enc.encode_dense(Modality.POINTS, cloud)
    groups = enc.model.point_encoder.num_group
    assert dense.vectors.shape == (groups, enc.dim) and dense.centres.shape == (groups, 3)
    np.testing.assert_allclose(l2_normalize(dense.pooled[None])[0], enc.encode("3d", [cloud])[0], atol=1e-5)
    # Groups differ from each other (they are parts, not copies of the global vector).
    assert np.ptp(dense.vectors, axis=0).max() > 1e-3


def _mini_clip():
    import torch

    from mcrsearch.miniworld.encoder import build
    from mcrsearch.miniworld.models import DEFAULT_CONFIGS, MiniMCRModel

    torch.manual_seed(0)
    model = MiniMCRModel(DEFAULT_CONFIGS["clip"], vocab=["dog", "cat"]).eval()
    return build("clip", model=model)


def test_mini_window_at_zoom_one_is_the_global_vector():
    enc = _mini_clip()
    picture = _picture(64, seed=3)
    enc.dense_zoom = 1.0
    dense = enc.encode_dense(Modality.IMAGE, picture)
    assert dense.grid == (1, 1)
    np.testing.assert_allclose(l2_normalize(dense.vectors)[0], enc.encode("image", [picture])[0], atol=1e-5)


def test_mini_window_grid_and_cells():
    enc = _mini_clip()
    picture = _picture(64, seed=4)
    window = enc.encode_dense(Modality.IMAGE, picture, "window")     # 64 px input: 8x8 map, 4x4 windows
    assert window.grid == (5, 5) and window.vectors.shape == (25, enc.dim)
    np.testing.assert_allclose(window.centres[0], [0.25, 0.25])
    np.testing.assert_allclose(window.centres[-1], [0.75, 0.75])
    cells = enc.encode_dense(Modality.IMAGE, picture, "cell")
    assert cells.grid == (8, 8)


def test_space_carries_parts_through_the_heads():
    """A space with a head chain projects part vectors like global ones (BN in eval: per vector)."""
    import torch

    from mcrsearch.heads import CMCRClapClipHeads, Normalized
    from mcrsearch.space import Route, Space

    enc = _mini_clip()
    torch.manual_seed(0)
    heads = CMCRClapClipHeads(clap_dim=48, clip_dim=enc.dim, out_dim=enc.dim).eval()
    space = Space("t", {Modality.IMAGE: Route(enc, (Normalized(heads.side("clip")),))}, dim=enc.dim)
    picture = _picture(64, seed=5)
    dense = space.embed_dense(Modality.IMAGE, picture)
    raw = enc.encode_dense(Modality.IMAGE, picture)
    np.testing.assert_allclose(dense.vectors, space.project(Modality.IMAGE, l2_normalize(raw.vectors)), atol=1e-6)
    np.testing.assert_allclose(np.linalg.norm(dense.vectors, axis=1), 1.0, atol=1e-5)
    enc.dense_zoom = 1.0
    one = space.embed_dense(Modality.IMAGE, picture)
    np.testing.assert_allclose(one.vectors[0], space.embed(Modality.IMAGE, [picture])[0], atol=1e-5)
