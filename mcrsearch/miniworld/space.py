"""The mini-world spaces: the mini MCRs connected by heads trained with `mcrsearch demo`.

- `miniworld` (Ex-MCR, mini-CLIP as the frozen base): image, text -> mini-CLIP (raw); audio -> mini-CLAP ->
  ExMCRHead (heads/ex_clap.pt); 3d -> mini-ULIP -> ExMCRHead (heads/ex_ulip.pt).
- `miniworld-oracle`: the same routes with the paired oracle's Ex-MCR heads (heads/oracle_ex_*.pt).
- `miniworld-cmcr-clap-clip` (C-MCR): audio -> mini-CLAP -> Head_A; image, text -> mini-CLIP -> Head_B
  (heads/clap_clip.pt). `miniworld-cmcr-ulip-clip`: 3d -> mini-ULIP -> Head_B; image, text -> mini-CLIP
  -> Head_A (heads/ulip_clip.pt). C-MCR makes one new space per connection, hence two spaces.
Which world, MCR checkpoints and heads they use is read from `<cache>/miniworld/current.json` (written by
`mcrsearch demo`), so `mcrsearch index PATH --space miniworld` works on any folder afterwards; a space's
fingerprint covers every checkpoint it loads.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from mcrsearch.errors import McrError
from mcrsearch.miniworld.world import MESH_POINTS
from mcrsearch.space import Route, Space
from mcrsearch.topology import BASE, CONNECTIONS, MCRS

if TYPE_CHECKING:
    from mcrsearch.config import Settings

NAME = "miniworld"
ORACLE_NAME = "miniworld-oracle"
CMCR_CLAP_NAME = "miniworld-cmcr-clap-clip"
CMCR_ULIP_NAME = "miniworld-cmcr-ulip-clip"
# What each space is, for benchmark reports.
LABELS = {NAME: "Ex-MCR", ORACLE_NAME: "Ex-MCR paired oracle", CMCR_CLAP_NAME: "C-MCR CLAP-CLIP",
          CMCR_ULIP_NAME: "C-MCR ULIP-CLIP"}
_DEMO_HINT = "run `mcrsearch demo` first"


class HeadsMissingError(McrError):
    """A mini-world space's trained heads are not on disk (the benchmark skips such a space with a note)."""


def _read_state(path: Path) -> dict:
    from mcrsearch.checkpoint import read_state_dict

    if not path.is_file():
        raise HeadsMissingError(f"The mini-world head {path} is missing; {_DEMO_HINT}.")
    return read_state_dict(path, "head")


def _load_head(path: Path, leaf_dim: int, base_dim: int, device: Any):
    from mcrsearch.heads import ExMCRHead, load_head_state

    state = _read_state(path)
    head = load_head_state(ExMCRHead(leaf_dim=leaf_dim, base_dim=base_dim), state, source=str(path))
    return head.to(device).eval()


def _load_cmcr(path: Path, kind: str, clip_dim: int, leaf_dim: int, device: Any):
    """C-MCR heads as the trainer saved them (released layout); the shared space's size is read from the
    file, since the trainer's `out_dim` (0 = mini-CLIP's dimension) may have been changed."""
    from mcrsearch.heads import CMCRClapClipHeads, CMCRUlipClipHeads, load_head_state

    state = _read_state(path)
    if kind == "clap":
        key = "Head_A.net2.0.weight"
        out = int(state[key].shape[0]) if key in state else clip_dim
        module: Any = CMCRClapClipHeads(clap_dim=leaf_dim, clip_dim=clip_dim, out_dim=out)
    else:
        key = "Head_A.net.0.weight"
        out = int(state[key].shape[0]) if key in state else clip_dim
        module = CMCRUlipClipHeads(clip_dim=clip_dim, ulip_dim=leaf_dim, out_dim=out)
    return load_head_state(module, state, source=str(path)).to(device).eval(), out


