"""The three mini MCRs' towers: small, different architectures and output sizes, so the spaces really differ.

mini-CLIP  image (CNN, 32 px) + text (word bag, mean)                -> 64-d
mini-CLAP  audio (log-mel CNN)  + text (word bag, max)                 -> 48-d
mini-ULIP  3d (PointNet, 384 pts) + image (smaller CNN, 24 px)         -> 32-d
Each tower ends in a linear projection; outputs are L2-normalised by the encoder / the loss.
"""

from __future__ import annotations

import copy
import hashlib
import json
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from mcrsearch.modality import Modality
from mcrsearch.topology import MCRS

DEFAULT_CONFIGS: dict[str, dict[str, Any]] = {
    "clip": {"mcr": "clip", "dim": 64,
             "image": {"arch": "cnn", "size": 32, "widths": [16, 32, 64]},
             "text": {"arch": "bag", "embed": 96, "hidden": 128, "pool": "mean"},
             "train": {"steps": 400, "batch": 32, "lr": 3e-3, "weight_decay": 1e-4, "seed": 0}},
    "clap": {"mcr": "clap", "dim": 48,
             "audio": {"arch": "melcnn", "rate": 16000, "seconds": 1.0, "n_mels": 40, "hop": 256,
                       "widths": [16, 32, 48]},
             "text": {"arch": "bag", "embed": 64, "hidden": 96, "pool": "max"},
             "train": {"steps": 400, "batch": 32, "lr": 3e-3, "weight_decay": 1e-4, "seed": 1}},
    "ulip": {"mcr": "ulip", "dim": 32,
             "3d": {"arch": "pointnet", "points": 384, "widths": [24, 48, 96]},
             "image": {"arch": "cnn", "size": 24, "widths": [12, 24, 48]},
             "train": {"steps": 300, "batch": 96, "lr": 3e-3, "weight_decay": 1e-4, "seed": 2}},
}


def config_hash(configs: dict[str, Any]) -> str:
    return hashlib.sha256(json.dumps(configs, sort_keys=True).encode()).hexdigest()[:10]


# Small batches on purpose: with 16 classes, a batch of 128 holds ~8 same-class "negatives" and training
# drifts towards instance discrimination, which hurts class-level retrieval.
# The small (test) world has 10 pairs per class: fewer steps reach its ceiling.
SMALL_TRAIN = {"steps": 150, "batch": 16}


# The hard world's MCRs are trained so that their geometry resembles real ones (Liang et al. 2022, "Mind
# the Gap"): each tower's output starts in its own narrow cone (`cone`: the norm of a random output bias,
# standing in for the cone effect of a deep randomly initialised encoder, which these tiny towers lack),
# and training keeps CLIP's final temperature (0.01) fixed, at which contrastive learning preserves the
# gap instead of closing it. Nothing is edited after training.
HARD_TRAIN = {"steps": 1000, "batch": 48, "temperature": 0.01, "learn_temperature": False}
HARD_CONE = 2.5


def default_configs(scale: str = "default") -> dict[str, dict[str, Any]]:
    """Model + training configuration for a world scale (part of the checkpoint cache key)."""
    configs = copy.deepcopy(DEFAULT_CONFIGS)
    if scale == "small":
        for cfg in configs.values():
            cfg["train"].update(SMALL_TRAIN)
    if scale == "hard":
        for cfg in configs.values():
            cfg["train"].update(HARD_TRAIN)
            cfg.update({"cone": HARD_CONE, "vocab": "hard"})
        configs["clap"]["audio"]["pool"] = "time"      # pitch tells the hard world's variants apart
    return configs


def _conv_stack(c: int, widths: list[int]) -> tuple[nn.Sequential, int]:
    """Strided 3x3 conv blocks (each halves the resolution): cheap enough to train on 2 CPU cores."""
    layers = []
    for w in widths:
        layers += [nn.Conv2d(c, w, 3, stride=2, padding=1, bias=False), nn.BatchNorm2d(w), nn.ReLU(inplace=True)]
        c = w
    return nn.Sequential(*layers), c


class ImageCNN(nn.Module):
    def __init__(self, dim: int, size: int, widths: list[int], **_: Any) -> None:
        super().__init__()
        self.features, c = _conv_stack(3, widths)
        self.proj = nn.Sequential(nn.Linear(2 * c, 2 * c), nn.ReLU(inplace=True), nn.Linear(2 * c, dim))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = self.features(x)
        h = torch.cat([h.mean(dim=(2, 3)), h.amax(dim=(2, 3))], dim=1)
        return self.proj(h)


class MelCNN(nn.Module):
    """(B, 1, mels, frames) -> dim: conv blocks over time-frequency, then mean+max pooling."""

    def __init__(self, dim: int, widths: list[int], n_mels: int = 40, pool: str = "all", **_: Any) -> None:
        super().__init__()
        self.features, c = _conv_stack(1, widths)
        # pool "time" keeps the frequency bins (pitch) and pools over time only; "all" pools both.
        self.pool_time = pool == "time"
        if self.pool_time:
            for _width in widths:
                n_mels = (n_mels + 1) // 2
            c *= n_mels
        self.proj = nn.Sequential(nn.Linear(2 * c, 2 * c), nn.ReLU(inplace=True), nn.Linear(2 * c, dim))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = self.features(x)
        if self.pool_time:
            h = torch.cat([h.mean(dim=3).flatten(1), h.amax(dim=3).flatten(1)], dim=1)
        else:
            h = torch.cat([h.mean(dim=(2, 3)), h.amax(dim=(2, 3))], dim=1)
        return self.proj(h)


