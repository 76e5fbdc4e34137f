"""One training run end to end: data in, checkpoint + sidecar + curves out. Shared by the CLI and scripts."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any, Callable, Sequence

import numpy as np

from mcrsearch.errors import ConfigError
from mcrsearch.topology import MCRS, connection
from mcrsearch_trainer.data import ConnectionData, ValidationSet



def cmcr_kind(leaf: str | None, base: str | None) -> str:
    """The released C-MCR head layout of a declared connection (`mcrsearch.topology`), else "generic"."""
    conn = connection(leaf, base) if leaf and base else None
    return conn.cmcr_kind if conn else "generic"


def released_name(method: str, leaf: str | None, base: str | None) -> str | None:
    """The authors' file name for the heads of a declared connection (e.g. `ex_clap.pt`), else None."""
    conn = connection(leaf, base) if leaf and base else None
    return conn.head_files[method] if conn else None


def fit(method: str, data: ConnectionData, cfg: Any, kind: str = "generic",
        progress: Callable[[int, int, float], None] | None = None):
    """Train one connection with `method` ('cmcr' or 'exmcr'); (module, history)."""
    if method == "exmcr":
        from mcrsearch_trainer.exmcr import fit_exmcr

        return fit_exmcr(data, cfg, progress=progress)
    if method == "cmcr":
        from mcrsearch_trainer.cmcr import fit_cmcr

        return fit_cmcr(data, cfg, kind=kind, progress=progress)
    raise ConfigError(f"Unknown training method '{method}'; use cmcr or exmcr.")


def train_and_save(method: str, data: ConnectionData, cfg: Any, out_dir: str | Path, name: str,
                   kind: str = "generic", progress: Callable | None = None,
                   extra: dict[str, Any] | None = None) -> dict[str, Any]:
    """Train, then write `<out_dir>/<name>` (released key layout), its JSON sidecar and a curves PNG."""
    from mcrsearch_trainer.head_files import plot_curves, save_checkpoint

    module, history = fit(method, data, cfg, kind, progress)
    out_dir = Path(out_dir)
    path = out_dir / name
    metrics = history.final_val()
    save_checkpoint(module, path, config=cfg.to_dict(), data_fingerprint=data.fingerprint(), metrics=metrics,
                    history=history, extra={"method": method, "kind": kind if method == "cmcr" else "exmcr",
                                            "data": data.summary(), **(extra or {})})
    curves = plot_curves(history, out_dir / (Path(name).stem + "_curves.png"), title=f"{method} {name}")
    return {"checkpoint": str(path), "sidecar": str(path.with_suffix(".json")), "curves": str(curves),
            "metrics": metrics, "steps": len(history.steps), "samples_per_s": history.samples_per_s,
            "seconds": history.seconds, "module": module, "history": history}


def data_from_npz(path: str | Path) -> ConnectionData:
    """ConnectionData from cached arrays: overlap_a, overlap_b, memory_a, memory_b[, pairs_*][, val_*]."""
    path = Path(path)
    if not path.is_file():
        raise ConfigError(f"The features file {path} does not exist.")
    with np.load(path) as z:
        arrays = {k: z[k].astype(np.float32) if not k.startswith("val_labels") else z[k] for k in z.files}
    missing = [k for k in ("overlap_a", "overlap_b", "memory_a", "memory_b") if k not in arrays]
    if missing:
        raise ConfigError(f"The features file {path.name} lacks the arrays {', '.join(missing)}.")
    validation = []
    if all(k in arrays for k in ("val_x_a", "val_labels_a", "val_x_b", "val_labels_b")):
        validation.append(ValidationSet("val", arrays["val_x_a"], arrays["val_labels_a"], arrays["val_x_b"],
                                        arrays["val_labels_b"]))
    try:
        return ConnectionData(arrays["overlap_a"], arrays["overlap_b"], arrays["memory_a"], arrays["memory_b"],
                              arrays.get("pairs_a"), arrays.get("pairs_b"), validation)
    except ValueError as exc:
        raise ConfigError(f"The features file {path.name} is inconsistent: {exc}") from exc


