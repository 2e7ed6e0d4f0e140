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


def holm_adjusted(p_values: np.ndarray) -> np.ndarray:
    """Holm–Bonferroni adjusted p-values of a family of tests (same shape as ``p_values``).

    With the m finite p-values sorted, p_(1) ≤ … ≤ p_(m), the adjusted values are
    p̃_(i) = min(1, max_{j ≤ i} (m − j + 1)·p_(j)); rejecting where p̃ < level controls the family-wise error
    rate at that level under any dependence between the tests (Holm 1979, Scand. J. Statist. 6, 65–70).
    NaN entries (tests that were not run) are not counted in m and stay NaN.
    """
    p_values = np.asarray(p_values, dtype=np.float64)
    flat = p_values.ravel()
    adjusted = np.full(flat.shape, np.nan)
    tested = np.flatnonzero(np.isfinite(flat))
    if tested.size == 0:
        return adjusted.reshape(p_values.shape)
    if np.any((flat[tested] < 0) | (flat[tested] > 1)):
        raise ValueError(f"p_values must lie in [0, 1]; got {flat[tested].min()} … {flat[tested].max()}")
    order = tested[np.argsort(flat[tested], kind="stable")]
    m = order.size
    scaled = (m - np.arange(m)) * flat[order]
    adjusted[order] = np.minimum(1.0, np.maximum.accumulate(scaled))
    return adjusted.reshape(p_values.shape)


def distinct_groupings(n_groups: int, group_size: int) -> int:
    """Number of ways to split n_groups·group_size items into n_groups unlabelled groups of group_size:
    (n·s)! / ((s!)^n · n!). A permutation test whose statistic depends only on the grouping cannot give a
    p-value below 1 over this number."""
    from math import factorial

    return factorial(n_groups * group_size) // (factorial(group_size) ** n_groups * factorial(n_groups))


def smallest_permutation_p(n_groups: int, group_size: int, n_permutations: int) -> float:
    """Smallest p-value a Monte Carlo permutation test with p = (1 + #{null ≥ observed}) / (1 + B) over
    re-groupings of n_groups × group_size replicates can return: max(1/(1 + B), 1/#groupings)."""
    return max(1.0 / (1 + n_permutations), 1.0 / distinct_groupings(n_groups, group_size))


def groupings_needed(smallest_p: float, group_size: int) -> int:
    """The fewest groups n for which 1 / :func:`distinct_groupings`(n, group_size) is below ``smallest_p``."""
    n = 2
    while 1.0 / distinct_groupings(n, group_size) >= smallest_p:
        n += 1
    return n


def holm_intervals(values: np.ndarray, confidence: float = 0.95) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Holm–Bonferroni step-down decisions on m family members, each a t-test of mean 0 over its column.

    ``values`` (n, m): n paired observations for each of m hypotheses (non-finite entries ignored). The
    p-values p_(1) ≤ … ≤ p_(m) of two-sided one-sample t-tests are compared with α/(m−k+1) in order, and
    rejection stops at the first that fails (Holm 1979, "A simple sequentially rejective multiple test
    procedure"); the family-wise error rate is at most α = 1 − ``confidence``. Columns with fewer than two
    finite values get p = NaN and are never rejected.

    Returns ``means`` (m,), ``intervals`` (m, 2) at the Bonferroni level 1 − α/m (simultaneous coverage,
    consistent with the decisions) and ``sign`` (m,): +1 or −1 where the mean is declared above or below 0,
    0 where it is not, NaN where the column cannot be tested.
    """
    from scipy import stats

    values = np.asarray(values, dtype=np.float64)
    if values.ndim != 2:
        raise ValueError(f"values has shape {values.shape}; expected (n observations, m hypotheses)")
    m = values.shape[1]
    alpha = 1.0 - confidence
    means, p_values = np.full(m, np.nan), np.full(m, np.nan)
    intervals = np.full((m, 2), np.nan)
    for column in range(m):
        finite = values[:, column][np.isfinite(values[:, column])]
        if finite.size:
            means[column] = finite.mean()
        if finite.size >= 2:
            intervals[column] = t_interval(finite, 1.0 - alpha / max(m, 1))[1]
            scale = finite.std(ddof=1) / np.sqrt(finite.size)
            if scale > 0:
                statistic = finite.mean() / scale
                p_values[column] = 2 * stats.t.sf(abs(statistic), finite.size - 1)
            else:
                p_values[column] = 0.0 if finite.mean() != 0 else 1.0
    testable = np.isfinite(p_values)
    sign = np.where(testable, 0.0, np.nan)
    order = np.argsort(np.where(testable, p_values, np.inf))
    n_tests = int(testable.sum())
    for rank, column in enumerate(order[:n_tests]):
        if p_values[column] > alpha / (n_tests - rank):
            break
        sign[column] = np.sign(means[column])
    return means, intervals, sign


def wilson_interval(successes: int, trials: int, confidence: float = 0.95) -> tuple[float, float]:
    """Wilson score interval of a binomial proportion (Wilson 1927; Brown, Cai & DasGupta 2001, *Stat.
    Sci.* 16, 101–133): coverage close to nominal even for rates near 0, where the normal interval fails.
    (NaN, NaN) for zero trials."""
    from scipy.stats import norm

    if trials <= 0:
        return float("nan"), float("nan")
    if not 0 <= successes <= trials:
        raise ValueError(f"successes={successes} must lie between 0 and trials={trials}")
    z = float(norm.ppf(0.5 + confidence / 2))
    rate = successes / trials
    centre = (rate + z * z / (2 * trials)) / (1 + z * z / trials)
    half = z * np.sqrt(rate * (1 - rate) / trials + z * z / (4 * trials * trials)) / (1 + z * z / trials)
    low = 0.0 if successes == 0 else max(0.0, centre - half)
    high = 1.0 if successes == trials else min(1.0, centre + half)
    return float(low), float(high)
