"""A Space: which encoder and which projector-head chain bring each modality into one shared vector space.

Examples: `exmcr` (CLIP base; CLAP and ULIP-2 through Ex-MCR heads), `cmcr-clap-clip`, `cmcr-ulip-clip`,
`clip` (raw CLIP), `miniworld` (the offline world's small MCRs with trained heads). Spaces are built by
registered builders, so new ones (e.g. a freshly trained head) plug in without touching the engine.
"""

from __future__ import annotations

import hashlib
import threading
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Callable, Iterable, Mapping, Sequence

import numpy as np

from mcrsearch.encoders.base import DenseFeatures, Encoder, l2_normalize, state_dict_digest
from mcrsearch import plugins
from mcrsearch.errors import ConfigError
from mcrsearch.modality import Modality

if TYPE_CHECKING:
    from mcrsearch.config import Settings


DEFAULT_MESH_POINTS = 10_000   # what ULIP-2 was fed in the released demo files
DEFAULT_SEGMENT_SECONDS = 10.0  # CLAP's input window: a video segment's soundtrack is one audio input


@dataclass
class Route:
    """How one modality reaches the space: encoder output, then heads in order, then L2 normalisation."""

    encoder: Encoder
    heads: Sequence[Any] = field(default_factory=tuple)   # torch modules in eval mode, (n, d) -> (n, d')


class Space:
    label: str | None = None                 # a display name (the benchmark report's), where a builder gives one
    source: dict[str, Any] | None = None     # what the space was built from (world, checkpoints), where recorded

    def __init__(self, name: str, routes: Mapping[Modality, Route], dim: int, description: str = "",
                 mesh_points: int = DEFAULT_MESH_POINTS) -> None:
        self.name = name
        self.mesh_points = mesh_points   # surface samples taken from a mesh file before encoding
        self.routes = {Modality.parse(m): r for m, r in routes.items()}
        self.dim = dim
        self.description = description
        for head_chain in (r.heads for r in self.routes.values()):
            for head in head_chain:
                head.eval()
        self._fingerprint: str | None = None
        # modality -> numeric mode its encoder runs (mcrsearch.precision); not part of the fingerprint, because
        # every mode allowed keeps vectors within tolerance of fp32 and so compatible with them
        self.precision: dict[str, str] = {}

    @property
    def modalities(self) -> tuple[Modality, ...]:
        return tuple(self.routes)

    @property
    def indexable(self) -> tuple[Modality, ...]:
        """The modalities this space can index: its routes, and video when it embeds images (a video's
        segments go through the image route and, when it has one, the audio route)."""
        extra = (Modality.VIDEO,) if Modality.IMAGE in self.routes else ()
        return tuple(self.routes) + extra

    @property
    def segment_seconds(self) -> float:
        """The video window: the audio route's input length (`input_seconds` of its encoder; CLAP's 10 s
        otherwise), so one segment's soundtrack is exactly one audio input."""
        route = self.routes.get(Modality.AUDIO)
        seconds = getattr(route.encoder, "input_seconds", None) if route is not None else None
        return float(seconds) if seconds else DEFAULT_SEGMENT_SECONDS

    @property
    def fingerprint(self) -> str:
        """Identity of the vectors: two spaces with equal fingerprints give identical vectors."""
        if self._fingerprint is None:
            h = hashlib.sha256(self.name.encode())
            h.update(f"mesh_points={self.mesh_points}".encode())
            for modality in sorted(self.routes, key=lambda m: m.value):
                route = self.routes[modality]
                h.update(modality.value.encode() + route.encoder.fingerprint.encode())
                for head in route.heads:
                    h.update(type(head).__name__.encode() + state_dict_digest(head.state_dict()).encode())
            self._fingerprint = h.hexdigest()[:16]
        return self._fingerprint

    def supports(self, modality: Modality | str) -> bool:
        return Modality.parse(modality) in self.routes

    def embed(self, modality: Modality | str, items: Sequence[Any]) -> np.ndarray:
        """Decoded items of one modality -> (n, dim) L2-normalised float32 vectors in this space."""
        modality = Modality.parse(modality)
        if modality not in self.routes:
            raise ConfigError(f"Space '{self.name}' has no route for {modality.value}.")
        route = self.routes[modality]
        vectors = route.encoder.encode(modality, items)
        return self.project(modality, vectors)

    def embed_dense(self, modality: Modality | str, item: Any, method: str = "") -> DenseFeatures:
        """Part-level vectors of one decoded item (image patches, point groups) in this space.

        The parts go through the same encoder and head chain as the item's global vector, so any query
        vector of the space compares with every part (a heat map). Computed on demand, never stored.

        Args:
            modality: the item's modality (image or 3d).
            item: one decoded item.
            method: the encoder's dense method ('' = its default).
        Returns:
            DenseFeatures whose `vectors` (and `pooled`, when present) are L2-normalised space vectors.
        """
        modality = Modality.parse(modality)
        if modality not in self.routes:
            raise ConfigError(f"Space '{self.name}' has no route for {modality.value}.")
        dense = self.routes[modality].encoder.encode_dense(modality, item, method)
        # Heads take L2-normalised encoder vectors, as `embed` gives them.
        vectors = self.project(modality, l2_normalize(np.asarray(dense.vectors, dtype=np.float32)))
        pooled = None
        if dense.pooled is not None:
            pooled = self.project(modality, l2_normalize(np.asarray(dense.pooled, dtype=np.float32)[None]))[0]
        return DenseFeatures(vectors=vectors, centres=dense.centres, method=dense.method, grid=dense.grid,
                             cell=dense.cell, pooled=pooled)

    def project(self, modality: Modality | str, encoder_vectors: np.ndarray) -> np.ndarray:
        """Apply the modality's head chain to encoder outputs (used by the trainer's cached features too)."""
        route = self.routes[Modality.parse(modality)]
        if not route.heads or len(encoder_vectors) == 0:
            return l2_normalize(encoder_vectors) if len(encoder_vectors) else encoder_vectors.reshape(0, self.dim)
        import torch

        with torch.inference_mode():
            x = torch.from_numpy(np.ascontiguousarray(encoder_vectors, dtype=np.float32))
            for head in route.heads:
                param = next(head.parameters(), None)
                x = head(x.to(param.device) if param is not None else x)
            return l2_normalize(x.float().cpu().numpy())


