"""All settings in one place: defaults < TOML file < MCRSEARCH_* environment < CLI flags.

The TOML file is `$MCRSEARCH_HOME/config.toml` unless `--config` / `MCRSEARCH_CONFIG` names another.
"""

from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any

from mcrsearch.errors import ConfigError


def default_home() -> Path:
    return Path(os.environ.get("MCRSEARCH_HOME", Path.home() / ".cache" / "mcrsearch")).expanduser()


@dataclass(frozen=True)
class Settings:
    """Everything a run can be configured with; one frozen object passed down, never globals."""

    home: Path = field(default_factory=default_home)
    device: str = "auto"                 # auto | cpu | cuda | cuda:N | mps
    precision: str = "auto"              # auto | fp32 | bf16 | int8 | onnx: encoder numerics (mcrsearch.precision)
    space: str = "auto"                  # auto | exmcr | cmcr-clap-clip | cmcr-ulip-clip | clip | miniworld ...
    collection: str = "mcrsearch"
    store_path: Path | None = None       # embedded store folder; default <home>/index
    qdrant_url: str | None = None        # server / cluster mode when set
    qdrant_api_key: str | None = None
    shard_number: int | None = None
    replication_factor: int | None = None
    batch_size: int = 0                  # 0 = sized for the device
    workers: int = 0                     # decode threads; 0 = auto (cores on a GPU, none on CPU)
    max_file_mb: float = 512.0           # larger files are skipped as 'huge'
    # Caps on what a file may make us allocate, checked against the sizes it declares before decoding
    # (a small file can declare a huge array: a zip bomb, a forged header). See mcrsearch.media.Limits.
    max_decoded_mb: float = 512.0        # decoded/decompressed bytes of one input (npz member, audio window)
    max_points: int = 20_000_000         # points, vertices or faces a 3D file may declare
    max_image_pixels: int = 89_478_485   # Pillow's own bomb threshold (about 0.25 GB as RGB)
    max_audio_seconds: float = 300.0     # audio decoded per file: the first N seconds (the payload says so)
    # Video (mcrsearch.video): only the first max_video_seconds are segmented and embedded (the payload says so)
    max_video_mb: float = 4096.0         # video files may be larger than other files (max_file_mb)
    max_video_seconds: float = 900.0     # seconds of a video decoded and indexed (its start)
    max_video_pixels: int = 35_389_440   # frame size (8K UHD); larger frames are refused before decoding
    max_streams: int = 64                # streams a container may declare
    max_decode_seconds: float = 300.0    # wall time one video's decode may take before it is refused
    video_frames: int = 3                # frames sampled per segment, pooled into its visual vector
    min_free_disk_mb: float = 64.0       # an index run stops (cleanly) before the index disk has less free
    # `mcrsearch duplicates`: two items of one modality whose vectors' cosine reaches this are near-duplicates;
    # None: per-modality thresholds measured on the mini-world (mcrsearch.duplicates.DEFAULT_COSINE)
    duplicate_cosine: float | None = None
    # `mcrsearch explain`: a map's peak this many standard deviations above the collection's mean pair cosine
    # says "the query's source is in the picture" (see mcrsearch.explain and the miniworld-scenes benchmark)
    explain_present_z: float = 2.0
    debug: bool = False
    # `mcrsearch serve`
    server_host: str = "127.0.0.1"       # loopback by default (the API needs the token on any address)
    server_port: int = 8765
    server_token: str | None = None      # generated at each start when none is set
    max_upload_mb: float = 64.0          # query files uploaded to the server
    # Query files (uploads and paths) are decoded only as large as an encoder needs, under a lower
    # pixel cap than indexed files, and only a few at once: a 236 KB PNG can declare 81 MP (~1 GB).
    query_image_side: int = 1024         # images decoded to about this shorter side (JPEG draft / reduce)
    max_query_pixels: int = 16_777_216   # pixels a query image may decode to (4096 x 4096)
    max_query_decodes: int = 2           # query files decoded at the same time (per process)

    @property
    def weights_dir(self) -> Path:
        return self.home / "weights"

    @property
    def cache_dir(self) -> Path:
        return self.home / "cache"

    @property
    def index_dir(self) -> Path:
        return self.store_path or (self.home / "index")

    def with_overrides(self, **overrides: Any) -> "Settings":
        """Apply non-None flag values on top of these settings."""
        clean = {k: v for k, v in overrides.items() if v is not None}
        return replace(self, **_coerce(clean))


