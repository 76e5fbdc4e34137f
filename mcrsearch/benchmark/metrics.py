"""Retrieval and zero-shot metrics on L2-normalised vectors, computed in row chunks.

Relevance is one rule everywhere: a target is relevant to a query when their *group ids* are equal.
Paired retrieval (an image and its 5 captions) gives the image group = its own index and each caption
group = its image's index, so image->text hits when any of its captions is in the top k and
text->image hits when the caption's one image is. Class-level retrieval uses the class as the group.

Ties are broken by target index (the order a stable sort gives), so the chunked path, the unchunked
path and a ranking read back from an index agree exactly whenever the scores agree.
Memory is bounded by `chunk` x n_targets floats, which is what lets 5k x 25k run in seconds.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Iterator, Sequence

import numpy as np

DEFAULT_KS: tuple[int, ...] = (1, 5, 10)
DEFAULT_CHUNK = 1024


@dataclass
class RetrievalScores:
    """Per-query results, kept so that two evaluation paths can be compared query by query."""

    recall: dict[int, float]                 # k -> fraction of scored queries with a relevant item in the top k
    map: float | None                        # mean average precision (None when not computed)
    n_queries: int                           # queries that have at least one relevant target
    n_targets: int
    skipped_queries: int = 0                 # queries with no relevant target at all (left out of the means)
    best_rank: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64), repr=False)
    ap: np.ndarray | None = field(default=None, repr=False)

    def as_dict(self) -> dict[str, float | int | None]:
        out: dict[str, float | int | None] = {f"r@{k}": v for k, v in self.recall.items()}
        out["map"] = self.map
        out["queries"] = self.n_queries
        out["targets"] = self.n_targets
        if self.skipped_queries:
            out["skipped_queries"] = self.skipped_queries
        return out


def _chunks(n: int, chunk: int) -> Iterator[slice]:
    chunk = max(1, int(chunk))
    for start in range(0, n, chunk):
        yield slice(start, min(n, start + chunk))


def _as_groups(groups: Sequence[int] | np.ndarray) -> np.ndarray:
    return np.asarray(groups, dtype=np.int64).reshape(-1)


class TargetScores:
    """Scores of query rows against fixed targets, where identical targets always score identically.

    A float32 BLAS product may give two identical targets scores one ulp apart (its kernels sum in
    blocks whose alignment depends on the column), which turns an exact tie (a caption that occurs
    twice) into an order the index never sees. Scoring each distinct target once and copying the
    column to its duplicates keeps ties exact at float32 speed."""

    def __init__(self, targets: np.ndarray) -> None:
        t = np.ascontiguousarray(targets, dtype=np.float32)
        self._inverse: np.ndarray | None = None
        if len(t) > 1 and t.ndim == 2 and t.shape[1]:
            rows = t.view(np.dtype((np.void, t.dtype.itemsize * t.shape[1]))).ravel()
            _, first, inverse = np.unique(rows, return_index=True, return_inverse=True)
            if len(first) < len(t):
                t, self._inverse = t[first], inverse.reshape(-1)
        self._tT = np.ascontiguousarray(t.T)

    def __call__(self, queries: np.ndarray) -> np.ndarray:
        scores = np.asarray(queries, dtype=np.float32) @ self._tT
        return scores if self._inverse is None else scores[:, self._inverse]


def best_relevant_rank(scores: np.ndarray, relevant: np.ndarray) -> np.ndarray:
    """0-based rank of the first relevant target in each row's stable descending order; -1 if none.

    rank = #(score > s*) + #(score == s* and index < j*), where j* is the lowest-index relevant target
    holding the best relevant score s*. No sort needed: two comparisons per row.
    """
    has = relevant.any(axis=1)
    masked = np.where(relevant, scores, -np.inf)
    best = masked.max(axis=1, keepdims=True)
    j_star = np.argmax(relevant & (scores == best), axis=1)
    greater = (scores > best).sum(axis=1)
    cols = np.arange(scores.shape[1])[None, :]
    tied_before = ((scores == best) & (cols < j_star[:, None])).sum(axis=1)
    rank = (greater + tied_before).astype(np.int64)
    rank[~has] = -1
    return rank


def stable_order(scores: np.ndarray) -> np.ndarray:
    """Row-wise descending order with ties broken by lower target index."""
    return np.argsort(-scores, axis=1, kind="stable")


def average_precision_from_relevance(rel_sorted: np.ndarray, n_relevant: np.ndarray) -> np.ndarray:
    """AP per row from the relevance of the ranked targets (bool, possibly truncated) and the total
    number of relevant targets; relevant targets missing from a truncated ranking count as not found."""
    rel = rel_sorted.astype(np.float64)
    positions = np.arange(1, rel.shape[1] + 1, dtype=np.float64)[None, :]
    precision = np.cumsum(rel, axis=1) / positions
    total = (precision * rel).sum(axis=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        ap = np.where(n_relevant > 0, total / np.maximum(n_relevant, 1), np.nan)
    return ap


def average_precision_chunk(scores: np.ndarray, relevant: np.ndarray) -> np.ndarray:
    """AP per row without argsort: rank each relevant target by counting higher scores in the sorted row.

    Rows are shifted by integer offsets into disjoint float64 ranges (exact for float32 scores), so one
    flat `searchsorted` ranks every relevant target of the chunk at once. Exact ties are ranked by index,
    as a stable sort would, with an explicit count only for the (rare) tied relevant targets.
    """
    n_rows, n_cols = scores.shape
    out = np.full(n_rows, np.nan)
    n_rel = relevant.sum(axis=1)
    if n_rows == 0 or n_cols == 0:
        return out
    span = float(2 * np.ceil(np.abs(scores).max()) + 2)
    shifted = scores.astype(np.float64) + (np.arange(n_rows, dtype=np.float64) * span)[:, None]
    flat = np.sort(shifted, axis=1).ravel()
    r, c = np.nonzero(relevant)
    values = shifted[r, c]
    right = np.searchsorted(flat, values, side="right")
    left = np.searchsorted(flat, values, side="left")
    rank = (r + 1) * n_cols - right                       # targets scoring strictly higher
    for i in np.flatnonzero(right - left > 1):            # exact ties: lower index first
        rank[i] += int(np.count_nonzero(scores[r[i], :c[i]] == scores[r[i], c[i]]))
    order = np.lexsort((rank, r))
    r, rank = r[order], rank[order]
    starts = np.searchsorted(r, r, side="left")           # first position of each row's run
    m = np.arange(len(r)) - starts + 1                    # 1-based index among the row's relevant targets
    total = np.bincount(r, weights=m / (rank + 1.0), minlength=n_rows)
    has = n_rel > 0
    out[has] = total[has] / n_rel[has]
    return out


def retrieval_metrics(
    queries: np.ndarray,
    targets: np.ndarray,
    query_groups: Sequence[int] | np.ndarray,
    target_groups: Sequence[int] | np.ndarray,
    ks: Sequence[int] = DEFAULT_KS,
    compute_map: bool = True,
    chunk: int = DEFAULT_CHUNK,
) -> RetrievalScores:
    """Exact R@k (and mAP) of every query against every target, by chunked matrix products."""
    q = np.ascontiguousarray(queries, dtype=np.float32)
    t = np.ascontiguousarray(targets, dtype=np.float32)
    qg, tg = _as_groups(query_groups), _as_groups(target_groups)
    if len(qg) != len(q) or len(tg) != len(t):
        raise ValueError("group ids must match the number of query and target vectors")
    best = np.full(len(q), -1, dtype=np.int64)
    ap = np.full(len(q), np.nan) if compute_map else None
    score = TargetScores(t)
    for rows in _chunks(len(q), chunk):
        scores = score(q[rows])
        relevant = qg[rows, None] == tg[None, :]
        best[rows] = best_relevant_rank(scores, relevant)
        if ap is not None:
            ap[rows] = average_precision_chunk(scores, relevant)
    return _summarise(best, ap, ks, len(t))


def ranking_metrics(
    rankings: Sequence[Sequence[int]],
    query_groups: Sequence[int] | np.ndarray,
    target_groups: Sequence[int] | np.ndarray,
    ks: Sequence[int] = DEFAULT_KS,
    compute_map: bool = True,
) -> RetrievalScores:
    """The same metrics from ranked target indices per query (e.g. read back from a vector index).

    mAP is exact when each ranking covers all targets; with truncated rankings it is AP@len (relevant
    targets beyond the ranking count as misses), and R@k needs rankings of at least max(ks).
    """
    qg, tg = _as_groups(query_groups), _as_groups(target_groups)
    n_rel_all = relevant_counts(qg, tg)
    best = np.full(len(qg), -1, dtype=np.int64)
    ap = np.full(len(qg), np.nan) if compute_map else None
    width = max((len(r) for r in rankings), default=0)
    for i, ranking in enumerate(rankings):
        ranked = np.asarray(ranking, dtype=np.int64)
        rel = tg[ranked] == qg[i] if len(ranked) else np.zeros(0, dtype=bool)
        n_rel = int(n_rel_all[i])
        if n_rel == 0:
            continue
        hits = np.flatnonzero(rel)
        best[i] = int(hits[0]) if len(hits) else width + len(tg)   # not found: ranked beyond every k
        if ap is not None:
            ap[i] = average_precision_from_relevance(rel[None, :], np.array([n_rel]))[0]
    return _summarise(best, ap, ks, len(tg))


def _summarise(best: np.ndarray, ap: np.ndarray | None, ks: Sequence[int], n_targets: int) -> RetrievalScores:
    scored = best >= 0
    n = int(scored.sum())
    recall = {int(k): (float((best[scored] < k).mean()) if n else float("nan")) for k in ks}
    mean_ap = None
    if ap is not None:
        mean_ap = float(np.nanmean(ap[scored])) if n else float("nan")
    return RetrievalScores(recall=recall, map=mean_ap, n_queries=n, n_targets=n_targets,
                           skipped_queries=int((~scored).sum()), best_rank=best, ap=ap)


# ---------------------------------------------------------------- zero-shot classification

def class_prototypes(template_vectors: np.ndarray) -> np.ndarray:
    """(classes, templates, d) prompt embeddings -> (classes, d): mean over templates, re-normalised.

    Each prompt vector is normalised first so that every template weighs the same."""
    v = np.asarray(template_vectors, dtype=np.float64)
    if v.ndim == 2:
        v = v[:, None, :]
    v = v / np.maximum(np.linalg.norm(v, axis=-1, keepdims=True), 1e-12)
    mean = v.mean(axis=1)
    return (mean / np.maximum(np.linalg.norm(mean, axis=-1, keepdims=True), 1e-12)).astype(np.float32)


@dataclass
class ZeroShotScores:
    top: dict[int, float]          # k -> accuracy
    n_items: int
    n_classes: int
    per_class_top1: dict[int, float] = field(default_factory=dict, repr=False)

    def as_dict(self) -> dict[str, float | int]:
        out: dict[str, float | int] = {f"top{k}": v for k, v in self.top.items()}
        out["mean_class_top1"] = float(np.mean(list(self.per_class_top1.values()))) if self.per_class_top1 else float("nan")
        out["items"] = self.n_items
        out["classes"] = self.n_classes
        return out


def zero_shot_metrics(
    items: np.ndarray,
    prototypes: np.ndarray,
    labels: Sequence[int] | np.ndarray,
    ks: Sequence[int] = (1, 5),
    chunk: int = DEFAULT_CHUNK,
) -> ZeroShotScores:
    """Top-k accuracy of classifying each item by its most similar class prototype."""
    x = np.ascontiguousarray(items, dtype=np.float32)
    p = np.ascontiguousarray(prototypes, dtype=np.float32)
    y = _as_groups(labels)
    ranks = np.empty(len(x), dtype=np.int64)
    classes = np.arange(len(p))
    score = TargetScores(p)
    for rows in _chunks(len(x), chunk):
        scores = score(x[rows])
        ranks[rows] = best_relevant_rank(scores, y[rows, None] == classes[None, :])
    top = {int(k): (float((ranks < k).mean()) if len(x) else float("nan")) for k in ks}
    per_class = {int(c): float((ranks[y == c] == 0).mean()) for c in np.unique(y)}
    return ZeroShotScores(top=top, n_items=len(x), n_classes=len(p), per_class_top1=per_class)


# ---------------------------------------------------------------- chance levels

def chance_recall(n_targets: int, n_relevant: Sequence[int] | np.ndarray, k: int) -> float:
    """Expected R@k of a random ranking: 1 - C(N-R, k) / C(N, k), averaged over queries."""
    n_rel = np.asarray(n_relevant, dtype=np.int64)
    n_rel = n_rel[n_rel > 0]
    if len(n_rel) == 0 or n_targets <= 0:
        return float("nan")
    k = min(k, n_targets)
    out = []
    for r in n_rel:
        miss = 1.0
        for i in range(k):          # product form of C(N-R, k) / C(N, k)
            miss *= max(n_targets - r - i, 0) / (n_targets - i)
        out.append(1.0 - miss)
    return float(np.mean(out))


def chance_average_precision(n_targets: int, n_relevant: Sequence[int] | np.ndarray) -> float:
    """Expected AP of a random ranking: (1/N) sum_p [1/p + (R-1)/(N-1) * (p-1)/p], averaged."""
    n_rel = np.asarray(n_relevant, dtype=np.int64)
    n_rel = n_rel[n_rel > 0]
    if len(n_rel) == 0 or n_targets <= 0:
        return float("nan")
    p = np.arange(1, n_targets + 1, dtype=np.float64)
    harmonic = (1.0 / p).sum()
    tail = ((p - 1) / p).sum()
    vals = [(harmonic + ((r - 1) / (n_targets - 1) if n_targets > 1 else 0.0) * tail) / n_targets for r in n_rel]
    return float(np.mean(vals))


def relevant_counts(query_groups: Sequence[int] | np.ndarray, target_groups: Sequence[int] | np.ndarray) -> np.ndarray:
    """How many targets are relevant to each query (group equality)."""
    qg, tg = _as_groups(query_groups), _as_groups(target_groups)
    values, counts = np.unique(tg, return_counts=True)
    lookup = dict(zip(values.tolist(), counts.tolist()))
    return np.array([lookup.get(int(g), 0) for g in qg], dtype=np.int64)
