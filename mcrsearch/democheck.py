"""The acceptance test of a real install: reproduce the authors' demo matrices through our spaces.

The C-MCR and Ex-MCR READMEs embed three items (toilet, BBQ, train) as image, text, audio and point cloud and
print `softmax(A @ B.T * 10)` per modality pair (`mcrsearch.published_demo`). `check` embeds the same files and
texts through `cmcr-clap-clip`, `cmcr-ulip-clip` and `exmcr` (which use the same encoders and head sides as the
authors' `cmcr_model.py` / `exmcr_model.py`: CLIP text and images through the CLIP-side head in C-MCR and raw in
Ex-MCR; CLAP audio and ULIP-2 clouds through their own heads) and compares each matrix with the printed one.

Tolerance (why a matrix may differ and by how much). Let e_A be the largest L2 difference, for unit vectors,
between our embedding of a modality and the authors':
- image, text (CLIP): open_clip's ViT-B-32-quickgelu matches transformers' CLIPModel to ~2e-6 per coordinate
  (BACKBONES.md), i.e. ~4.5e-5 over 512 dimensions; the authors ran on CUDA, where cuDNN convolutions may use
  TF32 (10-bit mantissa, unit roundoff 4.9e-4) -> budget 1e-3.
- audio (CLAP): the same TF32 allowance plus resampling 32 -> 48 kHz and mel front end implemented differently
  (librosa / torchaudio vs ours; 7e-5 dB measured for the mel) -> 3e-3.
- 3d (ULIP-2): the released code starts farthest-point sampling at a random point; two runs of it agree to
  cosine 0.99998, i.e. sqrt(2 * 2e-5) = 6.3e-3, plus TF32 -> 7.5e-3.
A route through projector heads may stretch a difference before re-normalisation; we allow a gain of 2 there
(an assumption, not measured on the released heads). For unit vectors |d(a.b)| <= |da| + |db|, and
softmax(10 s) moves by at most 10 p(1-p) * 2 max|ds| <= 5 max|ds|; the READMEs print 4 decimals (+5e-5). So

    tolerance(A, B) = 5 * (g_A e_A + g_B e_B) + 5e-5,   g = 2 with heads, 1 without.

e.g. Ex-MCR Vision x Text 0.010, C-MCR CLAP-CLIP Vision x Text 0.020, Audio x Text 0.040, 3D x Vision 0.085.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from mcrsearch.errors import ConfigError, WeightsMissingError
from mcrsearch.modality import Modality
from mcrsearch.published_demo import ASSET_SUFFIX, EXPECTED, ITEMS, PRINTED_DECIMALS, SCALE, TEXTS, PublishedMatrix

if TYPE_CHECKING:
    from mcrsearch.config import Settings
    from mcrsearch.space import Space

DEMO_ARTIFACT = "cmcr-demo-assets"
ROUTE_ERROR = {"image": 1e-3, "text": 1e-3, "audio": 3e-3, "3d": 7.5e-3}   # e_A, see the module docstring
HEAD_GAIN = 2.0
PRINT_ROUNDING = 0.5 * 10 ** -PRINTED_DECIMALS


@dataclass
class MatrixResult:
    """One reproduced matrix beside the printed one."""

    space: str
    label: str
    ours: np.ndarray
    expected: np.ndarray
    tolerance: float
    source: str
    max_diff: float = field(init=False)
    ok: bool = field(init=False)
    same_argmax: bool = field(init=False)

    def __post_init__(self) -> None:
        self.max_diff = float(np.abs(self.ours - self.expected).max())
        self.ok = self.max_diff <= self.tolerance
        self.same_argmax = bool((self.ours.argmax(1) == self.expected.argmax(1)).all())

    def as_dict(self) -> dict[str, Any]:
        return {"space": self.space, "label": self.label, "ours": np.round(self.ours, 6).tolist(),
                "expected": self.expected.tolist(), "max_diff": round(self.max_diff, 6),
                "tolerance": round(self.tolerance, 6), "verdict": "match" if self.ok else "differs",
                "same_argmax": self.same_argmax, "source": self.source}


def similarity_matrix(a: np.ndarray, b: np.ndarray, scale: float = SCALE) -> np.ndarray:
    """`softmax(A @ B.T * scale)` over each row, as the READMEs print it (inputs L2-normalised)."""
    logits = (a.astype(np.float64) @ b.astype(np.float64).T) * scale
    logits -= logits.max(axis=1, keepdims=True)
    e = np.exp(logits)
    return e / e.sum(axis=1, keepdims=True)


def tolerance(space: "Space", a: str, b: str) -> float:
    """The largest difference from the printed matrix that still counts as reproduced (module docstring)."""
    def budget(modality: str) -> float:
        gain = HEAD_GAIN if space.routes[Modality.parse(modality)].heads else 1.0
        return gain * ROUTE_ERROR[modality]

    return 5.0 * (budget(a) + budget(b)) + PRINT_ROUNDING


def demo_files(folder: Path) -> dict[str, list[Path]]:
    """modality value -> the demo files in ITEMS order (`<item>.jpeg|.wav|.npy`); refuses a folder missing any."""
    files = {m: [folder / f"{item}{suffix}" for item in ITEMS] for m, suffix in ASSET_SUFFIX.items()}
    absent = [p.name for paths in files.values() for p in paths if not p.is_file()]
    if absent:
        raise WeightsMissingError(f"{folder} lacks the demo files {', '.join(absent)}: run `mcrsearch weights fetch "
                                  f"{DEMO_ARTIFACT}` or pass --assets with the C-MCR repository's assets/ folder.")
    return files


def _inputs(space: "Space", modality: str, files: dict[str, list[Path]]) -> list[Any]:
    from mcrsearch import media

    if modality == "text":
        return list(TEXTS)
    return [media.decode(p, modality, n_points=space.mesh_points, max_bytes=0)[1] for p in files[modality]]


def required(expected: Sequence[PublishedMatrix], assets: Path | None) -> list[str]:
    """Every weights artifact the check needs (built-in real spaces only), the demo assets unless given."""
    from mcrsearch.builtin_spaces import REAL_SPACES, required_artifacts

    names: list[str] = []
    for space in dict.fromkeys(m.space for m in expected):
        if space in REAL_SPACES:
            names += [n for n in required_artifacts(space) if n not in names]
    return names + ([DEMO_ARTIFACT] if assets is None else [])


def check(settings: "Settings", assets: str | Path | None = None,
          expected: Sequence[PublishedMatrix] | None = None, spaces: Sequence[str] | None = None,
          build: Callable[[str, "Settings"], "Space"] | None = None) -> list[MatrixResult]:
    """Reproduce the printed matrices and compare.

    Args:
        settings: where the weights live.
        assets: a folder holding the demo files; default the fetched `cmcr-demo-assets` artifact.
        expected: the printed matrices (default: the READMEs').
        spaces: check only these spaces' matrices.
        build: space factory (default `mcrsearch.space.create_space`).

    Returns:
        One result per matrix, in `expected` order.

    Raises:
        WeightsMissingError: one sentence naming every missing artifact and the command that fetches them.
    """
    from mcrsearch import weights
    from mcrsearch.space import create_space

    expected = EXPECTED if expected is None else expected
    chosen = [m for m in expected if spaces is None or m.space in spaces]
    if not chosen:
        raise ConfigError(f"No published matrix for {', '.join(spaces or [])}; the demo covers "
                          f"{', '.join(dict.fromkeys(m.space for m in expected))}.")
    paths = weights.resolve_all(required(chosen, None if assets is None else Path(assets)), settings)
    folder = Path(assets).expanduser() if assets is not None else paths[DEMO_ARTIFACT]
    files = demo_files(folder)
    build = build or create_space
    results = []
    for space_name in dict.fromkeys(m.space for m in chosen):
        space = build(space_name, settings)
        cache: dict[str, np.ndarray] = {}
        for m in (m for m in chosen if m.space == space_name):
            for modality in (m.a, m.b):
                if modality not in cache:
                    cache[modality] = space.embed(modality, _inputs(space, modality, files))
            ours = similarity_matrix(cache[m.a], cache[m.b])
            results.append(MatrixResult(space_name, m.label, ours, np.asarray(m.values, dtype=np.float64),
                                        tolerance(space, m.a, m.b), m.source))
    return results


__all__ = ["MatrixResult", "similarity_matrix", "tolerance", "demo_files", "required", "check", "ROUTE_ERROR",
           "HEAD_GAIN", "DEMO_ARTIFACT"]
