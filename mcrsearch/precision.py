"""Numeric precision of the encoders, chosen per machine and never silently worse than fp32.

Modes (`Settings.precision`, `--precision`):
- `fp32`: the weights as loaded.
- `bf16`: bfloat16 compute (weights cast, or autocast where a family asks for it). Only offered where the
  CPU has bfloat16 matrix units (AMX / AVX512-BF16) or on a CUDA GPU: elsewhere bf16 is emulated and
  measured tens of times slower than fp32 (benchmarks/precision.py), so asking for it is refused.
- `int8`: dynamic int8 quantisation of the Linear layers (weights int8, activations quantised per batch).
- `onnx`: fp32 in ONNX Runtime for the towers a family exports (CLIP's image tower, ULIP-2 after the
  grouping), on the CPU; the export is cached under `<cache_dir>/onnx/`. Same arithmetic precision, another
  runtime: measured 1.6-2.4x torch fp32 for CLIP images on an AVX2 CPU, vectors at cosine 1.0, each row
  independent of its batch-mates.
- `auto`: the first mode of the family's measured preference (`AUTO_ORDER`) that the device offers and
  that passes the tolerance check, else fp32.

A mode is used only if, on real-shaped inputs (`sample_inputs`), its vectors stay within `MIN_COSINE` of
the fp32 vectors; the check runs once per encoder, mode, torch version and CPU, and its result is cached
in `<cache_dir>/precision.json`. An explicit mode that fails it is refused with one sentence; `auto` falls
back. Vectors within the tolerance are interchangeable, so the space fingerprint does not change with the
precision (a collection indexed in fp32 accepts bf16 or int8 vectors and the reverse); `Space.precision`
records what each route runs.
"""

from __future__ import annotations

import copy
import functools
import json
import logging
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Iterable, Sequence

import numpy as np

from mcrsearch.errors import ConfigError
from mcrsearch.modality import Modality

if TYPE_CHECKING:
    from mcrsearch.config import Settings
    from mcrsearch.encoders.base import Encoder

log = logging.getLogger(__name__)

PRECISIONS = ("auto", "fp32", "bf16", "int8", "onnx")
MIN_COSINE = 0.999          # the stated tolerance: every calibration vector's cosine to its fp32 vector
CALIBRATION_ITEMS = 4       # real-shaped inputs per modality in the tolerance check

# Preference per family, from benchmarks/precision.py on full-size architectures (docs/BENCHMARKS.md): bf16
# where the hardware has it. Dynamic int8 is never picked by auto, although it measured 1.3x fp32 within
# tolerance for CLIP and ULIP-2: it quantises activations with a scale computed over the whole batch, so the
# same file gets a different vector in a different batch. That breaks "a vector is a pure function of (content,
# fingerprint)" and the promise that a killed run, rerun, ends as a clean run would. It stays an explicit
# choice (`--precision int8`, checked against the tolerance; CLAP's measured 0.987 and is refused). ONNX
# Runtime in fp32 keeps each row independent of its batch and measured 2.4x torch fp32 for CLIP's image tower
# on an AVX2 CPU, so auto takes it where bf16 hardware is missing. ULIP-2 after its grouping ran 0.86x torch in
# ONNX Runtime (same run), so for ULIP-2 it stays explicit. Static int8 in ONNX Runtime (activation
# scales fixed by calibration, so batch-independent) ran 3.6-5.4x but moved vectors to cosine 0.96-0.99:
# refused by the tolerance, not offered.
AUTO_ORDER: dict[str, tuple[str, ...]] = {
    "openclip": ("bf16", "onnx"),
    "clap": ("bf16",),
    "ulip2": ("bf16",),
}


@dataclass(frozen=True)
class CpuSupport:
    """What the CPU offers for reduced precision."""

    capability: str             # torch's kernel level: DEFAULT, AVX2, AVX512, ...
    bf16_matrix: bool           # AMX-BF16 or AVX512-BF16: bf16 matmuls in hardware
    flags: frozenset[str]


@functools.lru_cache(maxsize=1)
def cpu_support() -> CpuSupport:
    """The CPU's reduced-precision features (cpuinfo flags; torch's capability string as a fallback)."""
    import torch

    capability = str(torch.backends.cpu.get_cpu_capability())
    flags: set[str] = set()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("flags"):
                flags = set(line.split(":", 1)[1].split())
                break
    except OSError:
        pass
    bf16 = bool({"amx_bf16", "avx512_bf16"} & flags) or "AMX" in capability.upper()
    return CpuSupport(capability, bf16, frozenset(f for f in flags if f.startswith(("avx", "amx"))))


def offered_modes(device: Any) -> tuple[str, ...]:
    """Modes the device can run at least as fast as emulation would allow (fp32 always)."""
    kind = getattr(device, "type", str(device)).split(":")[0]
    if kind == "cuda":
        return ("fp32", "bf16")
    if kind == "cpu":
        from mcrsearch.encoders import _onnx

        onnx = ("onnx",) if _onnx.available() else ()
        return (("fp32", "bf16", "int8") if cpu_support().bf16_matrix else ("fp32", "int8")) + onnx
    return ("fp32",)


