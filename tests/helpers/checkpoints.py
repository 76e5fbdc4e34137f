"""Stand-ins for the released checkpoints, pickled the way their training code saved them.

The real files carry more than tensors: LAION-CLAP's `training/main.py` saves `{"epoch", "name", "state_dict",
"optimizer"}` whose Adam param groups hold the learning rate its cosine schedule computed with `np.cos` (a numpy
float64), and ULIP's `main.py` saves `{"epoch", "state_dict", "best_acc1", "args": argparse.Namespace, ...}` with
the whole ULIP model (point tower plus the unused image and text towers) under DataParallel's `module.` prefix.
These writers pickle with the same classes, so the files name the same pickle globals as the released ones;
`pickle_globals` lists them straight from the archive's `data.pkl`, with no unpickling.
"""

from __future__ import annotations

import argparse
import pickle
import pickletools
import types
import zipfile
from collections import OrderedDict
from pathlib import Path
from typing import Any, Mapping

import numpy as np
import torch

# What the model hub's pickle scan lists for 630k-fusion-best.pt (issue 21), and what a ULIP file adds.
CLAP_FUSION_GLOBALS = {"numpy.core.multiarray.scalar", "numpy.dtype", "_codecs.encode", "collections.OrderedDict",
                       "torch._utils._rebuild_tensor_v2", "torch.FloatStorage", "torch.LongStorage"}
ULIP2_GLOBALS = CLAP_FUSION_GLOBALS | {"argparse.Namespace"}


def pickle_globals(path: str | Path) -> set[str]:
    """Every `module.name` global the pickle inside a torch.save archive names (read with pickletools)."""
    with zipfile.ZipFile(path) as zf:
        data = zf.read(next(n for n in zf.namelist() if n.endswith("/data.pkl") or n == "data.pkl"))
    found, strings = set(), []
    for op, arg, _ in pickletools.genops(data):
        if op.name == "GLOBAL":
            found.add(arg.replace(" ", "."))
        elif op.name in ("SHORT_BINUNICODE", "BINUNICODE", "UNICODE"):
            strings.append(arg)
        elif op.name == "STACK_GLOBAL":
            found.add(f"{strings[-2]}.{strings[-1]}")
    return found


def _module_prefixed(state: Mapping[str, torch.Tensor]) -> "OrderedDict[str, torch.Tensor]":
    return OrderedDict((f"module.{k}", v) for k, v in state.items())


def clap_fusion_state() -> "OrderedDict[str, torch.Tensor]":
    """A small state dict with the key families and anchor shapes of LAION-CLAP HTSAT-tiny + fusion + RoBERTa."""
    state = OrderedDict()
    state["audio_branch.spectrogram_extractor.stft.conv_real.weight"] = torch.randn(4, 1, 8)
    state["audio_branch.patch_embed.proj.weight"] = torch.randn(96, 1, 4, 4)
    state["audio_branch.patch_embed.mel_conv2d.weight"] = torch.randn(96, 1, 3, 3)
    state["audio_branch.fusion_model.local_att.0.weight"] = torch.randn(8, 96, 1, 1)
    state["audio_branch.bn0.num_batches_tracked"] = torch.tensor(3080)          # int64: torch.LongStorage
    state["text_branch.embeddings.position_ids"] = torch.arange(8).unsqueeze(0)  # int64
    state["text_branch.embeddings.word_embeddings.weight"] = torch.randn(16, 8)
    state["audio_projection.0.weight"] = torch.randn(512, 8)
    state["text_projection.0.weight"] = torch.randn(512, 8)
    state["logit_scale_a"] = torch.tensor(2.0)
    state["logit_scale_t"] = torch.tensor(2.0)
    return state


