"""Released head layouts: `weights import` recognises, files and reloads each; malformed ones are refused."""

from __future__ import annotations

import pytest
import torch

from mcrsearch import heads
from mcrsearch.cli import main
from mcrsearch.config import Settings
from mcrsearch.errors import WeightsInvalidError
from mcrsearch.weights import ARTIFACTS, import_file, load_released_head

CASES = {   # artifact -> (module class, file name as released)
    "cmcr-clap-clip": (heads.CMCRClapClipHeads, "clap_clip.pt"),
    "cmcr-ulip-clip": (heads.CMCRUlipClipHeads, "ulip_clip.pt"),
    "exmcr-clap": (heads.ExMCRHead, "ex_clap.pt"),
    "exmcr-ulip": (heads.ExMCRHead, "ex_ulip.pt"),
}


def random_released_state(cls, seed: int) -> dict[str, torch.Tensor]:
    """A state dict in the released layout with random weights and non-trivial BatchNorm statistics."""
    gen = torch.Generator().manual_seed(seed)
    state = {}
    for key, value in cls().state_dict().items():
        if key.endswith("num_batches_tracked"):
            state[key] = torch.tensor(3080)
        elif key.endswith("running_var"):
            state[key] = torch.rand(value.shape, generator=gen) + 0.5
        else:
            state[key] = torch.randn(value.shape, generator=gen) * 0.05
    return state


@pytest.mark.parametrize("name", list(CASES))
def test_import_files_reloads_and_projects(name, tmp_path, capsys, monkeypatch):
    from helpers.checkpoints import pretend_released

    cls, filename = CASES[name]
    state = random_released_state(cls, seed=len(name))
    src = tmp_path / "downloads" / filename
    src.parent.mkdir()
    torch.save(state, src)
    pretend_released(monkeypatch, name, src)
    home = tmp_path / "home"
    assert main(["--home", str(home), "weights", "import", str(src), "--json"]) == 0
    assert f'"name": "{name}"' in capsys.readouterr().out
    settings = Settings(home=home)
    filed = settings.weights_dir / ARTIFACTS[name].files[0].name
    assert filed.read_bytes() == src.read_bytes()

    head = load_released_head(name, settings)
    assert isinstance(head, cls) and not head.training
    for key, value in head.state_dict().items():
        assert torch.equal(value, state[key]), key
    x = torch.nn.functional.normalize(torch.randn(6, 512), dim=-1)
    with torch.inference_mode():
        if name.startswith("exmcr"):
            outs = [head(x)]
        else:
            sides = ("clap", "clip") if name == "cmcr-clap-clip" else ("clip", "ulip")
            outs = [heads.Normalized(head.side(s))(x) for s in sides]
            if name == "cmcr-ulip-clip":
                assert all((head.side(s)(x) >= 0).all() for s in sides)    # ReLU last: coordinates >= 0
        for out in outs:
            assert out.shape == (6, 512)
            torch.testing.assert_close(out.norm(dim=-1), torch.ones(6))
        # eval mode: one item alone projects like it does in the batch (BatchNorm running statistics)
        one = head(x[:1]) if name.startswith("exmcr") else head.side(sides[0])(x[:1])
        full = head(x) if name.startswith("exmcr") else head.side(sides[0])(x)
        torch.testing.assert_close(one, full[:1])


def test_exmcr_head_is_told_apart_by_its_hash_not_its_file_name(tmp_path, monkeypatch):
    from helpers.checkpoints import pretend_released

    clap, ulip = tmp_path / "a.pt", tmp_path / "b.pt"
    torch.save(random_released_state(heads.ExMCRHead, 1), clap)
    torch.save(random_released_state(heads.ExMCRHead, 2), ulip)
    pretend_released(monkeypatch, "exmcr-clap", clap)
    pretend_released(monkeypatch, "exmcr-ulip", ulip)
    settings = Settings(home=tmp_path / "home")
    swapped = tmp_path / "ex_clap.pt"                       # the ULIP head under the CLAP head's file name
    swapped.write_bytes(ulip.read_bytes())
    assert import_file(swapped, settings) == "exmcr-ulip"
    assert import_file(clap, settings) == "exmcr-clap"
    with pytest.raises(WeightsInvalidError, match="not the released exmcr-clap file"):
        import_file(ulip, settings, name="exmcr-clap")
    with pytest.raises(WeightsInvalidError, match="not of cmcr-clap-clip"):
        import_file(ulip, settings, name="cmcr-clap-clip")


