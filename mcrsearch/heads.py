"""Projector heads of C-MCR and Ex-MCR, with the module names of the released checkpoints.

Released layouts (all dimensions 512 there; other sizes serve the mini-world):
- C-MCR CLAP-CLIP (`clap_clip.pt`): `Head_A` (CLAP side) and `Head_B` (CLIP side), each
  `net1 = [Linear(d, 2o), BN, ReLU]`, `net2 = [Linear(2o, o), BN]`.
- C-MCR ULIP-CLIP (`ulip_clip.pt`): `Head_A` (CLIP side) and `Head_B` (ULIP side), each
  `net = [Linear(d, o), BN, ReLU]`.
- Ex-MCR (`ex_clap.pt`, `ex_ulip.pt`): `Head1 = Linear(d, d)` (identity init, the intra-space projector f_l),
  `Head2.mlp1`, `Head2.mlp2` two MLP blocks (Xavier init, the inter-space projector f_m), output L2-normalised.
Heads are always used in eval mode at inference: BatchNorm uses its running statistics.
"""

from __future__ import annotations

from typing import Mapping

import torch
import torch.nn.functional as F
from torch import nn

from mcrsearch.statecheck import check_state_fits


class MLPBlock(nn.Module):
    """Linear-BN-ReLU-Linear-BN: the two-layer block used by both methods (`net1`, `net2`)."""

    def __init__(self, in_dim: int = 512, out_dim: int = 512, expansion: float = 2.0) -> None:
        super().__init__()
        hidden = int(out_dim * expansion)
        self.net1 = nn.Sequential(nn.Linear(in_dim, hidden), nn.BatchNorm1d(hidden), nn.ReLU(inplace=True))
        self.net2 = nn.Sequential(nn.Linear(hidden, out_dim), nn.BatchNorm1d(out_dim))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net2(self.net1(x))


class HalfBlock(nn.Module):
    """Linear-BN-ReLU (`net`): C-MCR's ULIP-CLIP head; every output coordinate is >= 0."""

    def __init__(self, in_dim: int = 512, out_dim: int = 512) -> None:
        super().__init__()
        self.net = nn.Sequential(nn.Linear(in_dim, out_dim), nn.BatchNorm1d(out_dim), nn.ReLU(inplace=True))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x)


class Normalized(nn.Module):
    """Wrap a head so its output is L2-normalised (what every released inference path does)."""

    def __init__(self, head: nn.Module) -> None:
        super().__init__()
        self.head = head

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.normalize(self.head(x), dim=-1)


class CMCRClapClipHeads(nn.Module):
    """C-MCR CLAP-CLIP: `Head_A` projects CLAP embeddings, `Head_B` CLIP embeddings."""

    def __init__(self, clap_dim: int = 512, clip_dim: int = 512, out_dim: int = 512) -> None:
        super().__init__()
        self.Head_A = MLPBlock(clap_dim, out_dim)
        self.Head_B = MLPBlock(clip_dim, out_dim)

    def side(self, mcr: str) -> nn.Module:
        return {"clap": self.Head_A, "clip": self.Head_B}[mcr]


class CMCRUlipClipHeads(nn.Module):
    """C-MCR ULIP-CLIP: `Head_A` projects CLIP embeddings, `Head_B` ULIP-2 embeddings."""

    def __init__(self, clip_dim: int = 512, ulip_dim: int = 512, out_dim: int = 512) -> None:
        super().__init__()
        self.Head_A = HalfBlock(clip_dim, out_dim)
        self.Head_B = HalfBlock(ulip_dim, out_dim)

    def side(self, mcr: str) -> nn.Module:
        return {"clip": self.Head_A, "ulip": self.Head_B}[mcr]


class ExMCRInterProjector(nn.Module):
    """Ex-MCR's f_m: two MLP blocks into the base space, L2-normalised output."""

    def __init__(self, in_dim: int = 512, out_dim: int = 512) -> None:
        super().__init__()
        self.mlp1 = MLPBlock(in_dim, out_dim)
        self.mlp2 = MLPBlock(out_dim, out_dim)
        for p in self.parameters():
            if p.dim() > 1:
                nn.init.xavier_uniform_(p)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.normalize(self.mlp2(self.mlp1(x)), dim=-1)


class ExMCRHead(nn.Module):
    """Ex-MCR leaf head: L2 -> `Head1` (f_l, identity init) -> `Head2` (f_m) -> L2, into the base space."""

    def __init__(self, leaf_dim: int = 512, base_dim: int = 512) -> None:
        super().__init__()
        self.Head1 = nn.Linear(leaf_dim, leaf_dim)
        nn.init.eye_(self.Head1.weight)
        nn.init.zeros_(self.Head1.bias)
        self.Head2 = ExMCRInterProjector(leaf_dim, base_dim)

    def intra(self, x: torch.Tensor) -> torch.Tensor:
        return self.Head1(F.normalize(x, dim=-1))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.normalize(self.Head2(self.intra(x)), dim=-1)


HEAD_KINDS: dict[str, type[nn.Module]] = {
    "cmcr-clap-clip": CMCRClapClipHeads,
    "cmcr-ulip-clip": CMCRUlipClipHeads,
    "exmcr": ExMCRHead,
}


def load_head_state(module: nn.Module, state_dict: Mapping[str, torch.Tensor], source: str = "checkpoint") -> nn.Module:
    """Load strictly (every key, every shape) and switch to eval; refuse anything else in one sentence."""
    check_state_fits(module, state_dict, source, type(module).__name__)
    module.load_state_dict(state_dict, strict=True)
    return module.eval()
