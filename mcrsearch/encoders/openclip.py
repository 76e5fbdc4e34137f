"""CLIP ViT-B/32 through open_clip, in the QuickGELU configuration the released heads were trained on.

The OpenAI weights come from a local file (the `clip-vit-b-32-openai` artifact), loaded weights-only.
A tiny random configuration ("tiny") runs through the same factory, transform and tokenizer for tests.
"""

from __future__ import annotations

import copy
import logging
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Iterator, Mapping

from mcrsearch.checkpoint import load_strict, read_state_dict, require_file
from mcrsearch.encoders.base import DenseFeatures, Encoder, load_weights
from mcrsearch.errors import ConfigError, WeightsInvalidError
from mcrsearch.modality import Modality

ARTIFACT = "clip-vit-b-32-openai"
BASE_MODEL = "ViT-B-32-quickgelu"   # OpenAI trained with QuickGELU; plain ViT-B-32 (GELU) gives other vectors

# A 1.6 M-parameter CLIP on the real code path; the vocabulary stays 49408 so the real BPE tokenizer fits.
TINY_OVERRIDES: dict[str, Any] = {
    "embed_dim": 32,
    "vision_cfg": {"image_size": 32, "patch_size": 8, "width": 32, "layers": 2, "head_width": 16},
    "text_cfg": {"context_length": 77, "vocab_size": 49408, "width": 32, "heads": 2, "layers": 2},
}
TINY_SEED = 0

# Keys of OpenAI's TorchScript state dict that are not parameters.
_JIT_EXTRAS = ("input_resolution", "context_length", "vocab_size")


class OpenCLIPEncoder(Encoder):
    """Images and texts into CLIP space with open_clip's own preprocessing and tokenizer."""

    family = "openclip"
    modalities = (Modality.IMAGE, Modality.TEXT)
    precision_modes = ("fp32", "bf16", "int8", "onnx")

    def __init__(self, model: Any, preprocess: Any, tokenizer: Any, config: Mapping[str, Any],
                 weights_id: str, device: Any, batch_size: int = 0) -> None:
        super().__init__(config, weights_id, device)
        self.model = model
        self.preprocess = preprocess
        self.tokenizer = tokenizer
        self.dim = int(model.visual.output_dim)
        self.batch_size = batch_size
        self.onnx_image: Any = None          # mode `onnx`: the image tower in ONNX Runtime (texts stay in torch)

    def enable_onnx(self, folder: Path) -> None:
        """The image tower (where indexing spends its time) exported once and run by ONNX Runtime in fp32."""
        import torch

        from mcrsearch.encoders import _onnx

        path = _onnx.cached_path(folder, "openclip-image", self.fingerprint)
        example = torch.zeros(1, 3, *_input_size(self.model.visual))
        self.onnx_image = _onnx.OnnxTower(_onnx.export(self.model.visual, (example,), path))

    def route_precision(self, modality: Modality) -> str:
        if self.precision == "onnx" and Modality.parse(modality) is not Modality.IMAGE:
            return "fp32"
        return self.precision

    def after_precision(self, mode: str) -> None:
        """open_clip reads its compute dtype from `mlp.c_fc.weight.dtype`, which an int8 Linear has no
        longer (its `weight` is a method): tell each residual block that it still computes in float32."""
        if mode != "int8":
            return
        import torch

        for module in self.model.modules():
            if hasattr(module, "get_weight_dtype"):
                module.get_weight_dtype = lambda: torch.float32

    def _encode_batch(self, modality: Modality, batch: list[Any]) -> Any:
        import torch

        if modality is Modality.IMAGE:
            pixels = self._inputs(torch.stack([self.preprocess(_as_rgb(img)) for img in batch]))
            if self.onnx_image is not None:
                return self.onnx_image(pixels.cpu().numpy())
            return self.model.encode_image(pixels)
        tokens = self.tokenizer([_as_text(t) for t in batch]).to(self.device)
        return self.model.encode_text(tokens)

    # "value": the last block's value path alone (no query-key attention, residual or MLP), then the final
    # LayerNorm and projection: the training-free dense-CLIP route of MaskCLIP (Zhou et al., ECCV 2022),
    # whose patch vectors stay local. "tokens": the ordinary output tokens through the same LayerNorm and
    # projection, which CLIP's global attention mixes across the picture (its CLS is the image vector).
    dense_methods = ("value", "tokens")

    def encode_dense(self, modality: Modality, item: Any, method: str = "") -> DenseFeatures:
        """Patch vectors of one image (the whole picture squashed to the model's input size, not cropped)."""
        import numpy as np
        import torch
        from PIL import Image

        method = self._dense_method(method)
        if Modality.parse(modality) is not Modality.IMAGE:
            raise ConfigError("CLIP gives part-level features for images only.")
        visual = self.model.visual
        if getattr(visual, "attn_pool", None) is not None or not hasattr(visual, "_embeds"):
            raise ConfigError("This CLIP vision tower has no patch tokens to explain a match with.")
        size = _input_size(visual)
        image = _as_rgb(item).resize((size[1], size[0]), Image.Resampling.BICUBIC)
        dtype = next(visual.parameters()).dtype
        with torch.inference_mode():
            pixels = self.preprocess(image).unsqueeze(0).to(self.device, dtype)
            x = _last_block_output(visual, visual._embeds(pixels), method)
            x = visual.ln_post(x)
            if visual.proj is not None:
                x = x @ visual.proj
            out = x[0].float().cpu().numpy()
        rows, cols = visual.grid_size
        ys, xs = np.meshgrid((np.arange(rows) + 0.5) / rows, (np.arange(cols) + 0.5) / cols, indexing="ij")
        centres = np.stack([xs.ravel(), ys.ravel()], axis=1).astype(np.float32)
        return DenseFeatures(vectors=out[1:], centres=centres, method=method, grid=(rows, cols),
                             cell=(1.0 / cols, 1.0 / rows), pooled=out[0] if method == "tokens" else None)