def check_precision_name(precision: str) -> str:
    """The normalised mode name, or a one-sentence ConfigError."""
    name = (precision or "auto").strip().lower()
    if name not in PRECISIONS:
        raise ConfigError(f"Unknown precision '{precision}'; use one of {', '.join(PRECISIONS)}.")
    return name


def candidates(encoder: "Encoder", requested: str) -> list[str]:
    """Modes to try for `encoder`, best first; the last resort fp32 is implied. Refuses the impossible."""
    requested = check_precision_name(requested)
    family_modes = tuple(getattr(encoder, "precision_modes", ("fp32",)))
    offered = offered_modes(encoder.device)
    if requested == "auto":
        return [m for m in AUTO_ORDER.get(encoder.family, ()) if m in family_modes and m in offered]
    if requested == "fp32" or requested not in family_modes:
        return []                       # a family without reduced modes (e.g. the mini-world's) stays fp32
    if requested not in offered:
        raise ConfigError(_unoffered(requested, encoder.device))
    return [requested]


def _unoffered(mode: str, device: Any) -> str:
    if mode == "bf16":
        return (f"Precision bf16 needs bfloat16 matrix units (AMX or AVX512-BF16 on a CPU, or a CUDA GPU), which "
                f"device {device} does not have (CPU level {cpu_support().capability}); use auto, fp32 or int8.")
    if mode == "onnx" and getattr(device, "type", str(device)).split(":")[0] == "cpu":
        return "Precision onnx needs ONNX Runtime (pip install onnxruntime onnx); use auto, fp32 or int8."
    return f"Precision {mode} is not available on device {device}; use auto or fp32."


# --------------------------------------------------------------------------- applying a mode

def convert(encoder: "Encoder", mode: str, folder: Path | None = None) -> None:
    """Switch `encoder` (in place) to `mode`; the weights were loaded in fp32 before, on the usual path.

    `folder` keeps ONNX exports between runs (default: a temporary folder, exported again next time)."""
    if mode == "fp32":
        encoder.precision = "fp32"
        return
    import torch

    model = getattr(encoder, "model")     # families with reduced modes keep their torch module here
    if mode == "int8":
        if getattr(encoder.device, "type", str(encoder.device)) != "cpu":
            raise ConfigError("Precision int8 runs on the CPU only; use auto, fp32 or bf16 on a GPU.")
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")        # torch.ao's deprecation notices: the kernels are current
            torch.ao.quantization.quantize_dynamic(model, {torch.nn.Linear}, dtype=torch.qint8, inplace=True)
    elif mode == "onnx":
        if getattr(encoder.device, "type", str(encoder.device)) != "cpu":
            raise ConfigError("Precision onnx runs on the CPU only; use auto, fp32 or bf16 on a GPU.")
        if folder is None:
            import tempfile

            folder = Path(tempfile.mkdtemp(prefix="mcrsearch-onnx-"))
        encoder.enable_onnx(folder)
    elif mode == "bf16":
        if getattr(encoder, "bf16_style", "weights") == "weights":
            model.to(torch.bfloat16)
            encoder.input_dtype = torch.bfloat16
        encoder.autocast_dtype = torch.bfloat16
    else:
        raise ConfigError(f"Unknown precision '{mode}'.")
    encoder.after_precision(mode)
    encoder.precision = mode


def tolerance(encoder: "Encoder", mode: str, modalities: Iterable[Modality], folder: Path | None = None) -> float:
    """Min cosine between fp32 vectors and `mode` vectors of a copy of `encoder` on real-shaped inputs."""
    trial = copy.deepcopy(encoder)
    convert(trial, mode, folder)
    worst = 1.0
    for modality in modalities:
        items = sample_inputs(modality, CALIBRATION_ITEMS)
        reference = encoder.encode(modality, items)
        vectors = trial.encode(modality, items)
        worst = min(worst, float(np.min(np.sum(reference * vectors, axis=1))))
    del trial
    return worst


def choose(encoder: "Encoder", requested: str, modalities: Sequence[Modality],
           cache: Path | None = None) -> tuple[str, float]:
    """Put `encoder` in the best allowed mode for `requested`; returns (mode, min cosine to fp32).

    Raises ConfigError when an explicitly requested mode breaks the tolerance.
    """
    requested = check_precision_name(requested)
    folder = cache.parent / "onnx" if cache is not None else None
    for mode in candidates(encoder, requested):
        key = _cache_key(encoder, mode, modalities)
        known = _read_cache(cache).get(key)
        cosine = float(known) if known is not None else tolerance(encoder, mode, modalities, folder)
        if known is None:
            _write_cache(cache, key, cosine)
        if cosine >= MIN_COSINE:
            convert(encoder, mode, folder)
            return mode, cosine
        if requested != "auto":
            raise ConfigError(
                f"Precision {mode} moves {encoder.family} vectors too far from fp32 (min cosine {cosine:.5f} < "
                f"{MIN_COSINE}), so it is refused; use --precision auto or fp32.")
        log.info("precision %s for %s: min cosine %.5f below %s, not used", mode, encoder.family, cosine, MIN_COSINE)
    convert(encoder, "fp32")
    return "fp32", 1.0


