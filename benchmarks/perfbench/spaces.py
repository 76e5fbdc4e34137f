"""The spaces the performance benchmark embeds with: tiny and full-size real architectures with random
weights, the mini-world, and a near-free hash encoder; registered by name so that a cold `mcrsearch query`
child process finds them too."""

from __future__ import annotations

import hashlib

import numpy as np

MODS = ("image", "audio", "3d", "text")
# --spaces names: a group, or one space; each space with the modalities its corpus holds
_TINY = {"bench-tiny-clip": ("image", "text"), "bench-tiny-clap": ("audio",), "bench-tiny-ulip": ("3d",)}
_FULL = {"bench-full-clip": ("image", "text"), "bench-full-clap": ("audio",), "bench-full-ulip": ("3d",)}
INDEXING_SPACES: dict[str, list[tuple[str, tuple[str, ...]]]] = {
    "tiny-real": list(_TINY.items()),
    "full-real": list(_FULL.items()),     # the real architectures at full size, random weights: real model cost
    "miniworld": [("miniworld", MODS)],
    **{name: [(name, mods)] for name, mods in {**_TINY, **_FULL}.items()},
}


def register_spaces() -> None:
    """Spaces the benchmark builds itself, registered so that a cold `mcrsearch query` process finds them."""
    from mcrsearch.space import SPACE_BUILDERS, Route, Space, register_space

    def tiny_clip(settings):
        from mcrsearch.encoders import create_encoder

        enc = create_encoder("openclip", config="tiny", random_init=True, device="cpu")
        return Space("bench-tiny-clip", {"image": Route(enc), "text": Route(enc)}, enc.dim)

    def tiny_clap(settings):
        from mcrsearch.encoders import create_encoder

        enc = create_encoder("clap", config="tiny", random_init=True, device="cpu")
        return Space("bench-tiny-clap", {"audio": Route(enc)}, enc.dim)

    def tiny_ulip(settings):
        from mcrsearch.encoders import create_encoder

        enc = create_encoder("ulip2", config="tiny", random_init=True, device="cpu")
        return Space("bench-tiny-ulip", {"3d": Route(enc)}, enc.dim)

    def full(family: str, config: str, name: str, mods: tuple[str, ...]):
        def build(settings):
            from mcrsearch.encoders import create_encoder

            enc = create_encoder(family, config=config, random_init=True, device="cpu")
            return Space(name, {m: Route(enc) for m in mods}, enc.dim)
        return build

    def hashed(settings):
        return Space("bench-hash", {m: Route(hash_encoder()) for m in MODS}, 32)

    for name, fn in (("bench-tiny-clip", tiny_clip), ("bench-tiny-clap", tiny_clap),
                     ("bench-tiny-ulip", tiny_ulip), ("bench-hash", hashed),
                     ("bench-full-clip", full("openclip", "ViT-B-32-quickgelu", "bench-full-clip", ("image", "text"))),
                     ("bench-full-clap", full("clap", "HTSAT-tiny-fusion", "bench-full-clap", ("audio",))),
                     ("bench-full-ulip", full("ulip2", "pointbert-ulip2", "bench-full-ulip", ("3d",)))):
        if name not in SPACE_BUILDERS:
            register_space(name)(fn)


def hash_encoder_cls():
    from mcrsearch.encoders.base import Encoder
    from mcrsearch.modality import Modality

    class HashEncoder(Encoder):
        """Near-free encoder: isolates the pipeline's own cost (scan, hash, decode, upsert)."""

        family = "bench-hash"
        modalities = tuple(Modality)
        dim = 32

        def __init__(self) -> None:
            super().__init__({}, "hash")

        def _encode(self, modality, items):
            out = []
            for item in items:
                raw = item.samples if hasattr(item, "samples") else item
                blob = raw.encode() if isinstance(raw, str) else np.asarray(raw).tobytes()[:4096]
                seed = int.from_bytes(hashlib.sha256(blob).digest()[:4], "little")
                out.append(np.random.default_rng(seed).standard_normal(32))
            return np.asarray(out, dtype=np.float32)

    return HashEncoder


def hash_encoder():
    """A fresh near-free encoder (its class is made on first use: the encoder base imports torch)."""
    return hash_encoder_cls()()
