"""Persistent homology of point clouds (trajectories) and distances between persistence diagrams.

A Vietoris–Rips filtration adds an edge between two points when their distance is at most r, and a
simplex when all its edges are present; filtration values are edge lengths (the diameter of a simplex).
A k-dimensional hole born at scale b and filled at scale d gives the bar (b, d) of the k-th diagram;
bars that never die have d = inf. Computed with gudhi (Maria et al. 2014, The GUDHI library).

Large clouds are subsampled to ``max_points`` landmarks by greedy farthest-point (max–min) sampling, which
keeps a 2ε-net of the cloud when the landmarks' covering radius is ε: every bar of the full cloud is then
matched within ε·2 in bottleneck distance (stability theorem, Chazal et al. 2009), and the covering radius
is reported. The p-Wasserstein distance between diagrams (order p, ground metric ``internal_p``) matches
bars to bars or to the diagonal at minimum total cost (gudhi.wasserstein, optimal transport by POT).

Infinite bars: ``persistence`` returns them with death = inf (always one in dimension 0 for a non-empty
cloud). ``diagram_distance`` and ``bottleneck`` compare the finite parts and, by default, drop the infinite
bars (``essential="drop"``); with ``essential="keep"`` they count them, giving inf when the two diagrams
have different numbers of infinite bars in a dimension.
"""

from __future__ import annotations

import numpy as np

from uniq_core.schema import check_choice, check_number


def _cloud(points: np.ndarray) -> np.ndarray:
    points = np.asarray(points, dtype=np.float64)
    if points.ndim == 1:
        points = points[:, None]
    if points.ndim != 2:
        raise ValueError(f"points must be an (n, d) array; got shape {points.shape}")
    if points.shape[0] == 0:
        raise ValueError("points is empty: a persistence diagram needs at least one point")
    if not np.isfinite(points).all():
        raise ValueError(f"points has {int((~np.isfinite(points)).sum())} non-finite coordinates (NaN or inf)")
    return points


def landmarks(points: np.ndarray, n: int, *, start: int = 0) -> tuple[np.ndarray, float]:
    """Greedy farthest-point subsample of ``n`` points (the first is ``points[start]``) and its covering
    radius ε = max over all points of the distance to the nearest landmark."""
    points = _cloud(points)
    check_number("n", n, low=1, integer=True)
    if n >= len(points):
        return points, 0.0
    chosen = [start]
    nearest = np.linalg.norm(points - points[start], axis=1)
    for _ in range(n - 1):
        chosen.append(int(np.argmax(nearest)))
        nearest = np.minimum(nearest, np.linalg.norm(points - points[chosen[-1]], axis=1))
    return points[chosen], float(nearest.max())


def persistence(
    points: np.ndarray, max_dim: int = 1, *, max_points: int | None = 400, max_edge: float = np.inf
) -> dict[int, np.ndarray]:
    """Vietoris–Rips persistence diagrams of a point cloud: ``{dim: (n, 2) array of (birth, death)}``.

    Dimensions 0 … ``max_dim``; deaths of bars that never die are ``inf``. Clouds larger than
    ``max_points`` are first reduced to that many farthest-point landmarks (:func:`landmarks`; ``None``
    keeps every point); the covering radius is returned under the key ``"covering_radius"`` of
    :func:`persistence_with_radius`. A single point has the one bar (0, inf) in dimension 0.
    Raises ``ValueError`` for empty clouds and non-finite coordinates.
    """
    return persistence_with_radius(points, max_dim, max_points=max_points, max_edge=max_edge)[0]


def persistence_with_radius(
    points: np.ndarray, max_dim: int = 1, *, max_points: int | None = 400, max_edge: float = np.inf
) -> tuple[dict[int, np.ndarray], float]:
    """:func:`persistence` and the landmarks' covering radius (0 when no subsampling happened)."""
    import gudhi

    points = _cloud(points)
    check_number("max_dim", max_dim, low=0, high=3, integer=True)
    radius = 0.0
    if max_points is not None:
        check_number("max_points", max_points, low=2, integer=True)
        points, radius = landmarks(points, max_points)
    if len(points) == 1:  # gudhi reports no bar for a lone vertex; its one component lives for ever
        return {0: np.array([[0.0, np.inf]]), **{dim: np.empty((0, 2)) for dim in range(1, max_dim + 1)}}, radius
    complex_ = gudhi.RipsComplex(points=points, max_edge_length=max_edge)
    tree = complex_.create_simplex_tree(max_dimension=max_dim + 1)
    tree.compute_persistence()
    diagrams = {}
    for dim in range(max_dim + 1):
        bars = np.asarray(tree.persistence_intervals_in_dimension(dim), dtype=np.float64).reshape(-1, 2)
        diagrams[dim] = bars[np.argsort(bars[:, 0] - bars[:, 1])]  # longest first
    return diagrams, radius


def _finite(diagram: np.ndarray, essential: str) -> np.ndarray:
    diagram = np.asarray(diagram, dtype=np.float64).reshape(-1, 2)
    if np.isnan(diagram).any():
        raise ValueError("a diagram has NaN entries")
    return diagram[np.isfinite(diagram[:, 1])] if essential == "drop" else diagram


def diagram_distance(
    a: np.ndarray, b: np.ndarray, *, order: float = 1, internal_p: float = np.inf, essential: str = "drop"
) -> float:
    """p-Wasserstein distance between two diagrams ((n, 2) arrays of (birth, death)).

    W_p = (min over matchings Σ ‖x − m(x)‖_q^p)^{1/p}, with bars matched to bars or to their projection on
    the diagonal; ``order`` = p ≥ 1, ``internal_p`` = q. Infinite bars: see the module docstring.
    """
    from gudhi.wasserstein import wasserstein_distance

    check_number("order", order, low=1)
    check_choice("essential", essential, ("drop", "keep"))
    a, b = _finite(a, essential), _finite(b, essential)
    if essential == "keep" and np.sum(~np.isfinite(a[:, 1])) != np.sum(~np.isfinite(b[:, 1])):
        return float("inf")  # different numbers of bars that never die cannot be matched
    return float(wasserstein_distance(a, b, order=order,
                               internal_p=internal_p, keep_essential_parts=essential == "keep"))


def bottleneck(a: np.ndarray, b: np.ndarray, *, essential: str = "drop") -> float:
    """Bottleneck distance (the p = ∞ Wasserstein distance with the ∞ ground metric) between two diagrams."""
    import gudhi

    check_choice("essential", essential, ("drop", "keep"))
    a, b = _finite(a, essential), _finite(b, essential)
    if essential == "keep":
        infinite_a, infinite_b = a[~np.isfinite(a[:, 1])], b[~np.isfinite(b[:, 1])]
        if len(infinite_a) != len(infinite_b):
            return float("inf")
        births = float(np.max(np.abs(np.sort(infinite_a[:, 0]) - np.sort(infinite_b[:, 0])), initial=0.0))
        return max(births, float(gudhi.bottleneck_distance(a[np.isfinite(a[:, 1])], b[np.isfinite(b[:, 1])])))
    return float(gudhi.bottleneck_distance(a, b))


def total_persistence(diagram: np.ndarray) -> float:
    """Sum of the finite bars' lengths (death − birth)."""
    finite = _finite(diagram, "drop")
    return float(np.sum(finite[:, 1] - finite[:, 0]))
