"""ULIP-2 PointBERT in pure torch: layout of the released checkpoint, loading, determinism, refusals."""

from __future__ import annotations

import argparse

import numpy as np
import pytest
import torch

from mcrsearch.encoders import create_encoder
from mcrsearch.encoders.ulip import (CONFIGS, PointBERT, build, farthest_point_sample, knn_indices,
                                     prepare_points)
from mcrsearch.errors import MediaError, WeightsInvalidError, WeightsMissingError
from mcrsearch.checkpoint import read_checkpoint as safe_load


def _clouds(n: int, points: int = 700, seed: int = 1) -> list[np.ndarray]:
    rng = np.random.default_rng(seed)
    return [rng.normal(size=(points + 37 * i, 3)).astype(np.float32) for i in range(n)]


@pytest.fixture(scope="module")
def tiny():
    return build("tiny", random_init=True)


def released_layout(trans=384, depth=12, enc=256, proj=512) -> dict[str, tuple[int, ...]]:
    """The parameter names and shapes of pointbert_ULIP-2.pt's point branch, written out from the released
    architecture (PointTransformer_8192point.yaml + ULIP_PointBERT), independently of our module."""
    out: dict[str, tuple[int, ...]] = {"pc_projection": (2 * trans, proj)}
    p = "point_encoder."
    def bn(name, c):
        out.update({f"{name}.weight": (c,), f"{name}.bias": (c,), f"{name}.running_mean": (c,),
                    f"{name}.running_var": (c,), f"{name}.num_batches_tracked": ()})
    out.update({p + "encoder.first_conv.0.weight": (128, 3, 1), p + "encoder.first_conv.0.bias": (128,)})
    bn(p + "encoder.first_conv.1", 128)
    out.update({p + "encoder.first_conv.3.weight": (256, 128, 1), p + "encoder.first_conv.3.bias": (256,),
                p + "encoder.second_conv.0.weight": (512, 512, 1), p + "encoder.second_conv.0.bias": (512,)})
    bn(p + "encoder.second_conv.1", 512)
    out.update({p + "encoder.second_conv.3.weight": (enc, 512, 1), p + "encoder.second_conv.3.bias": (enc,),
                p + "reduce_dim.weight": (trans, enc), p + "reduce_dim.bias": (trans,),
                p + "cls_token": (1, 1, trans), p + "cls_pos": (1, 1, trans),
                p + "pos_embed.0.weight": (128, 3), p + "pos_embed.0.bias": (128,),
                p + "pos_embed.2.weight": (trans, 128), p + "pos_embed.2.bias": (trans,),
                p + "norm.weight": (trans,), p + "norm.bias": (trans,)})
    for i in range(depth):
        b = f"{p}blocks.blocks.{i}."
        out.update({b + "norm1.weight": (trans,), b + "norm1.bias": (trans,),
                    b + "attn.qkv.weight": (3 * trans, trans),
                    b + "attn.proj.weight": (trans, trans), b + "attn.proj.bias": (trans,),
                    b + "norm2.weight": (trans,), b + "norm2.bias": (trans,),
                    b + "mlp.fc1.weight": (4 * trans, trans), b + "mlp.fc1.bias": (4 * trans,),
                    b + "mlp.fc2.weight": (trans, 4 * trans), b + "mlp.fc2.bias": (trans,)})
    return out


def test_full_size_matches_released_layout():
    model = PointBERT(**CONFIGS["pointbert-ulip2"])
    got = {k: tuple(v.shape) for k, v in model.state_dict().items()}
    assert got == released_layout()
    assert sum(p.numel() for p in model.parameters()) == 22_252_032   # 22.25 M, as measured on the release


def test_tiny_shapes_norms_determinism(tiny):
    clouds = _clouds(3)
    a = tiny.encode("3d", clouds)
    assert a.shape == (3, 512) and a.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(a, axis=1), 1.0, atol=1e-5)
    np.testing.assert_array_equal(a, tiny.encode("3d", clouds))
    again = build("tiny", random_init=True)                     # seeded init: same weights, same vectors
    assert again.fingerprint == tiny.fingerprint
    np.testing.assert_array_equal(a, again.encode("3d", clouds))
    assert not np.allclose(a[0], a[1])


