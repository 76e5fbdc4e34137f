"""A synthetic three-MCR world for tests and quick experiments, with no encoder at all.

Items are latent class vectors plus instance noise. Each 'MCR' (clap: audio+text, clip: image+text,
ulip: 3d+image) maps latents into its own space with its own random linear map, a per-modality offset
(the modality gap) and per-modality noise, then L2-normalises. Spaces are unrelated to each other,
so emergent retrieval (e.g. clap-audio vs clip-image) is only possible through a learned connection.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from mcrsearch.topology import MCRS
from mcrsearch_trainer.data import ConnectionData, ValidationSet

# The declared MCRs' modalities, in name order (the order random maps are drawn in).
MCR_MODALITIES = {name: tuple(m.value for m in MCRS[name].modalities) for name in sorted(MCRS)}


@dataclass
class SyntheticWorld:
    n_classes: int = 16
    latent: int = 24
    dim: int = 32
    inst_noise: float = 0.6
    mod_noise: float = 0.25
    gap: float = 1.2
    seed: int = 0

    def __post_init__(self) -> None:
        rng = np.random.default_rng(self.seed)
        self.centroids = rng.standard_normal((self.n_classes, self.latent)).astype(np.float32)
        self.maps = {m: rng.standard_normal((self.latent, self.dim)).astype(np.float32) / np.sqrt(self.latent)
                     for m in MCR_MODALITIES}
        self.gaps = {(m, mod): (rng.standard_normal(self.dim) * self.gap / np.sqrt(self.dim)).astype(np.float32)
                     for m, mods in MCR_MODALITIES.items() for mod in mods}
        self.distort = {(m, mod): np.eye(self.latent, dtype=np.float32)
                        + 0.15 * rng.standard_normal((self.latent, self.latent)).astype(np.float32) / np.sqrt(self.latent)
                        for m, mods in MCR_MODALITIES.items() for mod in mods}

    def latents(self, n: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
        labels = rng.integers(0, self.n_classes, n)
        z = self.centroids[labels] + self.inst_noise * rng.standard_normal((n, self.latent)).astype(np.float32)
        return z.astype(np.float32), labels

    def embed(self, mcr: str, modality: str, z: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        zz = z @ self.distort[(mcr, modality)] + self.mod_noise * rng.standard_normal(z.shape).astype(np.float32)
        x = zz @ self.maps[mcr] / np.sqrt(self.latent) * 3.0 + self.gaps[(mcr, modality)]
        return (x / np.linalg.norm(x, axis=1, keepdims=True)).astype(np.float32)


def synthetic_connection(leaf: str = "clap", base: str = "clip", n_overlap: int = 2000, n_memory: int = 2000,
                         n_val: int = 400, world: SyntheticWorld | None = None, seed: int = 1) -> ConnectionData:
    """ConnectionData for leaf->base: overlap = the modality both share; memories = their other modality."""
    world = world or SyntheticWorld()
    rng = np.random.default_rng(seed)
    overlap = (set(MCR_MODALITIES[leaf]) & set(MCR_MODALITIES[base])).pop()
    mod_a = [m for m in MCR_MODALITIES[leaf] if m != overlap][0]
    mod_b = [m for m in MCR_MODALITIES[base] if m != overlap][0]
    z, _ = world.latents(n_overlap, rng)
    za, _ = world.latents(n_memory, rng)
    zb, _ = world.latents(n_memory, rng)
    zp, _ = world.latents(n_memory, rng)
    zv, lv = world.latents(n_val, rng)
    zw, lw = world.latents(n_val, rng)
    val = ValidationSet(f"{mod_a}->{mod_b}", world.embed(leaf, mod_a, zv, rng), lv,
                        world.embed(base, mod_b, zw, rng), lw)
    return ConnectionData(
        overlap_a=world.embed(leaf, overlap, z, rng), overlap_b=world.embed(base, overlap, z, rng),
        memory_a=world.embed(leaf, mod_a, za, rng), memory_b=world.embed(base, mod_b, zb, rng),
        pairs_a=world.embed(leaf, mod_a, zp, rng), pairs_b=world.embed(base, mod_b, zp, rng),
        pairs_overlap_a=world.embed(leaf, overlap, zp, rng), pairs_overlap_b=world.embed(base, overlap, zp, rng),
        validation=[val])


def synthetic_feats(world: SyntheticWorld | None = None, n_unpaired: int = 600, n_test: int = 200,
                    n_oracle: int = 400, seed: int = 2) -> dict:
    """Features shaped like `mcrsearch.miniworld.connections.miniworld_features`: {(split, mcr, modality): (x, labels, inst)}.

    "unpaired" rows come from disjoint instances per modality except that an overlap modality's rows are the
    same items in both MCRs (as when one text file is embedded by CLAP and by CLIP); "test" and "oracle"
    instances have all modalities.
    """
    world = world or SyntheticWorld()
    rng = np.random.default_rng(seed)
    feats: dict = {}
    next_inst = 0
    for split, n in (("test", n_test), ("oracle", n_oracle)):
        z, lab = world.latents(n, rng)
        inst = np.arange(next_inst, next_inst + n)
        next_inst += n
        for mcr, mods in MCR_MODALITIES.items():
            for mod in mods:
                feats[(split, mcr, mod)] = (world.embed(mcr, mod, z, rng), lab, inst)
    for mod in ("audio", "text", "image", "3d"):
        z, lab = world.latents(n_unpaired, rng)
        inst = np.arange(next_inst, next_inst + n_unpaired)
        next_inst += n_unpaired
        for mcr, mods in MCR_MODALITIES.items():
            if mod in mods:
                feats[("unpaired", mcr, mod)] = (world.embed(mcr, mod, z, rng), lab, inst)
    return feats