def expand_paths(specs: Sequence[str], modality: str | None = None) -> list[Path]:
    """Files from folders (recursive, by modality of extension), single files, or `@list.txt` path lists."""
    from mcrsearch.modality import Modality, detect_modality

    want = Modality.parse(modality) if modality else None
    out: list[Path] = []
    for spec in specs:
        if spec.startswith("@"):
            lst = Path(spec[1:])
            if not lst.is_file():
                raise ConfigError(f"The file list {lst} does not exist.")
            out += [Path(line.strip()) for line in lst.read_text().splitlines() if line.strip()]
            continue
        p = Path(spec)
        if p.is_dir():
            out += sorted(f for f in p.rglob("*") if f.is_file() and detect_modality(f) is not None
                          and (want is None or detect_modality(f) is want))
        elif p.is_file():
            out.append(p)
        else:
            raise ConfigError(f"{p} is neither a file nor a folder.")
    if not out:
        raise ConfigError(f"No {want.value if want else 'media'} files found in {', '.join(specs)}.")
    return out


def data_from_files(leaf: str, base: str, overlap: Sequence[str], leaf_memory: Sequence[str],
                    base_memory: Sequence[str], val_leaf: Sequence[str], val_base: Sequence[str],
                    settings: Any, encoders: dict[str, Any] | None = None,
                    progress: Callable[[str], Callable[[int, int], None]] | None = None) -> ConnectionData:
    """Encode (through the feature cache) the unpaired corpora of a leaf->base connection.

    `progress(label)` returns the `(done, total)` callback of one encoding pass (the CLI draws a bar per pass).
    """
    from mcrsearch.builtin_spaces import real_encoder
    from mcrsearch_trainer.features import cached_features

    if leaf not in MCRS or base not in MCRS:
        raise ConfigError(f"MCRs are {', '.join(MCRS)}; got {leaf} and {base}.")
    shared = set(MCRS[leaf].modalities) & set(MCRS[base].modalities)
    if not shared:
        raise ConfigError(f"{leaf} and {base} share no modality, so they cannot be connected.")
    shared_modality = shared.pop()
    mod_a, mod_b = MCRS[leaf].other(shared_modality).value, MCRS[base].other(shared_modality).value
    over = shared_modality.value
    encoders = encoders or {}
    enc_a = encoders.get(leaf) or real_encoder(leaf, settings)
    enc_b = encoders.get(base) or real_encoder(base, settings)
    root = Path(settings.cache_dir) / "features"

    def features(files: Sequence[Path], encoder: Any, modality: str, label: str) -> np.ndarray:
        tick = progress(f"encoding {label}") if progress else None
        return np.asarray(cached_features(files, encoder, modality, root, progress=tick))

    over_files = expand_paths(overlap, over)
    feats = {
        "overlap_a": features(over_files, enc_a, over, f"{leaf} {over}"),
        "overlap_b": features(over_files, enc_b, over, f"{base} {over}"),
        "memory_a": features(expand_paths(leaf_memory, mod_a), enc_a, mod_a, f"{leaf} {mod_a}"),
        "memory_b": features(expand_paths(base_memory, mod_b), enc_b, mod_b, f"{base} {mod_b}"),
    }
    validation = []
    if val_leaf and val_base:
        fa, fb = expand_paths(val_leaf, mod_a), expand_paths(val_base, mod_b)
        names = sorted({p.parent.name for p in fa} | {p.parent.name for p in fb})
        idx = {n: i for i, n in enumerate(names)}
        validation.append(ValidationSet(
            f"{mod_a}->{mod_b}", features(fa, enc_a, mod_a, f"val {leaf} {mod_a}"),
            np.array([idx[p.parent.name] for p in fa]),
            features(fb, enc_b, mod_b, f"val {base} {mod_b}"), np.array([idx[p.parent.name] for p in fb])))
    return ConnectionData(validation=validation, **feats)


def default_out_dir(settings: Any, method: str) -> Path:
    return Path(settings.home) / "trained" / f"{method}-{time.strftime('%Y%m%d-%H%M%S')}"
