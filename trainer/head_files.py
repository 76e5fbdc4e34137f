"""Write a trained head the way the released checkpoints are written, plus provenance and curves.

The `.pt` file is a bare state dict with the released key layout (`Head_A.*`/`Head_B.*` or
`Head1.*`/`Head2.*`), so `mcrsearch weights import` and the engine load it like an official file.
The JSON sidecar (`<name>.json`) records config, data fingerprint and validation metrics.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import torch
from torch import nn

from mcrsearch.atomic import atomic_path, write_json_atomic
from mcrsearch.checkpoint import read_state_dict
from mcrsearch.heads import load_head_state


def save_checkpoint(module: nn.Module, path: str | Path, config: dict[str, Any] | None = None,
                    data_fingerprint: str | None = None, metrics: dict[str, float] | None = None,
                    extra: dict[str, Any] | None = None, history: Any = None) -> Path:
    """Save `module.state_dict()` (CPU tensors, bare) and its sidecar; return the checkpoint path."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    state = {k: v.detach().cpu().clone() for k, v in module.state_dict().items()}
    with atomic_path(path) as tmp:
        torch.save(state, tmp)
    sidecar = {"head": type(module).__name__, "keys": len(state), "config": config or {},
               "data_fingerprint": data_fingerprint, "metrics": metrics or {},
               "created": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()), **(extra or {})}
    if history is not None:
        sidecar["training"] = {"steps": len(history.steps), "final_loss": history.loss[-1] if history.loss else None,
                               "samples_per_s": history.samples_per_s, "seconds": history.seconds}
    write_json_atomic(sidecar_path(path), sidecar, indent=2, default=float)
    return path


def sidecar_path(path: str | Path) -> Path:
    path = Path(path)
    return path.with_name(path.stem + ".json")


def load_checkpoint(module: nn.Module, path: str | Path) -> nn.Module:
    """Strictly load a saved head into `module` (read safely, see `mcrsearch.checkpoint`) and switch it to eval."""
    state = read_state_dict(path, "head")
    return load_head_state(module, state, source=str(path))


def plot_curves(history: Any, path: str | Path, title: str = "") -> Path:
    """Loss (and its parts) per step and every validation metric per validation point, as one PNG."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(11, 4))
    ax1.plot(history.steps, history.loss, label="loss")
    for name, values in history.parts.items():
        ax1.plot(history.steps, values, label=name, alpha=0.7)
    ax1.set_xlabel("step")
    ax1.set_title("training loss")
    ax1.legend(fontsize=7)
    for name, values in history.val.items():
        if name.endswith(("/map", "/r@1")):
            ax2.plot(history.val_steps, values, marker=".", label=name)
    ax2.set_xlabel("step")
    ax2.set_title("validation (class-level)")
    ax2.set_ylim(0, 1)
    if history.val:
        ax2.legend(fontsize=7)
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    fig.savefig(path, dpi=90)
    plt.close(fig)
    return path