def write_clap_fusion_standin(path: str | Path, state: Mapping[str, torch.Tensor] | None = None,
                              pickle_module: Any = pickle) -> Path:
    """`{"epoch", "name", "state_dict": {"module.…"}, "optimizer"}` as LAION-CLAP's training loop saves it."""
    state = _module_prefixed(state if state is not None else clap_fusion_state())
    names = [k for k, v in state.items() if v.is_floating_point()][:2]
    lr = 0.5 * (1 + np.cos(np.pi * 3 / 45)) * 1e-4                   # the cosine schedule's numpy float64
    optimizer = {"state": {i: {"step": torch.tensor(1000.0), "exp_avg": torch.zeros_like(state[n]),
                               "exp_avg_sq": torch.zeros_like(state[n])} for i, n in enumerate(names)},
                 "param_groups": [{"lr": lr, "betas": (0.9, 0.99), "eps": 1e-9, "weight_decay": 0.0,
                                   "amsgrad": False, "params": list(range(len(names)))}]}
    path = Path(path)
    torch.save({"epoch": 45, "name": "630k-fusion", "state_dict": state, "optimizer": optimizer}, path,
               pickle_module=pickle_module)
    return path


def ulip2_towers() -> "OrderedDict[str, torch.Tensor]":
    """Small stand-ins for the image and text towers a ULIP-2 checkpoint carries beside its point encoder."""
    towers = OrderedDict()
    towers["visual.cls_token"] = torch.randn(1, 1, 8)
    towers["visual.blocks.0.attn.qkv.weight"] = torch.randn(24, 8)
    towers["image_projection"] = torch.randn(8, 512)
    towers["text_projection"] = torch.randn(8, 512)
    towers["token_embedding.weight"] = torch.randn(16, 8)
    towers["positional_embedding"] = torch.randn(77, 8)
    towers["transformer.resblocks.0.attn.in_proj_weight"] = torch.randn(24, 8)
    towers["ln_final.weight"] = torch.ones(8)
    towers["logit_scale"] = torch.tensor(2.6593)
    return towers


def write_ulip2_standin(path: str | Path, point_state: Mapping[str, torch.Tensor],
                        pickle_module: Any = pickle) -> Path:
    """`{"epoch", "state_dict", "best_acc1", "args"}` as ULIP's main.py saves it (optimizer and scaler dropped).

    Args:
        point_state: `point_encoder.*` and `pc_projection` tensors (e.g. a PointBERT's state dict).
    """
    state = _module_prefixed({**point_state, **ulip2_towers()})
    args = argparse.Namespace(model="ULIP_PointBERT", npoints=8192, lr=3e-3, epochs=250, batch_size=64,
                              output_dir="./outputs/ulip2", evaluate_3d=False, wandb=True, seed=0, gpu=None)
    path = Path(path)
    torch.save({"epoch": 50, "state_dict": state, "best_acc1": np.float64(74.0), "args": args}, path,
               pickle_module=pickle_module)
    return path


def _numpy2_pickler_module() -> Any:
    """A pickle module whose Pickler names numpy scalars as numpy 2 does (`numpy._core.multiarray.scalar`)."""
    from numpy._core.multiarray import scalar

    class Numpy2Pickler(pickle._Pickler):  # type: ignore[misc,name-defined]
        def save_global(self, obj: Any, name: str | None = None) -> None:
            if obj is scalar:
                self.write(pickle.GLOBAL + b"numpy._core.multiarray\nscalar\n")
                self.memoize(obj)
                return
            super().save_global(obj, name)

    return types.SimpleNamespace(Pickler=Numpy2Pickler, __name__="pickle")


NUMPY2_PICKLE = _numpy2_pickler_module()


def pretend_released(monkeypatch: Any, name: str, path: str | Path, **known: Any) -> None:
    """Make the catalog treat `path` as the released file of head `name` (its git blob id, size unknown):
    random test heads can then be filed under released names, as the real files are."""
    import dataclasses

    from mcrsearch import weights
    from mcrsearch.checkpoint import git_blob_sha1

    art = weights.ARTIFACTS[name]
    spec = dataclasses.replace(art.files[0], git_blob=git_blob_sha1(path), size=None, sha256=None, **known)
    monkeypatch.setitem(weights.ARTIFACTS, name, dataclasses.replace(art, files=(spec,)))
