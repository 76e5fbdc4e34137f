"""The mini-world's small MCR encoders behind the common Encoder interface (family "mini").

`build(mcr="clip"|"clap"|"ulip", checkpoint=PATH, device=...)` loads a checkpoint written by
`mcrsearch.miniworld.mcrs` (a weights-only torch file: config, vocabulary, state dict), read through
`mcrsearch.checkpoint` like every other weights file. The engine reaches this family only by name
(an entry point of group `mcrsearch.encoders`, see mcrsearch/plugins.py), so the mini-world stays a
plug-in on top of it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from mcrsearch.atomic import atomic_path
from mcrsearch.checkpoint import cached_sha256, read_checkpoint
from mcrsearch.encoders.base import DenseFeatures, Encoder, state_dict_digest
from mcrsearch.errors import ConfigError, WeightsInvalidError, WeightsMissingError
from mcrsearch.modality import Modality
from mcrsearch.topology import MCRS

CHECKPOINT_FORMAT = "mcrsearch-mini-mcr/1"
_BATCH = 256


class MiniEncoder(Encoder):
    family = "mini"

    def __init__(self, model: Any, weights_id: str, device: Any = "cpu") -> None:
        self.model = model.to(device).eval()
        self.mcr = model.name
        self.modalities = tuple(model.modalities)
        self.dim = int(model.config["dim"])
        super().__init__({**model.config, "vocab_size": len(model.vocab)}, weights_id, device)

    @property
    def input_seconds(self) -> float | None:
        """The audio tower's input length (a video's segment window in a space using this encoder)."""
        audio = self.model.config.get("audio") if Modality.AUDIO in self.modalities else None
        return float(audio["seconds"]) if audio else None

    def preprocess(self, modality: Modality, items: list[Any]) -> Any:
        """Decoded items -> the tower's input batch (numpy arrays, or token ids for text)."""
        from mcrsearch.miniworld import preprocess as pp

        cfg = self.model.config[modality.value]
        if modality is Modality.IMAGE:
            return pp.images_array(items, cfg["size"])
        if modality is Modality.AUDIO:
            return pp.audios_array(items, cfg["rate"], cfg["seconds"], cfg["n_mels"], cfg["hop"])
        if modality is Modality.POINTS:
            return pp.clouds_array(items, cfg["points"])
        return [pp.token_ids(t, self.model.word_index) for t in items]

    def forward_arrays(self, modality: Modality, batch: Any) -> np.ndarray:
        """Run the tower on preprocessed input (used by training-time evaluation too)."""
        import torch

        outs = []
        threads = torch.get_num_threads()
        # These models are tiny: one thread is as fast, and far faster when the cores are shared or busy.
        torch.set_num_threads(1)
        try:
            with torch.inference_mode():
                for start in range(0, len(batch), _BATCH):
                    part = batch[start:start + _BATCH]
                    if modality is Modality.TEXT:
                        flat, offsets = self.model.towers["text"].bag(part)
                        x: Any = (flat.to(self.device), offsets.to(self.device))
                    else:
                        x = torch.from_numpy(np.ascontiguousarray(part)).to(self.device)
                    outs.append(self.model.forward_batch(modality, x).float().cpu().numpy())
        finally:
            torch.set_num_threads(threads)
        return np.concatenate(outs) if outs else np.zeros((0, self.dim), np.float32)

    def _encode(self, modality: Modality, items: list[Any]) -> np.ndarray:
        return self.forward_arrays(modality, self.preprocess(modality, items))

    # "window": the image tower's own pooling and projection over every window of the feature map as large
    #   as the map of a whole picture at the model's input size, i.e. the global vector of each window of
    #   the picture (slid at the feature stride); the mini CNN pools (mean and max) before an MLP, so a
    #   single cell alone is out of its training distribution. "cell": each feature cell on its own.
    dense_methods = ("window", "cell")
    dense_zoom = 2.0          # the picture is fed at zoom x the model's input size, so a window sees 1/zoom of it
    dense_window = 0          # window side in feature cells (0: the map of a whole picture at the input size)

    # 3D "part": each of `dense_parts` point groups (farthest-point centres, each with its nearest
    #   `dense_part_share` of the points) embedded as a whole shape, as "window" embeds part of a picture as
    #   a whole picture: the PointNet max-pools over all its points, so one part alone is the nearest thing
    #   to a part vector it was trained on. With one group of every point it is the global vector.
    point_dense_methods = ("part",)
    dense_parts = 16
    dense_part_share = 0.35

    def _dense_points(self, item: Any, method: str) -> DenseFeatures:
        from mcrsearch.miniworld import preprocess as pp

        method = method or self.point_dense_methods[0]
        if method not in self.point_dense_methods:
            raise ConfigError(f"Unknown dense method '{method}' for mini-{self.mcr} shapes; "
                              f"use one of {', '.join(self.point_dense_methods)}.")
        cloud = np.asarray(item, dtype=np.float32)[:, :3]
        if cloud.ndim != 2 or len(cloud) == 0:
            raise ConfigError("A 3D shape to explain needs at least one point.")
        centres, members = _point_parts(cloud, self.dense_parts, self.dense_part_share)
        n = int(self.model.config["3d"]["points"])
        vectors = self.forward_arrays(Modality.POINTS, np.stack([pp.cloud_array(cloud[m], n) for m in members]))
        return DenseFeatures(vectors=vectors, centres=cloud[centres].astype(np.float32), method=method,
                             pooled=vectors[0] if len(members) == 1 and len(members[0]) == len(cloud) else None)

    def encode_dense(self, modality: Modality, item: Any, method: str = "") -> DenseFeatures:
        """Part-level vectors of one image (see `dense_methods`) or 3D shape (`point_dense_methods`)."""
        import torch
        import torch.nn.functional as F

        from mcrsearch.miniworld import preprocess as pp

        if Modality.parse(modality) is Modality.POINTS and "3d" in self.model.towers:
            return self._dense_points(item, method)
        method = self._dense_method(method)
        if Modality.parse(modality) is not Modality.IMAGE or "image" not in self.model.towers:
            raise ConfigError(f"mini-{self.mcr} gives part-level features for images and 3D shapes only.")
        tower = self.model.towers["image"]
        native = int(self.model.config["image"]["size"])
        size = max(native, int(round(native * self.dense_zoom)))
        with torch.inference_mode():
            x = torch.from_numpy(pp.image_array(item, size)[None]).to(self.device)
            h = tower.features(x)
            k = self.dense_window or _native_map(tower, native, self.device)
            rows, cols = h.shape[2], h.shape[3]
            if method == "window":
                kr, kc = min(k, rows), min(k, cols)
                pooled = torch.cat([F.avg_pool2d(h, (kr, kc), stride=1), F.max_pool2d(h, (kr, kc), stride=1)], 1)
                span = (kr, kc)
            else:
                pooled, span = torch.cat([h, h], 1), (1, 1)
            grid = (pooled.shape[2], pooled.shape[3])
            vectors = tower.proj(pooled.flatten(2).transpose(1, 2)[0]).float().cpu().numpy()
        ys = (np.arange(grid[0]) + span[0] / 2) / rows
        xs = (np.arange(grid[1]) + span[1] / 2) / cols
        yy, xx = np.meshgrid(ys, xs, indexing="ij")
        centres = np.stack([xx.ravel(), yy.ravel()], axis=1).astype(np.float32)
        return DenseFeatures(vectors=vectors, centres=centres, method=method, grid=grid,
                             cell=(span[1] / cols, span[0] / rows),
                             pooled=vectors[0] if grid == (1, 1) else None)


