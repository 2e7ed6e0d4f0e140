"""Summaries over seeds and replicas: means and geometric means with Student-t confidence intervals."""

from __future__ import annotations

import numpy as np


def t_interval(values: np.ndarray, confidence: float = 0.95) -> tuple[float, np.ndarray]:
    """Mean of the finite ``values`` and its Student-t interval, mean ± t_{(1+c)/2, n−1}·s/√n.

    Non-finite values are ignored (diverged runs never enter a statistic); with fewer than two values the
    interval is NaN, and with none the mean is NaN too.
    """
    from scipy import stats

    finite = np.asarray(values, dtype=np.float64)
    finite = finite[np.isfinite(finite)]
    if finite.size == 0:
        return float("nan"), np.array([np.nan, np.nan])
    centre = float(finite.mean())
    if finite.size < 2:
        return centre, np.array([np.nan, np.nan])
    half = stats.t.ppf(0.5 + confidence / 2, finite.size - 1) * finite.std(ddof=1) / np.sqrt(finite.size)
    return centre, np.array([centre - half, centre + half])


def log_t_interval(values: np.ndarray, confidence: float = 0.95) -> tuple[float, np.ndarray]:
    """Geometric mean of the positive finite ``values`` and the t-interval of their logarithms, mapped back."""
    values = np.asarray(values, dtype=np.float64)
    centre, interval = t_interval(np.log(values[np.isfinite(values) & (values > 0)]), confidence)
    return float(np.exp(centre)), np.exp(interval)
