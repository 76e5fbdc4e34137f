"""Time the exact evaluation at the COCO 5k-test scale: `python -m mcrsearch.benchmark.speed [--markdown FILE]`.

Synthetic 512-d vectors, 5,000 items x 25,000 captions (5 each), both directions, R@1/5/10; and the
class-level mAP path on the same sizes. Prints seconds; with --markdown writes a section of
docs/BENCHMARKS.md between `<!-- BEGIN benchmark:metrics-speed -->` markers.
"""

from __future__ import annotations

import argparse
import os
import platform
import time

import numpy as np

from mcrsearch.benchmark import metrics as M


def measure(n_items: int = 5000, per_item: int = 5, dim: int = 512, seed: int = 0) -> dict[str, float]:
    rng = np.random.default_rng(seed)
    items = rng.normal(size=(n_items, dim)).astype(np.float32)
    items /= np.linalg.norm(items, axis=1, keepdims=True)
    owner = np.repeat(np.arange(n_items), per_item)
    texts = items[owner] + rng.normal(scale=0.05, size=(len(owner), dim)).astype(np.float32)
    texts /= np.linalg.norm(texts, axis=1, keepdims=True)
    out: dict[str, float] = {}
    t0 = time.perf_counter()
    M.retrieval_metrics(items, texts, np.arange(n_items), owner, compute_map=False)
    out["item->text R@k (s)"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    M.retrieval_metrics(texts, items, owner, np.arange(n_items), compute_map=False)
    out["text->item R@k (s)"] = time.perf_counter() - t0
    labels_i, labels_t = np.arange(n_items) % 100, owner % 100
    t0 = time.perf_counter()
    M.retrieval_metrics(items, texts, labels_i, labels_t, compute_map=True)
    out["item->text R@k + class mAP (s)"] = time.perf_counter() - t0
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--markdown", default=None)
    args = parser.parse_args()
    timings = measure()
    for name, seconds in timings.items():
        print(f"{name:34s} {seconds:7.2f}")
    if args.markdown:
        from mcrsearch.benchmark.report import write_markdown

        body = ["### Exact-evaluation speed (5,000 items x 25,000 captions, 512-d)", "",
                f"Measured by `python -m mcrsearch.benchmark.speed --markdown {args.markdown}` on "
                f"{platform.machine()} with {os.cpu_count()} visible cores (shared machine).", "",
                "| pass | seconds |", "|---|---|"]
        body += [f"| {k.replace(' (s)', '')} | {v:.2f} |" for k, v in timings.items()]
        write_markdown(args.markdown, "metrics-speed", "\n".join(body) + "\n")


if __name__ == "__main__":
    main()
