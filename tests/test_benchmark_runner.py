"""The runner end to end with a tiny deterministic space: exact path, index path, reports, CLI errors."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import numpy as np
import pytest

from mcrsearch.benchmark.dataset import ClassRetrieval, Dataset, Item, PairedRetrieval, ZeroShot
from mcrsearch.benchmark.store_path import StoreIndexPath, index_path_available
from mcrsearch.benchmark.report import markdown_section, rich_table, write_markdown
from mcrsearch.benchmark.runner import RunOptions, run_benchmark
from mcrsearch.errors import MediaError
from mcrsearch.modality import Modality

CLASSES = ("bell", "drum", "chair", "lamp")


class ToySpace:
    """Class centroid + per-item noise; texts map to the class they name. Deterministic per key."""

    name = "toy"
    dim = 16
    fingerprint = "toyfingerprint01"

    def __init__(self, modalities=(Modality.IMAGE, Modality.TEXT, Modality.AUDIO, Modality.POINTS), noise=0.9):
        self.modalities = tuple(modalities)
        self.noise = noise
        rng = np.random.default_rng(0)
        self.centroids = rng.normal(size=(len(CLASSES), self.dim))

    def _vec(self, label: str, key: str) -> np.ndarray:
        seed = int(hashlib.sha1(key.encode()).hexdigest()[:8], 16)
        noise = np.random.default_rng(seed).normal(size=self.dim)
        v = self.centroids[CLASSES.index(label)] + self.noise * noise
        return v / np.linalg.norm(v)

    def embed(self, modality, items):
        out = []
        for it in items:
            if isinstance(it, str):      # a prompt or caption: the class it mentions
                label = next(c for c in CLASSES if c in it)
                out.append(self._vec(label, it))
            else:
                out.append(self._vec(*it))
        return np.asarray(out, dtype=np.float32)


def decoder(item: Item):
    if item.text is not None:
        return item.text
    if item.key.endswith("broken"):
        raise MediaError(str(item.path), "truncated file")
    return (item.label, item.key)


def toy_dataset(per_class: int = 6) -> Dataset:
    ds = Dataset("toy", Path("/toy"))
    for c in CLASSES:
        for n in range(per_class):
            for m in (Modality.IMAGE, Modality.AUDIO, Modality.POINTS):
                ds.items.append(Item(f"{m.value}:{c}{n}", m, path=Path(f"/toy/{c}{n}.{m.value}"), label=c))
            ds.items.append(Item(f"text:{c}{n}", Modality.TEXT, text=f"a {c}, take {n}", label=c))
    ds.items.append(Item("audio:broken", Modality.AUDIO, path=Path("/toy/broken.wav"), label="bell"))
    # The reader tags its class tasks; the report shows the tag (the mini-world's "within" / "emergent").
    ds.tasks = [ClassRetrieval(Modality.AUDIO, Modality.POINTS, pair="emergent"),
                ClassRetrieval(Modality.POINTS, Modality.AUDIO, pair="emergent"),
                ZeroShot(Modality.POINTS, CLASSES, ("a {}.", "the sound of a {}."))]
    return ds


class NumpyIndex:
    """A brute-force stand-in with the IndexPath interface (checks the runner's wiring)."""

    name = "numpy"

    def __init__(self):
        self.data = {}

    def add(self, modality, keys, vectors):
        self.data[modality] = (list(keys), np.asarray(vectors))

    def rank(self, queries, target, k, query_keys=None):
        keys, vecs = self.data[target]
        order = np.argsort(-(queries @ vecs.T), axis=1, kind="stable")[:, :k]
        return [[keys[j] for j in row] for row in order]

    def close(self):
        pass


def test_runner_scores_every_task_and_reports_bad_files():
    result = run_benchmark(toy_dataset(), [ToySpace()], RunOptions(ks=(1, 5)), decoder=decoder).as_dict()
    rows = {r["task"]: r for r in result["results"]}
    assert set(rows) == {"audio->3d", "3d->audio", "zero-shot 3d (4 classes, 2 templates)"}
    a2p = rows["audio->3d"]
    assert a2p["exact"]["queries"] == 24 and a2p["exact"]["targets"] == 24
    assert a2p["exact"]["map"] > a2p["chance"]["map"] + 0.2             # well above chance
    assert a2p["chance"]["r@1"] == pytest.approx(6 / 24)
    zs = rows["zero-shot 3d (4 classes, 2 templates)"]
    assert zs["exact"]["top1"] > 0.5 and zs["chance"]["top1"] == 0.25
    assert result["problems"] == 1 and result["problem_list"][0]["reason"] == "truncated file"


def test_tasks_the_space_cannot_serve_are_skipped_with_a_reason():
    space = ToySpace(modalities=(Modality.AUDIO, Modality.TEXT))
    result = run_benchmark(toy_dataset(), [space], decoder=decoder).as_dict()
    skipped = [r for r in result["results"] if "skipped" in r]
    assert len(skipped) == 3 and all("3d" in r["skipped"] for r in skipped)


def test_paired_retrieval_through_the_runner_matches_hand_ranks():
    ds = Dataset("pairs", Path("/p"))
    for c in CLASSES:
        ds.items.append(Item(f"img:{c}", Modality.IMAGE, path=Path(f"/p/{c}.png"), label=c))
        for j in range(3):
            ds.items.append(Item(f"img:{c}:cap{j}", Modality.TEXT, text=f"{c} caption {j}", owner=f"img:{c}"))
    ds.tasks = [PairedRetrieval(Modality.IMAGE, Modality.TEXT)]
    space = ToySpace(noise=0.0)          # captions coincide with their image's class centroid
    result = run_benchmark(ds, [space], RunOptions(ks=(1,)), decoder=decoder).as_dict()
    rows = {r["task"]: r["exact"] for r in result["results"]}
    assert rows["image->text"]["r@1"] == 1.0 and rows["text->image"]["r@1"] == 1.0
    assert rows["image->text"]["queries"] == 4 and rows["text->image"]["queries"] == 12


def test_index_path_rankings_agree_with_the_exact_path():
    result = run_benchmark(toy_dataset(), [ToySpace()], RunOptions(), index_factory=lambda s: NumpyIndex(),
                           decoder=decoder).as_dict()
    zero_shot = [r for r in result["results"] if r["kind"] == "zero-shot"]
    assert zero_shot and all(r["index"]["top1"] == r["exact"]["top1"] for r in zero_shot)
    for row in result["results"]:
        if row["kind"] == "class":
            assert {k: v for k, v in row["index"].items() if k != "map"} == \
                {k: v for k, v in row["exact"].items() if k != "map"}
            assert row["index"]["map"] == pytest.approx(row["exact"]["map"], abs=1e-12)
            assert all(abs(v) < 1e-12 for v in row["diff"].values())


@pytest.mark.skipif(index_path_available() is not None, reason=str(index_path_available()))
@pytest.mark.parametrize("mode", ["like", "store"])
def test_real_store_and_query_layer_agree_with_the_exact_path(mode):
    from mcrsearch.config import load_settings

    factory = lambda s: StoreIndexPath(s, load_settings(), mode=mode)   # noqa: E731
    result = run_benchmark(toy_dataset(), [ToySpace()], RunOptions(), index_factory=factory,
                           decoder=decoder).as_dict()
    rows = [r for r in result["results"] if r["kind"] in ("class", "zero-shot")]
    assert len(rows) == 3
    for row in rows:
        if row["kind"] == "class":
            assert row["index"]["queries"] == row["exact"]["queries"]
        for metric, delta in row["diff"].items():
            assert abs(delta) < 5e-4, (row["task"], metric, delta)


def test_reports_table_json_and_markdown_markers(tmp_path):
    data = run_benchmark(toy_dataset(), [ToySpace()], decoder=decoder).as_dict()
    json.dumps(data)                                   # JSON-ready as is
    from rich.console import Console

    console = Console(record=True, width=200)
    console.print(rich_table(data))
    assert "audio->3d" in console.export_text()
    doc = tmp_path / "docs" / "BENCHMARKS.md"
    doc.parent.mkdir()
    doc.write_text("# Benchmarks\n\nIntro stays.\n\n<!-- BEGIN benchmark:other -->\nkeep me\n<!-- END benchmark:other -->\n")
    write_markdown(doc, "toy", markdown_section(data, "mcrsearch benchmark toy"))
    write_markdown(doc, "toy", markdown_section(data, "mcrsearch benchmark toy"))     # replaced, not appended
    text = doc.read_text()
    assert text.count("<!-- BEGIN benchmark:toy -->") == 1 and "keep me" in text and "Intro stays." in text
    assert "| toy | audio->3d (emergent) |" in text and "fingerprint `toyfingerprint01`" in text
    assert "| pair | kind | toy | chance |" in text and "| audio->3d | emergent |" in text


def test_cli_fails_with_the_one_weights_missing_sentence(tmp_path, monkeypatch):
    from mcrsearch.cli import main

    data = {"images": [{"filepath": "val2014", "filename": "a.jpg", "split": "test", "cocoid": 1,
                        "sentences": [{"raw": "a cat"}]}]}
    (tmp_path / "val2014").mkdir()
    (tmp_path / "val2014" / "a.jpg").write_bytes(b"x")
    (tmp_path / "dataset_coco.json").write_text(json.dumps(data))
    code = main(["benchmark", "coco", "--root", str(tmp_path), "--space", "exmcr", "--no-index"])
    assert code == 3                                   # WeightsMissingError's exit code


def test_cli_unknown_benchmark_is_a_config_error(tmp_path):
    from mcrsearch.cli import main

    assert main(["benchmark", "imagenet", "--root", str(tmp_path)]) == 2


def test_cli_end_to_end_with_a_registered_space(tmp_path, capsys):
    """Real files, media.decode, create_space, the index path and --json/--markdown through the CLI."""
    from PIL import Image

    from mcrsearch.cli import main
    from mcrsearch.encoders.base import Encoder
    from mcrsearch.space import SPACE_BUILDERS, Route, Space, register_space

    colours = {"red": (220, 20, 20), "green": (20, 200, 30), "blue": (30, 40, 210)}

    class ColourEncoder(Encoder):
        family = "colour-test"
        modalities = (Modality.IMAGE, Modality.TEXT)
        dim = 3

        def _encode(self, modality, items):
            if modality is Modality.TEXT:
                return np.array([[*colours[next(c for c in colours if c in t)]] for t in items], dtype=np.float32) + 1
            return np.array([np.asarray(im, dtype=np.float32).reshape(-1, 3).mean(axis=0) + 1 for im in items])

    register_space("colour-test")(lambda settings: Space(
        "colour-test", {m: Route(ColourEncoder({}, "none")) for m in (Modality.IMAGE, Modality.TEXT)}, 3))
    try:
        images = []
        for n, (name, rgb) in enumerate(colours.items()):
            (tmp_path / "val2014").mkdir(exist_ok=True)
            Image.new("RGB", (8, 8), rgb).save(tmp_path / "val2014" / f"{name}.png")
            images.append({"filepath": "val2014", "filename": f"{name}.png", "split": "test", "cocoid": n,
                           "sentences": [{"raw": f"a {name} square"}, {"raw": f"something {name}"}]})
        (tmp_path / "val2014" / "broken.png").write_bytes(b"\x89PNG not really")
        images.append({"filepath": "val2014", "filename": "broken.png", "split": "test", "cocoid": 9,
                       "sentences": [{"raw": "a red thing"}]})
        (tmp_path / "dataset_coco.json").write_text(json.dumps({"images": images}))
        md = tmp_path / "BENCHMARKS.md"
        code = main(["benchmark", "coco", "--root", str(tmp_path), "--space", "colour-test", "--json",
                     "--markdown", str(md)])
        assert code == 0
        data = json.loads(capsys.readouterr().out)
        rows = {r["task"]: r for r in data["results"]}
        assert rows["image->text"]["exact"]["r@1"] == 1.0 and rows["image->text"]["exact"]["queries"] == 3
        assert rows["text->image"]["exact"]["queries"] == 6          # the broken image's caption is dropped
        assert rows["text->image"]["diff"] == {k: 0.0 for k in rows["text->image"]["diff"]}
        assert data["problems"] == 1 and "broken.png" in data["problem_list"][0]["path"]
        assert "<!-- BEGIN benchmark:coco -->" in md.read_text()
    finally:
        SPACE_BUILDERS.pop("colour-test", None)


def test_limit_keeps_pairs_intact():
    from mcrsearch.benchmark.runner import _limit

    items = []
    for c in CLASSES:
        items.append(Item(f"img:{c}", Modality.IMAGE, path=Path(f"/{c}.png")))
        items += [Item(f"img:{c}:cap{j}", Modality.TEXT, text=f"{c} {j}", owner=f"img:{c}") for j in range(2)]
    kept = _limit(items, 2)
    assert [i.key for i in kept] == ["img:bell", "img:bell:cap0", "img:bell:cap1",
                                     "img:drum", "img:drum:cap0", "img:drum:cap1"]
