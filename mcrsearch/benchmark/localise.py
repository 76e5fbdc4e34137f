"""Run source localisation and counterfactual recognition on a `LocDataset`: ours beside the baselines.

For each space: every sound is embedded once, every picture's part vectors once (`Space.embed_dense`);
a sample's map is the cosine of its sound with each part, scaled to 224 x 224 and thresholded by the
protocol's rule (see `mcrsearch.benchmark.localisation`). Its confidence is the map's peak cosine. The
verdict of `mcrsearch explain` (peak z-score under the dataset's own audio->image cosine statistics
against `explain.PRESENT_Z`) is scored too. Ablations break one ingredient: part positions shuffled
within each picture (the map keeps its values but loses where they are), and other dense methods.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, Sequence

import numpy as np

from mcrsearch.benchmark import localisation as L
from mcrsearch.explain import PRESENT_Z, upsample
from mcrsearch.modality import Modality

# The C-MCR results card (docs: ../shared/PUBLISHED.md); which protocol and split it used is not printed.
_CARD = "C-MCR results card on the paper-tracking page (PUBLISHED.md); protocol and threshold not printed there"
PUBLISHED: dict[str, list[dict[str, Any]]] = {
    "vggss": [{"method": "C-MCR", "metric": "ciou", "value": 0.4808, "source": _CARD}],
    "music-solo": [{"method": "C-MCR", "metric": "ciou", "value": 0.5378, "source": _CARD}],
    "ex-vggss": [{"method": "C-MCR", "metric": "ap", "value": 0.5091, "source": _CARD}],
    "ex-flickrnet": [{"method": "C-MCR", "metric": "ap", "value": 0.7367, "source": _CARD}],
}


@dataclass
class LocOptions:
    rule: str = "top-half"
    dense_method: str = ""
    ablations: bool = True
    limit: int | None = None
    seed: int = 0


def run_localisation(dataset: L.LocDataset, spaces: Sequence[Any], options: LocOptions,
                     decode: Callable[[Any, Modality], Any]) -> dict[str, Any]:
    """Results as a JSON-ready dict: `results` rows {task, method, ciou, auc | ap, max_f1, ...}."""
    samples = dataset.samples[: options.limit] if options.limit else list(dataset.samples)
    problems = list(dataset.problems)
    images, sounds = _decode_all(samples, decode, problems)
    samples = [s for s in samples if str(s.image) in images and s.sound_key in sounds]
    gts = {s.id: L.gt_map(s.boxes, s.consensus) for s in samples if s.positive}
    results: list[dict] = [*_baseline_rows(samples, gts, dataset.tasks)]
    ablations: list[dict] = []
    space_info = []
    for space in spaces:
        info = {"space": space.name, "label": getattr(space, "label", None), "fingerprint": space.fingerprint}
        queries = _embed_sounds(space, samples, sounds)
        dense = {key: space.embed_dense(Modality.IMAGE, img, options.dense_method) for key, img in images.items()}
        info["dense_method"] = next(iter(dense.values())).method if dense else options.dense_method
        space_info.append(info)
        calibration = _pair_stats(space, images, queries)
        ours = _evaluate(samples, gts, dense, queries, options.rule, shuffle_seed=None)
        results += _rows(ours, dataset.tasks, "mcrsearch", space.name, calibration)
        if options.ablations:
            broken = _evaluate(samples, gts, dense, queries, options.rule, shuffle_seed=options.seed)
            ablations += _rows(broken, dataset.tasks, "mcrsearch", space.name, calibration,
                               ingredient="part positions shuffled within each picture")
            encoder = space.routes[Modality.IMAGE].encoder
            for other in getattr(encoder, "dense_methods", ())[1:] if not options.dense_method else ():
                alt = {key: space.embed_dense(Modality.IMAGE, img, other) for key, img in images.items()}
                scored = _evaluate(samples, gts, alt, queries, options.rule, shuffle_seed=None)
                ablations += _rows(scored, dataset.tasks, "mcrsearch", space.name, calibration,
                                   ingredient=f"dense method '{other}' instead of '{info['dense_method']}'")
    kinds: dict[str, int] = {}
    for s in samples:
        kinds[s.kind] = kinds.get(s.kind, 0) + 1
    return {"benchmark": dataset.name, "split": dataset.split, "tasks": list(dataset.tasks),
            "protocol": {"prediction": options.rule, "map_size": L.MAP_SIZE, "ciou_threshold": 0.5,
                         "confidence": "peak cosine of the map", "verdict_z": PRESENT_Z},
            "samples": kinds, "images": len(images), "sources": dataset.sources, "spaces": space_info,
            "results": results, "ablations": ablations,
            "published": [dict(p, benchmark=dataset.name) for p in PUBLISHED.get(dataset.name, [])],
            "problems": len(problems), "problem_list": problems, "notes": []}


def _decode_all(samples: Sequence[L.LocSample], decode: Callable, problems: list[dict]) -> tuple[dict, dict]:
    """Decode every picture and sound file once (a sound window is cut from its file's clip); an undecodable
    file costs only the samples that use it, a window past the decoded sound only its sample."""
    images: dict[str, Any] = {}
    files: dict[str, Any] = {}
    failed: set[str] = set()
    for s in samples:
        for path, modality, store in ((s.image, Modality.IMAGE, images), (s.audio, Modality.AUDIO, files)):
            key = str(path)
            if key in store or key in failed:
                continue
            try:
                store[key] = decode(path, modality)
            except Exception as exc:  # noqa: BLE001 - a bad file is one problem row, never a lost run
                failed.add(key)
                problems.append({"path": key, "reason": str(exc).splitlines()[0][:200] or type(exc).__name__})
    sounds: dict[str, Any] = {}
    for s in samples:
        clip = files.get(str(s.audio))
        if clip is None or s.sound_key in sounds:
            continue
        if s.window is None:
            sounds[s.sound_key] = clip
            continue
        cut = _window(clip, s.window)
        if cut is None:
            problems.append({"path": s.sound_key, "reason": f"the window is past the decoded sound "
                                                              f"({clip.duration:.1f} s; see max_audio_seconds)"})
        else:
            sounds[s.sound_key] = cut
    return images, sounds


def _window(clip: Any, window: tuple[float, float]) -> Any:
    """The (start, end) seconds of a decoded clip, or None when the clip ends before `end`."""
    from dataclasses import replace

    start, end = window
    rate = int(clip.sample_rate)
    a, b = int(round(start * rate)), int(round(end * rate))
    if b > len(clip.samples) + rate // 100 or b <= a:        # 10 ms of slack for rounding at the end
        return None
    return replace(clip, samples=clip.samples[a:b], source_duration=None)


def _embed_sounds(space: Any, samples: Sequence[L.LocSample], sounds: dict) -> dict[str, np.ndarray]:
    keys = sorted({s.sound_key for s in samples})
    vectors = space.embed(Modality.AUDIO, [sounds[k] for k in keys]) if keys else np.zeros((0, space.dim))
    return dict(zip(keys, vectors))


def _pair_stats(space: Any, images: dict, queries: dict) -> list[float]:
    """Mean and standard deviation of audio->image global cosines over all of the dataset's pairs: the
    dataset stands in for a collection, as `mcrsearch.calibration` computes it at index time."""
    from mcrsearch.calibration import MIN_STD

    if not images or not queries:
        return [0.0, 1.0]
    pics = space.embed(Modality.IMAGE, list(images.values()))
    sims = np.stack(list(queries.values())) @ pics.T
    return [float(sims.mean()), float(max(sims.std(), MIN_STD))]


def _evaluate(samples: Sequence[L.LocSample], gts: dict, dense: dict, queries: dict, rule: str,
              shuffle_seed: int | None) -> dict[str, list]:
    out: dict[str, list] = {"ciou": [], "confidence": [], "positive": [], "kind": []}
    order_cache: dict[str, np.ndarray] = {}
    for s in samples:
        parts = dense[str(s.image)]
        vectors = parts.vectors
        if shuffle_seed is not None:
            key = str(s.image)
            if key not in order_cache:
                order_cache[key] = np.random.default_rng([shuffle_seed, len(order_cache)]).permutation(len(vectors))
            vectors = vectors[order_cache[key]]
        cos = vectors @ queries[s.sound_key]
        out["confidence"].append(float(cos.max()))
        out["positive"].append(s.positive)
        out["kind"].append(s.kind)
        if s.positive:
            scaled = upsample(cos.reshape(parts.grid), parts.centres, L.MAP_SIZE, L.MAP_SIZE)
            out["ciou"].append(L.ciou(L.predict(scaled, rule), gts[s.id]))
        else:
            out["ciou"].append(0.0)
    return out


def _rows(scored: dict, tasks: Sequence[str], method: str, space: str | None, calibration: list[float] | None,
          ingredient: str | None = None) -> list[dict]:
    rows: list[dict[str, Any]] = []
    extra: dict[str, Any] = {"space": space} if space else {}
    if ingredient:
        extra["ingredient"] = ingredient
    pos_cious = [c for c, p in zip(scored["ciou"], scored["positive"]) if p]
    if "localisation" in tasks:
        rows.append({"task": "localisation", "method": method, "ciou": L.ciou_at_half(pos_cious),
                     "auc": L.success_auc(pos_cious), "mean_ciou": float(np.mean(pos_cious)) if pos_cious else None,
                     "n": len(pos_cious), **extra})
    if "counterfactual" in tasks:
        cf = L.counterfactual(scored["confidence"], scored["ciou"], scored["positive"])
        # Presence alone (is the source in the picture, wherever the map points): cIoU requirement dropped.
        seen = L.counterfactual(scored["confidence"], [1.0] * len(scored["ciou"]), scored["positive"])
        row: dict[str, Any] = {"task": "counterfactual", "method": method, "ap": cf["ap"], "max_f1": cf["max_f1"],
               "ap_presence": seen["ap"], "max_f1_presence": seen["max_f1"],
               "n_pos": int(sum(scored["positive"])), "n_neg": int(len(scored["positive"]) - sum(scored["positive"])),
               **extra}
        if calibration is not None:
            row["verdict"] = _verdict_scores(scored, calibration)
        rows.append(row)
    return rows


def _verdict_scores(scored: dict, calibration: list[float]) -> dict[str, Any]:
    """How the explain verdict (peak z >= PRESENT_Z) does: the source's presence alone, and per negative kind."""
    z = (np.asarray(scored["confidence"]) - calibration[0]) / calibration[1]
    said = z >= PRESENT_Z
    truth = np.asarray(scored["positive"], dtype=bool)
    tp, fp, fn = int(np.sum(said & truth)), int(np.sum(said & ~truth)), int(np.sum(~said & truth))
    kinds = np.asarray(scored["kind"])
    rejected = {k: float(np.mean(~said[kinds == k])) for k in sorted(set(kinds[~truth]))}
    return {"precision": tp / (tp + fp) if tp + fp else None, "recall": tp / (tp + fn) if tp + fn else None,
            "accuracy": float(np.mean(said == truth)), "negatives_rejected": rejected,
            "pair_stats": [round(v, 5) for v in calibration]}


def _baseline_rows(samples: Sequence[L.LocSample], gts: dict, tasks: Sequence[str]) -> list[dict]:
    """Centre prior and uniform map: the same prediction for every picture, one constant confidence."""
    rows: list[dict] = []
    for name, pred in (("centre-prior", L.centre_prior()), ("uniform", L.uniform())):
        scored: dict[str, list] = {"ciou": [], "confidence": [], "positive": [], "kind": []}
        for s in samples:
            scored["ciou"].append(L.ciou(pred, gts[s.id]) if s.positive else 0.0)
            scored["confidence"].append(1.0)
            scored["positive"].append(s.positive)
            scored["kind"].append(s.kind)
        rows += _rows(scored, tasks, name, None, None)
    return rows
