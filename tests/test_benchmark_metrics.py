"""Benchmark metrics against hand-computed values, tie rules, chunking and chance levels."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest

from mcrsearch.benchmark import metrics as M


def _as_vectors(scores: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Queries e_i and targets = scores.T, so that queries @ targets.T == scores exactly."""
    scores = np.asarray(scores, dtype=np.float32)
    return np.eye(scores.shape[0], dtype=np.float32), scores.T.copy()


def test_class_level_recall_and_map_match_hand_computation():
    # q0 (class A) ranks targets t0(A) t1(B) t3(B) t2(A): AP = (1/1 + 2/4) / 2 = 0.75, first hit at rank 0.
    # q1 (class B) ranks t0(A) t2(A) t3(B) t1(B):       AP = (1/3 + 2/4) / 2 = 5/12, first hit at rank 2.
    scores = np.array([[0.9, 0.8, 0.1, 0.5],
                       [0.7, 0.2, 0.6, 0.3]])
    q, t = _as_vectors(scores)
    res = M.retrieval_metrics(q, t, [0, 1], [0, 1, 0, 1], ks=(1, 2, 3))
    assert res.recall == {1: 0.5, 2: 0.5, 3: 1.0}
    assert res.map == pytest.approx((0.75 + 5 / 12) / 2, abs=1e-12)
    assert list(res.best_rank) == [0, 2]
    assert res.ap[0] == pytest.approx(0.75) and res.ap[1] == pytest.approx(5 / 12)


def test_multiple_positives_per_item_both_directions():
    # Images I0, I1; captions c0, c1 belong to I0 and c2, c3 to I1.
    img_to_txt = np.array([[0.2, 0.9, 0.3, 0.1],     # I0: top-1 is c1 (its own caption) -> hit at 1
                           [0.8, 0.1, 0.3, 0.5]])    # I1: c0 (I0's) first, then c3 (own) -> hit only at k >= 2
    image_groups, caption_groups = [0, 1], [0, 0, 1, 1]
    q, t = _as_vectors(img_to_txt)
    i2t = M.retrieval_metrics(q, t, image_groups, caption_groups, ks=(1, 2, 5))
    assert i2t.recall == {1: 0.5, 2: 1.0, 5: 1.0}
    # text->image: c0 prefers I1 (miss), c1 hits, c2 ties 0.3/0.3 -> lower index I0 first (miss), c3 hits.
    q, t = _as_vectors(img_to_txt.T)
    t2i = M.retrieval_metrics(q, t, caption_groups, image_groups, ks=(1, 2))
    assert t2i.recall == {1: 0.5, 2: 1.0}
    assert list(t2i.best_rank) == [1, 0, 1, 0]


def test_map_with_tied_scores_ranks_lower_index_first():
    # q0 class 0: scores 0.5 (t0, class 1), 0.5 (t1, class 0), 0.5 (t2, class 0), 0.9 (t3, class 1)
    # stable order t3 t0 t1 t2 -> relevant at positions 3, 4: AP = (1/3 + 2/4) / 2
    q, t = _as_vectors(np.array([[0.5, 0.5, 0.5, 0.9]]))
    res = M.retrieval_metrics(q, t, [0], [1, 0, 0, 1], ks=(1, 3))
    assert res.map == pytest.approx((1 / 3 + 2 / 4) / 2, abs=1e-12)
    assert res.recall == {1: 0.0, 3: 1.0}
    rng = np.random.default_rng(5)
    scores = rng.integers(0, 4, size=(40, 60)).astype(np.float32) / 4     # many ties
    qg, tg = rng.integers(0, 3, 40), rng.integers(0, 3, 60)
    q, t = _as_vectors(scores)
    by_sort = M.ranking_metrics(M.stable_order(scores).tolist(), qg, tg)
    direct = M.retrieval_metrics(q, t, qg, tg)
    assert direct.map == pytest.approx(by_sort.map, abs=1e-12) and direct.recall == by_sort.recall


def test_queries_without_relevant_targets_are_left_out_and_counted():
    q, t = _as_vectors(np.array([[0.9, 0.1], [0.5, 0.4]]))
    res = M.retrieval_metrics(q, t, [0, 7], [0, 1], ks=(1,))
    assert res.n_queries == 1 and res.skipped_queries == 1 and res.recall[1] == 1.0


