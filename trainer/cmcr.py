"""C-MCR: connect two MCRs into a new shared space through their overlapping modality.

Per batch of overlap items (t_a in MCR A, t_b in MCR B) with pseudo partners v_a = p(t_a, M_a),
v_b = p(t_b, M_b) (each MCR's other modality, aggregated from its unpaired memory):
inter = InfoNCE(f_A(t_a), f_B(t_b)) + InfoNCE(f_A(v_a), f_B(v_b));
intra = ||f_A(t_a) - f_A(v_a)||^2 + ||f_B(t_b) - f_B(v_b)||^2; loss = inter + lambda * intra,
with semantic-completion noise on every head input. Ablations: `use_pseudo=False` keeps only the
overlap pairs (no partner, hence no intra term either), `use_noise`, `use_intra`, and `pseudo_inter=False`
drops the pseudo pairs' InfoNCE so that only the intra term carries the link to the other modalities.
"""

from __future__ import annotations

from typing import cast

import torch
from torch import nn

from mcrsearch.errors import ConfigError
from mcrsearch.heads import CMCRClapClipHeads, CMCRUlipClipHeads, Normalized
from mcrsearch_trainer.config import CMCRConfig
from mcrsearch_trainer.data import ConnectionData
from mcrsearch_trainer.evaluate import evaluate_set
from mcrsearch_trainer.loop import (History, ProgressFn, cpu_threads, info_nce, intra_mse, resolve_device, seed_all,
                                    to_tensor, train_loop)
from mcrsearch_trainer.pseudo import add_noise, pseudo_embeddings

KINDS = ("cmcr-clap-clip", "cmcr-ulip-clip", "generic")


def build_heads(kind: str, dim_a: int, dim_b: int, out_dim: int = 0) -> nn.Module:
    """Heads in the released layout; A/B mapped to Head_A/Head_B by the released convention."""
    out = out_dim or dim_b
    if kind in ("cmcr-clap-clip", "generic"):       # Head_A = A (CLAP) side, Head_B = B (CLIP) side
        return CMCRClapClipHeads(clap_dim=dim_a, clip_dim=dim_b, out_dim=out)
    if kind == "cmcr-ulip-clip":                    # released: Head_A = CLIP (our B), Head_B = ULIP (our A)
        return CMCRUlipClipHeads(clip_dim=dim_b, ulip_dim=dim_a, out_dim=out)
    raise ConfigError(f"Unknown C-MCR kind '{kind}'; use one of {', '.join(KINDS)}.")


def sides(heads: nn.Module, kind: str) -> tuple[nn.Module, nn.Module]:
    """(projector of MCR A, projector of MCR B), each L2-normalising."""
    head_a, head_b = cast(nn.Module, heads.Head_A), cast(nn.Module, heads.Head_B)
    if kind == "cmcr-ulip-clip":
        return Normalized(head_b), Normalized(head_a)
    return Normalized(head_a), Normalized(head_b)


def _validator(data: ConnectionData, fa: nn.Module, fb: nn.Module, device: torch.device):
    if not data.validation:
        return None
    return lambda: {k: v for vs in data.validation for k, v in evaluate_set(vs, fa, fb, device).items()}


def _paired_forward(f: nn.Module, *xs: torch.Tensor) -> list[torch.Tensor]:
    """One head pass over several batches at once, so BatchNorm sees the modalities it serves together."""
    out = f(torch.cat(xs))
    return list(out.split([len(x) for x in xs]))


def fit_cmcr(data: ConnectionData, cfg: CMCRConfig | None = None, kind: str = "cmcr-clap-clip",
             progress: ProgressFn | None = None) -> tuple[nn.Module, History]:
    """Train C-MCR heads on `data`; returns (heads in released layout, eval mode) and the history."""
    cfg = cfg or CMCRConfig()
    with cpu_threads(cfg.threads):
        return _fit(data, cfg, kind, progress, oracle=False)


def fit_cmcr_oracle(data: ConnectionData, cfg: CMCRConfig | None = None, kind: str = "cmcr-clap-clip",
                    progress: ProgressFn | None = None) -> tuple[nn.Module, History]:
    """Paired oracle: the same heads and loss, with TRUE tuples (pairs + their overlap) instead of pseudo ones."""
    cfg = cfg or CMCRConfig()
    with cpu_threads(cfg.threads):
        return _fit(data, cfg, kind, progress, oracle=True)


def _fit(data: ConnectionData, cfg: CMCRConfig, kind: str, progress: ProgressFn | None,
         oracle: bool) -> tuple[nn.Module, History]:
    device = resolve_device(cfg.device)
    gen = seed_all(cfg.seed, device)
    heads = build_heads(kind, data.dim_a, data.dim_b, getattr(cfg, "out_dim", 0)).to(device)
    fa, fb = sides(heads, kind)
    use_partners = cfg.use_pseudo or oracle
    if oracle:
        t = data.true_tuples()
        ta, tb, va, vb = (to_tensor(t[k], device) for k in ("o_a", "o_b", "m_a", "m_b"))
    else:
        ta, tb = to_tensor(data.overlap_a, device), to_tensor(data.overlap_b, device)
        if use_partners:
            va = pseudo_embeddings(data.overlap_a, data.memory_a, cfg.tau_mem, chunk=cfg.chunk, device=device)
            vb = pseudo_embeddings(data.overlap_b, data.memory_b, cfg.tau_mem, chunk=cfg.chunk, device=device)
    sigma = cfg.sigma if cfg.use_noise else 0.0

    def step(idx: torch.Tensor) -> tuple[torch.Tensor, dict[str, float]]:
        xa, xb = add_noise(ta[idx], sigma, gen), add_noise(tb[idx], sigma, gen)
        if not use_partners:
            za, zb = fa(xa), fb(xb)
            inter = info_nce(za, zb, cfg.tau)
            return inter, {"inter": float(inter.detach())}
        pa, pb = add_noise(va[idx], sigma, gen), add_noise(vb[idx], sigma, gen)
        za, zpa = _paired_forward(fa, xa, pa)
        zb, zpb = _paired_forward(fb, xb, pb)
        inter = info_nce(za, zb, cfg.tau)
        if cfg.pseudo_inter:
            inter = inter + info_nce(zpa, zpb, cfg.tau)
        parts = {"inter": float(inter.detach())}
        loss = inter
        if cfg.use_intra:
            intra = intra_mse(za, zpa) + intra_mse(zb, zpb)
            loss = loss + cfg.lam * intra
            parts["intra"] = float(intra.detach())
        return loss, parts

    history = train_loop(heads, len(ta), cfg, device, gen, step, _validator(data, fa, fb, device), progress)
    return heads.cpu().eval(), history
