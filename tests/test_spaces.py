"""The built-in real spaces: clear failure without weights, and the right encoder + head chain per modality."""

from __future__ import annotations

import hashlib

import numpy as np
import pytest
import torch

from mcrsearch import heads
from mcrsearch.config import Settings
from mcrsearch.encoders.base import Encoder
from mcrsearch.errors import WeightsMissingError
from mcrsearch.modality import Modality
from mcrsearch.space import available_spaces, create_space
from mcrsearch.builtin_spaces import REAL_SPACES
from mcrsearch.weights import ARTIFACTS, import_file

EXPECTED = {
    "clip": {Modality.IMAGE, Modality.TEXT},
    "exmcr": {Modality.IMAGE, Modality.TEXT, Modality.AUDIO, Modality.POINTS},
    "cmcr-clap-clip": {Modality.IMAGE, Modality.TEXT, Modality.AUDIO},
    "cmcr-ulip-clip": {Modality.IMAGE, Modality.TEXT, Modality.POINTS},
}


def test_real_spaces_are_registered():
    assert set(REAL_SPACES) <= set(available_spaces())


@pytest.mark.parametrize("name", REAL_SPACES)
def test_missing_weights_give_one_clear_error(name, tmp_path):
    with pytest.raises(WeightsMissingError) as err:
        create_space(name, Settings(home=tmp_path, device="cpu"))
    msg = str(err.value)
    assert "mcrsearch weights fetch" in msg and "mcrsearch weights import FILE" in msg


class StubEncoder(Encoder):
    """Stands in for the CLIP / CLAP encoders (built by another module): fixed pseudo-random vectors."""

    def __init__(self, family, modalities, checkpoint):
        super().__init__({"stub": family}, weights_id=str(checkpoint))
        self.family, self.modalities, self.dim = family, tuple(modalities), 512

    def _encode(self, modality, items):
        seeds = [int(hashlib.sha256(repr(i).encode()).hexdigest()[:8], 16) for i in items]
        return np.stack([np.random.default_rng(s).normal(size=512) for s in seeds]).astype(np.float32)


@pytest.fixture()
def stocked_home(tmp_path, monkeypatch):
    """A home with every artifact: random released-layout heads, a tiny ULIP checkpoint, stub encoder files."""
    from mcrsearch.encoders import ulip
    from test_heads import CASES, random_released_state

    settings = Settings(home=tmp_path / "home", device="cpu")
    from helpers.checkpoints import pretend_released

    for n, (name, (cls, filename)) in enumerate(CASES.items()):
        src = tmp_path / filename
        torch.save(random_released_state(cls, seed=n), src)
        pretend_released(monkeypatch, name, src)
        import_file(src, settings)
    wd = settings.weights_dir
    (wd / ARTIFACTS["clip-vit-b-32-openai"].files[0].name).write_bytes(b"stub")
    (wd / ARTIFACTS["clap-630k-fusion-best"].files[0].name).write_bytes(b"stub")
    # no roberta-base tokenizer: no released route embeds text with CLAP, so no space may demand it
    tiny = ulip.build("tiny", random_init=True)
    torch.save({"state_dict": {f"module.{k}": v for k, v in tiny.model.state_dict().items()}},
               wd / ARTIFACTS["ulip2-pointbert"].files[0].name)

    def fake_create(family, **kwargs):
        if family == "ulip2":
            return ulip.build("tiny", **kwargs)          # the real loading path, tiny sizes
        if family == "openclip":
            return StubEncoder("openclip", (Modality.IMAGE, Modality.TEXT), kwargs["checkpoint"])
        assert family == "clap" and kwargs["text"] is False and "tokenizer_dir" not in kwargs
        return StubEncoder("clap", (Modality.AUDIO,), kwargs["checkpoint"])

    monkeypatch.setattr("mcrsearch.encoders.create_encoder", fake_create)
    return settings


def _items(modality, n=3):
    if modality is Modality.POINTS:
        rng = np.random.default_rng(0)
        return [rng.normal(size=(600, 3)).astype(np.float32) for _ in range(n)]
    return [f"{modality.value}-{i}" for i in range(n)]


@pytest.mark.parametrize("name", REAL_SPACES)
def test_routes_use_the_released_head_sides(name, stocked_home):
    from mcrsearch.weights import load_released_head

    space = create_space(name, stocked_home)
    assert set(space.modalities) == EXPECTED[name] and space.dim == 512
    expected_head = {   # modality -> function on encoder output, written from the released inference code
        "clip": {},
        "exmcr": {Modality.AUDIO: load_released_head("exmcr-clap", stocked_home),
                  Modality.POINTS: load_released_head("exmcr-ulip", stocked_home)},
        "cmcr-clap-clip": {m: heads.Normalized(load_released_head("cmcr-clap-clip", stocked_home).Head_B)
                           for m in (Modality.IMAGE, Modality.TEXT)}
                          | {Modality.AUDIO: heads.Normalized(load_released_head("cmcr-clap-clip", stocked_home).Head_A)},
        "cmcr-ulip-clip": {m: heads.Normalized(load_released_head("cmcr-ulip-clip", stocked_home).Head_A)
                           for m in (Modality.IMAGE, Modality.TEXT)}
                          | {Modality.POINTS: heads.Normalized(load_released_head("cmcr-ulip-clip", stocked_home).Head_B)},
    }[name]
    for modality in space.modalities:
        items = _items(modality)
        got = space.embed(modality, items)
        assert got.shape == (3, 512)
        np.testing.assert_allclose(np.linalg.norm(got, axis=1), 1.0, atol=1e-5)
        raw = space.routes[modality].encoder.encode(modality, items)
        head = expected_head.get(modality)
        if head is None:
            want = raw
        else:
            with torch.inference_mode():
                want = head.eval()(torch.from_numpy(raw)).numpy()
        np.testing.assert_allclose(got, want, atol=1e-5)
    again = create_space(name, stocked_home)
    assert again.fingerprint == space.fingerprint
