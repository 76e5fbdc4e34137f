"""The artifact registry: status, resolve, offline fetch, safe loading, recognition of encoder checkpoints."""

from __future__ import annotations

import argparse
import json

import pytest
import torch

from mcrsearch import weights
from mcrsearch.checkpoint import git_blob_sha1, read_checkpoint
from mcrsearch.cli import main
from mcrsearch.config import Settings
from mcrsearch.errors import OfflineError, WeightsInvalidError, WeightsMissingError

NAMES = {"clip-vit-b-32-openai", "clap-630k-fusion-best", "roberta-base-tokenizer", "ulip2-pointbert",
         "cmcr-clap-clip", "cmcr-ulip-clip", "exmcr-clap", "exmcr-ulip", "cmcr-demo-assets"}


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
    assert read_checkpoint(pt)["args"].model == "x"
    st = tmp_path / "b.safetensors"
    save_file({"w": torch.arange(4.0)}, str(st))
    assert torch.equal(read_checkpoint(st)["w"], torch.arange(4.0))
    with pytest.raises(WeightsInvalidError):
        read_checkpoint(tmp_path / "absent.pt")


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
    assert git_blob_sha1(f) == "ce013625030ba8dba906f756967f9e9ca394464a"   # `git hash-object`


@pytest.mark.filterwarnings("ignore::FutureWarning")
def test_torchscript_archive_reads_weights_only(tmp_path):
    path = tmp_path / "ts.pt"
    torch.jit.save(torch.jit.script(torch.nn.Linear(2, 3)), str(path))
    state = read_checkpoint(path)
    assert set(state) == {"weight", "bias"} and state["weight"].shape == (3, 2)


@pytest.mark.slow
def test_open_clip_state_dict_imports_as_safetensors(tmp_path):
    open_clip = pytest.importorskip("open_clip")
    model = open_clip.create_model("ViT-B-32-quickgelu", pretrained=None)
    src = tmp_path / "openai_vitb32.bin"
    torch.save({f"module.{k}": v.half() for k, v in model.state_dict().items()}, src)
    settings = Settings(home=tmp_path / "home")
    assert weights.import_file(src, settings) == "clip-vit-b-32-openai"
    stored = read_checkpoint(weights.resolve("clip-vit-b-32-openai", settings))
    assert stored.keys() == model.state_dict().keys()
    assert all(v.dtype == torch.float32 for v in stored.values() if v.is_floating_point())


def test_full_size_ulip_release_format_imports_and_loads(tmp_path):
    from mcrsearch.encoders.ulip import CONFIGS, PointBERT, build

    from helpers.checkpoints import ULIP2_GLOBALS, pickle_globals, write_ulip2_standin

    model = PointBERT(**CONFIGS["pointbert-ulip2"])
    src = write_ulip2_standin(tmp_path / "downloaded.pt", model.state_dict())   # numpy best_acc1, Namespace, towers
    assert pickle_globals(src) == ULIP2_GLOBALS
    settings = Settings(home=tmp_path / "home")
    assert weights.import_file(src, settings) == "ulip2-pointbert"
    encoder = build(checkpoint=weights.resolve("ulip2-pointbert", settings))
    for key, value in encoder.model.state_dict().items():
        assert torch.equal(value, model.state_dict()[key]), key
    rows = {r["name"]: r for r in weights.status(settings)}
    assert rows["ulip2-pointbert"]["state"] == "present"


def test_clap_fusion_release_format_imports(tmp_path):
    from helpers.checkpoints import write_clap_fusion_standin

    src = write_clap_fusion_standin(tmp_path / "630k-fusion-best.pt")
    settings = Settings(home=tmp_path / "home")
    assert weights.import_file(src, settings) == "clap-630k-fusion-best"
    assert weights.resolve("clap-630k-fusion-best", settings).read_bytes() == src.read_bytes()


@pytest.fixture()
def local_server(tmp_path):
    """A plain HTTP server on localhost serving tmp_path/www: lets fetch run end to end without a network."""
    import functools
    import http.server
    import threading

    www = tmp_path / "www"
    www.mkdir()
    class Quiet(http.server.SimpleHTTPRequestHandler):
        def log_message(self, *args):
            pass

    handler = functools.partial(Quiet, directory=str(www))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield www, f"http://127.0.0.1:{server.server_address[1]}/"
    server.shutdown()
    server.server_close()


