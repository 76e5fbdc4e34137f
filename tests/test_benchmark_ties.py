"""Tied scores rank the same way on the exact path and through a real index (by target index)."""

from __future__ import annotations

import numpy as np
import pytest

from mcrsearch.benchmark import metrics as M
from mcrsearch.benchmark.store_path import StoreIndexPath, index_path_available
from mcrsearch.modality import Modality

pytestmark = pytest.mark.skipif(index_path_available() is not None, reason=str(index_path_available()))


class _Space:
    name = "ties"
    fingerprint = "tiesfingerprint1"
    modalities = (Modality.AUDIO, Modality.TEXT)


def _unit(v):
    v = np.asarray(v, dtype=np.float32)
    return v / np.linalg.norm(v, axis=-1, keepdims=True)


@pytest.mark.parametrize("mode", ["like", "store"])
def test_tied_targets_come_back_in_the_exact_paths_order(mode):
    from mcrsearch.config import load_settings

    rng = np.random.default_rng(3)
    base = _unit(rng.normal(size=(4, 8)))
    # 12 captions: each of 4 texts repeated 3 times; their keys sort against their insertion order
    targets = np.repeat(base, 3, axis=0)
    keys = [f"aud:{99 - n}:cap0" for n in range(len(targets))]
    queries = _unit(base + 0.05 * rng.normal(size=base.shape))
    q_keys = [f"aud:q{n}" for n in range(len(queries))]
    index = StoreIndexPath(_Space(), load_settings(), mode=mode)
    try:
        index.add(Modality.TEXT, keys, targets)
        index.add(Modality.AUDIO, q_keys, queries)
        exact = M.stable_order(M.TargetScores(targets)(queries))
        for k in (2, 5, len(keys)):        # a cut inside a tie group, after one, and the full ranking
            got = index.rank(queries, Modality.TEXT, k, q_keys)
            assert got == [[keys[j] for j in row[:k]] for row in exact], k
    finally:
        index.close()


def test_runner_index_path_equals_exact_path_with_duplicate_captions():
    from mcrsearch.benchmark.dataset import Dataset, Item, PairedRetrieval
    from mcrsearch.benchmark.runner import RunOptions, run_benchmark
    from mcrsearch.config import load_settings

    rng = np.random.default_rng(5)
    texts = {f"sound {n}": _unit(rng.normal(size=8)) for n in range(6)}

    class Space(_Space):
        def embed(self, modality, items):
            if modality is Modality.TEXT:
                return np.stack([texts[t] for t in items])
            return np.stack([_unit(texts[t] + 0.3 * np.random.default_rng(s).normal(size=8)) for t, s in items])

    ds = Dataset("ties", __import__("pathlib").Path("/"))
    ds.tasks.append(PairedRetrieval(Modality.AUDIO, Modality.TEXT))
    for n in range(30):                # 30 clips, only 6 distinct captions: many exact ties
        key = f"aud:{1000 - n}"
        ds.items.append(Item(key, Modality.AUDIO, path=__import__("pathlib").Path(f"/{n}.wav")))
        for j in range(2):
            ds.items.append(Item(f"{key}:cap{j}", Modality.TEXT, text=f"sound {(n + j) % 6}", owner=key))

    def decoder(item):
        return item.text if item.text is not None else (f"sound {int(item.path.stem) % 6}", int(item.path.stem))

    result = run_benchmark(ds, [Space()], RunOptions(ks=(1, 2, 5)), decoder=decoder,
                           index_factory=lambda s: StoreIndexPath(s, load_settings(), mode="like")).as_dict()
    rows = [r for r in result["results"] if "diff" in r]
    assert len(rows) == 2
    for row in rows:
        assert row["index"] == row["exact"], row["task"]


def test_identical_targets_score_identically_wherever_they_sit():
    rng = np.random.default_rng(0)
    row = _unit(rng.normal(size=512))
    targets = np.concatenate([_unit(rng.normal(size=(37, 512))), np.repeat(row[None], 50, axis=0)])
    queries = _unit(rng.normal(size=(64, 512)))
    scores = M.TargetScores(targets)(queries)
    assert (scores[:, 37:] == scores[:, 37:38]).all()
    assert np.allclose(scores, queries @ targets.T, atol=1e-5)
