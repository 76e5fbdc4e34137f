"""Server / cluster mode against a real Qdrant server: runs only when MCRSEARCH_QDRANT_URL is set.

    MCRSEARCH_QDRANT_URL=http://localhost:6333 [MCRSEARCH_QDRANT_API_KEY=...] pytest tests/test_server_mode.py
"""

from __future__ import annotations

import os
import uuid

import pytest

from helpers import corpus as H
from mcrsearch_indexer import index_path
from mcrsearch.config import load_settings
from mcrsearch.errors import SpaceMismatchError

URL = os.environ.get("MCRSEARCH_QDRANT_URL")
pytestmark = pytest.mark.skipif(not URL, reason="set MCRSEARCH_QDRANT_URL to a Qdrant server to run")


@pytest.fixture()
def settings(tmp_path):
    name = f"mcrsearch-test-{uuid.uuid4().hex[:8]}"
    s = load_settings(home=tmp_path / "home", device="cpu", qdrant_url=URL, collection=name,
                      qdrant_api_key=os.environ.get("MCRSEARCH_QDRANT_API_KEY"))
    yield s
    from qdrant_client import QdrantClient

    QdrantClient(url=URL, api_key=s.qdrant_api_key).delete_collection(name)


def test_index_query_incremental_on_server(tmp_path, settings):
    import mcrsearch

    corpus = tmp_path / "corpus"
    files = H.write_corpus(corpus, per_class=2)
    report = index_path(corpus, settings, space="tiny", progress=False)
    assert report.indexed == 24 and not report.failed
    before = H.TinyEncoder.items_encoded
    again = index_path(corpus, settings, space="tiny", progress=False)
    assert again.unchanged == 24 and H.TinyEncoder.items_encoded == before
    files["text"][0].unlink()
    assert index_path(corpus, settings, space="tiny", progress=False).removed == 1
    with mcrsearch.Client(settings=settings) as client:
        hits = client.query(audio=str(files["audio"][0]), target="image", k=2)
        assert [H.class_of(h.path) for h in hits] == ["red", "red"]
        info = client.info()
        assert info["backend"] == "server" and info["total"] == 23


def test_server_refuses_foreign_space(tmp_path, settings):
    corpus = tmp_path / "corpus"
    H.write_corpus(corpus, per_class=1)
    index_path(corpus, settings, space="tiny", progress=False)
    with pytest.raises(SpaceMismatchError):
        index_path(corpus, settings, space=H.build_tiny(variant=2), progress=False)