def test_zero_shot_averages_normalised_templates_per_class():
    # class 0: prompts (1,0,0) and (0,1,0) -> prototype (1,1,0)/sqrt2; class 1: (0,0,1) and (0,0,3) -> (0,0,1).
    prompts = np.array([[[1, 0, 0], [0, 1, 0]],
                        [[0, 0, 1], [0, 0, 3]]], dtype=np.float32)
    protos = M.class_prototypes(prompts)
    np.testing.assert_allclose(protos, [[1 / math.sqrt(2), 1 / math.sqrt(2), 0], [0, 0, 1]], atol=1e-7)
    # x0 (class 0) scores 0.707 vs 0.9 -> wrongly class 1 (with the first template alone it would be right);
    # x1 (class 1) is right. top1 = 1/2, top2 = 1.
    items = np.array([[1, 0, 0.9], [0, 0, 1]], dtype=np.float32)
    res = M.zero_shot_metrics(items, protos, [0, 1], ks=(1, 2))
    assert res.top == {1: 0.5, 2: 1.0}
    assert res.per_class_top1 == {0: 0.0, 1: 1.0}
    single = M.zero_shot_metrics(items, M.class_prototypes(prompts[:, :1]), [0, 1], ks=(1,))
    assert single.top[1] == 1.0


def _random_problem(seed: int, nq: int = 300, nt: int = 700, d: int = 16, groups: int = 9):
    rng = np.random.default_rng(seed)
    q = rng.normal(size=(nq, d)).astype(np.float32)
    t = rng.normal(size=(nt, d)).astype(np.float32)
    return q, t, rng.integers(0, groups, nq), rng.integers(0, groups, nt)


def test_chunked_path_equals_unchunked_path():
    q, t, qg, tg = _random_problem(0)
    whole = M.retrieval_metrics(q, t, qg, tg, chunk=10_000)
    for chunk in (2, 7, 64, 299):
        part = M.retrieval_metrics(q, t, qg, tg, chunk=chunk)
        assert part.recall == whole.recall
        assert part.map == whole.map
        np.testing.assert_array_equal(part.best_rank, whole.best_rank)
    # One-row chunks go through BLAS's matrix-vector kernel, whose float32 sums may differ in the last bit.
    single = M.retrieval_metrics(q, t, qg, tg, chunk=1)
    assert single.recall == whole.recall and single.map == pytest.approx(whole.map, abs=1e-6)


def test_rankings_read_back_give_the_exact_numbers():
    q, t, qg, tg = _random_problem(1)
    exact = M.retrieval_metrics(q, t, qg, tg)
    order = M.stable_order(q @ t.T)
    full = M.ranking_metrics(order.tolist(), qg, tg)
    assert full.recall == exact.recall
    assert full.map == pytest.approx(exact.map, abs=1e-12)
    truncated = M.ranking_metrics(order[:, :10].tolist(), qg, tg, compute_map=False)
    assert truncated.recall == exact.recall


def test_paired_assignment_with_many_captions_matches_a_brute_force_count():
    rng = np.random.default_rng(2)
    images = rng.normal(size=(50, 8)).astype(np.float32)
    owner = np.repeat(np.arange(50), 5)
    captions = images[owner] + rng.normal(scale=1.5, size=(250, 8)).astype(np.float32)
    res = M.retrieval_metrics(images, captions, np.arange(50), owner, ks=(1, 5, 10))
    scores = images @ captions.T
    for k in (1, 5, 10):
        top = np.argsort(-scores, axis=1, kind="stable")[:, :k]
        brute = np.mean([np.any(owner[top[i]] == i) for i in range(50)])
        assert res.recall[k] == pytest.approx(brute)


@pytest.mark.parametrize("n,r", [(6, 1), (6, 2), (7, 3)])
def test_chance_levels_equal_the_average_over_all_rankings(n, r):
    rel = np.array([1] * r + [0] * (n - r), dtype=bool)
    aps, hits = [], {k: [] for k in (1, 2, 3)}
    for perm in itertools.permutations(range(n)):
        ranked = rel[list(perm)]
        aps.append(M.average_precision_from_relevance(ranked[None, :], np.array([r]))[0])
        for k in hits:
            hits[k].append(bool(ranked[:k].any()))
    assert M.chance_average_precision(n, [r]) == pytest.approx(np.mean(aps), abs=1e-12)
    for k, v in hits.items():
        assert M.chance_recall(n, [r], k) == pytest.approx(np.mean(v), abs=1e-12)


@pytest.mark.slow
def test_five_thousand_items_by_twenty_five_thousand_captions():
    """The COCO 5k-test scale (timing recorded by `python -m mcrsearch.benchmark.speed`, not asserted)."""
    rng = np.random.default_rng(3)
    images = rng.normal(size=(5000, 512)).astype(np.float32)
    images /= np.linalg.norm(images, axis=1, keepdims=True)
    owner = np.repeat(np.arange(5000), 5)
    captions = images[owner] + rng.normal(scale=0.05, size=(25000, 512)).astype(np.float32)
    captions /= np.linalg.norm(captions, axis=1, keepdims=True)
    i2t = M.retrieval_metrics(images, captions, np.arange(5000), owner, compute_map=False)
    t2i = M.retrieval_metrics(captions, images, owner, np.arange(5000), compute_map=False)
    assert i2t.recall[1] > 0.99 and t2i.recall[1] > 0.99
    assert i2t.n_queries == 5000 and t2i.n_queries == 25000