def test_fetch_downloads_verifies_and_files(local_server, tmp_path, monkeypatch):
    import dataclasses

    from test_heads import random_released_state

    from mcrsearch import heads

    www, base = local_server
    torch.save(random_released_state(heads.CMCRUlipClipHeads, 7), www / "ulip_clip.pt")
    torch.save(random_released_state(heads.CMCRUlipClipHeads, 8), www / "other.pt")
    good = git_blob_sha1(www / "ulip_clip.pt")
    art = weights.ARTIFACTS["cmcr-ulip-clip"]
    spec = weights.ArtifactFile("ulip_clip.pt", base + "ulip_clip.pt", git_blob=good)
    monkeypatch.setitem(weights.ARTIFACTS, art.name, dataclasses.replace(art, files=(spec,)))
    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
    settings = Settings(home=tmp_path / "home")
    bars: dict[str, list] = {}

    def progress(label, total):                       # the CLI's bar factory, recorded
        bars[label] = [total, 0]
        return lambda n: bars[label].__setitem__(1, bars[label][1] + n)

    path = weights.fetch("cmcr-ulip-clip", settings, progress=progress)
    assert path.read_bytes() == (www / "ulip_clip.pt").read_bytes()
    size = path.stat().st_size
    assert bars == {"ulip_clip.pt": [size, size]}     # one bar, advanced by every byte read
    assert weights.load_released_head("cmcr-ulip-clip", settings) is not None
    assert {r["name"]: r for r in weights.status(settings)}["cmcr-ulip-clip"]["sha256"] == "ok (git blob)"

    path.unlink()
    wrong = dataclasses.replace(spec, sources=base + "other.pt")     # served bytes differ from the release
    monkeypatch.setitem(weights.ARTIFACTS, art.name, dataclasses.replace(art, files=(wrong,)))
    with pytest.raises(WeightsInvalidError, match="git blob") as err:
        weights.fetch("cmcr-ulip-clip", settings)
    assert "kept aside as ulip_clip.pt.rejected" in str(err.value)
    assert not path.exists()                                           # never filed under the released name
    aside = settings.weights_dir / "ulip_clip.pt.rejected"
    assert aside.read_bytes() == (www / "other.pt").read_bytes()       # kept for inspection, not deleted
    assert "git blob" in (settings.weights_dir / "ulip_clip.pt.rejected.txt").read_text()
    row = {r["name"]: r for r in weights.status(settings)}["cmcr-ulip-clip"]
    assert row["state"] == "missing" and "git blob" in row["rejected"][0]

    gone = dataclasses.replace(spec, sources=base + "absent.pt")
    monkeypatch.setitem(weights.ARTIFACTS, art.name, dataclasses.replace(art, files=(gone,)))
    with pytest.raises(WeightsMissingError, match="HTTP 404"):
        weights.fetch("cmcr-ulip-clip", settings)


def test_empty_home_names_every_missing_artifact_of_exmcr_in_one_message(tmp_path, capsys):
    media = tmp_path / "media"
    media.mkdir()
    (media / "a.txt").write_text("a dog barking")
    home = tmp_path / "home"
    assert main(["--home", str(home), "index", str(media), "--space", "exmcr"]) != 0
    raw = capsys.readouterr().err
    err, packed = " ".join(raw.split()), "".join(raw.split())       # rich wraps long lines, even inside addresses
    expected = ["clip-vit-b-32-openai", "clap-630k-fusion-best", "ulip2-pointbert", "exmcr-clap", "exmcr-ulip"]
    assert "5 weights artifacts are missing" in err
    assert f"mcrsearchweightsfetch{''.join(expected)}" in packed         # the one command that gets them all
    for name in expected:
        for f in weights.ARTIFACTS[name].files:
            assert f.name in packed and f.sources[0] in packed                 # file names and hand-download addresses
    assert "roberta-base-tokenizer" not in err                             # the audio route needs no tokenizer
    assert "ulip_clip.pt" not in err


