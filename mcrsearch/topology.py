"""The MCR topology, declared once: which MCR embeds which modalities, and how the MCRs are connected.

Three pretrained MCRs (multi-modal contrastive representations) take part: CLIP (image + text), CLAP
(audio + text) and ULIP-2 (3D + image). CLIP is the base; each other MCR is a leaf joined to it through the
modality both share (CLAP through text, ULIP-2 through image). A connection is trained once per method and
written under the authors' released file names. The mini-world copies this topology with its small MCRs
(same names, same modalities), so the trainer, the weights catalog, the real and mini-world spaces, the
benchmark and the mini-world's reader all read it from here.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Mapping

from mcrsearch.modality import Modality

METHODS = ("cmcr", "exmcr")
ORACLE_PREFIX = "oracle_"      # a paired oracle's heads sit beside the method's, with this prefix


@dataclass(frozen=True)
class MCR:
    """One pretrained MCR: the two modalities it embeds, its real encoder family and weights artifacts."""

    name: str
    modalities: tuple[Modality, Modality]
    family: str                                          # `mcrsearch.encoders.create_encoder` family
    artifacts: Mapping[str, str] = field(default_factory=dict)   # builder keyword -> weights artifact name
    # Builder keywords whose artifacts only the shared (base) modality needs, and the builder switch that turns
    # that modality off: a leaf route (CLAP audio into CLIP space) needs neither the tokenizer nor the switch on.
    shared_only_artifacts: frozenset[str] = frozenset()
    shared_only_switch: str = ""

    def other(self, modality: Modality) -> Modality:
        """The modality of this MCR that is not `modality`."""
        a, b = self.modalities
        return b if modality is a else a


MCRS: Mapping[str, MCR] = MappingProxyType({m.name: m for m in (
    MCR("clip", (Modality.IMAGE, Modality.TEXT), "openclip", {"checkpoint": "clip-vit-b-32-openai"}),
    MCR("clap", (Modality.AUDIO, Modality.TEXT), "clap",
        {"checkpoint": "clap-630k-fusion-best", "tokenizer_dir": "roberta-base-tokenizer"},
        shared_only_artifacts=frozenset({"tokenizer_dir"}), shared_only_switch="text"),
    MCR("ulip", (Modality.POINTS, Modality.IMAGE), "ulip2", {"checkpoint": "ulip2-pointbert"}),
)})
BASE = "clip"


@dataclass(frozen=True)
class Connection:
    """A leaf MCR joined to the base through the modality both embed."""

    leaf: str
    base: str
    overlap: Modality            # embedded by both MCRs: the bridge
    leaf_other: Modality         # the leaf's own modality
    base_other: Modality         # the base's own modality
    cmcr_kind: str               # `mcrsearch.heads.HEAD_KINDS` key of the C-MCR heads
    head_files: Mapping[str, str]   # method -> released head file name
    artifacts: Mapping[str, str]    # method -> weights catalog name of the released head


def _connection(leaf: str, base: str, exmcr_file: str, exmcr_artifact: str) -> Connection:
    shared = set(MCRS[leaf].modalities) & set(MCRS[base].modalities)
    (overlap,) = shared
    kind = f"cmcr-{leaf}-{base}"
    return Connection(leaf, base, overlap, MCRS[leaf].other(overlap), MCRS[base].other(overlap), kind,
                      MappingProxyType({"cmcr": f"{leaf}_{base}.pt", "exmcr": exmcr_file}),
                      MappingProxyType({"cmcr": kind, "exmcr": exmcr_artifact}))


CONNECTIONS: Mapping[str, Connection] = MappingProxyType({
    "clap": _connection("clap", BASE, "ex_clap.pt", "exmcr-clap"),
    "ulip": _connection("ulip", BASE, "ex_ulip.pt", "exmcr-ulip"),
})
LEAVES = tuple(CONNECTIONS)


def connection(leaf: str, base: str = BASE) -> Connection | None:
    """The declared connection leaf -> base, or None when there is none."""
    conn = CONNECTIONS.get(leaf)
    return conn if conn is not None and conn.base == base else None


def head_file(method: str, leaf: str, oracle: bool = False) -> str:
    """File name of a connection's heads (e.g. `ex_clap.pt`, `ulip_clip.pt`, `oracle_ex_clap.pt`)."""
    return (ORACLE_PREFIX if oracle else "") + CONNECTIONS[leaf].head_files[method]


def within_mcr(a: Modality, b: Modality) -> bool:
    """True when one MCR was trained on (a, b) pairs; other pairs are emergent (no model saw them together)."""
    return any({a, b} == set(m.modalities) for m in MCRS.values())


__all__ = ["MCR", "MCRS", "BASE", "METHODS", "ORACLE_PREFIX", "Connection", "CONNECTIONS", "LEAVES", "connection",
           "head_file", "within_mcr"]