def test_batch_invariance(tiny):
    clouds = _clouds(4)
    batch = tiny.encode("3d", clouds)
    single = np.concatenate([tiny.encode("3d", [c]) for c in clouds])
    np.testing.assert_allclose(batch, single, atol=1e-5)


def test_point_order_of_the_file_is_what_counts_not_the_batch(tiny):
    cloud = _clouds(1)[0]
    v1 = tiny.encode("3d", [cloud])
    v2 = tiny.encode("3d", [cloud.copy(), _clouds(1, seed=5)[0]])[:1]
    np.testing.assert_allclose(v1, v2, atol=1e-5)


def test_prepare_points_subsamples_large_and_never_tiles():
    big = np.random.default_rng(0).normal(size=(12_345, 6)).astype(np.float64)
    a, b = prepare_points(big, 10_000), prepare_points(big, 10_000)
    assert a.shape == (10_000, 3) and a.dtype == np.float32
    np.testing.assert_array_equal(a, b)
    assert len(np.unique(a, axis=0)) == 10_000                 # a subset: no point twice
    exact = big[:10_000, :3].astype(np.float32)
    np.testing.assert_array_equal(prepare_points(exact, 10_000), exact)   # demo files (10k) pass unchanged
    mid = big[:1_024, :3].astype(np.float32)
    np.testing.assert_array_equal(prepare_points(mid, 10_000, 32), mid)   # fed as they are, not tiled
    small = prepare_points(big[:20], 10_000, 32)                # below one KNN group: filled to one group
    assert small.shape == (32, 3)
    np.testing.assert_array_equal(small[20:], small[:12])
    with pytest.raises(MediaError):
        prepare_points(np.zeros((0, 3)), 10)
    with pytest.raises(MediaError):
        prepare_points(np.array([[0.0, np.nan, 1.0]]), 10)
    with pytest.raises(MediaError):
        prepare_points(np.zeros((5, 2)), 10)


def test_clouds_of_different_sizes_in_one_batch_match_alone(tiny):
    clouds = _clouds(3)          # 700, 737, 774 points: each its own forward, none padded to another
    together = tiny.encode("3d", clouds)
    alone = np.concatenate([tiny.encode("3d", [c]) for c in clouds])
    np.testing.assert_allclose(together, alone, atol=1e-5)


def test_same_object_at_two_scales_and_offsets_gives_the_same_vector(tiny, tmp_path):
    """A scan in millimetres and in metres, anywhere in space: one object, one vector (issue 15)."""
    from mcrsearch.media import decode

    obj = _clouds(1, points=12_000)[0] * np.float32([1.0, 0.5, 0.3])
    vectors = []
    for scale, offset in ((1.0, (0, 0, 0)), (1000.0, (0, 0, 0)), (0.01, (5, -3, 2)), (250.0, (-4e3, 1e3, 7e2))):
        path = tmp_path / f"obj_{scale:g}.npy"
        np.save(path, (obj.astype(np.float64) * scale + np.float64(offset)))
        vectors.append(tiny.encode("3d", [decode(path)[1]])[0])
    for v in vectors[1:]:
        assert float(v @ vectors[0]) > 0.9999
    other = tiny.encode("3d", [decode_array(tmp_path, _clouds(1, points=12_000, seed=9)[0])])[0]
    assert float(other @ vectors[0]) < float(vectors[1] @ vectors[0])


def decode_array(folder, arr: np.ndarray) -> np.ndarray:
    from mcrsearch.media import decode

    path = folder / "other.npy"
    np.save(path, arr)
    return decode(path)[1]


def test_fps_and_knn():
    xyz = torch.tensor([[[0.0, 0, 0], [0.1, 0, 0], [5.0, 0, 0], [0, 3.0, 0], [4.9, 0.1, 0]]])
    idx = farthest_point_sample(xyz, 3)
    assert idx.tolist() == [[0, 2, 3]]                       # starts at index 0, then farthest each time
    nn_idx = knn_indices(xyz, xyz[:, [2]], 2)
    assert nn_idx.tolist() == [[[2, 4]]]
    pts = torch.randn(2, 200, 3)
    q = pts[:, :7]
    brute = torch.cdist(q, pts).topk(5, largest=False).indices
    assert torch.equal(knn_indices(pts, q, 5), brute)