def apply_to_space(space: Any, settings: "Settings") -> Any:
    """Choose each encoder's precision once (an encoder shared by routes is checked on all its modalities).

    `space` is a `mcrsearch.space.Space` (not imported here: space.py calls this module)."""
    requested = check_precision_name(getattr(settings, "precision", "auto"))
    encoders: dict[int, tuple[Any, list[Modality]]] = {}
    for modality, route in space.routes.items():
        encoders.setdefault(id(route.encoder), (route.encoder, []))[1].append(modality)
    cache = settings.cache_dir / "precision.json"
    chosen: dict[str, str] = {}
    for encoder, modalities in encoders.values():
        if getattr(encoder, "precision", None) in (None, "fp32") and hasattr(encoder, "model"):
            choose(encoder, requested, modalities, cache)
        chosen.update({m.value: _route_mode(encoder, m) for m in modalities})
    space.precision = chosen
    return space


def _route_mode(encoder: Any, modality: Modality) -> str:
    """The mode `modality` runs under on `encoder` (encoders outside the Encoder base: their `precision`)."""
    if hasattr(encoder, "route_precision"):
        return str(encoder.route_precision(modality))
    return str(getattr(encoder, "precision", None) or "fp32")


# --------------------------------------------------------------------------- calibration inputs and cache

def sample_inputs(modality: Modality | str, n: int, seed: int = 0) -> list[Any]:
    """`n` decoded inputs shaped like real media: 256-px photos with smooth structure, sentences,
    10 s mixtures of tones and noise at 48 kHz, 10,000-point surfaces of random boxes and spheres."""
    modality = Modality.parse(modality)
    rng = np.random.default_rng(seed)
    if modality is Modality.TEXT:
        words = "a the dog cat red blue car drum bell chair wooden small loud old bird singing rain".split()
        return [" ".join(rng.choice(words, int(rng.integers(3, 12)))) for _ in range(n)]
    if modality is Modality.IMAGE:
        from PIL import Image

        out = []
        for _ in range(n):
            coarse = rng.integers(0, 256, (8, 8, 3), dtype=np.uint8)
            img = Image.fromarray(coarse).resize((256, 256), Image.Resampling.BICUBIC)
            noise = rng.normal(0, 12, (256, 256, 3))
            out.append(Image.fromarray(np.clip(np.asarray(img) + noise, 0, 255).astype(np.uint8)))
        return out
    if modality is Modality.AUDIO:
        from mcrsearch.media import AudioClip

        rate, seconds = 48_000, 10.0
        t = np.arange(int(rate * seconds)) / rate
        clips = []
        for _ in range(n):
            tones = sum(rng.uniform(0.05, 0.3) * np.sin(2 * np.pi * rng.uniform(80, 4000) * t) for _ in range(3))
            envelope = 0.5 + 0.5 * np.sin(2 * np.pi * rng.uniform(0.2, 2.0) * t)
            wave = (tones * envelope + rng.normal(0, 0.02, t.shape)).astype(np.float32)
            clips.append(AudioClip(samples=wave, sample_rate=rate))
        return clips
    if modality is Modality.POINTS:
        clouds = []
        for i in range(n):
            p = rng.normal(size=(10_000, 3))
            if i % 2:
                p /= np.linalg.norm(p, axis=1, keepdims=True)            # sphere surface
            else:
                p = np.clip(p, -1, 1) * rng.uniform(0.3, 1.0, 3)          # a squashed box
            p -= p.mean(axis=0)
            clouds.append((p / np.linalg.norm(p, axis=1).max()).astype(np.float32))
        return clouds
    raise ConfigError(f"No calibration inputs for {modality.value}.")


def _cache_key(encoder: "Encoder", mode: str, modalities: Sequence[Modality]) -> str:
    import torch

    mods = ",".join(sorted(m.value for m in modalities))
    return f"{encoder.fingerprint}|{mode}|{mods}|torch {torch.__version__}|{cpu_support().capability}|{MIN_COSINE}"


def _read_cache(path: Path | None) -> dict[str, float]:
    if path is None or not path.is_file():
        return {}
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def _write_cache(path: Path | None, key: str, cosine: float) -> None:
    if path is None:
        return
    from mcrsearch.atomic import write_json_atomic

    data = _read_cache(path)
    data[key] = cosine
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        write_json_atomic(path, data, indent=1, sort_keys=True)
    except OSError as exc:            # a read-only cache only costs a re-check next time
        log.info("precision cache not written: %s", exc)