def _encoders(settings: "Settings", current: dict | None, device: Any) -> tuple[dict, Any, dict]:
    """(current record, device, {"clip", "clap", "ulip": mini encoder}) or a clear refusal."""
    from mcrsearch.device import pick_device
    from mcrsearch.miniworld.encoder import build
    from mcrsearch.miniworld.record import read_current

    current = current or read_current(settings)
    if not current:
        raise McrError(f"No mini-world has been trained on this machine yet; {_DEMO_HINT}.")
    if device is None:   # tiny models: CPU unless a device is asked for explicitly (same vectors everywhere)
        device = pick_device("cpu" if settings.device in ("", "auto") else settings.device)
    ckpts = current["checkpoints"]
    for name in MCRS:
        if not Path(ckpts[name]).is_file():
            raise McrError(f"The mini-{name} checkpoint {ckpts[name]} is missing; {_DEMO_HINT}.")
    return current, device, {name: build(name, checkpoint=ckpts[name], device=device) for name in ckpts}


def _head_paths(current: dict, key: str, name: str) -> dict:
    heads = current.get(key)
    if not heads:   # a record written before this space existed
        raise HeadsMissingError(f"The heads of the '{name}' space are not recorded; {_DEMO_HINT}.")
    return heads


def _finish(space: Space, name: str, current: dict) -> Space:
    space.label = LABELS[name]            # what the benchmark report calls it
    space.source = dict(current)          # which world / checkpoints / heads this space was built from
    return space


def build_miniworld_space(settings: "Settings", current: dict | None = None, device: Any = None,
                          oracle: bool = False) -> Space:
    """The Ex-MCR space (or, with `oracle`, the same routes with the paired oracle's heads)."""
    current, device, enc = _encoders(settings, current, device)
    clip = enc[BASE]
    name = ORACLE_NAME if oracle else NAME
    heads = _head_paths(current, "oracle_heads" if oracle else "heads", name)
    routes = {m: Route(clip) for m in MCRS[BASE].modalities}
    for leaf, conn in CONNECTIONS.items():
        head = _load_head(Path(heads[leaf]), enc[leaf].dim, clip.dim, device)
        routes[conn.leaf_other] = Route(enc[leaf], (head,))
    what = "Ex-MCR paired oracle (heads trained on true cross-modal pairs)" if oracle else "Ex-MCR"
    space = Space(name, routes, dim=clip.dim, mesh_points=MESH_POINTS,
                  description=f"mini-world {current.get('world_key', '?')}: {what}, mini-CLIP base "
                              f"({clip.dim}-d), mini-CLAP and mini-ULIP through trained heads")
    return _finish(space, name, current)


def build_cmcr_space(settings: "Settings", leaf: str, current: dict | None = None, device: Any = None) -> Space:
    """One C-MCR space: mini-`leaf` (clap or ulip) and mini-CLIP, both projected into the new shared space."""
    from mcrsearch.heads import Normalized
    current, device, enc = _encoders(settings, current, device)
    conn = CONNECTIONS[leaf]
    name = CMCR_CLAP_NAME if leaf == "clap" else CMCR_ULIP_NAME
    path = Path(_head_paths(current, "cmcr_heads", name)[leaf])
    heads, out = _load_cmcr(path, leaf, enc[conn.base].dim, enc[leaf].dim, device)
    leaf_side, base_side = Normalized(heads.side(leaf)), Normalized(heads.side(conn.base))
    routes = {m: Route(enc[conn.base], (base_side,)) for m in MCRS[conn.base].modalities}
    routes[conn.leaf_other] = Route(enc[leaf], (leaf_side,))
    space = Space(name, routes, dim=out, mesh_points=MESH_POINTS,
                  description=f"mini-world {current.get('world_key', '?')}: C-MCR {leaf.upper()}-CLIP, a new "
                              f"{out}-d space; mini-{leaf.upper()} and mini-CLIP through trained heads")
    return _finish(space, name, current)


def build_default(settings: "Settings") -> Space:
    return build_miniworld_space(settings)


def build_oracle(settings: "Settings") -> Space:
    return build_miniworld_space(settings, oracle=True)


def build_cmcr_clap(settings: "Settings") -> Space:
    return build_cmcr_space(settings, "clap")


def build_cmcr_ulip(settings: "Settings") -> Space:
    return build_cmcr_space(settings, "ulip")
