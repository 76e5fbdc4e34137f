"""The one interface every MCR encoder family implements (real CLIP/CLAP/ULIP-2 and the mini-world's)."""

from __future__ import annotations

import hashlib
import json
from abc import ABC
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Mapping, Sequence

import numpy as np

from mcrsearch.errors import ConfigError
from mcrsearch.modality import Modality


class Encoder(ABC):
    """A frozen contrastive encoder for some modalities, giving L2-normalised float32 vectors.

    Inputs are decoded media (see `mcrsearch.media`): PIL RGB images, `str` texts,
    `AudioClip` waveforms and `(N, 3)` float32 point clouds. The same input always gives the same vector.
    """

    family: str = "base"
    modalities: tuple[Modality, ...] = ()
    dim: int = 0
    batch_size: int = 0               # 0: sized for the device (mcrsearch.device.default_batch_size)
    # Reduced-precision modes this family can run (mcrsearch.precision); the mode in use, and how it runs:
    precision_modes: tuple[str, ...] = ("fp32",)
    precision: str = "fp32"
    bf16_style: str = "weights"       # "weights": model cast to bf16, inputs too; "autocast": torch.autocast
    input_dtype: Any = None           # float inputs are cast to this before the model (None: float32)
    autocast_dtype: Any = None        # set: forward passes run under CPU/CUDA autocast to this dtype

    def __init__(self, config: Mapping[str, Any], weights_id: str, device: Any = "cpu") -> None:
        self.config = dict(config)
        self.weights_id = weights_id      # sha256 of the checkpoint file, or of the random state dict
        self.device = device

    @property
    def fingerprint(self) -> str:
        """Identity of the vectors this encoder produces: family, configuration, weights."""
        blob = json.dumps({"family": self.family, "config": self.config, "weights": self.weights_id},
                          sort_keys=True, default=str)
        return hashlib.sha256(blob.encode()).hexdigest()[:16]

    def supports(self, modality: Modality) -> bool:
        return modality in self.modalities

    def encode(self, modality: Modality, items: Sequence[Any]) -> np.ndarray:
        """Embed a batch of decoded items of one modality as an (n, dim) L2-normalised float32 array."""
        modality = Modality.parse(modality)
        if modality not in self.modalities:
            raise ConfigError(f"The {self.family} encoder does not embed {modality.value}.")
        if len(items) == 0:
            return np.zeros((0, self.dim), dtype=np.float32)
        vectors = self._encode(modality, list(items))
        return l2_normalize(np.asarray(vectors, dtype=np.float32))

    dense_methods: tuple[str, ...] = ()   # ways this family can give part-level vectors (first: default)

    def encode_dense(self, modality: Modality, item: Any, method: str = "") -> "DenseFeatures":
        """Part-level vectors of one decoded item (image patches, 3D point groups) in this encoder's space.

        Never stored: computed on demand to explain a match. Families that can do it override this.

        Args:
            modality: image or 3d.
            item: one decoded item, as `encode` takes it.
            method: one of `dense_methods` ('' = the first).
        Returns:
            DenseFeatures with raw (unnormalised) part vectors and where each part lies.
        """
        raise ConfigError(f"The {self.family} encoder gives no part-level features for {Modality.parse(modality).value}.")

    def _dense_method(self, method: str) -> str:
        if not self.dense_methods:
            raise ConfigError(f"The {self.family} encoder gives no part-level features.")
        chosen = method or self.dense_methods[0]
        if chosen not in self.dense_methods:
            raise ConfigError(f"Unknown dense method '{chosen}' for the {self.family} encoder; "
                              f"use one of {', '.join(self.dense_methods)}.")
        return chosen

    def batch_size_for(self, modality: Modality) -> int:
        from mcrsearch.device import default_batch_size

        return default_batch_size(self.device, modality, self.batch_size)

    def _encode(self, modality: Modality, items: list[Any]) -> np.ndarray:
        """Chunks sized for the device, each embedded under inference mode; normalisation is in `encode`."""
        import torch

        step = self.batch_size_for(modality)
        with torch.inference_mode(), self._autocast():
            parts = [self._encode_batch(modality, items[start:start + step]) for start in range(0, len(items), step)]
        return np.concatenate([p.float().cpu().numpy() if hasattr(p, "cpu") else np.asarray(p) for p in parts])

    def after_precision(self, mode: str) -> None:
        """Family fix-ups once the model is in `mode` (mcrsearch.precision.convert); nothing by default."""

    def enable_onnx(self, folder: Path) -> None:
        """Run this family's ONNX-capable towers in ONNX Runtime (mode `onnx`); exports are cached in `folder`."""
        raise ConfigError(f"The {self.family} encoder has no ONNX Runtime mode; use auto or fp32.")

    def route_precision(self, modality: Modality) -> str:
        """The mode `modality` really runs under (a family may run only some towers in a mode)."""
        return self.precision

    def _autocast(self) -> Any:
        """Autocast for bf16 'autocast' mode, else a no-op context."""
        import contextlib

        if self.autocast_dtype is None or self.bf16_style != "autocast":
            return contextlib.nullcontext()
        import torch

        kind = getattr(self.device, "type", str(self.device)).split(":")[0]
        return torch.autocast(kind, dtype=self.autocast_dtype)

    def _inputs(self, tensor: Any) -> Any:
        """A float input tensor on the encoder's device, in the dtype its weights run in."""
        if self.input_dtype is not None and tensor.is_floating_point():
            return tensor.to(self.device, dtype=self.input_dtype)
        return tensor.to(self.device)

    def _encode_batch(self, modality: Modality, batch: list[Any]) -> Any:
        """One device-sized batch of decoded items -> (n, dim) tensor or array of raw embeddings.

        Families implement this, or override `_encode` when they batch differently."""
        raise NotImplementedError(f"{type(self).__name__} implements neither _encode_batch nor _encode")