SpaceBuilder = Callable[["Settings"], Space]
# Spaces registered at run time (tests, scripts); the installed ones are entry points (mcrsearch.plugins).
SPACE_BUILDERS: dict[str, SpaceBuilder] = {}
SPACE_GROUP = "mcrsearch.spaces"


def register_space(name: str) -> Callable[[SpaceBuilder], SpaceBuilder]:
    """Decorator: make `create_space(name, settings)` build a space with this function.

    A name already taken (registered, or an installed plug-in's) is refused (ConfigError), so a registration
    can never silently replace an installed space.
    """

    def wrap(builder: SpaceBuilder) -> SpaceBuilder:
        if name in SPACE_BUILDERS or name in plugins.targets(SPACE_GROUP):
            raise ConfigError(f"A space named '{name}' is already registered; choose another name.")
        SPACE_BUILDERS[name] = builder
        return builder

    return wrap


def available_spaces() -> list[str]:
    return sorted(set(SPACE_BUILDERS) | set(plugins.targets(SPACE_GROUP)))


def create_space(name: str, settings: "Settings") -> Space:
    """Build the space called `name` (a registered builder, else an installed plug-in's), its encoders in the
    precision the settings ask for (mcrsearch.precision)."""
    builder = SPACE_BUILDERS.get(name)
    if builder is None:
        target = plugins.targets(SPACE_GROUP).get(name)
        if target is None:
            raise ConfigError(f"Unknown space '{name}'; available spaces: {', '.join(available_spaces())}.")
        builder = plugins.load(target)
    from mcrsearch.precision import apply_to_space

    return apply_to_space(builder(settings), settings)


class SpaceCache:
    """The spaces one client has built, by name: the one way a `Client`, its `Searcher` and a server get a
    space. Each is built once, under a lock, so two first requests of a lazy server (`serve --lazy`) do not
    load the same models twice; spaces are built one at a time (two models loading at once would double the
    peak memory), while a built one is handed out without waiting.

    Args:
        settings: what `create_space` builds with.
        spaces: Space objects to hand out instead of building registered ones by those names.
    """

    def __init__(self, settings: "Settings", spaces: Iterable[Space] = ()) -> None:
        self.settings = settings
        self._built: dict[str, Space] = {s.name: s for s in spaces}
        self._lock = threading.Lock()

    def get(self, name: str) -> Space:
        """The space called `name`, built now if this cache has none yet (`create_space`)."""
        sp = self._built.get(name)
        if sp is not None:
            return sp
        with self._lock:
            if name not in self._built:
                self._built[name] = create_space(name, self.settings)
            return self._built[name]

    def loaded(self) -> dict[str, Space]:
        """The spaces built so far, by name (a copy)."""
        return dict(self._built)

    def built(self, name: str) -> Space | None:
        """The space called `name` if it is built already; None otherwise (nothing is built)."""
        return self._built.get(name)
