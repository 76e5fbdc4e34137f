"""Precision modes (mcrsearch.precision): selection by CPU support, the tolerance gate, fingerprint compatibility,
and the compiled ULIP-2 farthest-point sampling against the torch loop it replaces."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from mcrsearch import precision as P
from mcrsearch.config import Settings, load_settings
from mcrsearch.encoders import create_encoder
from mcrsearch.encoders._pointops import farthest_point_sample, farthest_point_sample_torch
from mcrsearch.errors import ConfigError
from mcrsearch.modality import Modality
from mcrsearch.space import SPACE_BUILDERS, Route, Space, create_space, register_space


def _cpu(monkeypatch, bf16: bool) -> None:
    support = P.CpuSupport("AVX512" if bf16 else "AVX2", bf16, frozenset({"avx2"}))
    monkeypatch.setattr(P, "cpu_support", lambda: support)


@pytest.fixture(scope="module")
def tiny_clip():
    return create_encoder("openclip", config="tiny", random_init=True, device="cpu")


# --------------------------------------------------------------------------- settings

def test_settings_precision_default_env_and_refusal(monkeypatch):
    assert Settings().precision == "auto"
    monkeypatch.setenv("MCRSEARCH_PRECISION", "INT8")
    assert load_settings().precision == "int8"
    with pytest.raises(ConfigError, match="Unknown precision 'fp8'"):
        Settings().with_overrides(precision="fp8")


# --------------------------------------------------------------------------- which modes are offered

def test_bf16_offered_only_with_matrix_units(monkeypatch, tiny_clip):
    _cpu(monkeypatch, bf16=False)
    assert P.offered_modes("cpu") == ("fp32", "int8", "onnx")
    assert P.candidates(tiny_clip, "auto") == ["onnx"]      # int8 is batch-dependent: explicit only
    with pytest.raises(ConfigError, match="bfloat16 matrix units"):
        P.candidates(tiny_clip, "bf16")
    _cpu(monkeypatch, bf16=True)
    assert P.candidates(tiny_clip, "auto") == ["bf16", "onnx"]
    assert P.candidates(tiny_clip, "bf16") == ["bf16"]
    assert P.candidates(tiny_clip, "fp32") == []
    assert P.offered_modes(torch.device("cuda")) == ("fp32", "bf16")
    assert P.offered_modes(torch.device("mps")) == ("fp32",)


def test_family_without_reduced_modes_stays_fp32(monkeypatch):
    from helpers.corpus import TinyEncoder

    _cpu(monkeypatch, bf16=True)
    enc = TinyEncoder()
    assert P.candidates(enc, "auto") == [] and P.candidates(enc, "int8") == []


def test_cpu_support_reads_real_flags():
    support = P.cpu_support()
    assert support.capability
    assert support.bf16_matrix == bool({"amx_bf16", "avx512_bf16"} & set(support.flags)) or \
        "AMX" in support.capability.upper()


# --------------------------------------------------------------------------- the tolerance gate

def test_int8_within_tolerance_is_chosen_and_close(tmp_path, monkeypatch):
    _cpu(monkeypatch, bf16=False)
    enc = create_encoder("openclip", config="tiny", random_init=True, device="cpu")
    texts = P.sample_inputs(Modality.TEXT, 3, seed=5)
    before = enc.encode(Modality.TEXT, texts)
    mode, cosine = P.choose(enc, "int8", [Modality.IMAGE, Modality.TEXT], tmp_path / "p.json")
    assert mode == "int8" and enc.precision == "int8" and cosine >= P.MIN_COSINE
    after = enc.encode(Modality.TEXT, texts)
    assert not np.array_equal(before, after)                       # the model really changed
    assert np.min(np.sum(before * after, axis=1)) >= 0.99          # ... and stayed close
    assert any(type(m).__module__.startswith("torch.ao.nn.quantized") for m in enc.model.modules())


def test_explicit_mode_out_of_tolerance_is_refused_auto_falls_back(tmp_path, monkeypatch):
    _cpu(monkeypatch, bf16=True)
    monkeypatch.setattr(P, "tolerance", lambda enc, mode, mods, folder=None: 0.98)
    enc = create_encoder("ulip2", config="tiny", random_init=True, device="cpu")
    with pytest.raises(ConfigError, match=r"min cosine 0\.98000 < 0\.999.*refused"):
        P.choose(enc, "int8", [Modality.POINTS], tmp_path / "a.json")
    assert P.choose(enc, "auto", [Modality.POINTS], tmp_path / "b.json") == ("fp32", 1.0)
    assert enc.precision == "fp32"
    assert not any(type(m).__module__.startswith("torch.ao") for m in enc.model.modules())


def test_tolerance_result_is_cached(tmp_path, monkeypatch):
    _cpu(monkeypatch, bf16=False)
    calls = []

    def fake(enc, mode, mods, folder=None):
        calls.append(mode)
        return 0.9995

    monkeypatch.setattr(P, "tolerance", fake)
    cache = tmp_path / "precision.json"
    for _ in range(2):
        enc = create_encoder("ulip2", config="tiny", random_init=True, device="cpu")
        assert P.choose(enc, "int8", [Modality.POINTS], cache)[0] == "int8"
    assert calls == ["int8"]


# --------------------------------------------------------------------------- spaces and fingerprints

def _register_space() -> str:
    name = "test-precision-clip"
    if name not in SPACE_BUILDERS:
        @register_space(name)
        def _build(settings):
            enc = create_encoder("openclip", config="tiny", random_init=True, device="cpu")
            return Space(name, {"image": Route(enc), "text": Route(enc)}, enc.dim)
    return name


def test_fingerprint_compatible_across_tolerant_precisions(tmp_path, monkeypatch):
    from mcrsearch.store import Store

    _cpu(monkeypatch, bf16=False)
    name = _register_space()
    fp32 = create_space(name, Settings(home=tmp_path, precision="fp32"))
    int8 = create_space(name, Settings(home=tmp_path, precision="int8"))
    onnx = create_space(name, Settings(home=tmp_path, precision="onnx"))
    auto = create_space(name, Settings(home=tmp_path, precision="auto"))
    assert fp32.precision == {"image": "fp32", "text": "fp32"}
    assert int8.precision == {"image": "int8", "text": "int8"}
    assert onnx.precision == auto.precision == {"image": "onnx", "text": "fp32"}     # texts stay in torch
    assert fp32.fingerprint == int8.fingerprint == onnx.fingerprint
    with Store.open(Settings(home=tmp_path, precision="fp32"), create=True) as store:
        store.ensure_space(name, fp32.fingerprint, fp32.dim, fp32.modalities)
        assert store.check_space(name, int8.fingerprint).fingerprint == fp32.fingerprint   # no refusal
    with pytest.raises(ConfigError, match="bfloat16 matrix units"):
        create_space(name, Settings(home=tmp_path, precision="bf16"))


# --------------------------------------------------------------------------- compiled FPS

@pytest.mark.parametrize("n,count,scale,ties", [(10_000, 512, 1.0, False), (1024, 512, 1e-3, False),
                                                (37, 37, 50.0, False), (2048, 256, 1.0, True), (33, 8, 1.0, True)])
def test_compiled_fps_equals_torch_loop(n, count, scale, ties):
    rng = np.random.default_rng(n + count)
    xyz = rng.standard_normal((3, n, 3)).astype(np.float32) * scale
    if ties:
        xyz = np.round(xyz * 2) / 2            # many equal distances: the first maximum must win in both
    x = torch.from_numpy(xyz)
    assert torch.equal(farthest_point_sample(x, count), farthest_point_sample_torch(x, count))


def test_fps_falls_back_to_torch_for_other_dtypes():
    x = torch.randn(2, 300, 3, dtype=torch.float64)
    assert torch.equal(farthest_point_sample(x, 20), farthest_point_sample_torch(x, 20))


def test_dynamic_int8_is_batch_dependent_which_is_why_auto_skips_it():
    """The fact AUTO_ORDER rests on: dynamic int8 scales activations per batch, so a row's output depends on
    the other rows in its batch (fp32 gives the row the same output alone or beside a large neighbour)."""
    import torch

    torch.manual_seed(0)
    layer = torch.nn.Sequential(torch.nn.Linear(64, 64))
    quantised = torch.ao.quantization.quantize_dynamic(layer, {torch.nn.Linear}, dtype=torch.qint8)
    row = torch.randn(1, 64)
    batch = torch.cat([row, 50 * torch.randn(1, 64)])
    with torch.no_grad():
        assert torch.allclose(layer(row)[0], layer(batch)[0], atol=1e-5)
        assert not torch.allclose(quantised(row)[0], quantised(batch)[0], atol=1e-3)
    assert all("int8" not in modes for modes in P.AUTO_ORDER.values())


# --------------------------------------------------------------------------- ONNX Runtime (fp32)

def test_onnx_mode_matches_fp32_is_cached_and_chosen_by_auto(tmp_path, monkeypatch):
    _cpu(monkeypatch, bf16=False)
    enc = create_encoder("openclip", config="tiny", random_init=True, device="cpu")
    images = P.sample_inputs(Modality.IMAGE, 3, seed=7)
    texts = P.sample_inputs(Modality.TEXT, 2, seed=7)
    before_img, before_txt = enc.encode(Modality.IMAGE, images), enc.encode(Modality.TEXT, texts)
    cache = tmp_path / "cache" / "precision.json"
    mode, cosine = P.choose(enc, "auto", [Modality.IMAGE, Modality.TEXT], cache)
    assert mode == "onnx" and enc.precision == "onnx" and cosine >= P.MIN_COSINE
    assert enc.onnx_image is not None and enc.route_precision(Modality.TEXT) == "fp32"
    exported = list((tmp_path / "cache" / "onnx").glob("openclip-image-*.onnx"))
    assert len(exported) == 1 and enc.onnx_image.path == exported[0]          # exported once, kept
    after = enc.encode(Modality.IMAGE, images)
    assert np.allclose(after, before_img, atol=1e-5) and np.min(np.sum(after * before_img, 1)) >= P.MIN_COSINE
    assert np.array_equal(enc.encode(Modality.TEXT, texts), before_txt)
    again = create_encoder("openclip", config="tiny", random_init=True, device="cpu")
    P.convert(again, "onnx", tmp_path / "cache" / "onnx")
    assert again.onnx_image.path == exported[0]
    assert np.array_equal(again.encode(Modality.IMAGE, images), after)


def test_onnx_mode_is_batch_independent_unlike_dynamic_int8(tmp_path):
    """What auto requires of a mode: a row gets the same vector alone or beside a very different neighbour."""
    import copy

    from PIL import Image

    enc = create_encoder("openclip", config="tiny", random_init=True, device="cpu")
    P.convert(enc, "onnx", tmp_path)
    row = P.sample_inputs(Modality.IMAGE, 1, seed=3)
    loud = [Image.fromarray(np.full((256, 256, 3), 255, dtype=np.uint8))]
    alone, beside = enc.encode(Modality.IMAGE, row)[0], enc.encode(Modality.IMAGE, row + loud)[0]
    assert np.allclose(alone, beside, atol=1e-6)
    twin = copy.deepcopy(enc)                        # a new session on the same export
    assert np.allclose(twin.encode(Modality.IMAGE, row)[0], alone, atol=1e-6)


def test_onnx_refused_off_the_cpu_and_for_families_without_it(monkeypatch):
    _cpu(monkeypatch, bf16=False)
    enc = create_encoder("clap", config="tiny", random_init=True, device="cpu", text=False)
    assert P.candidates(enc, "onnx") == [] and P.candidates(enc, "auto") == []
    clip = create_encoder("openclip", config="tiny", random_init=True, device="cpu")
    with pytest.raises(ConfigError, match="no ONNX Runtime mode"):
        enc.enable_onnx(__import__("pathlib").Path("."))
    from mcrsearch.encoders import _onnx

    monkeypatch.setattr(_onnx, "available", lambda: False)
    assert "onnx" not in P.offered_modes("cpu")
    with pytest.raises(ConfigError, match="needs ONNX Runtime"):
        P.candidates(clip, "onnx")


def test_ulip_onnx_runs_after_the_compiled_grouping_and_matches_fp32(tmp_path):
    enc = create_encoder("ulip2", config="tiny", random_init=True, device="cpu")
    clouds = P.sample_inputs(Modality.POINTS, 3, seed=2)
    reference = enc.encode(Modality.POINTS, clouds)
    mode, cosine = P.choose(enc, "onnx", [Modality.POINTS], tmp_path / "precision.json")
    assert mode == "onnx" and cosine >= P.MIN_COSINE and enc.onnx_groups is not None
    vectors = enc.encode(Modality.POINTS, clouds)
    assert np.allclose(vectors, reference, atol=1e-5)
    assert np.allclose(enc.encode(Modality.POINTS, clouds[:1])[0], vectors[0], atol=1e-6)   # batch-independent
    assert enc.route_precision(Modality.POINTS) == "onnx"
