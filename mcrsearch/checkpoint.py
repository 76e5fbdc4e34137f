"""Checkpoint files, read safely: the one place that opens a weights file, hashes it or names it missing.

Why one module: every reader (real encoders, released and trained heads, the mini-world's models, the weights
catalog) must refuse the same things the same way. A file is read as safetensors (recognised by its header,
whatever its suffix), as a TorchScript archive (only its tensors are kept; TorchScript's own unpickler runs no
Python code), or with `torch.load(weights_only=True)` and an allow-list of the plain data types the released
checkpoints really pickle beside their tensors (`WEIGHTS_ONLY_GLOBALS`: numpy scalars and dtypes, as
LAION-CLAP's numpy learning rate and ULIP's `best_acc1` are saved; ULIP's `argparse.Namespace`). A file that
names any other global needs full pickle and is refused, never run. Hashes of large files are cached in one sidecar,
`.<name>.sha256.json`, trusted only while the file's size and mtime are unchanged.

This module sits below the encoders and the heads and imports neither; torch loads lazily.
"""

from __future__ import annotations

import _codecs
import argparse
import collections
import hashlib
import json
import pickle
import warnings
import zipfile
from pathlib import Path
from typing import Any, Mapping

import numpy

from mcrsearch.atomic import write_json_atomic
from mcrsearch.errors import WeightsInvalidError, WeightsMissingError
from mcrsearch.statecheck import check_state_fits

# Wrappers that training scripts put around a state dict (torch.save({"state_dict": ...}), DataParallel...).
_WRAPPERS = ("state_dict", "model", "model_state_dict", "module")
_DATA_PARALLEL = "module."


# --------------------------------------------------------------------------- missing files

def missing_weights(artifact: str, path: str | Path | None = None, what: str | None = None) -> WeightsMissingError:
    """The one-sentence error for an absent artifact, naming the commands that provide it.

    Args:
        artifact: the catalog name (`mcrsearch weights fetch NAME` takes it).
        path: where the file was looked for, if known.
        what: how to call the file to a user (default: "The NAME weights").
    """
    where = f" (looked for {path})" if path else ""
    subject = f"The {what}" if what else f"The {artifact} weights"
    return WeightsMissingError(
        f"{subject} {'is' if what else 'are'} missing{where}: run `mcrsearch weights fetch {artifact}` when online, "
        f"or `mcrsearch weights import FILE` with a copy you already have.")


def require_file(path: str | Path | None, artifact: str, what: str | None = None) -> Path:
    """The checkpoint path as a Path, or WeightsMissingError naming the artifact when it is unset or absent."""
    if path is None or str(path) == "":
        raise missing_weights(artifact, what=what)
    resolved = Path(path).expanduser()
    if not resolved.is_file():
        raise missing_weights(artifact, resolved, what)
    return resolved


# --------------------------------------------------------------------------- recognising formats

def is_safetensors(path: str | Path) -> bool:
    """By suffix, or by the header (8-byte little-endian length, then a JSON object) under any name."""
    path = Path(path)
    if path.suffix == ".safetensors":
        return True
    try:
        with path.open("rb") as fh:
            head = fh.read(9)
    except OSError:
        return False
    return len(head) == 9 and head[8:9] == b"{" and int.from_bytes(head[:8], "little") < 100_000_000


def is_torchscript(path: str | Path) -> bool:
    """A TorchScript archive (OpenAI's CLIP files): a zip holding `constants.pkl` or compiled `code/`."""
    try:
        with zipfile.ZipFile(path) as zf:
            return any(n == "constants.pkl" or n.endswith("/constants.pkl") or "/code/" in n for n in zf.namelist())
    except (zipfile.BadZipFile, OSError):
        return False


# --------------------------------------------------------------------------- reading

# numpy scalar rebuilder names as numpy 1 and numpy 2 write them into pickles.
_NUMPY_SCALAR_NAMES = ("numpy.core.multiarray.scalar", "numpy._core.multiarray.scalar")


