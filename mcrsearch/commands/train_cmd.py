"""`mcrsearch train cmcr|exmcr`: learn C-MCR / Ex-MCR projector heads from unpaired data.

Light module: the trainer (torch) is imported inside the command only.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, List, Optional

import typer
from rich.progress import TextColumn

from mcrsearch.commands.common import console, print_json
from mcrsearch.commands.common import settings as get_settings
from mcrsearch.commands.progress import Bars
from mcrsearch.errors import ConfigError


def train(
    ctx: typer.Context,
    method: str = typer.Argument(..., help="cmcr (two MCRs into a new space) or exmcr (a leaf MCR into the base)."),
    config: Optional[Path] = typer.Option(None, "--config", help="Training TOML: keys at top level, or in a train, cmcr or exmcr table."),
    miniworld: bool = typer.Option(False, "--miniworld", help="Train both connections on the mini-world."),
    features: Optional[Path] = typer.Option(None, "--features", help=".npz of cached arrays (overlap_a, overlap_b, memory_a, memory_b, val_*)."),
    leaf: Optional[str] = typer.Option(None, "--leaf", help="MCR A / the leaf: clap or ulip."),
    base: Optional[str] = typer.Option(None, "--base", help="MCR B / the base: clip."),
    overlap: List[str] = typer.Option([], "--overlap", help="Files of the shared modality (folder, file or @list)."),
    leaf_memory: List[str] = typer.Option([], "--leaf-memory", help="Unpaired files of the leaf's other modality."),
    base_memory: List[str] = typer.Option([], "--base-memory", help="Unpaired files of the base's other modality."),
    val_leaf: List[str] = typer.Option([], "--val-leaf", help="Held-out leaf files; class = parent folder name."),
    val_base: List[str] = typer.Option([], "--val-base", help="Held-out base files; class = parent folder name."),
    kind: Optional[str] = typer.Option(None, "--kind", help="C-MCR head layout: cmcr-clap-clip, cmcr-ulip-clip or generic."),
    out: Optional[Path] = typer.Option(None, "--out", help="Output folder (default <home>/trained/<method>-<time>)."),
    name: Optional[str] = typer.Option(None, "--name", help="Checkpoint file name (default: the released name)."),
    tau_mem: Optional[float] = typer.Option(None, "--tau-mem", help="Pseudo-partner softmax temperature."),
    sigma: Optional[float] = typer.Option(None, "--sigma", help="Semantic-completion noise std per dimension."),
    tau: Optional[float] = typer.Option(None, "--tau", help="InfoNCE temperature."),
    lam: Optional[float] = typer.Option(None, "--lambda", help="Weight of the intra-MCR alignment."),
    lr: Optional[float] = typer.Option(None, "--lr", help="AdamW learning rate."),
    weight_decay: Optional[float] = typer.Option(None, "--weight-decay", help="AdamW weight decay."),
    batch_size: Optional[int] = typer.Option(None, "--batch-size", help="Training batch size."),
    epochs: Optional[int] = typer.Option(None, "--epochs", help="Epochs over the training rows."),
    steps: Optional[int] = typer.Option(None, "--steps", help="Exact optimiser steps (overrides --epochs)."),
    warmup_steps: Optional[int] = typer.Option(None, "--warmup-steps", help="Linear warm-up steps."),
    cosine: Optional[bool] = typer.Option(None, "--cosine/--no-cosine", help="Cosine learning-rate decay."),
    seed: Optional[int] = typer.Option(None, "--seed", help="Random seed."),
    threads: Optional[int] = typer.Option(None, "--threads", help="CPU threads for training (0 = torch default)."),
    chunk: Optional[int] = typer.Option(None, "--chunk", help="Memory rows per pseudo-embedding chunk."),
    val_every: Optional[int] = typer.Option(None, "--val-every", help="Steps between validations (0 = each epoch)."),
    pseudo: Optional[bool] = typer.Option(None, "--pseudo/--no-pseudo", help="Ablation: pseudo partners."),
    noise: Optional[bool] = typer.Option(None, "--noise/--no-noise", help="Ablation: semantic-completion noise."),
    intra: Optional[bool] = typer.Option(None, "--intra/--no-intra", help="Ablation: intra-MCR alignment."),
    dense: Optional[bool] = typer.Option(None, "--dense/--single-pair", help="Ex-MCR ablation: dense or overlap-only alignment."),
    various: Optional[bool] = typer.Option(None, "--various-centric/--overlap-centric", help="Ex-MCR ablation: tuple starts."),
    intra_loss: Optional[str] = typer.Option(None, "--intra-loss", help="Ex-MCR intra loss: mse or infonce."),
    max_tuples: Optional[int] = typer.Option(None, "--max-tuples", help="Ex-MCR cap on pooled tuples (0 = all)."),
    out_dim: Optional[int] = typer.Option(None, "--out-dim", help="C-MCR shared-space dimension (0 = base's)."),
    json_out: bool = typer.Option(False, "--json", help="Print the result as JSON on stdout."),
) -> None:
    """Train projector heads; writes the checkpoint (released key layout), a JSON sidecar and PNG curves."""

    method = method.lower()
    if method not in ("cmcr", "exmcr"):
        raise ConfigError(f"Unknown training method '{method}'; use cmcr or exmcr.")
    s = get_settings(ctx)
    from mcrsearch_trainer.config import CMCRConfig, ExMCRConfig, load_config

    overrides: dict[str, Any] = dict(tau_mem=tau_mem, sigma=sigma, tau=tau, lam=lam, lr=lr, weight_decay=weight_decay,
                     batch_size=batch_size, epochs=epochs, steps=steps, warmup_steps=warmup_steps, cosine=cosine,
                     seed=seed, threads=threads, chunk=chunk, val_every=val_every, use_pseudo=pseudo, use_noise=noise,
                     use_intra=intra)
    if (ctx.find_root().obj or {}).get("device"):
        overrides["device"] = s.device
    if method == "exmcr":
        overrides.update(dense=dense, various_centric=various, intra_loss=intra_loss, max_tuples=max_tuples)
        cfg = load_config(ExMCRConfig, config, **overrides)
    else:
        overrides.update(out_dim=out_dim)
        cfg = load_config(CMCRConfig, config, **overrides)

    if miniworld:
        result = _train_miniworld(s, method, cfg)
    else:
        result = _train_one(s, method, cfg, features, leaf, base, overlap, leaf_memory, base_memory,
                            val_leaf, val_base, kind, out, name)
    if json_out:
        print_json(result)


def _train_one(s, method, cfg, features, leaf, base, overlap, leaf_memory, base_memory, val_leaf, val_base,
               kind, out, name) -> dict:
    from mcrsearch_trainer import run

    if features is not None:
        data = run.data_from_npz(features)
    elif leaf and base and overlap and leaf_memory and base_memory:
        with Bars() as bars:
            data = run.data_from_files(leaf, base, overlap, leaf_memory, base_memory, val_leaf, val_base, s,
                                       progress=bars.tracker)
    else:
        raise ConfigError("Give training data: --features FILE.npz, --miniworld, or --leaf/--base with "
                          "--overlap, --leaf-memory and --base-memory.")
    kind = kind or run.cmcr_kind(leaf, base)
    name = name or run.released_name(method, leaf, base) or f"{method}_head.pt"
    out_dir = Path(out) if out else run.default_out_dir(s, method)
    console.print(f"training {method} on {data.summary()}")

    with Bars(TextColumn("loss {task.fields[loss]:.4f}")) as bars:
        track = bars.tracker(method, loss=float("nan"))
        result = run.train_and_save(method, data, cfg, out_dir, name, kind=kind,
                                    progress=lambda step, total, loss: track(step, total, loss=loss))
    _report(result)
    return {k: v for k, v in result.items() if k not in ("module", "history")}


def _train_miniworld(s, method, cfg) -> dict:
    from mcrsearch.miniworld.connections import train_miniworld_connections

    result = train_miniworld_connections(None, None, s, method=method, config=cfg, log=console.print)
    emergent, oracle = result.get("emergent", {}), result.get("oracle", {})
    console.print("pair: mAP / R@1 (paired oracle mAP)")
    for key in sorted(k for k in emergent if k.endswith("/map")):
        pair = key.split("/")[0]
        extra = f" ({oracle[key]:.3f})" if key in oracle else ""
        console.print(f"  {pair}: {emergent[key]:.3f} / {emergent[pair + '/r@1']:.3f}{extra}")
    for leaf, path in result.get("heads", {}).items():
        console.print(f"[green]saved[/] {path}")
    return result


def _report(result: dict) -> None:
    console.print(f"[green]saved[/] {result['checkpoint']} ({result['steps']} steps, "
                  f"{result['samples_per_s']:.0f} samples/s); curves {result['curves']}")
    for key, value in sorted(result["metrics"].items()):
        if key.endswith(("/map", "/r@1")):
            console.print(f"  {key}: {value:.3f}")
