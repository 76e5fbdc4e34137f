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

from mcrsearch.modality import Modality
from mcrsearch.space import Route, Space, register_space

if TYPE_CHECKING:
    from mcrsearch.config import Settings

DIM = 512


def _resolve(settings: "Settings", *names: str) -> dict[str, Any]:
    from mcrsearch import weights

    return {name: weights.resolve(name, settings) for name in names}


def _clip(paths: dict[str, Any], device: Any):
    from mcrsearch.encoders import create_encoder

    return create_encoder("openclip", checkpoint=str(paths["clip-vit-b-32-openai"]), device=device)


def _clap(paths: dict[str, Any], device: Any):
    from mcrsearch.encoders import create_encoder

    # Audio only: every route here embeds text with CLIP, so CLAP's tokenizer files are not required.
    return create_encoder("clap", checkpoint=str(paths["clap-630k-fusion-best"]), text=False, device=device)


def _ulip(paths: dict[str, Any], device: Any):
    from mcrsearch.encoders import create_encoder

    return create_encoder("ulip2", checkpoint=str(paths["ulip2-pointbert"]), device=device)


def _head(name: str, settings: "Settings", device: Any):
    from mcrsearch.weights import load_released_head

    return load_released_head(name, settings).to(device).eval()


def _device(settings: "Settings"):
    from mcrsearch.device import pick_device

    return pick_device(settings.device)


@register_space("clip")
def build_clip(settings: "Settings") -> Space:
    paths = _resolve(settings, "clip-vit-b-32-openai")
    device = _device(settings)
    clip = _clip(paths, device)
    return Space("clip", {Modality.IMAGE: Route(clip), Modality.TEXT: Route(clip)}, DIM,
                 description="raw CLIP ViT-B/32 (OpenAI): image and text")


@register_space("exmcr")
def build_exmcr(settings: "Settings") -> Space:
    paths = _resolve(settings, "clip-vit-b-32-openai", "clap-630k-fusion-best",
                     "ulip2-pointbert", "exmcr-clap", "exmcr-ulip")
    device = _device(settings)
    ex_clap, ex_ulip = _head("exmcr-clap", settings, device), _head("exmcr-ulip", settings, device)
    clip = _clip(paths, device)
    routes = {
        Modality.IMAGE: Route(clip),
        Modality.TEXT: Route(clip),
        Modality.AUDIO: Route(_clap(paths, device), (ex_clap,)),
        Modality.POINTS: Route(_ulip(paths, device), (ex_ulip,)),
    }
    return Space("exmcr", routes, DIM, description="Ex-MCR: CLAP and ULIP-2 extended into CLIP space")


@register_space("cmcr-clap-clip")
def build_cmcr_clap_clip(settings: "Settings") -> Space:
    from mcrsearch.heads import Normalized

    paths = _resolve(settings, "clip-vit-b-32-openai", "clap-630k-fusion-best",
                     "cmcr-clap-clip")
    device = _device(settings)
    heads = _head("cmcr-clap-clip", settings, device)
    clip = _clip(paths, device)
    clip_side = Normalized(heads.side("clip"))
    routes = {
        Modality.IMAGE: Route(clip, (clip_side,)),
        Modality.TEXT: Route(clip, (clip_side,)),
        Modality.AUDIO: Route(_clap(paths, device), (Normalized(heads.side("clap")),)),
    }
    return Space("cmcr-clap-clip", routes, DIM, description="C-MCR connecting CLAP and CLIP: audio, image, text")


@register_space("cmcr-ulip-clip")
def build_cmcr_ulip_clip(settings: "Settings") -> Space:
    from mcrsearch.heads import Normalized

    paths = _resolve(settings, "clip-vit-b-32-openai", "ulip2-pointbert", "cmcr-ulip-clip")
    device = _device(settings)
    heads = _head("cmcr-ulip-clip", settings, device)
    clip = _clip(paths, device)
    clip_side = Normalized(heads.side("clip"))
    routes = {
        Modality.IMAGE: Route(clip, (clip_side,)),
        Modality.TEXT: Route(clip, (clip_side,)),
        Modality.POINTS: Route(_ulip(paths, device), (Normalized(heads.side("ulip")),)),
    }
    return Space("cmcr-ulip-clip", routes, DIM, description="C-MCR connecting ULIP-2 and CLIP: 3D, image, text")


REAL_SPACES = ("clip", "exmcr", "cmcr-clap-clip", "cmcr-ulip-clip")