def weights_only_globals() -> list[Any]:
    """The globals a weights-only load accepts beyond torch's defaults, as `torch.serialization.safe_globals` takes.

    Why these and no more: the released checkpoints pickle exactly these beside their tensors (LAION-CLAP's
    optimizer holds a numpy float learning rate: `numpy.core.multiarray.scalar`, `numpy.dtype`, `_codecs.encode`;
    ULIP's files add `argparse.Namespace` and a numpy `best_acc1`). Rebuilding them runs no code from the file:
    `scalar` builds a number from a dtype and raw bytes, `dtype` a type descriptor, whose BUILD step needs its
    `numpy.dtypes.*DType` class allowed (numpy >= 1.25); `Namespace` only takes attributes. The object dtype is
    left out (no released file needs it), and numpy 2's `numpy._core` spelling is accepted under both names.
    """


    try:
        from numpy._core.multiarray import scalar  # type: ignore[attr-defined]  # numpy >= 1.26 (numpy 2's home of it)
    except ImportError:  # pragma: no cover - numpy < 1.26
        from numpy.core.multiarray import scalar  # type: ignore[attr-defined]
    allowed: list[Any] = [argparse.Namespace, collections.OrderedDict, _codecs.encode, numpy.dtype]
    allowed += [(scalar, name) for name in _NUMPY_SCALAR_NAMES]
    try:
        import numpy.dtypes as dtypes  # numpy >= 1.25: a dtype is BUILT as its own class
    except ImportError:  # pragma: no cover - older numpy pickles dtypes as numpy.dtype only
        dtypes = None  # type: ignore[assignment]
    if dtypes is not None:
        allowed += [getattr(dtypes, n) for n in dir(dtypes) if n.endswith("DType") and n != "ObjectDType"]
    return allowed


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0][:160] if text else "unreadable"


def read_checkpoint(path: str | Path, what: str = "PyTorch") -> Any:
    """The object a checkpoint file holds, read without executing code.

    Args:
        path: a safetensors file, a TorchScript archive or a `torch.save` file.
        what: the kind of checkpoint, for the error sentence (e.g. "CLIP").

    Returns:
        A name -> tensor dict (safetensors, TorchScript) or whatever weights-only unpickling rebuilt.

    Raises:
        WeightsInvalidError: not a file, unreadable, or in need of full pickle (refused).
    """

    import torch

    path = Path(path)
    if not path.is_file():
        raise WeightsInvalidError(f"{path} is not a file.")
    if is_torchscript(path):
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")          # "torch.jit.load is deprecated"
                module = torch.jit.load(str(path), map_location="cpu")
        except Exception as exc:
            raise WeightsInvalidError(f"{path.name} is an unreadable TorchScript archive ({type(exc).__name__}).") from exc
        return {k: v.detach().clone() for k, v in module.state_dict().items()}
    if is_safetensors(path):
        from safetensors.torch import load_file

        try:
            return load_file(str(path), device="cpu")
        except Exception as exc:
            raise WeightsInvalidError(f"{path.name} is not a readable safetensors file ({_first_line(exc)}).") from exc
    try:
        with torch.serialization.safe_globals(weights_only_globals()):
            return torch.load(path, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError as exc:
        # The weights-only unpickler names the global a file asks for; anything else is a damaged file.
        lines = str(exc).strip().splitlines()
        detail = next((ln for ln in lines if "GLOBAL" in ln or "global" in ln.lower()), None)
        if detail is None:
            raise WeightsInvalidError(f"{path.name} is not a readable {what} checkpoint ({_first_line(exc)}).") from exc
        raise WeightsInvalidError(f"{path.name} needs full pickle to load, which could run code, so mcrsearch "
                                  f"refuses it ({detail.strip()[:160]}).") from exc
    except Exception as exc:
        raise WeightsInvalidError(f"{path.name} is not a readable {what} checkpoint "
                                  f"({type(exc).__name__}: {_first_line(exc)}).") from exc


def unwrap_state_dict(obj: Any) -> dict[str, Any]:
    """The flat name -> tensor mapping inside a checkpoint object ({} when there is none).

    One level of wrapper (`state_dict`, `model`, `model_state_dict`, `module`) is opened when it holds tensors,
    non-tensor entries are dropped, and a DataParallel `module.` prefix is removed from every key that has it.
    """
    import torch

    if not isinstance(obj, Mapping):
        return {}
    for key in _WRAPPERS:
        inner = obj.get(key)
        if isinstance(inner, Mapping) and any(torch.is_tensor(v) for v in inner.values()):
            obj = inner
            break
    return {(k[len(_DATA_PARALLEL):] if k.startswith(_DATA_PARALLEL) else k): v
            for k, v in obj.items() if isinstance(k, str) and torch.is_tensor(v)}


def read_state_dict(path: str | Path, what: str = "PyTorch") -> dict[str, Any]:
    """`read_checkpoint` then `unwrap_state_dict`; refuses a file that holds no tensors."""
    state = unwrap_state_dict(read_checkpoint(path, what))
    if not state:
        raise WeightsInvalidError(f"{Path(path).name} holds no state dict of tensors, so it is not a {what} checkpoint.")
    return state


def load_strict(module: Any, state: Mapping[str, Any], source: str | Path, what: str) -> Any:
    """`module.load_state_dict(state, strict=True)`, a mismatch refused in one sentence first; returns module."""
    check_state_fits(module, state, source, what)
    module.load_state_dict(dict(state), strict=True)
    return module


# --------------------------------------------------------------------------- hashing

def _hash_file(path: Path, digest: Any) -> str:
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 22), b""):
            digest.update(chunk)
    return digest.hexdigest()


