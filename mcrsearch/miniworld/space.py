"""The `miniworld` space: Ex-MCR over the mini MCRs, with mini-CLIP as the frozen base.

image, text -> mini-CLIP (raw); audio -> mini-CLAP -> ExMCRHead (heads/ex_clap.pt);
3d -> mini-ULIP -> ExMCRHead (heads/ex_ulip.pt). Which world, MCR checkpoints and heads it uses is read
from `<cache>/miniworld/current.json` (written by `mcrsearch demo`), so `mcrsearch index PATH --space
miniworld` works on any folder afterwards; the space fingerprint covers every checkpoint it loads.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from mcrsearch.errors import McrError, WeightsInvalidError
from mcrsearch.modality import Modality
from mcrsearch.space import Route, Space, register_space

if TYPE_CHECKING:
    from mcrsearch.config import Settings

NAME = "miniworld"
_DEMO_HINT = "run `mcrsearch demo` first"


def _load_head(path: Path, leaf_dim: int, base_dim: int, device: Any):
    import torch

    from mcrsearch.heads import ExMCRHead, load_head_state

    if not path.is_file():
        raise McrError(f"The mini-world head {path} is missing; {_DEMO_HINT}.")
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:  # noqa: BLE001
        raise WeightsInvalidError(f"{path} is not a readable head checkpoint ({type(exc).__name__}).") from exc
    if isinstance(state, dict) and "state_dict" in state and isinstance(state["state_dict"], dict):
        state = state["state_dict"]
    head = load_head_state(ExMCRHead(leaf_dim=leaf_dim, base_dim=base_dim), state, source=str(path))
    return head.to(device).eval()


def build_miniworld_space(settings: "Settings", current: dict | None = None, device: Any = None) -> Space:
    from mcrsearch.device import pick_device
    from mcrsearch.encoders.mini import build
    from mcrsearch.miniworld.mcrs import MESH_POINTS, read_current

    current = current or read_current(settings)
    if not current:
        raise McrError(f"No mini-world has been trained on this machine yet; {_DEMO_HINT}.")
    if device is None:   # tiny models: CPU unless a device is asked for explicitly (same vectors everywhere)
        device = pick_device("cpu" if settings.device in ("", "auto") else settings.device)
    ckpts = current["checkpoints"]
    for name in ("clip", "clap", "ulip"):
        if not Path(ckpts[name]).is_file():
            raise McrError(f"The mini-{name} checkpoint {ckpts[name]} is missing; {_DEMO_HINT}.")
    clip = build("clip", checkpoint=ckpts["clip"], device=device)
    clap = build("clap", checkpoint=ckpts["clap"], device=device)
    ulip = build("ulip", checkpoint=ckpts["ulip"], device=device)
    heads = current["heads"]
    clap_head = _load_head(Path(heads["clap"]), clap.dim, clip.dim, device)
    ulip_head = _load_head(Path(heads["ulip"]), ulip.dim, clip.dim, device)
    routes = {Modality.IMAGE: Route(clip), Modality.TEXT: Route(clip),
              Modality.AUDIO: Route(clap, (clap_head,)), Modality.POINTS: Route(ulip, (ulip_head,))}
    space = Space(NAME, routes, dim=clip.dim, mesh_points=MESH_POINTS,
                  description=f"mini-world {current.get('world_key', '?')}: Ex-MCR, mini-CLIP base "
                              f"({clip.dim}-d), mini-CLAP and mini-ULIP through trained heads")
    space.source = dict(current)          # which world / checkpoints / heads this space was built from
    return space


@register_space(NAME)
def _builder(settings: "Settings") -> Space:
    return build_miniworld_space(settings)
