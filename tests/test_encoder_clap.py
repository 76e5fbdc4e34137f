"""CLAP encoder: a tiny random laion_clap model built offline through CLAP_Module, real preprocessing."""

from __future__ import annotations

import importlib.util
import json
import sys

import numpy as np
import pytest

from helpers.media import write_audio

from mcrsearch.encoders import create_encoder
from mcrsearch.encoders._clap_audio import WINDOW, third_centres
from mcrsearch.encoders._clap_tokenizer import load_tokenizer, write_byte_level_tokenizer
from mcrsearch.errors import ConfigError, MediaError, WeightsInvalidError, WeightsMissingError
from mcrsearch.media import AudioClip, decode
from mcrsearch.modality import Modality

torch = pytest.importorskip("torch")
pytest.importorskip("torchaudio")
if importlib.util.find_spec("laion_clap") is None:  # not importorskip: importing it bare is what we contain
    pytest.skip("laion_clap is not installed", allow_module_level=True)

CAPTIONS = ["a dog barking", "rain on a tin roof", "", "church bells ringing in the distance"]


def _noise(seconds: float, rate: int, seed: int) -> AudioClip:
    rng = np.random.default_rng(seed)
    t = np.arange(int(seconds * rate)) / rate
    tone = 0.3 * np.sin(2 * np.pi * (200 + 50 * seed) * t)
    return AudioClip((tone + 0.05 * rng.standard_normal(t.size)).astype(np.float32), rate)


@pytest.fixture(scope="module")
def tiny(single_thread):
    return create_encoder("clap", config="tiny", random_init=True)


@pytest.fixture(scope="module")
def clips():
    return {
        "short_48k": _noise(1.0, 48_000, 0),
        "short_16k": _noise(2.5, 16_000, 1),
        "long_22k": _noise(14.0, 22_050, 2),     # over 10 s: fusion with three local crops
        "exact_48k": _noise(10.0, 48_000, 3),
    }


def test_import_is_contained(tiny):
    """laion_clap's folder is not left on sys.path; its model code is still reachable."""
    assert not any(p.rstrip("/").endswith("laion_clap") for p in sys.path)
    assert "clap_module.model" in sys.modules


def test_identity_shapes_and_norm(tiny, clips):
    assert tiny.family == "clap"
    assert set(tiny.modalities) == {Modality.AUDIO, Modality.TEXT}
    assert tiny.dim == 512
    for modality, items in ((Modality.AUDIO, list(clips.values())), (Modality.TEXT, CAPTIONS)):
        vecs = tiny.encode(modality, items)
        assert vecs.shape == (len(items), 512)
        assert vecs.dtype == np.float32
        assert np.all(np.isfinite(vecs))
        np.testing.assert_allclose(np.linalg.norm(vecs, axis=1), 1.0, atol=1e-5)


def test_real_decoded_audio_files(tiny, tmp_path):
    """wav (stereo, 16 kHz), flac (22.05 kHz), ogg (44.1 kHz), mp3 where available, via mcrsearch.media."""
    files = write_audio(tmp_path)
    decoded = [decode(path)[1] for _, path in sorted(files.items())]
    vecs = tiny.encode("audio", decoded)
    assert vecs.shape == (len(decoded), 512)
    np.testing.assert_allclose(np.linalg.norm(vecs, axis=1), 1.0, atol=1e-5)
    assert np.array_equal(vecs, tiny.encode("audio", decoded))


def test_deterministic_for_short_long_and_resampled(tiny, clips):
    for clip in clips.values():
        assert np.array_equal(tiny.encode("audio", [clip]), tiny.encode("audio", [clip]))
    assert np.array_equal(tiny.encode("text", CAPTIONS), tiny.encode("text", CAPTIONS))
    vecs = tiny.encode("audio", [clips["short_48k"], clips["long_22k"]])
    assert np.max(np.abs(vecs[0] - vecs[1])) > 1e-4


def test_long_clip_uses_fusion_with_fixed_crops(tiny, clips):
    mel, longer = tiny.features(clips["long_22k"].samples, clips["long_22k"].sample_rate)
    assert longer is True and tuple(mel.shape) == (4, 1001, 64)
    # the three local views are different parts of the clip, and the choice is fixed
    assert not torch.equal(mel[1], mel[3])
    assert third_centres(1401, 1001) == (67, 201, 334)
    short_mel, short_longer = tiny.features(clips["short_48k"].samples, 48_000)
    assert short_longer is False
    assert all(torch.equal(short_mel[0], short_mel[i]) for i in range(1, 4))


def test_repeat_padding_matches_repeated_audio(tiny):
    """A 2.5 s clip is repeated whole 4 times and zero-padded to the 10 s window."""
    clip = _noise(2.5, 48_000, 5)
    mel, _ = tiny.features(clip.samples, 48_000)
    manual = np.concatenate([np.tile(clip.samples, 4), np.zeros(WINDOW - 4 * clip.samples.size, np.float32)])
    ref, _ = tiny.features(manual, 48_000)
    assert torch.equal(mel, ref)


def test_batch_invariance(tiny, clips):
    items = list(clips.values())
    batch = tiny.encode("audio", items)
    for i, clip in enumerate(items):   # short and long clips mixed in one batch vs alone
        np.testing.assert_allclose(tiny.encode("audio", [clip])[0], batch[i], atol=1e-5)
    texts = tiny.encode("text", CAPTIONS)
    np.testing.assert_allclose(tiny.encode("text", [CAPTIONS[3]])[0], texts[3], atol=1e-5)


def test_long_caption_is_truncated_not_fatal(tiny):
    head = "x" * 120  # byte-level test vocabulary: one token per character, far past 77
    vecs = tiny.encode("text", [head, head + " and a different ending"])
    np.testing.assert_allclose(vecs[0], vecs[1], atol=1e-6)