def file_sha256(path: str | Path) -> str:
    """sha256 of a file's bytes (uncached)."""
    return _hash_file(Path(path), hashlib.sha256())


def git_blob_sha1(path: str | Path) -> str:
    """The git blob id of a file (SHA-1 over "blob <size>\\0" + bytes): how GitHub-hosted files are verified."""
    path = Path(path)
    return _hash_file(path, hashlib.sha1(f"blob {path.stat().st_size}\0".encode()))


def sha256_sidecar(path: str | Path) -> Path:
    """Where a file's cached sha256 lives: `.<name>.sha256.json` beside it."""
    path = Path(path)
    return path.with_name(f".{path.name}.sha256.json")


def write_sha256_sidecar(path: str | Path, digest: str | None = None) -> str:
    """Record the file's sha256 with its size and mtime (atomically); returns the digest.

    A read-only weights folder only costs the cache, so a failed write is ignored.
    """
    path = Path(path)
    st = path.stat()
    digest = digest or file_sha256(path)
    try:
        write_json_atomic(sha256_sidecar(path), {"size": st.st_size, "mtime_ns": st.st_mtime_ns, "sha256": digest})
    except OSError:
        pass
    return digest


def cached_sha256(path: str | Path, compute_below: int | None = None) -> str | None:
    """A file's sha256 from its sidecar while size and mtime match, else computed (and the sidecar written).

    Args:
        path: the file.
        compute_below: compute only for files smaller than this many bytes (None: always); bigger ones give None.
    """
    path = Path(path)
    st = path.stat()
    try:
        entry = json.loads(sha256_sidecar(path).read_text())
        if entry.get("size") == st.st_size and entry.get("mtime_ns") == st.st_mtime_ns and entry.get("sha256"):
            return str(entry["sha256"])
    except (OSError, ValueError, AttributeError):
        pass
    if compute_below is not None and st.st_size >= compute_below:
        return None
    return write_sha256_sidecar(path)


__all__ = ["weights_only_globals", "missing_weights", "require_file", "is_safetensors", "is_torchscript", "read_checkpoint",
           "unwrap_state_dict", "read_state_dict", "load_strict", "file_sha256", "git_blob_sha1",
           "sha256_sidecar", "write_sha256_sidecar", "cached_sha256"]
