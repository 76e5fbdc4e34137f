"""ULIP-2 PointBERT in plain PyTorch: the 3D encoder whose 512-d space the C-MCR / Ex-MCR heads expect.

Why our own module: the released code needs a CUDA extension (pointnet2 FPS) and `knn_cuda`, and starts FPS
at a random point, so the same cloud never gives exactly the same vector twice. Here FPS
and KNN are numba kernels (`_pointops`; plain torch references without numba or off the CPU), and FPS starts at
index 0, so a cloud always maps to one vector, on CPU, CUDA or MPS.

Parameter names and shapes equal the early `pointbert_ULIP-2.pt` (SLIP-based, 512-d): `point_encoder.*`
(group encoder `encoder.first_conv/second_conv`, `reduce_dim`, `cls_token`, `cls_pos`, `pos_embed`,
`blocks.blocks.N.*`, `norm`) and `pc_projection` (768 x 512), so that checkpoint loads strictly.

Input points: the released inference (C-MCR/Ex-MCR `trunks.py`) feeds the demo clouds' `xyz` as they are,
10,000 points (the ULIP config file says `npoints: 8192`, but that only drives its training data loader).
Clouds reach the model as the authors fed them, without duplicated points: above `npoints` (10,000) a
fixed random subset (`media.subsample_points`, which file decoding has already applied); from `group_size`
(32) points up, every point as it is (tiling a 1,024-point cloud to 10,000 would leave 4 distinct points
in a 32-neighbour group); below one group's size, the cloud is repeated to fill one group, the least
padding that lets the KNN grouping run at all. Clouds of different sizes are run in separate batches.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Mapping

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from mcrsearch.checkpoint import require_file
from mcrsearch.encoders.base import DenseFeatures, Encoder, state_dict_digest
from mcrsearch.errors import ConfigError, MediaError, WeightsInvalidError
from mcrsearch.modality import Modality
from mcrsearch.statecheck import check_state_fits

ARTIFACT = "ulip2-pointbert"

CONFIGS: dict[str, dict[str, Any]] = {
    # The early ULIP-2 PointBERT (PointTransformer_8192point.yaml model block + pc_projection 768x512).
    "pointbert-ulip2": dict(trans_dim=384, depth=12, num_heads=6, mlp_ratio=4.0, group_size=32, num_group=512,
                            encoder_dims=256, conv_dims=(128, 256, 512), embed_dim=512, npoints=10_000),
    # Same classes, tiny sizes: for tests (about 0.1 M parameters).
    "tiny": dict(trans_dim=32, depth=2, num_heads=2, mlp_ratio=2.0, group_size=8, num_group=16,
                 encoder_dims=32, conv_dims=(16, 32, 64), embed_dim=512, npoints=512),
}


# --------------------------------------------------------------------------- geometry (plain torch)

def farthest_point_sample(xyz: torch.Tensor, count: int) -> torch.Tensor:
    """Indices (B, count) of farthest-point samples, starting at point 0 (deterministic; compiled on CPU)."""
    from mcrsearch.encoders._pointops import farthest_point_sample as compiled

    return compiled(xyz, count)


def knn_indices(points: torch.Tensor, queries: torch.Tensor, k: int) -> torch.Tensor:
    """Indices (B, Q, k) of the k nearest points to each query, nearest first, ties to the lower index
    (exact squared distances, as the released knn_cuda; compiled on CPU)."""
    from mcrsearch.encoders._pointops import knn

    return knn(points, queries, k)


def group_points(xyz: torch.Tensor, num_group: int, group_size: int) -> tuple[torch.Tensor, torch.Tensor]:
    """FPS centres (B, G, 3) and their KNN neighbourhoods re-centred on them (B, G, M, 3)."""
    batch = xyz.shape[0]
    rows = torch.arange(batch, device=xyz.device).unsqueeze(-1)
    center = xyz[rows, farthest_point_sample(xyz, num_group)]
    nn_idx = knn_indices(xyz, center, group_size)
    neighbourhood = xyz[rows.unsqueeze(-1), nn_idx] - center.unsqueeze(2)
    return neighbourhood, center


# --------------------------------------------------------------------------- modules (released names)

class GroupEncoder(nn.Module):
    """Mini-PointNet over each group: per-point convs, max-pool, concat global, convs, max-pool."""

    def __init__(self, out_dim: int, conv_dims: tuple[int, int, int] = (128, 256, 512)) -> None:
        super().__init__()
        c1, c2, c3 = conv_dims
        self.out_dim = out_dim
        self.first_conv = nn.Sequential(nn.Conv1d(3, c1, 1), nn.BatchNorm1d(c1), nn.ReLU(inplace=True), nn.Conv1d(c1, c2, 1))
        self.second_conv = nn.Sequential(nn.Conv1d(2 * c2, c3, 1), nn.BatchNorm1d(c3), nn.ReLU(inplace=True),
                                         nn.Conv1d(c3, out_dim, 1))

    def forward(self, groups: torch.Tensor) -> torch.Tensor:
        b, g, m, c = groups.shape
        x = self.first_conv(groups.reshape(b * g, m, c).transpose(1, 2))
        x = torch.cat([x.max(dim=2, keepdim=True).values.expand(-1, -1, m), x], dim=1)
        x = self.second_conv(x).max(dim=2).values
        return x.reshape(b, g, self.out_dim)


class Attention(nn.Module):
    def __init__(self, dim: int, num_heads: int) -> None:
        super().__init__()
        self.num_heads = num_heads
        self.qkv = nn.Linear(dim, dim * 3, bias=False)   # released: no qkv bias
        self.proj = nn.Linear(dim, dim)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        b, n, c = x.shape
        q, k, v = self.qkv(x).reshape(b, n, 3, self.num_heads, c // self.num_heads).permute(2, 0, 3, 1, 4)
        out = F.scaled_dot_product_attention(q, k, v)     # scale head_dim ** -0.5, as released
        return self.proj(out.transpose(1, 2).reshape(b, n, c))


class Mlp(nn.Module):
    def __init__(self, dim: int, hidden: int) -> None:
        super().__init__()
        self.fc1 = nn.Linear(dim, hidden)
        self.act = nn.GELU()
        self.fc2 = nn.Linear(hidden, dim)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc2(self.act(self.fc1(x)))


class Block(nn.Module):
    """Pre-norm transformer block."""

    def __init__(self, dim: int, num_heads: int, mlp_ratio: float) -> None:
        super().__init__()
        self.norm1 = nn.LayerNorm(dim)
        self.attn = Attention(dim, num_heads)
        self.norm2 = nn.LayerNorm(dim)
        self.mlp = Mlp(dim, int(dim * mlp_ratio))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = x + self.attn(self.norm1(x))
        return x + self.mlp(self.norm2(x))


class TransformerEncoder(nn.Module):
    """Blocks with the position embedding added before every block (PointBERT's choice)."""

    def __init__(self, dim: int, depth: int, num_heads: int, mlp_ratio: float) -> None:
        super().__init__()
        self.blocks = nn.ModuleList([Block(dim, num_heads, mlp_ratio) for _ in range(depth)])

    def forward(self, x: torch.Tensor, pos: torch.Tensor) -> torch.Tensor:
        for block in self.blocks:
            x = block(x + pos)
        return x


class PointTransformer(nn.Module):
    """PointBERT backbone: groups -> tokens -> transformer -> concat(cls, max over tokens)."""

    def __init__(self, trans_dim: int, depth: int, num_heads: int, mlp_ratio: float, group_size: int,
                 num_group: int, encoder_dims: int, conv_dims: tuple[int, int, int]) -> None:
        super().__init__()
        self.num_group, self.group_size = num_group, group_size
        self.encoder = GroupEncoder(encoder_dims, (conv_dims[0], conv_dims[1], conv_dims[2]))
        self.reduce_dim = nn.Linear(encoder_dims, trans_dim)
        self.cls_token = nn.Parameter(torch.zeros(1, 1, trans_dim))
        self.cls_pos = nn.Parameter(torch.randn(1, 1, trans_dim))
        self.pos_embed = nn.Sequential(nn.Linear(3, 128), nn.GELU(), nn.Linear(128, trans_dim))
        self.blocks = TransformerEncoder(trans_dim, depth, num_heads, mlp_ratio)
        self.norm = nn.LayerNorm(trans_dim)

    def forward(self, xyz: torch.Tensor) -> torch.Tensor:
        neighbourhood, center = group_points(xyz.float(), self.num_group, self.group_size)   # always in fp32
        return self.embed_groups(neighbourhood, center)

    def embed_groups(self, neighbourhood: torch.Tensor, center: torch.Tensor) -> torch.Tensor:
        """Groups (B, G, M, 3) and centres (B, G, 3) -> concat(cls, max over tokens): the part after grouping."""
        neighbourhood, center = neighbourhood.to(self.cls_token.dtype), center.to(self.cls_token.dtype)
        tokens = self.reduce_dim(self.encoder(neighbourhood))
        b = tokens.shape[0]
        x = torch.cat([self.cls_token.expand(b, -1, -1), tokens], dim=1)
        pos = torch.cat([self.cls_pos.expand(b, -1, -1), self.pos_embed(center)], dim=1)
        x = self.norm(self.blocks(x, pos))
        return torch.cat([x[:, 0], x[:, 1:].max(dim=1).values], dim=-1)


class GroupsToVector(nn.Module):
    """PointBERT after the grouping (groups and centres in, 512-d unnormalised vector out): what `onnx` exports,
    since FPS and k-NN stay in the compiled kernels."""

    def __init__(self, model: "PointBERT") -> None:
        super().__init__()
        self.model = model

    def forward(self, neighbourhood: torch.Tensor, center: torch.Tensor) -> torch.Tensor:
        return self.model.point_encoder.embed_groups(neighbourhood, center) @ self.model.pc_projection


class PointBERT(nn.Module):
    """`point_encoder` + `pc_projection`: the part of the ULIP-2 checkpoint that embeds point clouds."""

    def __init__(self, trans_dim: int = 384, depth: int = 12, num_heads: int = 6, mlp_ratio: float = 4.0,
                 group_size: int = 32, num_group: int = 512, encoder_dims: int = 256,
                 conv_dims: tuple[int, int, int] = (128, 256, 512), embed_dim: int = 512, **_: Any) -> None:
        super().__init__()
        self.point_encoder = PointTransformer(trans_dim, depth, num_heads, mlp_ratio, group_size, num_group,
                                              encoder_dims, conv_dims)
        self.pc_projection = nn.Parameter(torch.empty(2 * trans_dim, embed_dim))
        nn.init.normal_(self.pc_projection, std=embed_dim ** -0.5)

    def forward(self, xyz: torch.Tensor) -> torch.Tensor:
        return self.point_encoder(xyz) @ self.pc_projection


# --------------------------------------------------------------------------- checkpoint handling

def extract_point_state(checkpoint: Any) -> dict[str, torch.Tensor]:
    """The point-cloud part of a ULIP checkpoint: `point_encoder.*` and `pc_projection`, without `module.`."""
    from mcrsearch.checkpoint import unwrap_state_dict

    return {k: v for k, v in unwrap_state_dict(checkpoint).items()
            if k.startswith("point_encoder.") or k == "pc_projection"}


def check_point_state(model: nn.Module, state: Mapping[str, torch.Tensor], source: str) -> None:
    """Refuse (one sentence) anything that would not load strictly into `model`."""
    expected = model.state_dict()
    if not state:
        raise WeightsInvalidError(f"{source} has no ULIP point-cloud weights (no point_encoder.* or pc_projection).")
    proj = state.get("pc_projection")
    want = tuple(expected["pc_projection"].shape)
    if proj is not None and tuple(proj.shape) != want:
        raise WeightsInvalidError(
            f"{source} projects point clouds to {tuple(proj.shape)[-1]} dimensions, not {want[-1]}: it is another "
            f"ULIP release than the early 512-d pointbert_ULIP-2.pt the C-MCR/Ex-MCR heads were trained on.")
    check_state_fits(model, state, source, "ULIP-2 PointBERT layout")


def load_point_checkpoint(model: nn.Module, path: str | Path) -> nn.Module:
    """Load a ULIP checkpoint file (read safely, see `mcrsearch.checkpoint`) strictly into `model`."""
    from mcrsearch.checkpoint import read_checkpoint

    state = extract_point_state(read_checkpoint(path, "ULIP-2"))
    check_point_state(model, state, Path(path).name)
    model.load_state_dict(state, strict=True)
    return model.eval()


def verify_checkpoint_state(state: Mapping[str, Any], source: str) -> None:
    """Check a recognised ULIP-2 state dict loads strictly into the full-size PointBERT (image/text towers ignored).

    Used by `mcrsearch weights import/fetch` before a file is filed under the `ulip2-pointbert` artifact.
    """
    model = PointBERT(**CONFIGS["pointbert-ulip2"])
    points = extract_point_state(state)
    check_point_state(model, points, source)
    model.load_state_dict(points, strict=True)


# --------------------------------------------------------------------------- the Encoder

def prepare_points(cloud: Any, npoints: int, min_points: int = 1) -> np.ndarray:
    """(N, >=3) array -> (M, 3) float32 xyz: at most `npoints` (fixed subset), at least `min_points`
    (a cloud smaller than one KNN group is repeated whole until it fills one); otherwise unchanged."""
    from mcrsearch.media import subsample_points

    arr = np.asarray(cloud)
    if arr.ndim != 2 or arr.shape[1] < 3:
        raise MediaError("<point cloud>", f"expected an (N, 3) array of points, got shape {arr.shape}")
    xyz = arr[:, :3].astype(np.float32, copy=False)
    n = xyz.shape[0]
    if n == 0:
        raise MediaError("<point cloud>", "the point cloud has no points")
    if not np.isfinite(xyz).all():
        raise MediaError("<point cloud>", "the point cloud has NaN or infinite coordinates")
    xyz = subsample_points(xyz, npoints)
    if n < min_points:
        xyz = xyz[np.arange(min_points) % n]
    return np.ascontiguousarray(xyz)


class ULIPEncoder(Encoder):
    """ULIP-2 PointBERT: (N, 3) point clouds -> 512-d L2-normalised vectors."""

    family = "ulip2"
    modalities = (Modality.POINTS,)
    precision_modes = ("fp32", "bf16", "int8", "onnx")

    # Part of the fingerprint: vectors made before clouds were normalised and fed untiled (issue 15) came
    # from other inputs, so a collection holding them is refused instead of silently mixed.
    INPUT_POLICY = "ulip-normalised, subset above npoints, untiled/1"

    def __init__(self, model: PointBERT, config: Mapping[str, Any], weights_id: str, device: Any = "cpu",
                 batch_size: int = 0) -> None:
        super().__init__({**config, "input_policy": self.INPUT_POLICY}, weights_id, device)
        self.model = model.to(device).eval()
        self.dim = int(config["embed_dim"])
        self.npoints = int(config["npoints"])
        self.min_points = int(config["group_size"])      # the KNN grouping needs one group's worth
        self.batch_size = batch_size
        self.onnx_groups: Any = None         # mode `onnx`: everything after the grouping in ONNX Runtime

    def enable_onnx(self, folder: Path) -> None:
        """Export the network after the grouping (FPS and k-NN stay in the numba kernels) for ONNX Runtime."""
        from mcrsearch.encoders import _onnx

        enc = self.model.point_encoder
        examples = (torch.zeros(1, enc.num_group, enc.group_size, 3), torch.zeros(1, enc.num_group, 3))
        path = _onnx.cached_path(folder, "ulip2-groups", self.fingerprint)
        self.onnx_groups = _onnx.OnnxTower(_onnx.export(GroupsToVector(self.model), examples, path))

    def _forward(self, xyz: torch.Tensor) -> Any:
        if self.onnx_groups is None:
            return self.model(xyz)
        enc = self.model.point_encoder
        neighbourhood, center = group_points(xyz.float(), enc.num_group, enc.group_size)
        return torch.from_numpy(self.onnx_groups(neighbourhood.numpy(), center.numpy()))

    def _encode_batch(self, modality: Modality, batch: list[Any]) -> Any:
        clouds = [prepare_points(c, self.npoints, self.min_points) for c in batch]
        by_size: dict[int, list[int]] = {}
        for i, c in enumerate(clouds):
            by_size.setdefault(len(c), []).append(i)
        out: list[Any] = [None] * len(clouds)
        for rows in by_size.values():     # one forward per cloud size: no cloud is padded to another's
            xyz = torch.from_numpy(np.stack([clouds[i] for i in rows])).to(self.device)
            for i, vec in zip(rows, self._forward(xyz)):
                out[i] = vec
        return torch.stack(out)


    # "groups": each PointBERT group token after the final norm, projected beside the CLS token exactly as
    # the global vector projects [CLS, max over group tokens]; the element-wise max of the group tokens
    # gives back the global vector, so a group's vector is its share of the shape's embedding.
    dense_methods = ("groups",)

    def encode_dense(self, modality: Modality, item: Any, method: str = "") -> DenseFeatures:
        """One vector per point group, with the group centres in the normalised cloud's coordinates."""
        method = self._dense_method(method)
        if Modality.parse(modality) is not Modality.POINTS:
            raise ConfigError("ULIP-2 gives part-level features for 3D point clouds only.")
        enc = self.model.point_encoder
        cloud = prepare_points(item, self.npoints, self.min_points)
        with torch.inference_mode():
            xyz = torch.from_numpy(cloud[None]).to(self.device)
            neighbourhood, center = group_points(xyz, enc.num_group, enc.group_size)
            tokens = enc.reduce_dim(enc.encoder(neighbourhood))
            x = torch.cat([enc.cls_token.expand(1, -1, -1), tokens], dim=1)
            pos = torch.cat([enc.cls_pos.expand(1, -1, -1), enc.pos_embed(center)], dim=1)
            x = enc.norm(enc.blocks(x, pos))[0]
            cls, groups = x[0], x[1:]
            parts = torch.cat([cls.expand(len(groups), -1), groups], dim=-1) @ self.model.pc_projection
            pooled = torch.cat([cls, groups.max(dim=0).values]) @ self.model.pc_projection
        return DenseFeatures(vectors=parts.float().cpu().numpy(), centres=center[0].float().cpu().numpy(),
                             method=method, pooled=pooled.float().cpu().numpy())


def resolve_config(config: str | Mapping[str, Any], overrides: Mapping[str, Any]) -> dict[str, Any]:
    if isinstance(config, str):
        if config not in CONFIGS:
            raise ConfigError(f"Unknown ULIP-2 config '{config}'; known: {', '.join(sorted(CONFIGS))}.")
        cfg = dict(CONFIGS[config], name=config)
    else:
        cfg = {**CONFIGS["pointbert-ulip2"], "name": "custom", **dict(config)}
    unknown = set(overrides) - set(CONFIGS["pointbert-ulip2"])
    if unknown:
        raise ConfigError(f"Unknown ULIP-2 option(s) {sorted(unknown)}.")
    cfg.update(overrides)
    cfg["conv_dims"] = tuple(cfg["conv_dims"])
    return cfg


def build(config: str | Mapping[str, Any] = "pointbert-ulip2", checkpoint: str | Path | None = None,
          device: Any = "cpu", random_init: bool = False, **overrides: Any) -> ULIPEncoder:
    """Build the encoder: real weights from `checkpoint` (the `ulip2-pointbert` artifact), or seeded random init."""
    cfg = resolve_config(config, overrides)
    ckpt_path = None if random_init else require_file(checkpoint, ARTIFACT, "ULIP-2 PointBERT checkpoint")
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(0)                        # random_init is reproducible: same seed, same vectors
        model = PointBERT(**cfg)
    if ckpt_path is not None:
        load_point_checkpoint(model, ckpt_path)
    model.eval()
    return ULIPEncoder(model, cfg, state_dict_digest(model.state_dict()), device=device)


__all__ = ["ULIPEncoder", "PointBERT", "build", "CONFIGS", "prepare_points", "extract_point_state",
           "check_point_state", "load_point_checkpoint", "verify_checkpoint_state", "farthest_point_sample", "knn_indices"]
