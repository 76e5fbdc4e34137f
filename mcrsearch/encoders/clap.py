"""LAION-CLAP HTSAT-tiny + RoBERTa with fusion on: the audio/text MCR the released C-MCR and Ex-MCR heads expect.

Weights come from `630k-fusion-best.pt` (artifact `clap-630k-fusion-best`), loaded weights-only by us,
never by laion_clap's `load_ckpt` (full pickle). Text needs the roberta-base tokenizer files, their own
artifact, only when text is embedded with CLAP (`text=True`): no released search space does (text goes
through CLIP), so their CLAP encoders are built audio-only and need only the checkpoint. A tiny random configuration ("tiny") goes through the same CLAP_Module construction, audio
preprocessing and tokenizer class for tests.

Audio follows the released preprocessing (see `_clap_audio`), except that clips over 10 s take fixed fusion
crops (the centre of each third of the clip) instead of random ones, so the same file gives the same vector.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Mapping

from mcrsearch.encoders._clap_tokenizer import ROBERTA_BASE_VOCAB, byte_level_tokenizer, load_tokenizer, tokenize
from mcrsearch.checkpoint import load_strict, read_state_dict, require_file
from mcrsearch.encoders.base import Encoder, load_weights
from mcrsearch.errors import ConfigError
from mcrsearch.media import AudioClip
from mcrsearch.modality import Modality

ARTIFACT = "clap-630k-fusion-best"
FULL_CONFIG = "HTSAT-tiny-fusion"
TINY_CONFIG = "tiny"
DEFAULT_SEED = 0
# Buffers that old transformers versions saved and current RobertaEmbeddings keeps out of its state dict.
_LEGACY_TEXT_BUFFERS = ("text_branch.embeddings.position_ids", "text_branch.embeddings.token_type_ids")


class CLAPEncoder(Encoder):
    """Audio clips and texts into CLAP's 512-d space."""

    family = "clap"
    modalities: tuple[Modality, ...] = (Modality.AUDIO, Modality.TEXT)
    dim = 512
    precision_modes = ("fp32", "bf16", "int8")
    bf16_style = "autocast"           # measured: autocast keeps the mel front end in fp32 and gains as much

    def __init__(self, model: Any, tokenizer: Any, features: Any, config: Mapping[str, Any], weights_id: str,
                 device: Any, batch_size: int = 0) -> None:
        super().__init__(config, weights_id, device)
        self.model = model
        self.tokenizer = tokenizer
        self.features = features
        self.dim = int(model.joint_embed_shape)
        self.batch_size = batch_size
        if tokenizer is None:                 # built audio-only: no tokenizer files were needed
            self.modalities = (Modality.AUDIO,)

    def _encode_batch(self, modality: Modality, batch: list[Any]) -> Any:
        return self._audio(batch) if modality is Modality.AUDIO else self._text(batch)

    def _audio(self, clips: list[Any]) -> Any:
        import torch

        mels, longer = [], []
        for clip in clips:
            if not isinstance(clip, AudioClip):
                raise ConfigError(f"CLAP audio input must be an AudioClip, got {type(clip).__name__}.")
            mel, is_longer = self.features(clip.samples, clip.sample_rate)
            mels.append(mel)
            longer.append([is_longer])
        batch = {"mel_fusion": self._inputs(torch.stack(mels)),
                 "longer": torch.tensor(longer, dtype=torch.bool, device=self.device)}
        embedding = self.model.encode_audio(batch, device=self.device)["embedding"]
        return self.model.audio_projection(embedding)

    def _text(self, texts: list[Any]) -> Any:
        if self.tokenizer is None:
            raise ConfigError("This CLAP encoder was built for audio only (text=False); build it with the "
                              "roberta-base tokenizer to embed text.")
        for t in texts:
            if not isinstance(t, str):
                raise ConfigError(f"CLAP text input must be str, got {type(t).__name__}.")
        tokens = {k: v.to(self.device) for k, v in tokenize(self.tokenizer, texts).items()}
        return self.model.encode_text(tokens, device=self.device)


def build(config: str = FULL_CONFIG, checkpoint: str | Path | None = None, tokenizer_dir: str | Path | None = None,
          device: Any = "cpu", random_init: bool = False, **overrides: Any) -> CLAPEncoder:
    """Build the CLAP encoder: real weights from `checkpoint` + `tokenizer_dir`, or seeded random weights.

    Accepted overrides: `batch_size` (0 = sized for the device), `seed` (random weights only) and `text`
    (default True; False builds an audio-only encoder that needs no tokenizer files, same audio vectors).
    """
    batch_size = int(overrides.pop("batch_size", 0) or 0)
    text = bool(overrides.pop("text", True))
    seed = int(overrides.pop("seed", DEFAULT_SEED))
    if overrides:
        raise ConfigError(f"Unknown CLAP option(s): {', '.join(sorted(overrides))}.")
    if config not in (FULL_CONFIG, TINY_CONFIG):
        raise ConfigError(f"Unknown CLAP configuration '{config}'; use '{FULL_CONFIG}' or '{TINY_CONFIG}'.")
    tiny = config == TINY_CONFIG
    ckpt_path = None
    if not random_init:
        ckpt_path = require_file(checkpoint, ARTIFACT, "CLAP checkpoint (630k-fusion-best.pt)")

    from mcrsearch.encoders._clap_audio import FusionFeatures
    from mcrsearch.encoders._clap_loader import TINY_ROBERTA, construct_clap
    from mcrsearch.device import pick_device

    vocab = TINY_ROBERTA["vocab_size"] if tiny else ROBERTA_BASE_VOCAB
    if tokenizer_dir is None and (tiny or random_init):
        tokenizer = byte_level_tokenizer()   # random text weights: any valid byte-level ids will do
    elif text:
        tokenizer = load_tokenizer(tokenizer_dir, vocab)
    else:
        tokenizer = None                     # the text tower is built from its config, never run
    dev = pick_device(device) if isinstance(device, str) else device
    model, model_cfg = construct_clap(tokenizer or byte_level_tokenizer(), tiny=tiny, device="cpu", seed=seed)
    weights_id = load_weights(model, ckpt_path, load_clap_checkpoint)
    model = model.to(dev).eval()
    # The vocabulary the text tower has, with or without the tokenizer loaded: audio vectors and so the
    # fingerprint do not depend on whether text was enabled.
    recorded = {"model": FULL_CONFIG, "name": config, "fusion": True,
                "tokenizer_vocab": len(tokenizer) if tokenizer is not None else vocab,
                "long_clip_policy": "fusion-centre-crops"}
    return CLAPEncoder(model, tokenizer, FusionFeatures(model_cfg["audio_cfg"]), recorded, weights_id, dev,
                       batch_size)


def load_clap_checkpoint(model: Any, path: str | Path) -> None:
    """Load a laion_clap checkpoint strictly: `module.` prefixes and legacy RoBERTa buffers handled."""
    state = read_state_dict(path, "CLAP")
    expected = model.state_dict()
    for key in _LEGACY_TEXT_BUFFERS:
        if key in state and key not in expected:
            del state[key]
    load_strict(model, state, path, "CLAP HTSAT-tiny fusion model")