def test_empty_clip_is_a_media_error(tiny):
    with pytest.raises(MediaError):
        tiny.encode("audio", [AudioClip(np.zeros(0, np.float32), 48_000)])


def test_missing_weights_name_the_artifacts(tmp_path):
    with pytest.raises(WeightsMissingError, match="mcrsearch weights fetch clap-630k-fusion-best"):
        create_encoder("clap")
    ckpt = tmp_path / "630k-fusion-best.pt"
    ckpt.write_bytes(b"placeholder")
    with pytest.raises(WeightsMissingError, match="mcrsearch weights fetch roberta-base-tokenizer"):
        create_encoder("clap", checkpoint=ckpt)
    with pytest.raises(WeightsMissingError, match="roberta-base-tokenizer"):
        create_encoder("clap", checkpoint=ckpt, tokenizer_dir=tmp_path / "nothing-here")


def test_degenerate_tokenizer_is_refused(tmp_path):
    # what transformers builds offline for 'roberta-base': five special tokens and nothing else
    stub = tmp_path / "stub"
    stub.mkdir()
    (stub / "vocab.json").write_text(json.dumps({"<pad>": 0, "<unk>": 1, "<s>": 2, "</s>": 3, "<mask>": 4}))
    (stub / "merges.txt").write_text("#version: 0.2\n")
    with pytest.raises(WeightsInvalidError, match="50265"):
        load_tokenizer(stub, 50265)
    with pytest.raises(WeightsInvalidError):
        create_encoder("clap", config="tiny", random_init=True, tokenizer_dir=stub)
    # a well-formed byte-level vocabulary is still not roberta-base: refused for the real text tower
    byte_level = write_byte_level_tokenizer(tmp_path / "bytes")
    with pytest.raises(WeightsInvalidError, match="50265"):
        load_tokenizer(byte_level, 50265)
    assert len(load_tokenizer(byte_level, 261)) == 261


def test_checkpoint_file_round_trip(tiny, clips, tmp_path):
    """A `module.`-prefixed checkpoint with the legacy position_ids key loads through the real path."""
    state = {f"module.{k}": v.detach().clone() for k, v in tiny.model.state_dict().items()}
    state["module.text_branch.embeddings.position_ids"] = torch.arange(514).unsqueeze(0)
    path = tmp_path / "630k-fusion-best.pt"
    torch.save({"epoch": 45, "name": "tiny", "state_dict": state}, path)
    loaded = create_encoder("clap", config="tiny", checkpoint=path)
    items = [clips["short_48k"], clips["long_22k"]]
    np.testing.assert_allclose(loaded.encode("audio", items), tiny.encode("audio", items), atol=1e-6)
    np.testing.assert_allclose(loaded.encode("text", CAPTIONS), tiny.encode("text", CAPTIONS), atol=1e-6)
    assert loaded.weights_id != tiny.weights_id and len(loaded.weights_id) == 64


def test_wrong_checkpoint_is_refused(tiny, tmp_path):
    from mcrsearch.encoders.clap import load_clap_checkpoint

    bad = tmp_path / "not_clap.pt"
    torch.save({"state_dict": {"visual.proj": torch.zeros(3, 3)}}, bad)
    with pytest.raises(WeightsInvalidError, match="does not fit"):
        load_clap_checkpoint(tiny.model, bad)


@pytest.mark.slow
def test_full_size_checkpoint_path(tmp_path, single_thread):
    """The released layout (HTSAT-tiny + roberta-base, 158 M params) loads strictly through the checkpoint path.

    Random weights stand in for 630k-fusion-best.pt; a stand-in 50265-entry byte-level vocabulary passes the
    size check (real captions need the roberta-base files, which this machine does not have).
    """
    full = create_encoder("clap", random_init=True, seed=3)
    state = {f"module.{k}": v for k, v in full.model.state_dict().items()}
    state["module.text_branch.embeddings.position_ids"] = torch.arange(514).unsqueeze(0)
    ckpt = tmp_path / "630k-fusion-best.pt"
    torch.save({"epoch": 45, "state_dict": state}, ckpt)
    del state
    tok = write_byte_level_tokenizer(tmp_path / "tok")
    vocab = json.loads((tok / "vocab.json").read_text())
    vocab.update({f"<filler{i}>": len(vocab) + i for i in range(50265 - len(vocab))})
    (tok / "vocab.json").write_text(json.dumps(vocab))
    loaded = create_encoder("clap", checkpoint=ckpt, tokenizer_dir=tok)
    clip = _noise(12.0, 44_100, 7)
    np.testing.assert_allclose(loaded.encode("audio", [clip]), full.encode("audio", [clip]), atol=1e-5)
    np.testing.assert_allclose(loaded.encode("text", CAPTIONS), full.encode("text", CAPTIONS), atol=1e-5)


def test_audio_only_encoder_needs_no_tokenizer_and_gives_the_same_audio_vectors(tiny, clips, tmp_path):
    """No released space embeds text with CLAP, so their CLAP encoders must not demand roberta-base files."""
    audio_only = create_encoder("clap", config="tiny", random_init=True, text=False,
                                tokenizer_dir=tmp_path / "absent")        # never read
    assert audio_only.modalities == (Modality.AUDIO,)
    assert audio_only.fingerprint == tiny.fingerprint
    clip = clips["short_48k"]
    np.testing.assert_allclose(audio_only.encode("audio", [clip]), tiny.encode("audio", [clip]), atol=1e-6)
    with pytest.raises(ConfigError, match="does not embed text"):
        audio_only.encode("text", ["a dog barks"])