_PATH_FIELDS = {"home", "store_path"}
_INT_FIELDS = {"shard_number", "replication_factor", "batch_size", "workers", "server_port", "max_points",
               "max_image_pixels", "max_video_pixels", "max_streams", "video_frames", "query_image_side",
               "max_query_pixels", "max_query_decodes"}
_FLOAT_FIELDS = {"max_file_mb", "max_upload_mb", "max_decoded_mb", "max_audio_seconds", "min_free_disk_mb",
                 "duplicate_cosine", "max_video_mb", "max_video_seconds", "max_decode_seconds",
                 "explain_present_z"}
_BOOL_FIELDS = {"debug"}


def _coerce(values: dict[str, Any]) -> dict[str, Any]:
    known = {f.name for f in fields(Settings)}
    out: dict[str, Any] = {}
    for key, value in values.items():
        if key not in known:
            raise ConfigError(f"Unknown setting '{key}'; known settings are {', '.join(sorted(known))}.")
        try:
            if key in _PATH_FIELDS:
                value = Path(value).expanduser()
            elif key in _INT_FIELDS:
                value = int(value)
            elif key in _FLOAT_FIELDS:
                value = float(value)
            elif key == "precision":
                value = _precision(value)
            elif key in _BOOL_FIELDS and isinstance(value, str):
                value = value.strip().lower() in {"1", "true", "yes", "on"}
        except (TypeError, ValueError) as exc:
            raise ConfigError(f"Setting '{key}' has an invalid value {value!r}.") from exc
        out[key] = value
    return out


def _precision(value: Any) -> str:
    """A known precision mode name (checked here so a typo fails before any model loads)."""
    name = str(value).strip().lower()
    known = ("auto", "fp32", "bf16", "int8", "onnx")     # mcrsearch.precision.PRECISIONS, kept import-light here
    if name not in known:
        raise ConfigError(f"Unknown precision '{value}'; use one of {', '.join(known)}.")
    return name


def _from_env() -> dict[str, Any]:
    names = {f.name for f in fields(Settings)}
    return {name: os.environ[f"MCRSEARCH_{name.upper()}"] for name in names
            if f"MCRSEARCH_{name.upper()}" in os.environ}


def _from_file(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as fh:
            data = tomllib.load(fh)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"The config file {path} is not valid TOML ({exc}).") from exc
    return data.get("mcrsearch", data)


def load_settings(config_file: str | Path | None = None, **flags: Any) -> Settings:
    """Build the effective settings; `flags` are CLI values (None means 'not given')."""
    env = _from_env()
    home = Path(flags.get("home") or env.get("home") or default_home()).expanduser()
    file = Path(config_file or os.environ.get("MCRSEARCH_CONFIG") or home / "config.toml")
    merged: dict[str, Any] = {}
    if file.exists():
        merged.update({k: v for k, v in _from_file(file).items() if not isinstance(v, dict)})
    elif config_file:
        raise ConfigError(f"The config file {file} does not exist.")
    merged.update(env)
    merged.update({k: v for k, v in flags.items() if v is not None})
    merged["home"] = home
    return Settings().with_overrides(**merged)


def prepare_offline_environment() -> None:
    """Make hub libraries fail fast instead of retrying for minutes when a file is missing."""
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    os.environ.setdefault("HF_HUB_DISABLE_TELEMETRY", "1")
    os.environ.setdefault("WANDB_MODE", "disabled")
