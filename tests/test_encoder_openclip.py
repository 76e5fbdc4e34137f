"""CLIP encoder: a tiny random open_clip model on the real factory, transform, tokenizer and loading code."""

from __future__ import annotations

import hashlib
import warnings
from pathlib import Path

import numpy as np
import pytest

from helpers.media import write_images

from mcrsearch.encoders import create_encoder
from mcrsearch.errors import ConfigError, WeightsInvalidError, WeightsMissingError
from mcrsearch.media import decode
from mcrsearch.modality import Modality

torch = pytest.importorskip("torch")
pytest.importorskip("open_clip")

CAPTIONS = ["a photo of a dog", "a red car on a street", "", "an old clock tower at night", "ünïcödé ✓ 猫"]


@pytest.fixture(scope="module")
def tiny(single_thread):
    return create_encoder("openclip", config="tiny", random_init=True)


@pytest.fixture(scope="module")
def images(tmp_path_factory):
    """Every image kind mcrsearch reads, decoded by mcrsearch.media (gray, palette, RGBA, CMYK, 16-bit...)."""
    files = write_images(tmp_path_factory.mktemp("clip-images"))
    return [decode(path)[1] for _, path in sorted(files.items())]


def test_identity_and_shapes(tiny, images):
    assert tiny.family == "openclip"
    assert set(tiny.modalities) == {Modality.IMAGE, Modality.TEXT}
    assert tiny.dim == 32
    for modality, items in ((Modality.IMAGE, images), (Modality.TEXT, CAPTIONS)):
        vecs = tiny.encode(modality, items)
        assert vecs.shape == (len(items), tiny.dim)
        assert vecs.dtype == np.float32
        assert np.all(np.isfinite(vecs))
        np.testing.assert_allclose(np.linalg.norm(vecs, axis=1), 1.0, atol=1e-5)
    assert tiny.encode("image", []).shape == (0, tiny.dim)


def test_deterministic_and_distinct(tiny, images):
    first = tiny.encode("image", images)
    again = tiny.encode("image", images)
    assert np.array_equal(first, again)
    assert np.array_equal(tiny.encode("text", CAPTIONS), tiny.encode("text", CAPTIONS))
    # different inputs are not collapsed onto one vector
    assert np.max(np.abs(first[0] - first[-1])) > 1e-4
    texts = tiny.encode("text", CAPTIONS[:2])
    assert np.max(np.abs(texts[0] - texts[1])) > 1e-4


def test_same_seed_same_weights_and_fingerprint(tiny, single_thread):
    other = create_encoder("openclip", config="tiny", random_init=True)
    assert other.weights_id == tiny.weights_id
    assert other.fingerprint == tiny.fingerprint
    reseeded = create_encoder("openclip", config="tiny", random_init=True, seed=1)
    assert reseeded.weights_id != tiny.weights_id
    assert reseeded.fingerprint != tiny.fingerprint


def test_batch_invariance_and_chunking(tiny, images):
    batch = tiny.encode("image", images)
    for i in (0, len(images) - 1):
        alone = tiny.encode("image", [images[i]])
        np.testing.assert_allclose(alone[0], batch[i], atol=1e-5)
    texts = tiny.encode("text", CAPTIONS)
    np.testing.assert_allclose(tiny.encode("text", [CAPTIONS[3]])[0], texts[3], atol=1e-5)
    # internal chunks of 2 give the same vectors as one batch
    tiny.batch_size = 2
    try:
        np.testing.assert_allclose(tiny.encode("image", images), batch, atol=1e-5)
    finally:
        tiny.batch_size = 0


def test_long_caption_is_truncated_not_fatal(tiny):
    head = " ".join(["word"] * 80)  # already more than 77 tokens
    long = head + " and then a completely different ending about trains"
    vecs = tiny.encode("text", [head, long])
    assert np.all(np.isfinite(vecs))
    # everything past the context window is dropped, so the two captions embed identically
    np.testing.assert_allclose(vecs[0], vecs[1], atol=1e-6)


