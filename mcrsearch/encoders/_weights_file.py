"""Checkpoint files for the real encoders: safe loading (never full pickle) and a cached sha256 identity.

Shared by the CLIP and CLAP encoders. torch is imported inside the functions so this module stays light.
"""

from __future__ import annotations

import hashlib
import json
import os
import warnings
import zipfile
from pathlib import Path
from typing import Any, Mapping

from mcrsearch.errors import WeightsInvalidError, WeightsMissingError
from mcrsearch.statecheck import check_state_fits

def missing_weights(artifact: str, what: str, path: str | Path | None = None) -> WeightsMissingError:
    """The one-sentence error for an absent artifact, naming the commands that provide it."""
    where = f" (looked for {path})" if path else ""
    return WeightsMissingError(
        f"The {what} is missing{where}; run `mcrsearch weights fetch {artifact}` "
        f"or `mcrsearch weights import FILE`.")


def require_file(path: str | Path | None, artifact: str, what: str) -> Path:
    """Resolve a checkpoint path or raise WeightsMissingError naming the artifact."""
    if path is None or str(path) == "":
        raise missing_weights(artifact, what)
    resolved = Path(path).expanduser()
    if not resolved.is_file():
        raise missing_weights(artifact, what, resolved)
    return resolved


def file_sha256(path: str | Path) -> str:
    """sha256 of a file, cached because checkpoints are large.

    The cache is the sidecar `mcrsearch.weights` also writes: `.<name>.sha256.json` holding size, mtime_ns
    and sha256, trusted only while size and mtime are unchanged.
    """
    path = Path(path)
    stat = path.stat()
    key = {"size": stat.st_size, "mtime_ns": stat.st_mtime_ns}
    sidecar = path.with_name(f".{path.name}.sha256.json")
    try:
        entry = json.loads(sidecar.read_text())
        if all(entry.get(k) == v for k, v in key.items()) and entry.get("sha256"):
            return str(entry["sha256"])
    except (OSError, ValueError, AttributeError):
        pass
    h = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 22), b""):
            h.update(block)
    digest = h.hexdigest()
    try:  # a read-only weights folder only costs us the cache
        tmp = sidecar.with_name(f"{sidecar.name}.{os.getpid()}.tmp")
        tmp.write_text(json.dumps({**key, "sha256": digest}))
        os.replace(tmp, sidecar)
    except OSError:
        pass
    return digest


def is_torchscript_archive(path: str | Path) -> bool:
    """OpenAI's original CLIP files are TorchScript archives, which torch.load(weights_only) refuses."""
    try:
        with zipfile.ZipFile(path) as zf:
            return any(name.endswith("/constants.pkl") or name == "constants.pkl" for name in zf.namelist())
    except (zipfile.BadZipFile, OSError):
        return False


def read_state_dict(path: str | Path, what: str) -> dict[str, Any]:
    """Load a checkpoint's tensors without executing pickled code.

    Accepts safetensors, a TorchScript archive (its parameters only), or a torch.save file holding a
    state dict, optionally wrapped in {'state_dict': ...}; a leading `module.` (DataParallel) is removed.
    """
    import argparse

    import torch

    path = Path(path)
    try:
        if path.suffix == ".safetensors":
            from safetensors.torch import load_file

            raw: Any = load_file(str(path), device="cpu")
        elif is_torchscript_archive(path):
            # TorchScript's own loader rebuilds only TorchScript types; we keep nothing but its tensors.
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", FutureWarning)   # "torch.jit.load is deprecated"
                raw = dict(torch.jit.load(str(path), map_location="cpu").state_dict())
        else:
            with torch.serialization.safe_globals([argparse.Namespace]):
                raw = torch.load(str(path), map_location="cpu", weights_only=True)
    except Exception as exc:  # noqa: BLE001 - any decoding failure means the file is not usable
        raise WeightsInvalidError(
            f"{path} is not a readable {what} checkpoint ({type(exc).__name__}: {str(exc).splitlines()[0][:200]})."
        ) from exc
    state = unwrap_state_dict(raw)
    if not state:
        raise WeightsInvalidError(f"{path} holds no tensors, so it is not a {what} checkpoint.")
    return state


def unwrap_state_dict(raw: Any) -> dict[str, Any]:
    """The tensor mapping inside a checkpoint object, without a `module.` prefix."""
    import torch

    if isinstance(raw, Mapping):
        for wrapper in ("state_dict", "model", "module"):
            inner = raw.get(wrapper)
            if isinstance(inner, Mapping) and any(isinstance(v, torch.Tensor) for v in inner.values()):
                raw = inner
                break
    if not isinstance(raw, Mapping):
        return {}
    state = {str(k): v for k, v in raw.items() if isinstance(v, torch.Tensor)}
    if state and all(k.startswith("module.") for k in state):
        state = {k[len("module."):]: v for k, v in state.items()}
    return state


def load_strict(module: Any, state: Mapping[str, Any], path: str | Path, what: str) -> None:
    """load_state_dict(strict=True), turning a mismatch into one clear sentence."""
    check_state_fits(module, state, path, what)
    module.load_state_dict(dict(state), strict=True)
