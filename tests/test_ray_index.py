"""Indexing on a local Ray cluster gives the local indexer's collection: points, vectors, failures, and
after an interrupted run, a rerun's state equals a clean run's."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest

ray = pytest.importorskip("ray")
pytest.importorskip("ray.data")

from helpers import corpus as H  # noqa: E402
from mcrsearch_indexer import index_path  # noqa: E402
from mcrsearch_indexer.ray_index import index_path_ray  # noqa: E402
from mcrsearch.config import load_settings  # noqa: E402
from mcrsearch.store import Store  # noqa: E402

TESTS = Path(__file__).parent


@pytest.fixture(scope="module", autouse=True)
def local_ray():
    """One local Ray for the module; its workers import this tree and the test helpers (the tiny space's
    encoder class is pickled by reference to them)."""
    before = os.environ.get("PYTHONPATH")
    os.environ["PYTHONPATH"] = os.pathsep.join([str(TESTS.parent), str(TESTS)] + ([before] if before else []))
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False,
             runtime_env={"worker_process_setup_hook": "test_ray_index.register_tiny"})
    yield
    ray.shutdown()
    if before is None:
        os.environ.pop("PYTHONPATH", None)
    else:
        os.environ["PYTHONPATH"] = before


def register_tiny() -> None:
    """Run in each Ray worker at start: register the 'tiny' space, as a plug-in would."""
    from helpers.corpus import register_tiny as register

    register()


def _settings(home: Path, **kw):
    return load_settings(home=home, device="cpu", **kw)


def _state(settings) -> tuple[dict[str, tuple], dict[str, np.ndarray], dict]:
    """(id -> payload state fields, id -> vector, calibration) of the whole collection."""
    with Store.open(settings) as store:
        payloads, vectors = {}, {}
        for r in store.scroll(with_vectors=True):
            payloads[r.id] = tuple(sorted((k, str(v)) for k, v in r.payload.items()))
            vectors[r.id] = r.vectors["tiny"]
        calibration = store.spaces()["tiny"].calibration
    return payloads, vectors, calibration


def _assert_same(a, b) -> None:
    (pa, va, ca), (pb, vb, cb) = a, b
    assert pa == pb, "same points with the same payloads"
    for pid in va:
        np.testing.assert_allclose(va[pid], vb[pid], atol=1e-6)
    assert ca.keys() == cb.keys()
    for key in ca:
        np.testing.assert_allclose(ca[key], cb[key], atol=1e-5)


def _failures(report) -> list[tuple[str, str]]:
    return sorted((f.path, f.reason) for f in report.failed)


def test_same_points_vectors_and_failures_as_local(tmp_path):
    from helpers.media import write_bad_corpus

    corpus = tmp_path / "corpus"
    H.write_corpus(corpus / "good", per_class=2)
    write_bad_corpus(corpus / "bad")
    (corpus / "good" / "text" / "mislabelled.png").write_text("a red thing")   # decodes as text, if at all
    local, on_ray = _settings(tmp_path / "local", max_file_mb=1.0), _settings(tmp_path / "ray", max_file_mb=1.0)

    want = index_path(corpus, local, space="tiny", progress=False)
    got = index_path_ray(corpus, on_ray, space=H.build_tiny())
    assert (got.indexed, got.unchanged, got.removed) == (want.indexed, want.unchanged, want.removed)
    assert want.indexed == 24 and len(want.failed) > 5
    assert _failures(got) == _failures(want), "bad files reported exactly as the local indexer reports them"
    _assert_same(_state(on_ray), _state(local))

    # Incremental: a change, a deletion, an addition; unchanged files cost nothing on either path.
    (corpus / "good" / "text" / "red_0.txt").write_text("a blue thing high")
    next((corpus / "good" / "audio").glob("*.wav")).unlink()
    H.write_item(corpus / "good" / "image", "image", 1, 7)
    want = index_path(corpus, local, space="tiny", progress=False)
    got = index_path_ray(corpus, on_ray, space=H.build_tiny())
    assert (got.indexed, got.unchanged, got.removed) == (want.indexed, want.unchanged, want.removed) == (2, 22, 1)
    assert _failures(got) == _failures(want)
    _assert_same(_state(on_ray), _state(local))


def test_interrupted_run_then_rerun_equals_clean_run(tmp_path):
    corpus = tmp_path / "corpus"
    H.write_corpus(corpus, per_class=3)                      # 36 files
    settings = _settings(tmp_path / "home", batch_size=4)    # the driver writes 4 points at a time

    class Interrupted(Exception):
        pass

    def stop_after_two(indexed: int) -> None:
        if indexed >= 8:
            raise Interrupted

    with pytest.raises(Interrupted):
        index_path_ray(corpus, settings, space=H.build_tiny(), on_batch=stop_after_two)
    with Store.open(settings) as store:
        assert 0 < store.count() < 36, "the run stopped mid-way with some points written"

    seen = []
    report = index_path_ray(corpus, settings, space=H.build_tiny(), progress=lambda p: seen.append((p.done, p.total)))
    assert report.failed == [] and report.indexed + report.unchanged == 36 and report.unchanged >= 8
    assert seen and seen[-1] == (36, 36)
    clean = _settings(tmp_path / "clean")
    index_path(corpus, clean, space="tiny", progress=False)
    _assert_same(_state(settings), _state(clean))


def test_space_by_name_is_built_in_each_actor(tmp_path):
    """A registered name travels instead of the encoders: each actor builds the space itself."""
    corpus = tmp_path / "corpus"
    H.write_corpus(corpus, per_class=1)
    settings = _settings(tmp_path / "home")
    report = index_path_ray(corpus, settings, space="tiny")
    assert report.indexed == 12 and report.failed == []
    clean = _settings(tmp_path / "clean")
    index_path(corpus, clean, space="tiny", progress=False)
    _assert_same(_state(settings), _state(clean))


def test_actor_writes_points_itself_when_the_store_is_a_server(tmp_path):
    """With a Qdrant URL the actors write their points (here: the actor class run in-process against
    qdrant-client's in-memory server API); only status rows go back, and the points equal a local run's."""
    from qdrant_client import QdrantClient

    from mcrsearch_indexer import scan
    from mcrsearch_indexer.ray_index import EmbedActor, _rows
    from mcrsearch_indexer.work import Planned
    from mcrsearch.store import ClientBackend

    corpus = tmp_path / "corpus"
    H.write_corpus(corpus, per_class=1)
    (corpus / "broken.png").write_bytes(b"not an image")
    sp = H.build_tiny()
    server = Store(ClientBackend(QdrantClient(":memory:"), "c", location=":memory:"), "c")
    server.ensure_space(sp.name, sp.fingerprint, sp.dim, sp.modalities)
    actor = EmbedActor(sp, sp.name, _settings(tmp_path / "home"), write=False, decode_threads=2)   # as beside a GPU
    actor.store = server
    rows = _rows([Planned(f, None) for f in scan(corpus)])
    out = actor({k: np.array([r[k] for r in rows], dtype=object) for k in rows[0]})
    kinds = dict(zip(out["path"], out["kind"]))
    assert kinds.pop(str(corpus / "broken.png")) == "fail" and set(kinds.values()) == {"written"}

    local = _settings(tmp_path / "local")
    index_path(corpus, local, space="tiny", progress=False)
    with Store.open(local) as store:
        want = {r.id: r for r in store.scroll(with_vectors=True)}
    got = {r.id: r for r in server.scroll(with_vectors=True)}
    assert got.keys() == want.keys() and len(got) == 12
    for pid, r in got.items():
        assert r.payload == want[pid].payload
        np.testing.assert_allclose(r.vectors["tiny"], want[pid].vectors["tiny"], atol=1e-6)


@pytest.mark.skipif(not os.environ.get("MCRSEARCH_QDRANT_URL"), reason="set MCRSEARCH_QDRANT_URL to run")
def test_ray_into_a_qdrant_server_equals_local_into_it(tmp_path):
    import uuid

    from qdrant_client import QdrantClient

    url, key = os.environ["MCRSEARCH_QDRANT_URL"], os.environ.get("MCRSEARCH_QDRANT_API_KEY")
    corpus = tmp_path / "corpus"
    H.write_corpus(corpus, per_class=1)
    names = [f"mcrsearch-ray-{uuid.uuid4().hex[:8]}" for _ in range(2)]
    on_ray, local = (_settings(tmp_path / n, qdrant_url=url, qdrant_api_key=key, collection=n) for n in names)
    try:
        report = index_path_ray(corpus, on_ray, space=H.build_tiny())
        assert report.indexed == 12 and report.failed == []
        index_path(corpus, local, space="tiny", progress=False)
        _assert_same(_state(on_ray), _state(local))
    finally:
        client = QdrantClient(url=url, api_key=key)
        for n in names:
            client.delete_collection(n)


def test_cli_index_on_ray_matches_the_local_cli(tmp_path, capsys):
    """`mcrsearch index PATH --ray` (through Client.index): each actor builds the named space itself."""
    import json

    from mcrsearch.cli import main

    H.write_corpus(tmp_path / "corpus", per_class=1)
    outputs = []
    for home, extra in ((tmp_path / "local", []), (tmp_path / "ray", ["--ray", "local"])):
        assert main(["--home", str(home), "--device", "cpu", "index", str(tmp_path / "corpus"), "--space", "tiny",
                     "--json", *extra]) == 0
        outputs.append(json.loads(capsys.readouterr().out))
    assert outputs[0] == outputs[1] and outputs[0]["indexed"] == 12
    _assert_same(_state(_settings(tmp_path / "ray")), _state(_settings(tmp_path / "local")))
