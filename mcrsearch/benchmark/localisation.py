"""Source-localisation and counterfactual-recognition data and metrics (VGGSS, Flickr-SoundNet, Ex-*, scenes).

Protocol, as the released evaluation code of the extended test sets defines it (SLAVC, Mo & Morgado 2022,
which made Ex-VGGSS and Ex-FlickrNet; its cIoU and AUC are those of LVS, Chen et al. 2021):
- a map is scaled to 224 x 224; the ground truth is the union of the sounding boxes (Flickr: a pixel counts
  when at least two annotators boxed it, half when one did);
- the prediction is the set of pixels over a threshold: `top-half` keeps the top 50 % of pixels of the
  min-max normalised map (the published "relative prediction"), `half-max` keeps pixels at or above half
  the map's range (for pictures whose sources are small, where the top half cannot reach IoU 0.5);
- cIoU of a sample = sum(pred * gt) / (sum(gt) + sum(pred * (gt == 0))); the reported cIoU is the share
  of positive samples with cIoU >= 0.5, AUC the area under that share over thresholds 0, 0.05, ..., 1;
- counterfactual: each sample (positive or negative audio) has a confidence; at a confidence threshold, a
  confident positive with cIoU >= 0.5 is a true positive, any other confident sample a false positive, an
  unconfident positive a false negative. AP is the area under the interpolated precision-recall curve,
  max-F1 the best F1 over thresholds.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Sequence

import numpy as np

MAP_SIZE = 224
PREDICTIONS = ("top-half", "half-max")


@dataclass
class LocSample:
    """One picture with one sound. `boxes` are (x0, y0, x1, y1) fractions of the picture; empty for a
    negative (the sound's source is not in the picture); `kind` says what the sound is; `window` is the
    sound's (start, end) seconds within its file (MUSIC: the second a frame was taken from), None the file."""

    id: str
    image: Path
    audio: Path
    boxes: list[tuple[float, ...]] = field(default_factory=list)
    kind: str = "positive"            # positive | silence | noise | offscreen
    consensus: int = 1                # annotators a pixel needs to be ground truth (Flickr: 2)
    window: tuple[float, float] | None = None

    @property
    def sound_key(self) -> str:
        """The sound this sample hears: its file, or its file's window."""
        return str(self.audio) if self.window is None else f"{self.audio}#{self.window[0]:g}-{self.window[1]:g}"

    @property
    def positive(self) -> bool:
        return bool(self.boxes)


@dataclass
class LocDataset:
    name: str
    samples: list[LocSample]
    sources: list[dict] = field(default_factory=list)       # every file read: {"role", "path", "detail"}
    problems: list[dict] = field(default_factory=list)      # {"path", "reason"}: bad rows cost only themselves
    split: str = "test"
    tasks: tuple[str, ...] = ("localisation",)              # and/or "counterfactual"


def gt_map(boxes: Sequence[Sequence[float]], consensus: int = 1, size: int = MAP_SIZE) -> np.ndarray:
    """(size, size) ground truth from fractional boxes; with consensus 2, one box gives 0.5 and two give 1."""
    acc = np.zeros((size, size), dtype=np.float32)
    for x0, y0, x1, y1 in boxes:
        c0, r0 = int(np.clip(x0, 0, 1) * size), int(np.clip(y0, 0, 1) * size)
        c1, r1 = int(np.clip(x1, 0, 1) * size), int(np.clip(y1, 0, 1) * size)
        acc[r0:r1, c0:c1] += 1
    if consensus > 1:
        return np.minimum(acc / consensus, 1.0)
    return (acc > 0).astype(np.float32)


def predict(scaled: np.ndarray, rule: str = "top-half") -> np.ndarray:
    """Binary prediction from a (size, size) map (see the module's protocol)."""
    if rule not in PREDICTIONS:
        raise ValueError(f"unknown prediction rule {rule!r}")
    lo, hi = float(scaled.min()), float(scaled.max())
    if hi <= lo:                                  # a flat map prefers nothing: it predicts everything
        return np.ones_like(scaled, dtype=np.float32)
    norm = (scaled - lo) / (hi - lo)
    if rule == "half-max":
        return (norm >= 0.5).astype(np.float32)
    threshold = np.sort(norm.ravel())[int(norm.size * 0.5)]
    return (norm >= threshold).astype(np.float32)


def ciou(pred: np.ndarray, gt: np.ndarray) -> float:
    """Consensus IoU of one binary prediction against a (possibly soft) ground-truth map."""
    denom = float(gt.sum() + (pred * (gt == 0)).sum())
    return float((pred * gt).sum() / denom) if denom > 0 else 0.0


def success_auc(cious: Sequence[float]) -> float:
    """Area under the share of samples with cIoU >= t, t = 0, 0.05, ..., 1 (trapezoids)."""
    values = np.asarray(cious, dtype=np.float64)
    if values.size == 0:
        return float("nan")
    thresholds = np.linspace(0, 1, 21)
    shares = np.array([(values >= t).mean() for t in thresholds])
    return float(np.trapezoid(shares, thresholds) if hasattr(np, "trapezoid") else np.trapz(shares, thresholds))


def ciou_at_half(cious: Sequence[float]) -> float:
    values = np.asarray(cious, dtype=np.float64)
    return float((values >= 0.5).mean()) if values.size else float("nan")


def counterfactual(confidence: Sequence[float], cious: Sequence[float], positive: Sequence[bool],
                   iou: float = 0.5) -> dict[str, float]:
    """AP and max-F1 of 'the source is here, and here is where' over positive and negative samples."""
    conf = np.asarray(confidence, dtype=np.float64)
    hit = np.asarray(positive, dtype=bool) & (np.asarray(cious, dtype=np.float64) >= iou)
    n_pos = int(np.sum(positive))
    if conf.size == 0 or n_pos == 0:
        return {"ap": float("nan"), "max_f1": float("nan")}
    order = np.argsort(-conf, kind="stable")
    conf, hit = conf[order], hit[order]
    # One operating point per distinct confidence (ties are decided together).
    last = np.r_[np.flatnonzero(np.diff(conf) != 0), conf.size - 1]
    tp = np.cumsum(hit)[last]
    fp = (last + 1) - tp
    precision = tp / (tp + fp)
    recall = tp / n_pos
    envelope = np.maximum.accumulate(precision[::-1])[::-1]
    ap = float(np.sum(np.diff(np.r_[0.0, recall]) * envelope))
    f1 = np.where(precision + recall > 0, 2 * precision * recall / np.maximum(precision + recall, 1e-12), 0.0)
    return {"ap": ap, "max_f1": float(f1.max())}


def centre_prior(size: int = MAP_SIZE) -> np.ndarray:
    """The centre-prior prediction: a centred box covering half the picture's area."""
    pred = np.zeros((size, size), dtype=np.float32)
    side = int(round(size * np.sqrt(0.5)))
    start = (size - side) // 2
    pred[start:start + side, start:start + side] = 1
    return pred


def uniform(size: int = MAP_SIZE) -> np.ndarray:
    """The uniform map's prediction: it prefers no pixel, so it predicts the whole picture."""
    return np.ones((size, size), dtype=np.float32)
