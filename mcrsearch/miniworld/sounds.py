"""Synthesised class sounds: each class has a spectral/temporal signature (partials, noise bands, envelopes,
rhythm), randomised per instance. Pure numpy; returns float32 mono in [-1, 1] plus the number of events
(strikes, barks, ticks...) so captions can mention it.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Callable

import numpy as np
from scipy.signal import butter, sosfilt


def _t(n: int, sr: int) -> np.ndarray:
    return np.arange(n, dtype=np.float64) / sr


@lru_cache(maxsize=4096)
def _bandpass(lo: int, hi: int, sr: int) -> np.ndarray:
    return butter(2, [lo, hi], btype="band", fs=sr, output="sos")


def _band(noise: np.ndarray, sr: int, lo: float, hi: float) -> np.ndarray:
    """Band-limited noise; edges rounded to 10 Hz so filter designs are reused."""
    hi = min(hi, sr / 2 * 0.95)
    return sosfilt(_bandpass(int(round(lo, -1)), int(round(hi, -1)), sr), noise)


def _events(rng, n_events: int, dur: float, jitter: float = 0.05, start: float = 0.02) -> np.ndarray:
    step = (dur - start) / max(n_events, 1)
    return np.array([start + i * step + rng.uniform(0, jitter) for i in range(n_events)])


def _place(out: np.ndarray, sig: np.ndarray, at: float, sr: int) -> None:
    i = int(at * sr)
    if i >= len(out):
        return
    m = min(len(sig), len(out) - i)
    out[i:i + m] += sig[:m]


def bell(rng, n, sr):
    out, k = np.zeros(n), int(rng.integers(1, 4))
    f0 = rng.uniform(400, 900)
    ratios = np.array([0.5, 1.0, 1.19, 1.56, 2.0, 2.51, 2.66])
    tt = _t(n, sr)
    for at in _events(rng, k, n / sr, 0.03):
        sig = sum(np.exp(-tt * rng.uniform(2, 5) * (1 + j * 0.4)) * np.sin(2 * np.pi * f0 * r * tt + rng.uniform(0, 6))
                  / (1 + j * 0.3) for j, r in enumerate(ratios))
        _place(out, sig, at, sr)
    return out, k


def drum(rng, n, sr):
    out, k = np.zeros(n), int(rng.integers(2, 7))
    f0 = rng.uniform(60, 140)
    tt = _t(int(0.25 * sr), sr)
    for at in _events(rng, k, n / sr, 0.02):
        f = f0 * (1 + 0.8 * np.exp(-tt * 30))
        sig = np.sin(2 * np.pi * np.cumsum(f) / sr) * np.exp(-tt * rng.uniform(12, 20))
        sig += 0.3 * _band(rng.normal(size=len(tt)), sr, 200, 2500) * np.exp(-tt * 40)
        _place(out, sig, at, sr)
    return out, k


def guitar(rng, n, sr):
    out, k = np.zeros(n), int(rng.integers(2, 5))
    tt = _t(n, sr)
    for at in _events(rng, k, n / sr, 0.03):
        f0 = rng.choice([110, 147, 165, 196, 220, 247, 294, 330]) * rng.uniform(0.99, 1.01)
        sig = sum(np.sin(2 * np.pi * f0 * h * tt) * np.exp(-tt * (3 + 2 * h)) / h for h in range(1, 9))
        _place(out, sig, at, sr)
    return out, k


def car(rng, n, sr):
    tt = _t(n, sr)
    f0 = rng.uniform(28, 55) * (1 + rng.uniform(-0.2, 0.3) * tt / tt[-1])
    ph = 2 * np.pi * np.cumsum(f0) / sr
    sig = sum(np.sin(h * ph) / h ** 0.7 for h in range(1, 12))
    sig *= 1 + 0.3 * np.sin(2 * np.pi * rng.uniform(4, 9) * tt)
    sig += 0.5 * _band(rng.normal(size=n), sr, 60, 500)
    return sig, 1


def train(rng, n, sr):
    out, k = np.zeros(n), int(rng.integers(3, 7))
    tt = _t(int(0.08 * sr), sr)
    rate = rng.uniform(0.04, 0.09)
    for at in _events(rng, k, n / sr, 0.01):
        for dt in (0.0, rate):
            _place(out, _band(rng.normal(size=len(tt)), sr, 300, 3000) * np.exp(-tt * 60), at + dt, sr)
    out += 0.4 * _band(rng.normal(size=n), sr, 40, 200)
    if rng.random() < 0.5:  # horn chord
        t2 = _t(n, sr)
        f = rng.uniform(250, 350)
        out += 0.25 * (np.sign(np.sin(2 * np.pi * f * t2)) + np.sign(np.sin(2 * np.pi * f * 1.26 * t2))) * (t2 > 0.5)
    return out, k


def airplane(rng, n, sr):
    tt = _t(n, sr)
    noise = rng.normal(size=n)
    lo = rng.uniform(300, 700)
    sig = _band(noise, sr, lo, lo * 4) + 0.6 * _band(rng.normal(size=n), sr, 2000, 6000)
    env = np.clip(0.3 + np.sin(np.pi * (tt / tt[-1]) * rng.uniform(0.6, 1.0)), 0, None)
    whine = 0.15 * np.sin(2 * np.pi * rng.uniform(3000, 4500) * tt * (1 + 0.05 * tt))
    return sig * env + whine, 1


def bird(rng, n, sr):
    out, k = np.zeros(n), int(rng.integers(2, 6))
    for at in _events(rng, k, n / sr, 0.05):
        d = rng.uniform(0.05, 0.12)
        tt = _t(int(d * sr), sr)
        f = rng.uniform(2500, 4500) + rng.uniform(-1500, 1500) * tt / d + 300 * np.sin(2 * np.pi * 40 * tt)
        sig = np.sin(2 * np.pi * np.cumsum(f) / sr) * np.sin(np.pi * tt / d) ** 2
        _place(out, sig, at, sr)
    return out, k


def dog(rng, n, sr):
    out, k = np.zeros(n), int(rng.integers(1, 4))
    for at in _events(rng, k, n / sr, 0.05):
        d = rng.uniform(0.12, 0.22)
        tt = _t(int(d * sr), sr)
        f0 = rng.uniform(350, 700) * (1 - 0.3 * tt / d)
        ph = 2 * np.pi * np.cumsum(f0) / sr
        sig = sum(np.sin(h * ph) * np.exp(-((h * f0.mean() - 1200) / 900) ** 2) for h in range(1, 10))
        sig += 0.4 * _band(rng.normal(size=len(tt)), sr, 600, 2500)
        sig *= np.exp(-tt * 10) * (1 - np.exp(-tt * 300))
        _place(out, sig, at, sr)
    return out, k


def chair(rng, n, sr):
    out, k = np.zeros(n), int(rng.integers(1, 3))
    for at in _events(rng, k, n / sr, 0.05):
        d = rng.uniform(0.25, 0.4)
        tt = _t(int(d * sr), sr)
        grains = (rng.random(len(tt)) < rng.uniform(0.002, 0.006)).astype(float)
        f = rng.uniform(700, 1500)
        sig = _band(grains * 20, sr, f * 0.8, f * 1.25) + 0.3 * _band(rng.normal(size=len(tt)), sr, 1500, 4000)
        _place(out, sig * np.sin(np.pi * tt / d), at, sr)
    return out, k


def table(rng, n, sr):
    out, k = np.zeros(n), int(rng.integers(2, 5))
    tt = _t(int(0.12 * sr), sr)
    for at in _events(rng, k, n / sr, 0.02):
        f = rng.uniform(180, 380)
        sig = (np.sin(2 * np.pi * f * tt) + 0.5 * np.sin(2 * np.pi * f * 2.7 * tt)) * np.exp(-tt * 45)
        sig += 0.3 * _band(rng.normal(size=len(tt)), sr, 100, 1200) * np.exp(-tt * 80)
        _place(out, sig, at, sr)
    return out, k


def lamp(rng, n, sr):
    tt = _t(n, sr)
    mains = rng.choice([50.0, 60.0])
    sig = sum(np.sin(2 * np.pi * mains * h * tt + rng.uniform(0, 6)) * rng.uniform(0.2, 1) for h in (2, 4, 6, 8))
    sig += 0.08 * _band(rng.normal(size=n), sr, 4000, 7000)
    clk = np.zeros(n)
    _place(clk, _band(rng.normal(size=int(0.01 * sr)), sr, 1000, 6000) * 4, rng.uniform(0.0, 0.1), sr)
    return sig * (tt > 0.05) + clk, 1


def bottle(rng, n, sr):
    out, k = np.zeros(n), int(rng.integers(3, 8))
    for at in _events(rng, k, n / sr, 0.04):
        d = rng.uniform(0.04, 0.09)
        tt = _t(int(d * sr), sr)
        f = rng.uniform(200, 500) * (1 + 1.5 * tt / d)        # rising bubble pitch
        _place(out, np.sin(2 * np.pi * np.cumsum(f) / sr) * np.sin(np.pi * tt / d), at, sr)
    out += 0.2 * _band(rng.normal(size=n), sr, 300, 1500)
    return out, k


def mug(rng, n, sr):
    out, k = np.zeros(n), int(rng.integers(2, 6))
    tt = _t(int(0.2 * sr), sr)
    for at in _events(rng, k, n / sr, 0.02):
        f = rng.uniform(1800, 3000)
        sig = sum(np.sin(2 * np.pi * f * r * tt) * np.exp(-tt * 25 * r) for r in (1.0, 1.52, 2.3))
        _place(out, sig, at, sr)
    return out, k


def clock(rng, n, sr):
    out = np.zeros(n)
    rate = rng.uniform(3.5, 6.0)
    k = int((n / sr - 0.02) * rate) + 1
    tt = _t(int(0.015 * sr), sr)
    for i in range(k):
        f = 3500 if i % 2 == 0 else 2600
        sig = np.sin(2 * np.pi * f * tt) * np.exp(-tt * 400) + _band(rng.normal(size=len(tt)), sr, 2000, 6000) * np.exp(-tt * 500)
        _place(out, sig * 1.5, 0.02 + i / rate, sr)
    return out, k


def boat(rng, n, sr):
    tt = _t(n, sr)
    waves = _band(rng.normal(size=n), sr, 80, 900) * (0.6 + 0.4 * np.sin(2 * np.pi * rng.uniform(0.7, 1.5) * tt) ** 2)
    if rng.random() < 0.6:  # foghorn
        f = rng.uniform(90, 140)
        horn = sum(np.sin(2 * np.pi * f * h * tt) / h for h in range(1, 7)) * (tt > rng.uniform(0.2, 0.4))
        return waves + 0.5 * horn, 1
    return waves, 1


def tree(rng, n, sr):
    tt = _t(n, sr)
    gust = np.interp(tt, np.linspace(0, tt[-1], 6), rng.uniform(0.1, 1.0, 6))
    sig = _band(rng.normal(size=n), sr, 2500, 7500) * gust
    crackle = (rng.random(n) < 0.003) * rng.normal(size=n) * 3
    return sig + _band(crackle, sr, 3000, 7000), 1


RECIPES: dict[str, Callable] = {
    "bell": bell, "drum": drum, "guitar": guitar, "car": car, "train": train, "airplane": airplane,
    "bird": bird, "dog": dog, "chair": chair, "table": table, "lamp": lamp, "bottle": bottle,
    "mug": mug, "clock": clock, "boat": boat, "tree": tree,
}


def synthesize(class_name: str, rng: np.random.Generator, sr: int = 16_000, seconds: float = 1.0) -> tuple[np.ndarray, int]:
    """One instance's sound, peak-normalised with random gain and a little background noise."""
    n = int(sr * seconds)
    sig, events = RECIPES[class_name](rng, n, sr)
    sig = np.asarray(sig, dtype=np.float64)[:n]
    sig = sig / (np.abs(sig).max() + 1e-9) * rng.uniform(0.4, 0.9)
    sig += rng.normal(0, rng.uniform(0.002, 0.01), size=n)
    return np.clip(sig, -1, 1).astype(np.float32), int(events)
