"""The RoBERTa tokenizer CLAP's text tower needs, loaded from local files and checked before use.

Offline, transformers hands out a 5-token placeholder instead of failing, and CLAP would then embed every
caption as `<s> </s>`; so a tokenizer whose vocabulary does not match the text tower is refused here.
"""

from __future__ import annotations

import json
import tempfile
from pathlib import Path
from typing import Any

from mcrsearch.checkpoint import missing_weights
from mcrsearch.errors import WeightsInvalidError

ARTIFACT = "roberta-base-tokenizer"
ROBERTA_BASE_VOCAB = 50265
TOKENIZER_FILES = ("vocab.json", "merges.txt")
MAX_TOKENS = 77            # what laion_clap pads and truncates captions to
SPECIALS = ("<s>", "<pad>", "</s>", "<unk>")   # ids 0..3 as in roberta-base (bos 0, pad 1, eos 2)


def _byte_alphabet() -> list[str]:
    """The 256 printable stand-ins byte-level BPE uses for raw bytes (printable bytes map to themselves)."""
    printable = set(range(ord("!"), ord("~") + 1)) | set(range(0xA1, 0xAC + 1)) | set(range(0xAE, 0xFF + 1))
    alphabet, shifted = [], 0
    for byte in range(256):
        if byte in printable:
            alphabet.append(chr(byte))
        else:
            alphabet.append(chr(256 + shifted))
            shifted += 1
    return alphabet


def write_byte_level_tokenizer(folder: str | Path) -> Path:
    """A 261-entry byte-level RoBERTa vocabulary (4 specials, 256 bytes, mask) with no merges, for tests."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    vocab = {tok: i for i, tok in enumerate(SPECIALS)}
    for ch in _byte_alphabet():
        vocab[ch] = len(vocab)
    vocab["<mask>"] = len(vocab)
    (folder / "vocab.json").write_text(json.dumps(vocab, ensure_ascii=False))
    (folder / "merges.txt").write_text("#version: 0.2\n")
    return folder


def load_tokenizer(folder: str | Path | None, expected_vocab: int) -> Any:
    """RobertaTokenizer from vocab.json + merges.txt, refused unless it has exactly `expected_vocab` entries."""
    if folder is None:
        raise missing_weights(ARTIFACT, what="roberta-base tokenizer (vocab.json + merges.txt)")
    folder = Path(folder).expanduser()
    absent = [name for name in TOKENIZER_FILES if not (folder / name).is_file()]
    if absent:
        raise missing_weights(ARTIFACT, folder / absent[0], f"roberta-base tokenizer file {absent[0]}")
    from transformers import RobertaTokenizer

    try:
        tokenizer = RobertaTokenizer.from_pretrained(str(folder), local_files_only=True)
    except Exception as exc:
        raise WeightsInvalidError(f"The tokenizer files in {folder} could not be read ({exc}).") from exc
    check_tokenizer(tokenizer, expected_vocab, folder)
    return tokenizer


def check_tokenizer(tokenizer: Any, expected_vocab: int, source: Any = "the tokenizer") -> None:
    """Refuse a tokenizer that would silently turn captions into unknown tokens."""
    size = len(tokenizer)
    if size != expected_vocab:
        raise WeightsInvalidError(
            f"{source} has a {size}-token vocabulary but CLAP's text tower needs {expected_vocab}; "
            f"run `mcrsearch weights fetch {ARTIFACT}`.")
    ids = tokenizer("a dog barking")["input_ids"]
    special = {tokenizer.bos_token_id, tokenizer.eos_token_id, tokenizer.pad_token_id, tokenizer.unk_token_id}
    if (tokenizer.bos_token_id, tokenizer.pad_token_id, tokenizer.eos_token_id) != (0, 1, 2) or all(
            i in special for i in ids):
        raise WeightsInvalidError(f"{source} is not a RoBERTa byte-level tokenizer; it cannot encode text.")


def byte_level_tokenizer() -> Any:
    """The offline test tokenizer, built in a throw-away folder."""
    with tempfile.TemporaryDirectory(prefix="mcr-bytetok-") as tmp:
        return load_tokenizer(write_byte_level_tokenizer(tmp), len(SPECIALS) + 256 + 1)


def tokenize(tokenizer: Any, texts: list[str]) -> dict[str, Any]:
    """laion_clap's text input: padded to 77 tokens, over-long captions truncated (never an error)."""
    batch = tokenizer(texts, padding="max_length", truncation=True, max_length=MAX_TOKENS, return_tensors="pt")
    return {"input_ids": batch["input_ids"], "attention_mask": batch["attention_mask"]}