def test_rejects_wrong_input(tiny):
    with pytest.raises(ConfigError):
        tiny.encode("audio", ["x"])
    with pytest.raises(ConfigError):
        tiny.encode("text", [123])


def test_missing_checkpoint_names_the_artifact(tmp_path):
    with pytest.raises(WeightsMissingError, match="mcrsearch weights fetch clip-vit-b-32-openai"):
        create_encoder("openclip")
    with pytest.raises(WeightsMissingError, match="clip-vit-b-32-openai"):
        create_encoder("openclip", checkpoint=tmp_path / "absent.pt")
    with pytest.raises(ConfigError):
        create_encoder("openclip", config="ViT-H-14", random_init=True)


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.mark.parametrize("fmt", ["module-prefixed", "safetensors", "torchscript"])
def test_checkpoint_file_round_trip(tiny, images, tmp_path, fmt):
    """Weights saved to disk and loaded through the real checkpoint path reproduce the in-memory model."""
    state = {k: v.detach().clone() for k, v in tiny.model.state_dict().items()}
    if fmt == "module-prefixed":
        path = tmp_path / "clip.pt"
        torch.save({"state_dict": {f"module.{k}": v for k, v in state.items()}, "epoch": 3}, path)
    elif fmt == "safetensors":
        from safetensors.torch import save_file

        path = tmp_path / "clip.safetensors"
        save_file({k: v.contiguous() for k, v in state.items()}, str(path))
    else:  # OpenAI ships a TorchScript archive; build one of the same model
        path = tmp_path / "clip_jit.pt"
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", FutureWarning)   # torch.jit.* deprecation notices
            torch.jit.save(torch.jit.script(tiny.model), str(path))
    loaded = create_encoder("openclip", config="tiny", checkpoint=path)
    assert loaded.weights_id == _sha256(path)
    np.testing.assert_allclose(loaded.encode("image", images[:3]), tiny.encode("image", images[:3]), atol=1e-6)
    np.testing.assert_allclose(loaded.encode("text", CAPTIONS), tiny.encode("text", CAPTIONS), atol=1e-6)
    # the digest is cached beside the file and reused while the file is unchanged
    assert (path.parent / f".{path.name}.sha256.json").is_file()


def test_wrong_checkpoint_is_refused(tiny, tmp_path):
    state = {k: v.detach().clone() for k, v in tiny.model.state_dict().items()}
    state["text_projection"] = torch.zeros(7, 7)
    bad = tmp_path / "bad.pt"
    torch.save(state, bad)
    with pytest.raises(WeightsInvalidError, match="wrong shape"):
        create_encoder("openclip", config="tiny", checkpoint=bad)
    garbage = tmp_path / "garbage.pt"
    garbage.write_bytes(b"not a checkpoint at all")
    with pytest.raises(WeightsInvalidError):
        create_encoder("openclip", config="tiny", checkpoint=garbage)


@pytest.mark.slow
def test_full_size_checkpoint_path(tmp_path, single_thread, images):
    """ViT-B-32-quickgelu (151 M params, the OpenAI layout) loads strictly from a safetensors file."""
    from safetensors.torch import save_file

    full = create_encoder("openclip", random_init=True, seed=3)
    assert full.dim == 512 and full.config["model"] == "ViT-B-32-quickgelu"
    path = tmp_path / "open_clip_vit_b_32_openai.safetensors"
    save_file({k: v.contiguous() for k, v in full.model.state_dict().items()}, str(path))
    loaded = create_encoder("openclip", checkpoint=path)
    np.testing.assert_allclose(loaded.encode("image", images[:2]), full.encode("image", images[:2]), atol=1e-5)
    np.testing.assert_allclose(loaded.encode("text", CAPTIONS), full.encode("text", CAPTIONS), atol=1e-5)
