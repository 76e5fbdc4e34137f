"""Why this result: the route an input and a hit took into the shared space, and whether the pair is emergent.

An emergent hit (audio -> 3D, say) pairs two modalities no single model saw together: the query went
audio -> CLAP encoder -> head into CLIP space, the hit 3D -> ULIP-2 encoder -> head into CLIP space, and
they met there. The hops are read from the space's routes (encoder family, head classes) when the space is
built, else from the declared topology (mcrsearch.topology); each input's share of the score is the
search's own decomposition (`Hit.inputs`: cosine, calibrated z, weighted contribution).
"""

from __future__ import annotations

from typing import Any

from mcrsearch.modality import Modality
from mcrsearch.topology import BASE, MCRS, within_mcr


def _mcr_of(modality: Modality) -> str:
    """The MCR that embeds a modality, the base first (image and text are CLIP's)."""
    if modality in MCRS[BASE].modalities:
        return BASE
    return next((m.name for m in MCRS.values() if modality in m.modalities), "")


def route_hops(modality: Modality, route: Any = None) -> list[str]:
    """The hops from a modality into the space: its encoder, then each head (in order)."""
    mcr = _mcr_of(modality)
    bridge = f" ({mcr.upper()}->{BASE.upper()})" if mcr and mcr != BASE else ""
    if route is not None:
        family = getattr(route.encoder, "family", type(route.encoder).__name__)
        encoder = f"{family} encoder" + (f" [{mcr.upper()}]" if mcr and family != mcr else "")
        heads = [type(h).__name__ + bridge for h in getattr(route, "heads", ())]
    else:
        encoder = f"{mcr.upper() or modality.value} encoder"
        heads = [f"head{bridge}"] if bridge else []
    return [encoder, *heads]


def path(query: Modality, target: Modality, space: str, routes: dict[Modality, Any] | None = None) -> dict[str, Any]:
    """{"emergent": no model was trained on (query, target) pairs, "path": the hops, query side first}."""
    routes = routes or {}
    q_hops = route_hops(query, routes.get(query))
    t_hops = route_hops(target, routes.get(target))
    return {"emergent": query != target and not within_mcr(query, target),
            "path": [query.value, *q_hops, f"{space} space", *reversed(t_hops), target.value]}