def _input_size(visual: Any) -> tuple[int, int]:
    size = visual.image_size
    return (size, size) if isinstance(size, int) else (int(size[0]), int(size[1]))


def _last_block_output(visual: Any, x: Any, method: str) -> Any:
    """Run the transformer; for "value", replace the last block by its value path (batch-first result)."""
    import torch.nn.functional as F

    transformer = visual.transformer
    first = getattr(transformer, "batch_first", True)
    h = x if first else x.transpose(0, 1)
    blocks = list(transformer.resblocks)
    for block in blocks[:-1]:
        h = block(h)
    last = blocks[-1]
    if method == "tokens":
        h = last(h)
    else:
        attn: Any = getattr(last, "attn", None)
        if getattr(attn, "in_proj_weight", None) is None:
            raise ConfigError("This CLIP vision tower's attention has no value projection to explain with.")
        width = attn.in_proj_weight.shape[1]
        bias = attn.in_proj_bias[2 * width:] if attn.in_proj_bias is not None else None
        value = F.linear(last.ln_1(h), attn.in_proj_weight[2 * width:], bias)
        h = last.ls_1(attn.out_proj(value))
    return h if first else h.transpose(0, 1)


def _as_rgb(image: Any) -> Any:
    if getattr(image, "mode", "RGB") != "RGB":
        image = image.convert("RGB")
    return image


def _as_text(text: Any) -> str:
    if not isinstance(text, str):
        raise ConfigError(f"CLIP text input must be str, got {type(text).__name__}.")
    return text


def _model_overrides(config: str | Mapping[str, Any], overrides: Mapping[str, Any]) -> tuple[dict, dict]:
    """(factory overrides, the config recorded in the fingerprint)."""
    if isinstance(config, Mapping):
        chosen = copy.deepcopy(dict(config))
        name = "custom"
    elif config == "tiny":
        chosen = copy.deepcopy(TINY_OVERRIDES)
        name = "tiny"
    elif config in (BASE_MODEL, "ViT-B-32", "ViT-B/32", "default"):
        chosen = {}   # every ViT-B/32 alias means the QuickGELU build: that is what OpenAI trained
        name = BASE_MODEL
    else:
        raise ConfigError(f"Unknown CLIP configuration '{config}'; use '{BASE_MODEL}' or 'tiny'.")
    chosen.update(copy.deepcopy(dict(overrides)))
    return chosen, {"model": BASE_MODEL, "name": name, "overrides": chosen}