def test_missing_message_states_total_size_when_known(tmp_path):
    settings = Settings(home=tmp_path)
    msg = weights.missing_message(["cmcr-ulip-clip"], settings)
    assert "(2.1 MB)" in msg and msg.count(". ") == 0 and msg.endswith(".")
    msg = weights.missing_message(["cmcr-ulip-clip", "ulip2-pointbert"], settings)
    assert "at least 2.1 MB" in msg


def test_status_json_shows_every_source_and_notes_of_ulip2(tmp_path, capsys):
    assert main(["--home", str(tmp_path), "weights", "status", "--json"]) == 0
    row = {r["name"]: r for r in json.loads(capsys.readouterr().out)}["ulip2-pointbert"]
    assert row["sources"][0].startswith("https://huggingface.co/datasets/SFXX/ulip/")
    assert any("storage.googleapis.com" in u for u in row["sources"][1:])        # the retired bucket, kept last
    assert "huggingface.co/datasets/SFXX/ulip" in row["source"] and "May 2025" in row["notes"]


def test_fetch_tries_every_source_in_turn_and_names_them_all(local_server, tmp_path, monkeypatch):
    import dataclasses

    from test_heads import random_released_state

    from mcrsearch import heads

    www, base = local_server
    torch.save(random_released_state(heads.CMCRUlipClipHeads, 4), www / "mirror.pt")
    blob = git_blob_sha1(www / "mirror.pt")
    art = weights.ARTIFACTS["cmcr-ulip-clip"]
    spec = weights.ArtifactFile("ulip_clip.pt", (base + "moved.pt", "http://127.0.0.1:9/nothing.pt", base + "mirror.pt"),
                                git_blob=blob)
    monkeypatch.setitem(weights.ARTIFACTS, art.name, dataclasses.replace(art, files=(spec,)))
    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
    settings = Settings(home=tmp_path / "home")
    path = weights.fetch("cmcr-ulip-clip", settings, timeout=2)          # the first two fail, the third answers
    assert path.read_bytes() == (www / "mirror.pt").read_bytes()

    path.unlink()
    dead = dataclasses.replace(spec, sources=spec.sources[:2])
    monkeypatch.setitem(weights.ARTIFACTS, art.name, dataclasses.replace(art, files=(dead,)))
    with pytest.raises(OfflineError) as err:
        weights.fetch("cmcr-ulip-clip", settings, timeout=2)
    msg = str(err.value)
    assert "2 known sources" in msg and base + "moved.pt: " in msg and "HTTP 404" in msg
    assert "127.0.0.1:9/nothing.pt" in msg and msg.endswith("`mcrsearch weights import FILE`.")


def test_fetch_all_goes_on_past_a_failure_and_reports_each(local_server, tmp_path, monkeypatch, capsys):
    import dataclasses

    from test_heads import random_released_state

    from mcrsearch import heads

    www, base = local_server
    torch.save(random_released_state(heads.ExMCRHead, 6), www / "ex_ulip.pt")
    catalog = {
        "exmcr-clap": dataclasses.replace(weights.ARTIFACTS["exmcr-clap"], files=(
            weights.ArtifactFile("ex_clap.pt", base + "gone.pt", git_blob="0" * 40),)),
        "exmcr-ulip": dataclasses.replace(weights.ARTIFACTS["exmcr-ulip"], files=(
            weights.ArtifactFile("ex_ulip.pt", base + "ex_ulip.pt", git_blob=git_blob_sha1(www / "ex_ulip.pt")),)),
    }
    monkeypatch.setattr(weights, "ARTIFACTS", catalog)
    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
    home = tmp_path / "home"
    assert main(["--home", str(home), "weights", "fetch", "all"]) != 0
    err = " ".join(capsys.readouterr().err.split())
    assert "failed exmcr-clap" in err and "HTTP 404" in err               # the first fails ...
    assert "fetched exmcr-ulip" in err                                     # ... and the second still arrives
    assert "1 of 2 artifacts could not be fetched (exmcr-clap)" in err
    assert (Settings(home=home).weights_dir / "ex_ulip.pt").is_file()