@pytest.mark.parametrize("name", list(CASES))
def test_random_head_with_the_released_layout_is_refused_under_a_released_name(name, tmp_path, capsys):
    cls, filename = CASES[name]
    src = tmp_path / filename
    torch.save(random_released_state(cls, seed=99), src)
    home = tmp_path / "home"
    assert main(["--home", str(home), "weights", "import", str(src)]) != 0
    err = " ".join(capsys.readouterr().err.split())
    assert "not a released file" in err and "--name" in err
    assert main(["--home", str(home), "weights", "import", str(src), "--name", name]) != 0
    assert f"not the released {name} file" in " ".join(capsys.readouterr().err.split())
    assert not (Settings(home=home).weights_dir / filename).exists()


def test_a_different_file_under_a_released_name_is_refused_when_a_space_resolves_it(tmp_path):
    from mcrsearch.weights import resolve

    settings = Settings(home=tmp_path / "home")
    settings.weights_dir.mkdir(parents=True)
    torch.save(random_released_state(heads.ExMCRHead, 5), settings.weights_dir / "ex_ulip.pt")   # copied by hand
    with pytest.raises(WeightsInvalidError, match="not the released exmcr-ulip file"):
        resolve("exmcr-ulip", settings)
    with pytest.raises(WeightsInvalidError, match="not the released exmcr-ulip file"):
        load_released_head("exmcr-ulip", settings)


def test_own_heads_import_under_their_own_name(tmp_path):
    from mcrsearch.weights import load_own_head, own_heads, status

    src = tmp_path / "trained.pt"
    state = random_released_state(heads.CMCRUlipClipHeads, 7)
    torch.save(state, src)
    settings = Settings(home=tmp_path / "home")
    assert import_file(src, settings, name="my-ulip-heads") == "my-ulip-heads"
    assert own_heads(settings)["my-ulip-heads"]["kind"] == "cmcr-ulip-clip"
    head = load_own_head("my-ulip-heads", settings)
    assert torch.equal(head.state_dict()["Head_A.net.0.weight"], state["Head_A.net.0.weight"])
    assert not (settings.weights_dir / "ulip_clip.pt").exists()            # never under the released name
    rows = {r["name"]: r for r in status(settings)}
    assert rows["my-ulip-heads"]["kind"] == "own head" and rows["cmcr-ulip-clip"]["state"] == "missing"
    with pytest.raises(WeightsInvalidError, match="usable name"):
        import_file(src, settings, name="../escape")


def test_wrong_shape_is_refused(tmp_path, capsys):
    state = random_released_state(heads.CMCRClapClipHeads, 2)
    state["Head_A.net1.0.weight"] = torch.zeros(1024, 256)
    src = tmp_path / "clap_clip.pt"
    torch.save(state, src)
    home = tmp_path / "home"
    code = main(["--home", str(home), "weights", "import", str(src)])
    assert code != 0
    err = capsys.readouterr().err
    assert "Head_A.net1.0.weight" in err and "(1024, 256)" in err
    assert not (Settings(home=home).weights_dir / "clap_clip.pt").exists()


def test_missing_key_is_refused(tmp_path):
    state = random_released_state(heads.CMCRUlipClipHeads, 3)
    del state["Head_B.net.1.running_var"]
    src = tmp_path / "ulip_clip.pt"
    torch.save(state, src)
    with pytest.raises(WeightsInvalidError, match="missing"):
        import_file(src, Settings(home=tmp_path / "home"))


def test_partial_layout_and_unknown_files_are_refused(tmp_path):
    settings = Settings(home=tmp_path / "home")
    partial = tmp_path / "partial.pt"
    torch.save({"Head_A.net.0.weight": torch.zeros(512, 512)}, partial)
    with pytest.raises(WeightsInvalidError, match="not the full layout"):
        import_file(partial, settings)
    unknown = tmp_path / "other.pt"
    torch.save({"fc.weight": torch.zeros(3, 3)}, unknown)
    with pytest.raises(WeightsInvalidError, match="not a checkpoint mcrsearch knows"):
        import_file(unknown, settings)
    garbage = tmp_path / "garbage.pt"
    garbage.write_bytes(b"not a checkpoint at all")
    with pytest.raises(WeightsInvalidError):
        import_file(garbage, settings)
