"""Summary statistics the parts report."""

from __future__ import annotations

import numpy as np


def pct(values: list[float], q: float) -> float:
    return float(np.percentile(np.asarray(values), q))
