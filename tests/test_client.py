"""`mcrsearch.Client`, the one public surface, on both backends: the embedded engine and qdrant-client."""

from __future__ import annotations

import uuid

import pytest

from helpers import corpus as H
from mcrsearch.api import Client
from mcrsearch.config import load_settings
from mcrsearch.errors import ConfigError

pytestmark = pytest.mark.filterwarnings("ignore:Payload indexes have no effect:UserWarning",
                                        "ignore:Local mode performs exact:UserWarning")


@pytest.fixture(params=["embedded", "qdrant-client"])
def client(request, tmp_path):
    url = ":memory:" if request.param == "qdrant-client" else None
    settings = load_settings(home=tmp_path / "home", device="cpu", space="tiny", qdrant_url=url,
                             collection=f"c{uuid.uuid4().hex[:8]}")
    files = H.write_corpus(tmp_path / "corpus", per_class=2)
    with Client(settings=settings) as c:
        seen = []
        report = c.index(tmp_path / "corpus", progress=seen.append)
        assert report.indexed == 24 and not report.failed and not report.cancelled
        assert seen[-1].done == seen[-1].total == 24 and seen[-1].indexed == 24
        assert set(report.stage_seconds) == {"read_hash", "decode", "encode", "write"}
        assert all(v > 0 for v in report.stage_seconds.values())
        yield c, files, tmp_path


def test_query_lists_of_inputs_paging_and_like(client):
    c, files, _ = client
    reds = [str(p) for p in files["audio"] if H.class_of(str(p)) == "red"]
    fused = c.query(audio=reds, text=["red", "low"], target="image", k=2)
    assert [H.class_of(h.path) for h in fused] == ["red", "red"]
    page1 = c.query(text="blue", target="3d", k=1)
    page2 = c.query(text="blue", target="3d", k=1, offset=1)
    both = c.query(text="blue", target="3d", k=2)
    assert [h.id for h in both] == [page1[0].id, page2[0].id]
    above = c.query(text="blue", target="3d", k=5, min_score=(both[0].score + both[1].score) / 2)
    assert [h.id for h in above] == [both[0].id]
    like_id = c.query(like=both[0].id, target="3d", k=1)
    like_path = c.query(like=both[0].path, target="3d", k=1)
    assert like_id[0].id == like_path[0].id != both[0].id and H.class_of(like_id[0].path) == "blue"


def test_items_count_delete_and_reindex(client):
    c, files, root = client
    assert c.count() == 24 and c.count("3d") == 6 and c.count("points") == 6
    page = c.scroll(modality="image", limit=4)
    rest = c.scroll(modality="image", limit=4, offset=4)
    assert len(page) == 4 and len(rest) == 2 and {i.modality for i in page + rest} == {"image"}
    assert [i.id for i in c.retrieve([page[0].id, "00000000-0000-5000-8000-000000000000"])] == [page[0].id]
    assert c.delete([files["text"][0]]) == 1 and c.count("text") == 5
    again = c.index(root / "corpus")
    assert again.indexed == 1 and again.unchanged == 23


def test_bad_values_are_one_sentence(client):
    c, _, _ = client
    with pytest.raises(ConfigError, match="Unknown modality"):
        c.query(text="red", target="smell")
    with pytest.raises(ConfigError, match="at least one query input"):
        c.query(target="image")
    with pytest.raises(ConfigError, match="is not in collection"):
        c.query(like="/nowhere/at/all.png")


def test_query_files_are_decoded_under_the_settings_caps(client):
    from mcrsearch.errors import MediaError

    c, files, _ = client
    strict = Client(settings=c.settings.with_overrides(max_image_pixels=16))
    with pytest.raises(MediaError, match="pixel"):
        strict.query(image=files["image"][0], target="3d", k=1)
    assert len(c.query(image=files["image"][0], target="3d", k=1)) == 1
    strict.close()


def test_a_lazy_client_builds_each_space_once_when_first_calls_arrive_together(tmp_path, monkeypatch):
    """`serve --lazy`: the first requests build the collection's space, and two of them arriving together
    (queries, an explanation) must load the models once, not once each, and `Client.space` hands out that one."""
    import threading

    from mcrsearch import space as space_mod

    settings = load_settings(home=tmp_path / "home", device="cpu", space="tiny", collection="lazy")
    files = H.write_corpus(tmp_path / "corpus", per_class=1)
    with Client(settings=settings) as c:
        assert c.index(tmp_path / "corpus").indexed == 12
    built: list[int] = []
    second = threading.Event()

    def slow_tiny(s):
        built.append(threading.get_ident())
        if len(built) > 1:
            second.set()
        else:                                    # loading models: a second builder, if any, arrives meanwhile
            second.wait(3)
        return H.build_tiny(s)

    monkeypatch.setitem(space_mod.SPACE_BUILDERS, "tiny", slow_tiny)
    lazy = Client(settings=settings)
    assert lazy.count() == 12 and not built      # the store is open, no space is built yet
    answers: dict[str, object] = {}
    calls = {"query": lambda: lazy.query(text="red", target="image", k=1),
             "fused": lambda: lazy.query(text="blue", audio=files["audio"][0], target="3d", k=1),
             "explain": lambda: lazy.explain(image=files["image"][0], text="red")}

    def run(name):
        try:
            answers[name] = calls[name]()
        except Exception as exc:  # noqa: BLE001 - reported by the assertion below
            answers[name] = exc

    threads = [threading.Thread(target=run, args=(name,)) for name in calls]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert not [n for n, a in answers.items() if isinstance(a, Exception)], answers
    assert len(built) == 1, f"the space was built {len(built)} times"
    assert H.class_of(answers["query"][0].path) == "red"
    assert lazy.space("tiny") is lazy.space("tiny") and len(built) == 1   # the Client's own path shares it
    lazy.close()
