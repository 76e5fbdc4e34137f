"""The one checkpoint module: safe reading (full pickle refused, TorchScript tensors only, safetensors by
header), unwrapping, strict loading, the missing-weights sentence, the sha256 sidecar and atomic writes."""

from __future__ import annotations

import argparse
import json
import os

import numpy as np
import pytest
import torch

from mcrsearch.atomic import atomic_path, copy_atomic, write_json_atomic
from mcrsearch.checkpoint import (cached_sha256, file_sha256, is_safetensors, is_torchscript, load_strict,
                                  missing_weights, read_checkpoint, read_state_dict, require_file, sha256_sidecar,
                                  unwrap_state_dict)
from mcrsearch.errors import WeightsInvalidError, WeightsMissingError


def test_full_pickle_is_refused_and_never_run(tmp_path):
    marker, path = tmp_path / "pwned", tmp_path / "evil.pt"
    # Unpickling `open(marker, "w")` would create the marker file: proof that code ran.
    payload = type("Payload", (), {"__reduce__": lambda self: (open, (str(marker), "w"))})()
    torch.save({"state_dict": {"w": torch.zeros(2)}, "x": payload}, path)
    with pytest.raises(WeightsInvalidError, match="full pickle"):
        read_checkpoint(path)
    with pytest.raises(WeightsInvalidError, match="full pickle"):
        read_state_dict(path, "head")
    assert not marker.exists()


@pytest.mark.filterwarnings("ignore::FutureWarning")
def test_torchscript_archive_gives_its_tensors_only(tmp_path):
    path = tmp_path / "scripted.pt"
    torch.jit.save(torch.jit.script(torch.nn.Linear(2, 3)), str(path))
    assert is_torchscript(path) and not is_safetensors(path)
    state = read_checkpoint(path)
    assert set(state) == {"weight", "bias"} and state["weight"].shape == (3, 2)
    plain = tmp_path / "plain.pt"
    torch.save({"w": torch.ones(1)}, plain)
    assert not is_torchscript(plain)                      # a torch.save zip is not mistaken for one


def test_safetensors_recognised_by_header_whatever_the_name(tmp_path):
    from safetensors.torch import save_file

    path = tmp_path / "weights.bin"
    save_file({"w": torch.arange(3.0)}, str(path))
    assert is_safetensors(path)
    assert torch.equal(read_checkpoint(path)["w"], torch.arange(3.0))
    (tmp_path / "garbage.safetensors").write_bytes(b"not a tensor file")
    with pytest.raises(WeightsInvalidError, match="safetensors"):
        read_checkpoint(tmp_path / "garbage.safetensors")


def test_weights_only_allows_namespace_and_unwraps_wrappers_and_prefixes(tmp_path):
    path = tmp_path / "ulip_like.pt"
    torch.save({"state_dict": {"module.a.weight": torch.ones(2), "module.b": torch.zeros(1)},
                "args": argparse.Namespace(model="x"), "epoch": 3}, path)
    raw = read_checkpoint(path)
    assert raw["args"].model == "x"
    assert set(read_state_dict(path)) == {"a.weight", "b"}
    assert set(unwrap_state_dict({"model": {"x": torch.ones(1)}, "step": 1})) == {"x"}
    assert unwrap_state_dict([torch.ones(1)]) == {}
    empty = tmp_path / "empty.pt"
    torch.save({"epoch": 1}, empty)
    with pytest.raises(WeightsInvalidError, match="no state dict"):
        read_state_dict(empty, "head")
    (tmp_path / "junk.pt").write_bytes(b"\x00" * 64)
    with pytest.raises(WeightsInvalidError, match="not a readable"):
        read_checkpoint(tmp_path / "junk.pt")
    with pytest.raises(WeightsInvalidError, match="not a file"):
        read_checkpoint(tmp_path / "absent.pt")


def test_strict_load_refuses_wrong_shapes_missing_and_extra_keys():
    module = torch.nn.Linear(4, 2)
    good = {"weight": torch.zeros(2, 4), "bias": torch.zeros(2)}
    assert load_strict(module, good, "ok.pt", "probe") is module
    with pytest.raises(WeightsInvalidError, match=r"wrong shape.*weight: \(3, 4\) instead of \(2, 4\)"):
        load_strict(module, {**good, "weight": torch.zeros(3, 4)}, "bad.pt", "probe")
    with pytest.raises(WeightsInvalidError, match="1 missing"):
        load_strict(module, {"weight": good["weight"]}, "bad.pt", "probe")
    with pytest.raises(WeightsInvalidError, match="1 unexpected"):
        load_strict(module, {**good, "extra": torch.zeros(1)}, "bad.pt", "probe")


def test_missing_weights_is_one_sentence_naming_both_commands(tmp_path):
    err = missing_weights("ulip2-pointbert", tmp_path / "p.pt")
    msg = str(err)
    assert isinstance(err, WeightsMissingError) and msg.endswith(".") and msg.count(": ") == 1
    assert "mcrsearch weights fetch ulip2-pointbert" in msg and "mcrsearch weights import FILE" in msg
    assert str(tmp_path / "p.pt") in msg
    with pytest.raises(WeightsMissingError, match="The CLIP file is missing"):
        require_file(None, "clip-vit-b-32-openai", "CLIP file")
    with pytest.raises(WeightsMissingError, match="looked for"):
        require_file(tmp_path / "nope.pt", "clip-vit-b-32-openai")
    real = tmp_path / "real.pt"
    real.write_bytes(b"x")
    assert require_file(str(real), "clip-vit-b-32-openai") == real