class PointNet(nn.Module):
    """(B, N, 3) -> dim: a shared per-point MLP, max-pool over points, then an MLP."""

    def __init__(self, dim: int, widths: list[int], **_: Any) -> None:
        super().__init__()
        layers, c = [], 3
        for w in widths:
            layers += [nn.Conv1d(c, w, 1, bias=False), nn.BatchNorm1d(w), nn.ReLU(inplace=True)]
            c = w
        self.point_mlp = nn.Sequential(*layers)
        self.proj = nn.Sequential(nn.Linear(c, c), nn.ReLU(inplace=True), nn.Linear(c, dim))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = self.point_mlp(x.transpose(1, 2))
        return self.proj(h.amax(dim=2))


class TextBag(nn.Module):
    """Word ids (+ optional hashed bigrams) -> mean- or max-pooled embeddings -> LayerNorm -> MLP -> dim."""

    def __init__(self, dim: int, vocab_size: int, embed: int, hidden: int, bigrams: int = 0, pool: str = "mean",
                 **_: Any) -> None:
        super().__init__()
        self.bigrams = int(bigrams)
        self.embed = nn.EmbeddingBag(vocab_size + self.bigrams, embed, mode=pool)
        # Near-zero init: words this MCR never trained on (e.g. colours in CLAP) stay near zero and barely
        # move the mean; the LayerNorm then removes the scale they dilute it by.
        nn.init.normal_(self.embed.weight, std=0.01)
        self.norm = nn.LayerNorm(embed)
        self.mlp = nn.Sequential(nn.Linear(embed, hidden), nn.ReLU(inplace=True), nn.Linear(hidden, dim))
        self.vocab_size = vocab_size

    def bag(self, ids: list[list[int]]) -> tuple[torch.Tensor, torch.Tensor]:
        flat: list[int] = []
        offsets: list[int] = []
        for seq in ids:
            offsets.append(len(flat))
            flat.extend(seq)
            if self.bigrams:
                flat.extend(self.vocab_size + (a * 7919 + b) % self.bigrams for a, b in zip(seq, seq[1:]))
        return torch.tensor(flat, dtype=torch.long), torch.tensor(offsets, dtype=torch.long)

    def forward(self, flat: torch.Tensor, offsets: torch.Tensor) -> torch.Tensor:
        return self.mlp(self.norm(self.embed(flat, offsets)))


class MiniMCRModel(nn.Module):
    """Two towers of one mini MCR plus the contrastive temperature."""

    def __init__(self, config: dict[str, Any], vocab: list[str] | None = None) -> None:
        super().__init__()
        self.config = config
        self.name = config["mcr"]
        self.modalities = MCRS[self.name].modalities
        self.vocab = list(vocab or [])
        self.word_index = {w: i + 2 for i, w in enumerate(self.vocab)}   # 0 pad, 1 unknown
        towers = {}
        for m in self.modalities:
            towers[m.value] = _tower(config[m.value], config["dim"], len(self.vocab) + 2)
        self.towers = nn.ModuleDict(towers)
        train = config.get("train", {})
        temperature = float(train.get("temperature", 0.07))
        self.logit_scale = nn.Parameter(torch.tensor(float(torch.log(torch.tensor(1 / temperature)))),
                                        requires_grad=bool(train.get("learn_temperature", True)))
        if config.get("cone"):
            self._cone_init(float(config["cone"]), int(train.get("seed", 0)))

    def _cone_init(self, norm: float, seed: int) -> None:
        """Start each tower's outputs in its own narrow cone: a random output bias of the given norm."""
        gen = torch.Generator().manual_seed(10_007 + seed)
        for tower in self.towers.values():
            last = [m for m in tower.modules() if isinstance(m, nn.Linear)][-1]
            direction = F.normalize(torch.randn(last.out_features, generator=gen), dim=0)
            with torch.no_grad():
                last.bias.copy_(direction * norm)

    def forward_batch(self, modality: Modality, batch: Any) -> torch.Tensor:
        tower = self.towers[modality.value]
        if isinstance(tower, TextBag):
            flat, offsets = batch
            return tower(flat, offsets)
        return tower(batch)


def _tower(cfg: dict[str, Any], dim: int, vocab_size: int) -> nn.Module:
    arch = cfg["arch"]
    if arch == "cnn":
        return ImageCNN(dim, **cfg)
    if arch == "melcnn":
        return MelCNN(dim, **cfg)
    if arch == "pointnet":
        return PointNet(dim, **cfg)
    if arch == "bag":
        return TextBag(dim, vocab_size, **cfg)
    raise ValueError(f"unknown tower architecture {arch!r}")


def info_nce(a: torch.Tensor, b: torch.Tensor, logit_scale: torch.Tensor) -> torch.Tensor:
    """Symmetric InfoNCE over a batch of matched pairs (row i of a pairs with row i of b)."""
    a, b = F.normalize(a, dim=-1), F.normalize(b, dim=-1)
    logits = logit_scale.exp().clamp(max=100) * a @ b.t()
    target = torch.arange(len(a), device=a.device)
    return (F.cross_entropy(logits, target) + F.cross_entropy(logits.t(), target)) / 2
