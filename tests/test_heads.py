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
def test_import_files_reloads_and_projects(name, tmp_path, capsys):
    cls, filename = CASES[name]
    state = random_released_state(cls, seed=len(name))
    src = tmp_path / "downloads" / filename
    src.parent.mkdir()
    torch.save(state, src)
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


def test_exmcr_head_with_other_file_name_needs_name(tmp_path):
    src = tmp_path / "my_head.pt"
    torch.save(random_released_state(heads.ExMCRHead, 1), src)
    settings = Settings(home=tmp_path / "home")
    with pytest.raises(WeightsInvalidError, match="--name"):
        import_file(src, settings)
    assert import_file(src, settings, name="exmcr-ulip") == "exmcr-ulip"
    with pytest.raises(WeightsInvalidError, match="not cmcr-clap-clip"):
        import_file(src, settings, name="cmcr-clap-clip")


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
