"""Build laion_clap's CLAP model offline, with its import-time side effects contained.

laion_clap appends its own folder to sys.path, builds bert/roberta/bart tokenizers while importing, and
its CLAP_Module downloads roberta-base weights and tokenizer during construction. Here the import runs with
those tokenizer look-ups disabled and sys.path restored afterwards, and construction runs with the two
roberta-base `from_pretrained` calls answered locally: the text tower is built from roberta-base's
configuration (its weights then come from the CLAP checkpoint) and the tokenizer is the one we supply.
"""

from __future__ import annotations

import copy
import sys
import threading
import warnings
from contextlib import ExitStack, contextmanager
from typing import Any, Iterator, Mapping
from unittest import mock

from mcrsearch.errors import ConfigError

# roberta-base's own configuration (transformers' RobertaConfig defaults differ in vocab, positions, eps...).
ROBERTA_BASE: dict[str, Any] = {
    "vocab_size": 50265, "hidden_size": 768, "num_hidden_layers": 12, "num_attention_heads": 12,
    "intermediate_size": 3072, "hidden_act": "gelu", "hidden_dropout_prob": 0.1,
    "attention_probs_dropout_prob": 0.1, "max_position_embeddings": 514, "type_vocab_size": 1,
    "initializer_range": 0.02, "layer_norm_eps": 1e-5, "pad_token_id": 1, "bos_token_id": 0,
    "eos_token_id": 2,
}

# Test-size model on the same code path: the audio front end is unchanged, the Swin stages are narrow and
# one block deep, and the text tower keeps width 768 (CLAP's text projection is hard-wired to it).
TINY_HTSAT: dict[str, Any] = {"embed_dim": 16, "depths": [1, 1, 1, 1], "num_heads": [1, 2, 4, 8]}
TINY_ROBERTA: dict[str, Any] = {**ROBERTA_BASE, "vocab_size": 261, "num_hidden_layers": 1,
                                "intermediate_size": 768}
TINY_MODEL_NAME = "HTSAT-mcrsearch-tiny"

_IMPORT_LOCK = threading.Lock()
_TOKENIZER_CLASSES = ("BertTokenizer", "RobertaTokenizer", "BartTokenizer")


class _DisabledTokenizer:
    """Stands in for the tokenizers laion_clap's training module builds at import; never used by us."""

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("laion_clap's import-time tokenizer is disabled in mcrsearch.")


def import_laion_clap() -> Any:
    """Import laion_clap once, leaving sys.path as it was and building no hub tokenizers."""
    from mcrsearch.config import prepare_offline_environment

    prepare_offline_environment()
    with _IMPORT_LOCK:
        if "laion_clap" in sys.modules:
            return sys.modules["laion_clap"]
        import transformers

        saved_path = list(sys.path)
        with ExitStack() as stack:
            for name in _TOKENIZER_CLASSES:
                cls = getattr(transformers, name)
                stack.enter_context(mock.patch.object(cls, "from_pretrained",
                                                      lambda *a, **k: _DisabledTokenizer()))
            stack.enter_context(_quiet_library_warnings())
            try:
                import laion_clap
            finally:
                # Its modules stay importable through sys.modules ('clap_module.*', 'training.*').
                sys.path[:] = [p for p in sys.path if p in saved_path]
        return laion_clap


@contextmanager
def _quiet_library_warnings() -> Iterator[None]:
    """laion_clap's import and HTSAT's construction emit deprecation warnings users cannot act on."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", category=FutureWarning)
        warnings.filterwarnings("ignore", message=".*meshgrid.*")
        warnings.filterwarnings("ignore", category=DeprecationWarning)
        yield


class _LocalRobertaModel:
    """Answers `RobertaModel.from_pretrained('roberta-base')` with a freshly built model of a known config."""

    def __init__(self, config: Mapping[str, Any]) -> None:
        self.config = dict(config)

    def from_pretrained(self, *args: Any, **kwargs: Any) -> Any:
        from transformers import RobertaConfig, RobertaModel

        return RobertaModel(RobertaConfig(**self.config))


class _SuppliedTokenizer:
    """Answers `RobertaTokenizer.from_pretrained('roberta-base')` with our already checked tokenizer."""

    def __init__(self, tokenizer: Any) -> None:
        self.tokenizer = tokenizer

    def from_pretrained(self, *args: Any, **kwargs: Any) -> Any:
        return self.tokenizer


def _tiny_htsat_factory(htsat_module: Any, sizes: Mapping[str, Any]):
    def create(audio_cfg: Any, enable_fusion: bool = False, fusion_type: str = "None") -> Any:
        return htsat_module.HTSAT_Swin_Transformer(
            spec_size=256, patch_size=4, patch_stride=(4, 4), num_classes=audio_cfg.class_num,
            embed_dim=sizes["embed_dim"], depths=list(sizes["depths"]), num_heads=list(sizes["num_heads"]),
            window_size=8, config=audio_cfg, enable_fusion=enable_fusion, fusion_type=fusion_type)
    return create


def construct_clap(tokenizer: Any, tiny: bool, device: str = "cpu", seed: int = 0) -> tuple[Any, dict]:
    """CLAP_Module(enable_fusion=True, amodel=HTSAT-tiny, tmodel=roberta) built offline with seeded weights.

    Returns (the CLAP nn.Module, its model config).
    """
    import torch

    laion_clap = import_laion_clap()
    model_mod = sys.modules.get("clap_module.model")
    factory_mod = sys.modules.get("clap_module.factory")
    htsat_mod = sys.modules.get("clap_module.htsat")
    hook_mod = sys.modules.get("laion_clap.hook")
    if model_mod is None or factory_mod is None or htsat_mod is None or hook_mod is None:
        raise ConfigError("The installed laion_clap does not have the layout mcrsearch expects (1.1.x).")

    roberta_cfg = TINY_ROBERTA if tiny else ROBERTA_BASE
    amodel = "HTSAT-tiny"
    with ExitStack() as stack:
        stack.enter_context(mock.patch.object(model_mod, "RobertaModel", _LocalRobertaModel(roberta_cfg)))
        stack.enter_context(mock.patch.object(hook_mod, "RobertaTokenizer", _SuppliedTokenizer(tokenizer)))
        if tiny:
            amodel = TINY_MODEL_NAME
            width = TINY_HTSAT["embed_dim"] * 2 ** (len(TINY_HTSAT["depths"]) - 1)
            cfg = copy.deepcopy(factory_mod._MODEL_CONFIGS["HTSAT-tiny"])
            cfg["embed_dim"] = width
            stack.enter_context(mock.patch.dict(factory_mod._MODEL_CONFIGS, {TINY_MODEL_NAME: cfg}))
            stack.enter_context(mock.patch.object(model_mod, "create_htsat_model",
                                                  _tiny_htsat_factory(htsat_mod, TINY_HTSAT)))
        stack.enter_context(_quiet_library_warnings())
        stack.enter_context(torch.random.fork_rng(devices=[]))
        torch.manual_seed(seed)
        wrapper = laion_clap.CLAP_Module(enable_fusion=True, device=device, amodel=amodel, tmodel="roberta")
    model = wrapper.model
    model.eval()
    return model, dict(wrapper.model_cfg)