@dataclass
class DenseFeatures:
    """Part-level vectors of one item, carried through a space's heads like the item's global vector.

    `vectors` is (n, d); for an image, parts are a `grid` (rows, cols) of cells in row-major order whose
    centres sit at `centres` (n, 2) as (x, y) fractions of the picture's width and height; for a point
    cloud, parts are point groups with `centres` (n, 3) in the cloud's own coordinates. `cell` is a cell's
    (width, height) as fractions of the picture (images only). `method` names how the vectors were made.
    """

    vectors: np.ndarray
    centres: np.ndarray
    method: str
    grid: tuple[int, int] | None = None
    cell: tuple[float, float] | None = None
    pooled: np.ndarray | None = None   # the global vector the same pass gives, where the method has one


def point_groups(xyz: np.ndarray, groups: int, size: int) -> tuple[np.ndarray, np.ndarray]:
    """Parts of a point cloud the way PointBERT groups one: `groups` centres by farthest-point sampling
    and each centre's `size` nearest points. Deterministic (the first centre is the point nearest the
    mean), so the same cloud always gives the same parts.

    Args:
        xyz: (N, >=3) points.
        groups: how many parts (at most N).
        size: points per part (at most N).
    Returns:
        (centre indices (G,), member indices (G, size), each row ascending: a part keeps the cloud's order).
    """
    pts = np.asarray(xyz, dtype=np.float64)[:, :3]
    n = len(pts)
    groups, size = max(1, min(int(groups), n)), max(1, min(int(size), n))
    centres = np.empty(groups, dtype=np.int64)
    centres[0] = int(np.argmin(((pts - pts.mean(axis=0)) ** 2).sum(axis=1)))
    nearest = ((pts - pts[centres[0]]) ** 2).sum(axis=1)
    for g in range(1, groups):
        centres[g] = int(np.argmax(nearest))
        nearest = np.minimum(nearest, ((pts - pts[centres[g]]) ** 2).sum(axis=1))
    dist = ((pts[centres][:, None, :] - pts[None, :, :]) ** 2).sum(axis=2)
    members = np.argpartition(dist, size - 1, axis=1)[:, :size] if size < n else np.tile(np.arange(n), (groups, 1))
    return centres, np.sort(members, axis=1)


def l2_normalize(x: np.ndarray, eps: float = 1e-12) -> np.ndarray:
    norms = np.linalg.norm(x, axis=-1, keepdims=True)
    return (x / np.maximum(norms, eps)).astype(np.float32)


def load_weights(model: Any, checkpoint: Any, loader: Callable[[Any, Any], None]) -> str:
    """Load `checkpoint` into `model` with `loader` (None: keep the seeded random weights); returns the weights id.

    The id is the checkpoint file's sha256 (cached in its sidecar, see `mcrsearch.checkpoint`), or for random
    weights a digest of the state dict, so the same weights always give the same encoder fingerprint.
    """
    if checkpoint is None:
        return state_dict_digest(model.state_dict())
    from mcrsearch.checkpoint import cached_sha256

    loader(model, checkpoint)
    return str(cached_sha256(checkpoint))


def state_dict_digest(state_dict: Mapping[str, Any]) -> str:
    """sha256 over a state dict's names and tensor bytes: the weights identity of an in-memory model."""
    h = hashlib.sha256()
    for name in sorted(state_dict):
        tensor = state_dict[name]
        h.update(name.encode())
        arr = tensor.detach().cpu().contiguous().numpy() if hasattr(tensor, "detach") else np.asarray(tensor)
        h.update(str(arr.dtype).encode() + str(arr.shape).encode())
        h.update(arr.tobytes())
    return h.hexdigest()
