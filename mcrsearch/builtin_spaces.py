"""The built-in spaces over the real encoders and the released heads.

- `clip`: raw CLIP ViT-B/32 (image, text).
- `exmcr`: Ex-MCR's unified space = CLIP space; CLAP audio and ULIP-2 point clouds come in through the
  released Ex-MCR heads (`ex_clap.pt`, `ex_ulip.pt`).
- `cmcr-clap-clip`: C-MCR audio-visual-text space (CLAP audio via Head_A, CLIP image/text via Head_B).
- `cmcr-ulip-clip`: C-MCR 3D-image-text space (ULIP-2 points via Head_B, CLIP image/text via Head_A).

Every builder resolves all of its weights first, so a missing file fails at once with one sentence naming
it and the command that gets it, before any heavy library is imported.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from mcrsearch.errors import ConfigError
from mcrsearch.modality import Modality
from mcrsearch.space import Route, Space

if TYPE_CHECKING:
    from mcrsearch.config import Settings

DIM = 512


def _resolve(settings: "Settings", *names: str) -> dict[str, Any]:
    from mcrsearch import weights

    return weights.resolve_all(names, settings)      # every missing artifact named in one message


def real_encoder(mcr: str, settings: "Settings", device: Any = None, paths: dict[str, Any] | None = None,
                 leaf_only: bool = False):
    """The real encoder of an MCR (`mcrsearch.topology.MCRS` name), weights from the catalog.

    Args:
        mcr: clip, clap or ulip.
        settings: where the weights live.
        device: a torch device; default the settings' device.
        paths: artifact name -> resolved path, when the caller resolved them already.
        leaf_only: the encoder serves only the leaf's own modality (audio, 3D): artifacts needed only for
            the shared modality (CLAP's text tokenizer) are neither required nor loaded.
    """
    from mcrsearch.encoders import create_encoder
    from mcrsearch.topology import MCRS

    if mcr not in MCRS:
        raise ConfigError(f"Unknown MCR '{mcr}'; use {', '.join(MCRS)}.")
    spec = MCRS[mcr]
    artifacts = used_artifacts(mcr, leaf_only)
    paths = paths or _resolve(settings, *artifacts.values())
    kwargs: dict[str, Any] = {key: str(paths[artifact]) for key, artifact in artifacts.items()}
    if leaf_only and spec.shared_only_artifacts:
        kwargs[spec.shared_only_switch] = False
    return create_encoder(spec.family, device=device if device is not None else _device(settings), **kwargs)


def used_artifacts(mcr: str, leaf_only: bool = False) -> dict[str, str]:
    """Builder keyword -> artifact an MCR's encoder needs (without the shared-modality-only ones for a leaf)."""
    from mcrsearch.topology import MCRS

    spec = MCRS[mcr]
    return {k: a for k, a in spec.artifacts.items() if not (leaf_only and k in spec.shared_only_artifacts)}


def required_artifacts(space: str) -> list[str]:
    """The weights artifacts a built-in real space needs, in order, without building it (what its builder
    resolves; `mcrsearch weights check` names every missing one of several spaces at once)."""
    from mcrsearch.topology import BASE, CONNECTIONS, MCRS

    base = list(MCRS[BASE].artifacts.values())
    if space == "clip":
        return base
    if space == "exmcr":
        leaves = [a for leaf in CONNECTIONS for a in used_artifacts(leaf, leaf_only=True).values()]
        return base + leaves + [conn.artifacts["exmcr"] for conn in CONNECTIONS.values()]
    for leaf, conn in CONNECTIONS.items():
        if space == conn.artifacts["cmcr"]:
            return list(MCRS[conn.base].artifacts.values()) + list(used_artifacts(leaf, leaf_only=True).values()) \
                + [conn.artifacts["cmcr"]]
    raise ConfigError(f"'{space}' is not a built-in real space; use {', '.join(REAL_SPACES)}.")


def _head(name: str, settings: "Settings", device: Any):
    from mcrsearch.weights import load_released_head

    return load_released_head(name, settings).to(device).eval()


def _device(settings: "Settings"):
    from mcrsearch.device import pick_device

    return pick_device(settings.device)


def build_clip(settings: "Settings") -> Space:
    paths = _resolve(settings, *required_artifacts("clip"))
    device = _device(settings)
    clip = real_encoder("clip", settings, device, paths)
    return Space("clip", {Modality.IMAGE: Route(clip), Modality.TEXT: Route(clip)}, DIM,
                 description="raw CLIP ViT-B/32 (OpenAI): image and text")


def build_exmcr(settings: "Settings") -> Space:
    """Ex-MCR's unified space: the base (CLIP) as it is, every leaf through its released Ex-MCR head."""
    from mcrsearch.topology import BASE, CONNECTIONS, MCRS

    paths = _resolve(settings, *required_artifacts("exmcr"))
    device = _device(settings)
    base = real_encoder(BASE, settings, device, paths)
    routes = {m: Route(base) for m in MCRS[BASE].modalities}
    for leaf, conn in CONNECTIONS.items():
        head = _head(conn.artifacts["exmcr"], settings, device)
        routes[conn.leaf_other] = Route(real_encoder(leaf, settings, device, paths, leaf_only=True), (head,))
    return Space("exmcr", routes, DIM, description="Ex-MCR: CLAP and ULIP-2 extended into CLIP space")


# What each C-MCR space serves, in words (`Space.description`).
_CMCR_DESCRIPTIONS = {"clap": "C-MCR connecting CLAP and CLIP: audio, image, text",
                      "ulip": "C-MCR connecting ULIP-2 and CLIP: 3D, image, text"}


def build_cmcr(leaf: str, settings: "Settings") -> Space:
    """The C-MCR space of a declared connection (`mcrsearch.topology`): a new space that the leaf's own
    modality and both of the base's modalities enter through the released heads."""
    from mcrsearch.heads import Normalized
    from mcrsearch.topology import CONNECTIONS, MCRS

    conn = CONNECTIONS[leaf]
    name = conn.artifacts["cmcr"]
    paths = _resolve(settings, *required_artifacts(name))
    device = _device(settings)
    heads = _head(name, settings, device)
    base = real_encoder(conn.base, settings, device, paths)
    base_side = Normalized(heads.side(conn.base))
    routes = {m: Route(base, (base_side,)) for m in MCRS[conn.base].modalities}
    routes[conn.leaf_other] = Route(real_encoder(leaf, settings, device, paths, leaf_only=True),
                                    (Normalized(heads.side(leaf)),))
    return Space(name, routes, DIM, description=_CMCR_DESCRIPTIONS[leaf])


def build_cmcr_clap_clip(settings: "Settings") -> Space:
    return build_cmcr("clap", settings)


def build_cmcr_ulip_clip(settings: "Settings") -> Space:
    return build_cmcr("ulip", settings)


REAL_SPACES = ("clip", "exmcr", "cmcr-clap-clip", "cmcr-ulip-clip")