def _released_format(model: torch.nn.Module, path, proj=None) -> None:
    state = {f"module.{k}": v for k, v in model.state_dict().items()}
    if proj is not None:
        state["module.pc_projection"] = proj
    state["module.logit_scale"] = torch.tensor(2.65)                     # the unused image/text towers
    state["module.visual.cls_token"] = torch.zeros(1, 1, 8)
    torch.save({"state_dict": state, "args": argparse.Namespace(model="ULIP_PointBERT", npoints=8192),
                "epoch": 7, "best_acc1": 60.3}, path)


def test_released_format_checkpoint_loads_strictly_and_matches(tiny, tmp_path):
    path = tmp_path / "pointbert_ULIP-2.pt"
    _released_format(tiny.model, path)
    loaded = create_encoder("ulip2", config="tiny", checkpoint=path)
    clouds = _clouds(2)
    np.testing.assert_array_equal(loaded.encode("3d", clouds), tiny.encode("3d", clouds))
    assert loaded.fingerprint == tiny.fingerprint
    assert isinstance(safe_load(path)["args"], argparse.Namespace)


def test_1280d_release_is_refused(tiny, tmp_path):
    path = tmp_path / "ulip2_later.pt"
    _released_format(tiny.model, path, proj=torch.zeros(64, 1280))
    with pytest.raises(WeightsInvalidError, match="1280 dimensions"):
        build("tiny", checkpoint=path)


def test_missing_key_is_refused(tiny, tmp_path):
    path = tmp_path / "broken.pt"
    state = {f"module.{k}": v for k, v in tiny.model.state_dict().items() if "norm.bias" not in k}
    torch.save({"state_dict": state}, path)
    with pytest.raises(WeightsInvalidError, match="missing"):
        build("tiny", checkpoint=path)


class _Payload:
    def __init__(self, marker):
        self.marker = str(marker)

    def __reduce__(self):
        return (open, (self.marker, "w"))


def test_full_pickle_file_is_refused_not_executed(tmp_path):
    marker = tmp_path / "pwned"
    path = tmp_path / "evil.pt"
    torch.save({"state_dict": {"module.pc_projection": torch.zeros(2, 2)}, "x": _Payload(marker)}, path)
    assert not marker.exists()
    with pytest.raises(WeightsInvalidError, match="full pickle"):
        build("tiny", checkpoint=path)
    assert not marker.exists()


def test_missing_weights_name_the_artifact(tmp_path):
    with pytest.raises(WeightsMissingError) as err:
        build()                                                   # empty MCRSEARCH_HOME (conftest)
    msg = str(err.value)
    assert "ulip2-pointbert" in msg and "mcrsearch weights fetch ulip2-pointbert" in msg
    assert "mcrsearch weights import" in msg
    with pytest.raises(WeightsMissingError, match="ulip2-pointbert"):
        build("tiny", checkpoint=tmp_path / "nope.pt")


def test_every_3d_file_kind_through_tiny_encoder(tmp_path, tiny):
    """Real files of every supported 3D kind, decoded by mcrsearch.media, embed deterministically."""
    from mcrsearch.media import decode
    from mcrsearch.modality import Modality
    from helpers.media import write_clouds, write_meshes

    (tmp_path / "meshes").mkdir()
    (tmp_path / "clouds").mkdir()
    files = {**write_meshes(tmp_path / "meshes"), **write_clouds(tmp_path / "clouds")}
    assert {p.suffix for p in files.values()} >= {".obj", ".ply", ".stl", ".off", ".glb", ".npy", ".npz", ".xyz"}
    clouds = []
    for path in files.values():
        modality, cloud = decode(path, Modality.POINTS, n_points=2048)
        assert modality is Modality.POINTS
        clouds.append(cloud)
    batch = tiny.encode(Modality.POINTS, clouds)
    assert batch.shape == (len(files), tiny.dim) and batch.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(batch, axis=1), 1.0, atol=1e-5)
    again = tiny.encode(Modality.POINTS, [decode(p, Modality.POINTS, n_points=2048)[1] for p in files.values()])
    np.testing.assert_array_equal(batch, again)
    alone = tiny.encode(Modality.POINTS, clouds[:1])
    np.testing.assert_allclose(alone[0], batch[0], atol=1e-5)