def test_sha256_sidecar_is_trusted_only_while_size_and_mtime_hold(tmp_path):
    path = tmp_path / "big.pt"
    path.write_bytes(b"a" * 1000)
    assert cached_sha256(path, compute_below=10) is None         # too big to hash on the spot, no sidecar yet
    digest = cached_sha256(path)
    assert digest == file_sha256(path) and json.loads(sha256_sidecar(path).read_text())["sha256"] == digest
    assert cached_sha256(path, compute_below=10) == digest        # now read from the sidecar
    path.write_bytes(b"b" * 1000)
    os.utime(path, ns=(1, 1))
    assert cached_sha256(path) == file_sha256(path) != digest     # stale sidecar: recomputed and rewritten


def test_atomic_writes_leave_the_old_file_or_the_new_one(tmp_path):
    target = tmp_path / "sub" / "record.json"
    write_json_atomic(target, {"v": 1})
    with pytest.raises(RuntimeError):
        with atomic_path(target) as tmp:
            tmp.write_text("half")
            raise RuntimeError("interrupted")
    assert json.loads(target.read_text()) == {"v": 1}
    assert [p.name for p in target.parent.iterdir()] == ["record.json"]     # no temporary file left
    copy = copy_atomic(target, tmp_path / "copy.json")
    assert copy.read_text() == target.read_text()


def test_atomic_write_keeps_a_requested_mode(tmp_path):
    from mcrsearch.atomic import write_text_atomic

    secret = tmp_path / "token.json"
    write_text_atomic(secret, "{}", mode=0o600)
    assert secret.stat().st_mode & 0o777 == 0o600 and secret.read_text() == "{}"


# --------------------------------------------------------------------------- the released files' pickle globals

def test_clap_fusion_standin_names_the_released_globals_and_loads_weights_only(tmp_path):
    from helpers.checkpoints import CLAP_FUSION_GLOBALS, clap_fusion_state, pickle_globals, write_clap_fusion_standin

    path = write_clap_fusion_standin(tmp_path / "630k-fusion-best.pt")
    assert pickle_globals(path) == CLAP_FUSION_GLOBALS                      # the hub's scan of the real file
    assert set(torch.serialization.get_unsafe_globals_in_checkpoint(path)) == {
        "numpy.core.multiarray.scalar", "numpy.dtype"}                      # beyond torch's own allow-list
    with pytest.raises(Exception, match="numpy"):                           # torch alone refuses it
        torch.load(path, weights_only=True)
    raw = read_checkpoint(path, "CLAP")
    assert set(raw) == {"epoch", "name", "state_dict", "optimizer"}
    assert isinstance(raw["optimizer"]["param_groups"][0]["lr"], np.float64)
    state = read_state_dict(path, "CLAP")
    assert set(state) == set(clap_fusion_state()) and state["text_branch.embeddings.position_ids"].dtype == torch.int64


def test_numpy2_spelling_of_scalars_loads_too(tmp_path):
    from helpers.checkpoints import NUMPY2_PICKLE, pickle_globals, write_clap_fusion_standin

    path = write_clap_fusion_standin(tmp_path / "np2.pt", pickle_module=NUMPY2_PICKLE)
    assert "numpy._core.multiarray.scalar" in pickle_globals(path)
    assert "numpy.core.multiarray.scalar" not in pickle_globals(path)
    assert read_checkpoint(path)["optimizer"]["param_groups"][0]["lr"] == pytest.approx(9.8907e-05, rel=1e-4)


def test_ulip2_standin_names_the_released_globals_and_loads_weights_only(tmp_path):
    from helpers.checkpoints import ULIP2_GLOBALS, pickle_globals, write_ulip2_standin

    from mcrsearch.encoders.ulip import build

    tiny = build("tiny", random_init=True)
    path = write_ulip2_standin(tmp_path / "pointbert_ULIP-2.pt", tiny.model.state_dict())
    assert pickle_globals(path) == ULIP2_GLOBALS
    raw = read_checkpoint(path, "ULIP-2")
    assert set(raw) == {"epoch", "state_dict", "best_acc1", "args"}
    assert isinstance(raw["best_acc1"], np.float64) and raw["args"].model == "ULIP_PointBERT"
    assert any(k.startswith("module.point_encoder.") for k in raw["state_dict"])
    assert "module.image_projection" in raw["state_dict"]                  # the unused towers ride along


def test_system_call_pickle_is_refused_in_one_sentence(tmp_path):
    marker, path = tmp_path / "ran", tmp_path / "evil.pt"
    payload = type("Payload", (), {"__reduce__": lambda self: (os.system, (f"touch {marker}",))})()
    torch.save({"state_dict": {"w": torch.zeros(2)}, "lr": np.float64(1e-3), "x": payload}, path)
    with pytest.raises(WeightsInvalidError) as err:
        read_checkpoint(path)
    msg = str(err.value)
    assert "full pickle" in msg and ("posix.system" in msg or "os.system" in msg) and msg.endswith(").")
    assert not marker.exists()
