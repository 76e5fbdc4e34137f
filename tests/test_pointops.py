"""The compiled ULIP-2 k-NN grouping against its torch reference: same neighbours, same order, ties included."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from mcrsearch.encoders import _pointops
from mcrsearch.encoders._pointops import farthest_point_sample, knn, knn_torch


@pytest.mark.parametrize("n,queries,k,scale,ties", [(10_000, 512, 32, 1.0, False), (1024, 64, 32, 1e-3, False),
                                                    (32, 32, 32, 50.0, False), (2048, 128, 32, 1.0, True),
                                                    (40, 10, 8, 1.0, True)])
def test_compiled_knn_equals_torch_reference(n, queries, k, scale, ties):
    rng = np.random.default_rng(n + queries)
    xyz = rng.standard_normal((2, n, 3)).astype(np.float32) * scale
    if ties:
        xyz = np.round(xyz * 2) / 2            # duplicated points and equal distances: the lower index first
    points = torch.from_numpy(xyz)
    centres = points[torch.arange(2).unsqueeze(-1), farthest_point_sample(points, queries)]
    got = knn(points, centres, k)
    assert got.shape == (2, queries, k) and got.dtype == torch.long
    assert torch.equal(got, knn_torch(points, centres, k))


def test_knn_is_nearest_first_with_ties_to_the_lower_index():
    pts = torch.tensor([[[1.0, 0, 0], [0, 0, 0], [-1.0, 0, 0], [0, 0, 0], [3.0, 0, 0], [0, 1.0, 0]]])
    q = torch.zeros(1, 1, 3)
    assert knn(pts, q, 5).tolist() == [[[1, 3, 0, 2, 5]]]
    assert knn_torch(pts, q, 5).tolist() == [[[1, 3, 0, 2, 5]]]


def test_knn_sets_match_brute_force_distances():
    pts = torch.randn(2, 500, 3)
    q = pts[:, :9]
    brute = torch.cdist(q.double(), pts.double()).topk(7, largest=False).indices
    assert torch.equal(knn(pts, q, 7).sort(-1).values, brute.sort(-1).values)


def test_knn_falls_back_to_torch_and_refuses_too_few_points(monkeypatch):
    pts = torch.randn(1, 50, 3, dtype=torch.float64)
    assert torch.equal(knn(pts, pts[:, :4], 6), knn_torch(pts, pts[:, :4], 6))
    monkeypatch.setattr(_pointops, "_compile", lambda: None)           # no numba: the reference runs
    p32 = pts.float()
    assert torch.equal(knn(p32, p32[:, :4], 6), knn_torch(p32, p32[:, :4], 6))
    with pytest.raises(ValueError, match="k=60"):
        knn(p32, p32[:, :4], 60)
