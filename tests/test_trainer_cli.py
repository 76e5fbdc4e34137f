"""`mcrsearch train` end to end on a tiny synthetic setup, and the feature cache's resume."""

from __future__ import annotations

import json
import zlib

import numpy as np
import pytest
import torch

from mcrsearch.cli import main
from mcrsearch_trainer.synthetic import synthetic_connection


@pytest.fixture(autouse=True, scope="module")
def _one_thread(single_thread):
    """Every test here runs on one torch thread (see conftest.single_thread)."""


def _npz(tmp_path):
    d = synthetic_connection(n_overlap=300, n_memory=300, n_val=100)
    vs = d.validation[0]
    path = tmp_path / "feats.npz"
    np.savez(path, overlap_a=d.overlap_a, overlap_b=d.overlap_b, memory_a=d.memory_a, memory_b=d.memory_b,
             val_x_a=vs.x_a, val_labels_a=vs.labels_a, val_x_b=vs.x_b, val_labels_b=vs.labels_b)
    return path


@pytest.mark.parametrize("method,expected", [("exmcr", {"Head1", "Head2"}), ("cmcr", {"Head_A", "Head_B"})])
def test_train_cli_end_to_end(tmp_path, capsys, method, expected):
    cfg = tmp_path / "train.toml"
    cfg.write_text("epochs = 3\nbatch_size = 128\n[exmcr]\nsigma = 0.04\n")
    out = tmp_path / "out"
    rc = main(["--device", "cpu", "train", method, "--config", str(cfg), "--features", str(_npz(tmp_path)),
               "--out", str(out), "--name", "head.pt", "--lambda", "0.2", "--json"])
    assert rc == 0
    result = json.loads(capsys.readouterr().out)
    state = torch.load(out / "head.pt", weights_only=True)
    assert {k.split(".")[0] for k in state} == expected
    side = json.loads((out / "head.json").read_text())
    assert side["config"]["lam"] == 0.2 and side["config"]["epochs"] == 3
    assert side["data_fingerprint"] and "val/a2b/map" in side["metrics"]
    if method == "exmcr":
        assert side["config"]["sigma"] == 0.04
    assert (out / "head_curves.png").stat().st_size > 1000
    assert result["metrics"]["val/a2b/map"] > 0.15     # chance is ~1/16


def test_train_cli_refuses_missing_data(capsys):
    assert main(["train", "exmcr", "--epochs", "1"]) == 2
    assert main(["train", "nonsense"]) == 2


class _CountingEncoder:
    family, dim, fingerprint = "fake", 4, "fake-fp"

    def __init__(self, fail_after: int | None = None) -> None:
        self.calls, self.items, self.fail_after = 0, 0, fail_after

    def encode(self, modality, items):
        if self.fail_after is not None and self.calls >= self.fail_after:
            raise KeyboardInterrupt
        self.calls += 1
        self.items += len(items)
        x = np.array([[float(len(s)), float(s.count("a")), 1.0, float(hash(s) % 7)] for s in items], np.float32)
        return x / np.linalg.norm(x, axis=1, keepdims=True)


def test_feature_cache_resumes_without_recomputing(tmp_path):
    from mcrsearch_trainer.features import cached_features

    files = []
    for i in range(23):
        f = tmp_path / f"t{i:02d}.txt"
        f.write_text("a" * (i + 1) + " word")
        files.append(f)
    decode = lambda p: p.read_text()  # noqa: E731
    root = tmp_path / "cache"
    broken = _CountingEncoder(fail_after=3)
    with pytest.raises(KeyboardInterrupt):
        cached_features(files, broken, "text", root, chunk=5, decode=decode)
    assert broken.items == 15
    resumed = _CountingEncoder()
    ticks: list[tuple[int, int]] = []
    got = np.array(cached_features(files, resumed, "text", root, chunk=5, decode=decode,
                                   progress=lambda done, total: ticks.append((done, total))))
    assert resumed.items == 23 - 15          # only the unfinished chunks were encoded
    assert ticks == [(20, 23), (23, 23)]     # progress counts the rows already cached, then each chunk
    fresh = _CountingEncoder()
    want = np.array(cached_features(files, fresh, "text", tmp_path / "other", chunk=5, decode=decode))
    np.testing.assert_array_equal(got, want)
    again = _CountingEncoder()
    cached_features(files, again, "text", root, chunk=5, decode=decode)
    assert again.items == 0                  # fully cached: nothing is encoded
    files[0].write_text("changed")
    changed = _CountingEncoder()
    cached_features(files, changed, "text", root, chunk=5, decode=decode)
    assert changed.items == 23               # new content -> new cache key


class _HashEncoder:
    """Stands in for a real MCR encoder: deterministic vectors from the decoded content."""

    family, dim = "fakehash", 8

    def __init__(self, name: str) -> None:
        self.fingerprint = f"fake-{name}"

    def encode(self, modality, items):
        rows = []
        for item in items:
            if hasattr(item, "samples"):
                arr = np.asarray(item.samples, dtype=np.float64)
            elif isinstance(item, str):
                arr = np.array([ord(c) for c in item], dtype=np.float64)
            else:
                arr = np.asarray(item, dtype=np.float64).ravel()
            rng = np.random.default_rng([int(abs(float(np.sum(arr))) * 1000) % (2 ** 32),
                                         zlib.crc32(self.fingerprint.encode())])
            rows.append(rng.standard_normal(self.dim))
        x = np.array(rows, np.float32)
        return x / np.linalg.norm(x, axis=1, keepdims=True)


def test_data_from_files_through_the_feature_cache(tmp_path):
    import soundfile as sf
    from PIL import Image

    from mcrsearch.config import load_settings
    from mcrsearch_trainer.run import data_from_files

    for i in range(6):
        (tmp_path / "texts").mkdir(exist_ok=True)
        (tmp_path / "texts" / f"t{i}.txt").write_text(f"a caption number {i}")
        for split in ("mem", "val"):
            (tmp_path / split / "audio" / f"c{i % 2}").mkdir(parents=True, exist_ok=True)
            (tmp_path / split / "images" / f"c{i % 2}").mkdir(parents=True, exist_ok=True)
            sf.write(tmp_path / split / "audio" / f"c{i % 2}" / f"a{i}.wav",
                     np.sin(np.arange(1600) * (i + 1) / 50).astype(np.float32), 16000)
            Image.fromarray(np.full((8, 8, 3), 20 * i + (split == "val"), np.uint8)).save(
                tmp_path / split / "images" / f"c{i % 2}" / f"v{i}.png")
    settings = load_settings(home=tmp_path / "home")
    encoders = {"clap": _HashEncoder("clap"), "clip": _HashEncoder("clip")}
    d = data_from_files("clap", "clip", [str(tmp_path / "texts")], [str(tmp_path / "mem" / "audio")],
                        [str(tmp_path / "mem" / "images")], [str(tmp_path / "val" / "audio")],
                        [str(tmp_path / "val" / "images")], settings, encoders=encoders)
    assert d.overlap_a.shape == (6, 8) and d.memory_a.shape == (6, 8) and d.memory_b.shape == (6, 8)
    assert not np.allclose(d.overlap_a, d.overlap_b)          # the two MCRs embed the same texts differently
    vs = d.validation[0]
    assert vs.name == "audio->image" and sorted(set(vs.labels_a)) == [0, 1]
    assert any((tmp_path / "home" / "cache" / "features").rglob("vectors.f32"))