def build(config: str | Mapping[str, Any] = BASE_MODEL, checkpoint: str | Path | None = None,
          device: Any = "cpu", random_init: bool = False, **overrides: Any) -> OpenCLIPEncoder:
    """Build the CLIP encoder: real weights from `checkpoint`, or seeded random weights when `random_init`.

    Extra keyword arguments override the open_clip model config (embed_dim, vision_cfg, text_cfg, ...);
    `batch_size` and `seed` are taken out first.
    """
    batch_size = int(overrides.pop("batch_size", 0) or 0)
    seed = int(overrides.pop("seed", TINY_SEED))
    model_kwargs, recorded = _model_overrides(config, overrides)
    ckpt_path = None
    if not random_init:
        ckpt_path = require_file(checkpoint, ARTIFACT, "CLIP ViT-B/32 checkpoint")

    from mcrsearch.config import prepare_offline_environment

    prepare_offline_environment()
    import open_clip
    import torch

    from mcrsearch.device import pick_device

    dev = pick_device(device) if isinstance(device, str) else device
    with torch.random.fork_rng(devices=[]), _quiet_random_init_warning():
        torch.manual_seed(seed)
        model, _, preprocess = open_clip.create_model_and_transforms(
            BASE_MODEL, pretrained=None, device="cpu", **model_kwargs)
    weights_id = load_weights(model, ckpt_path, load_clip_checkpoint)
    model = model.to(dev).eval()
    tokenizer = open_clip.get_tokenizer(BASE_MODEL, context_length=model.context_length)
    return OpenCLIPEncoder(model, preprocess, tokenizer, recorded, weights_id, dev, batch_size)


@contextmanager
def _quiet_random_init_warning() -> Iterator[None]:
    """open_clip logs 'initialized randomly' because we load the checkpoint ourselves, after construction."""

    class _Drop(logging.Filter):
        def filter(self, record: logging.LogRecord) -> bool:
            return "No pretrained weights loaded" not in record.getMessage()

    root = logging.getLogger()
    flt = _Drop()
    root.addFilter(flt)
    try:
        yield
    finally:
        root.removeFilter(flt)


def load_clip_checkpoint(model: Any, path: str | Path) -> None:
    """Load CLIP weights strictly from an open_clip / OpenAI state dict, safetensors or OpenAI TorchScript file."""
    load_clip_state(model, read_state_dict(path, "CLIP"), path)


def load_clip_state(model: Any, state: Mapping[str, Any], source: str | Path) -> dict[str, Any]:
    """Load a CLIP state dict strictly into `model`; returns the cleaned state that was loaded."""
    state = {k: v for k, v in state.items() if k not in _JIT_EXTRAS}
    expected = model.state_dict()
    # A TorchScript archive also lists non-persistent buffers (e.g. the causal attn_mask): rebuilt, not loaded.
    transient = {name for name, _ in model.named_buffers()} - set(expected)
    state = {k: v for k, v in state.items()
             if k not in transient and (k in expected or not k.endswith("position_ids"))}
    if any(k.startswith("vision_model.") for k in state):
        raise WeightsInvalidError(
            f"{source} is a HuggingFace CLIPModel checkpoint; import the open_clip or OpenAI file of "
            f"ViT-B/32 instead (`mcrsearch weights fetch {ARTIFACT}`).")
    # Some exports store logit_scale as shape (1,) rather than a scalar.
    if "logit_scale" in state and state["logit_scale"].shape != model.logit_scale.shape:
        state["logit_scale"] = state["logit_scale"].reshape(model.logit_scale.shape)
    load_strict(model, state, source, "CLIP ViT-B/32 model")
    return state


def verify_checkpoint_state(state: Mapping[str, Any], source: str) -> dict[str, Any]:
    """The state to file for a recognised CLIP ViT-B/32 checkpoint: float32, checked by a strict load.

    Used by `mcrsearch weights import/fetch`; the strict load into open_clip's full-size ViT-B-32-quickgelu is
    skipped where open_clip is not installed (the catalog's anchor shapes were checked already).
    """
    state = {k: v.float() if v.is_floating_point() else v for k, v in state.items() if k not in _JIT_EXTRAS}
    try:
        import open_clip
    except ImportError:
        return state
    with _quiet_random_init_warning():
        model = open_clip.create_model(BASE_MODEL, pretrained=None)
    return load_clip_state(model, state, source)
