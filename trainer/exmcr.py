"""Ex-MCR: extend a leaf MCR (A) into a frozen base MCR (B) through their overlapping modality.

Tuples `(m_a, o_a, o_b, m_b)` (leaf memory modality, leaf overlap, base overlap, base memory modality)
are built with every modality taking a turn as the query:
- overlap-centric: o_a, o_b are a real overlap item; m_a = p(o_a, M_a), m_b = p(o_b, M_b);
- leaf-centric: m_a is a real leaf-memory item; o_a = p(m_a, O_a), o_b = the same softmax weights applied
  to O_b (crossing spaces through the row-aligned overlap), m_b = p(o_b, M_b);
- base-centric: m_b is a real base-memory item; o_b = p(m_b, O_b), o_a = crossed to O_a, m_a = p(o_a, M_a).
The pooled tuples train the head: intra alignment through f_l (Head1) between m_a and o_a, and dense
InfoNCE between f_m(f_l(x)) for x in {m_a, o_a} and the frozen base vectors {o_b, m_b}.
Ablation `decoupled=False`: f_l starts random instead of at identity and the intra term acts on the final
outputs, i.e. one coupled head instead of the decoupled intra/inter projectors.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from mcrsearch.heads import ExMCRHead
from mcrsearch_trainer.config import ExMCRConfig
from mcrsearch_trainer.data import ConnectionData
from mcrsearch_trainer.evaluate import evaluate_set
from mcrsearch_trainer.loop import (History, ProgressFn, cpu_threads, info_nce, intra_mse, resolve_device, seed_all,
                                    to_tensor, train_loop)
from mcrsearch_trainer.pseudo import add_noise, cross_space_pseudo, pseudo_embeddings


@torch.no_grad()
def build_tuples(data: ConnectionData, cfg: ExMCRConfig, device: torch.device,
                 generator: torch.Generator | None = None) -> dict[str, torch.Tensor]:
    """Pool the various-modality-centric tuples as four row-aligned tensors m_a, o_a, o_b, m_b."""
    kw = {"chunk": cfg.chunk, "device": device}
    tm = cfg.tau_mem
    o_a, o_b = to_tensor(data.overlap_a, device), to_tensor(data.overlap_b, device)
    groups = [{"o_a": o_a, "o_b": o_b,
               "m_a": pseudo_embeddings(o_a, data.memory_a, tm, **kw),
               "m_b": pseudo_embeddings(o_b, data.memory_b, tm, **kw)}]
    if cfg.various_centric:
        m_a = to_tensor(data.memory_a, device)
        oa = pseudo_embeddings(m_a, data.overlap_a, tm, **kw)
        ob = cross_space_pseudo(m_a, data.overlap_a, data.overlap_b, tm, **kw)
        groups.append({"m_a": m_a, "o_a": oa, "o_b": ob, "m_b": pseudo_embeddings(ob, data.memory_b, tm, **kw)})
        m_b = to_tensor(data.memory_b, device)
        ob = pseudo_embeddings(m_b, data.overlap_b, tm, **kw)
        oa = cross_space_pseudo(m_b, data.overlap_b, data.overlap_a, tm, **kw)
        groups.append({"m_b": m_b, "o_b": ob, "o_a": oa, "m_a": pseudo_embeddings(oa, data.memory_a, tm, **kw)})
    tuples = {k: torch.cat([g[k] for g in groups]) for k in ("m_a", "o_a", "o_b", "m_b")}
    n = len(tuples["o_a"])
    if cfg.max_tuples and n > cfg.max_tuples:
        keep = torch.randperm(n, generator=generator, device=generator.device if generator else "cpu")
        keep = keep[:cfg.max_tuples].to(device)
        tuples = {k: v[keep] for k, v in tuples.items()}
    return tuples


def _validator(data: ConnectionData, head: ExMCRHead, device: torch.device):
    if not data.validation:
        return None
    return lambda: {k: v for vs in data.validation for k, v in evaluate_set(vs, head, None, device).items()}


def fit_exmcr(data: ConnectionData, cfg: ExMCRConfig | None = None,
              progress: ProgressFn | None = None) -> tuple[ExMCRHead, History]:
    """Train the leaf head into the frozen base; returns (ExMCRHead in eval mode, history)."""
    cfg = cfg or ExMCRConfig()
    with cpu_threads(cfg.threads):
        return _fit(data, cfg, progress, oracle=False)


def fit_exmcr_oracle(data: ConnectionData, cfg: ExMCRConfig | None = None,
                     progress: ProgressFn | None = None) -> tuple[ExMCRHead, History]:
    """Paired oracle: the same head and loss, with TRUE tuples (pairs + their overlap) instead of pseudo ones."""
    cfg = cfg or ExMCRConfig()
    with cpu_threads(cfg.threads):
        return _fit(data, cfg, progress, oracle=True)


def _fit(data: ConnectionData, cfg: ExMCRConfig, progress: ProgressFn | None,
         oracle: bool) -> tuple[ExMCRHead, History]:
    device = resolve_device(cfg.device)
    gen = seed_all(cfg.seed, device)
    head = ExMCRHead(data.dim_a, data.dim_b).to(device)
    if not cfg.decoupled:           # ablation: no identity start for f_l (a plain two-stage MLP head)
        head.Head1.reset_parameters()
    sigma = cfg.sigma if cfg.use_noise else 0.0
    use_partners = cfg.use_pseudo or oracle
    if oracle:
        t = {k: to_tensor(v, device) for k, v in data.true_tuples().items()}
    elif use_partners:
        t = build_tuples(data, cfg, device, gen)
    else:   # overlap pairs only: no partner exists for the other modalities
        t = {"o_a": to_tensor(data.overlap_a, device), "o_b": to_tensor(data.overlap_b, device)}

    def embed(*xs: torch.Tensor) -> tuple[list[torch.Tensor], list[torch.Tensor]]:
        """One pass through f_l then f_m for several leaf batches (BatchNorm sees them together)."""
        inner = head.intra(torch.cat(xs))
        out = F.normalize(head.Head2(inner), dim=-1)
        sizes = [len(x) for x in xs]
        return list(inner.split(sizes)), list(out.split(sizes))

    def step(idx: torch.Tensor) -> tuple[torch.Tensor, dict[str, float]]:
        o_a, o_b = add_noise(t["o_a"][idx], sigma, gen), t["o_b"][idx]
        if not use_partners:
            (_,), (z_o,) = embed(o_a)
            loss = info_nce(z_o, o_b, cfg.tau)
            return loss, {"inter": float(loss.detach())}
        m_a, m_b = add_noise(t["m_a"][idx], sigma, gen), t["m_b"][idx]
        (l_m, l_o), (z_m, z_o) = embed(m_a, o_a)
        if cfg.dense:
            inter = (info_nce(z_m, o_b, cfg.tau) + info_nce(z_o, o_b, cfg.tau)
                     + info_nce(z_m, m_b, cfg.tau) + info_nce(z_o, m_b, cfg.tau)) / 2.0
        else:
            inter = info_nce(z_o, o_b, cfg.tau)
        parts = {"inter": float(inter.detach())}
        loss = inter
        if cfg.use_intra:
            n_m, n_o = F.normalize(l_m, dim=-1), F.normalize(l_o, dim=-1)   # scale-free: f_l cannot just shrink
            if not cfg.decoupled:   # coupled: the intra alignment acts on the head's final outputs
                n_m, n_o = z_m, z_o
            if cfg.intra_loss == "infonce":
                intra = info_nce(n_m, n_o, cfg.tau)
            else:
                intra = intra_mse(n_m, n_o)
            loss = loss + cfg.lam * intra
            parts["intra"] = float(intra.detach())
        return loss, parts

    history = train_loop(head, len(t["o_a"]), cfg, device, gen, step, _validator(data, head, device), progress)
    return head.cpu().eval(), history