def _point_parts(cloud: np.ndarray, groups: int, share: float) -> tuple[np.ndarray, list[np.ndarray]]:
    """Farthest-point centres of a cloud and each one's nearest `share` of its points (`point_groups`)."""
    from mcrsearch.encoders.base import point_groups

    centres, members = point_groups(cloud, groups, max(1, int(round(share * len(cloud)))))
    return centres, list(members)


def _native_map(tower: Any, native: int, device: Any) -> int:
    """Side of the feature map of a picture at the model's input size (a window's side)."""
    import torch

    with torch.inference_mode():
        return int(tower.features(torch.zeros(1, 3, native, native, device=device)).shape[-1])


def save_checkpoint(model: Any, path: Path, metrics: dict | None = None) -> Path:
    """Write a mini MCR as one weights-only torch file (config, vocabulary, state dict, metrics), atomically."""
    import torch

    payload = {"format": CHECKPOINT_FORMAT, "config": model.config, "vocab": list(model.vocab),
               "state_dict": {k: v.detach().cpu() for k, v in model.state_dict().items()},
               "metrics": metrics or {}}
    with atomic_path(path) as tmp:
        torch.save(payload, tmp)
    return Path(path)


def load_model(checkpoint: str | Path, mcr: str | None = None):
    """(model, sha256) from a checkpoint file; refuses foreign or mismatching files in one sentence."""
    from mcrsearch.miniworld.models import MiniMCRModel

    path = Path(checkpoint)
    if not path.is_file():
        raise WeightsMissingError(f"The mini-world checkpoint {path} is missing; run `mcrsearch demo` to train it.")
    payload = read_checkpoint(path, "mini-world")
    if not isinstance(payload, dict) or payload.get("format") != CHECKPOINT_FORMAT:
        raise WeightsInvalidError(f"{path} is not a mini-world MCR checkpoint.")
    config = payload["config"]
    if mcr is not None and config.get("mcr") != mcr:
        raise WeightsInvalidError(f"{path} holds mini-{config.get('mcr')}, not mini-{mcr}.")
    model = MiniMCRModel(config, payload["vocab"])
    try:
        model.load_state_dict(payload["state_dict"], strict=True)
    except RuntimeError as exc:
        raise WeightsInvalidError(f"{path} does not fit its own configuration ({str(exc)[:120]}).") from exc
    return model.eval(), cached_sha256(path)


def build(mcr: str = "clip", checkpoint: str | Path | None = None, device: Any = "cpu", model: Any = None,
          **_: Any) -> MiniEncoder:
    """A mini encoder from a checkpoint file, or from an in-memory model (weights id = state-dict digest)."""
    if mcr not in MCRS:
        raise ConfigError(f"Unknown mini MCR '{mcr}'; use {', '.join(MCRS)}.")
    if model is None:
        if checkpoint is None:
            raise ConfigError("A mini encoder needs a checkpoint (or a model).")
        model, digest = load_model(checkpoint, mcr)
    else:
        digest = state_dict_digest(model.state_dict())
    if isinstance(device, str):
        from mcrsearch.device import pick_device

        device = pick_device(device)
    return MiniEncoder(model, digest, device)
