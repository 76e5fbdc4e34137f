"""The artifact registry: status, resolve, offline fetch, safe loading, recognition of encoder checkpoints."""

from __future__ import annotations

import argparse
import json

import pytest
import torch

from mcrsearch import weights
from mcrsearch.cli import main
from mcrsearch.config import Settings
from mcrsearch.errors import OfflineError, WeightsInvalidError, WeightsMissingError

NAMES = {"clip-vit-b-32-openai", "clap-630k-fusion-best", "roberta-base-tokenizer", "ulip2-pointbert",
         "cmcr-clap-clip", "cmcr-ulip-clip", "exmcr-clap", "exmcr-ulip"}


def test_registry_lists_every_artifact_with_a_source():
    assert set(weights.ARTIFACTS) == NAMES
    for art in weights.ARTIFACTS.values():
        assert art.source and all(f.url and f.url.startswith("https://") for f in art.files)
        for f in art.files:
            assert f.sha256 is None or len(f.sha256) == 64
            assert f.git_blob is None or len(f.git_blob) == 40


def test_status_json_in_empty_home(tmp_path, capsys):
    assert main(["--home", str(tmp_path), "weights", "status", "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert {r["name"] for r in rows} == NAMES
    assert all(r["state"] == "missing" for r in rows)
    assert all(r["file"].startswith(str(tmp_path / "weights")) for r in rows)


def test_status_table_runs(tmp_path, capsys):
    assert main(["--home", str(tmp_path), "weights", "status"]) == 0
    assert "ulip2-pointbert" in capsys.readouterr().err


def test_status_flags_invalid_files(tmp_path):
    settings = Settings(home=tmp_path)
    settings.weights_dir.mkdir(parents=True)
    (settings.weights_dir / "ulip_clip.pt").write_bytes(b"x" * 100)          # known size: mismatch
    (settings.weights_dir / "clap_clip.pt").write_bytes(b"not a checkpoint")  # does not load as a head
    rows = {r["name"]: r for r in weights.status(settings)}
    assert rows["cmcr-ulip-clip"]["state"] == "invalid" and "size" in rows["cmcr-ulip-clip"]["reason"]
    assert rows["cmcr-clap-clip"]["state"] == "invalid"
    assert rows["exmcr-clap"]["state"] == "missing"


def test_resolve_missing_names_file_and_both_commands(tmp_path):
    with pytest.raises(WeightsMissingError) as err:
        weights.resolve("exmcr-clap", Settings(home=tmp_path))
    msg = str(err.value)
    assert "ex_clap.pt" in msg and "mcrsearch weights fetch exmcr-clap" in msg and "mcrsearch weights import FILE" in msg


def test_fetch_offline_fails_at_once(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    code = main(["--home", str(tmp_path), "weights", "fetch", "cmcr-ulip-clip"])
    assert code != 0
    err = " ".join(capsys.readouterr().err.split())      # rich wraps long lines
    assert "offline" in err and err.endswith(".") and err.count(". ") == 0   # one sentence
    with pytest.raises(OfflineError):
        weights.fetch("clip-vit-b-32-openai", Settings(home=tmp_path))
    assert not (tmp_path / "weights").exists() or not any((tmp_path / "weights").iterdir())


def test_fetch_unknown_name_is_one_sentence(tmp_path, capsys):
    assert main(["--home", str(tmp_path), "weights", "fetch", "no-such-thing"]) != 0
    assert "Unknown artifact" in capsys.readouterr().err


def test_safe_load_allows_namespace_and_safetensors(tmp_path):
    from safetensors.torch import save_file

    pt = tmp_path / "a.pt"
    torch.save({"args": argparse.Namespace(model="x"), "w": torch.ones(2)}, pt)
    assert weights.safe_load(pt)["args"].model == "x"
    st = tmp_path / "b.safetensors"
    save_file({"w": torch.arange(4.0)}, str(st))
    assert torch.equal(weights.safe_load(st)["w"], torch.arange(4.0))
    with pytest.raises(WeightsInvalidError):
        weights.safe_load(tmp_path / "absent.pt")


def test_tokenizer_files_import_and_validate(tmp_path):
    src = tmp_path / "tok"
    src.mkdir()
    vocab = {"<s>": 0, "<pad>": 1, "</s>": 2, "<unk>": 3}
    vocab.update({f"t{i}": i for i in range(4, 50265)})
    (src / "vocab.json").write_text(json.dumps(vocab))
    (src / "merges.txt").write_text("#version: 0.2\n" + "".join(f"a{i} b{i}\n" for i in range(50000)))
    settings = Settings(home=tmp_path / "home")
    assert weights.import_file(src / "vocab.json", settings) == "roberta-base-tokenizer"
    folder = weights.resolve("roberta-base-tokenizer", settings)
    assert (folder / "vocab.json").is_file() and (folder / "merges.txt").is_file()
    rows = {r["name"]: r for r in weights.status(settings)}
    assert rows["roberta-base-tokenizer"]["state"] == "present"
    small = tmp_path / "small"
    small.mkdir()
    (small / "vocab.json").write_text(json.dumps({"<s>": 0, "<pad>": 1, "</s>": 2, "<unk>": 3}))
    (small / "merges.txt").write_text("#version: 0.2\n")
    with pytest.raises(WeightsInvalidError, match="50265"):
        weights.import_file(small, settings)


def _meta(*shape):
    return torch.empty(*shape, device="meta")


def test_encoder_checkpoints_recognised_by_keys_and_shapes():
    clip = {k: _meta(*s) for k, s in weights._CLIP_ANCHORS.items()}
    assert weights._identify_encoder(clip, "c.pt") == "clip-vit-b-32-openai"
    clip["visual.conv1.weight"] = _meta(768, 3, 16, 16)
    with pytest.raises(WeightsInvalidError, match="not ViT-B/32"):
        weights._identify_encoder(clip, "c.pt")
    with pytest.raises(WeightsInvalidError, match="Hugging Face"):
        weights._identify_encoder({"vision_model.x": _meta(1), "text_model.y": _meta(1)}, "hf.bin")
    clap = {"audio_branch.patch_embed.proj.weight": _meta(96, 1, 4, 4), "text_branch.x": _meta(1),
            "audio_branch.fusion_model.local_att.0.weight": _meta(1)}
    assert weights._identify_encoder(clap, "630k.pt") == "clap-630k-fusion-best"
    del clap["audio_branch.fusion_model.local_att.0.weight"]
    with pytest.raises(WeightsInvalidError, match="without feature fusion"):
        weights._identify_encoder(clap, "630k-best.pt")
    assert weights._identify_encoder({"point_encoder.cls_token": _meta(1)}, "u.pt") == "ulip2-pointbert"
    assert weights._identify_encoder({"fc.weight": _meta(1)}, "x.pt") is None


def test_ulip_checkpoint_import_verifies_full_layout(tmp_path):
    from mcrsearch.encoders.ulip import build

    tiny = build("tiny", random_init=True)
    src = tmp_path / "pointbert_tiny.pt"
    torch.save({"state_dict": {f"module.{k}": v for k, v in tiny.model.state_dict().items()},
                "args": argparse.Namespace(model="ULIP_PointBERT")}, src)
    with pytest.raises(WeightsInvalidError, match="ULIP"):
        weights.import_file(src, Settings(home=tmp_path / "home"))   # a tiny model is not the released one


def test_git_blob_hash_matches_git(tmp_path):
    f = tmp_path / "hello"
    f.write_bytes(b"hello\n")
    assert weights.git_blob_sha1(f) == "ce013625030ba8dba906f756967f9e9ca394464a"   # `git hash-object`
