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


# ------------------------------------------------------------------------------ landscapes and two samples


def landscape(diagram: np.ndarray, grid: np.ndarray, n_layers: int = 5) -> np.ndarray:
    """Persistence landscape (Bubenik 2015, *JMLR* 16, 77–102) of one diagram's finite bars on ``grid``:
    λ_k(t) = k-th largest of the tents max(0, min(t − b, d − t)) over the bars (b, d), for k = 1 …
    ``n_layers``; shape (n_layers, len(grid)), zeros where fewer bars are alive. Landscapes live in a
    vector space, so runs' landscapes can be averaged and compared (Fasy et al. 2014)."""
    check_number("n_layers", n_layers, low=1, integer=True)
    bars = _finite(diagram, "drop")
    grid = np.asarray(grid, dtype=np.float64)
    layers = np.zeros((n_layers, grid.size))
    if bars.shape[0]:
        tents = np.maximum(0.0, np.minimum(grid[None, :] - bars[:, :1], bars[:, 1:] - grid[None, :]))
        top = -np.sort(-tents, axis=0)[:n_layers]
        layers[: top.shape[0]] = top
    return layers


def landscape_vectors(diagram_sets: list[dict[int, np.ndarray]], *, n_grid: int = 64, n_layers: int = 5,
                      dims: tuple[int, ...] = (0, 1)) -> np.ndarray:
    """One vector per unit: its landscapes in each dimension of ``dims`` on a grid common to all units
    (``n_grid`` points from the smallest finite birth to the largest finite death over every unit, so the
    grid does not depend on any grouping), each dimension weighted by √(grid step) so that the Euclidean
    distance between vectors is the L² distance between landscapes. Shape (units, D); a dimension without
    finite bars in any unit contributes nothing."""
    check_number("n_grid", n_grid, low=2, integer=True)
    parts = []
    for dim in dims:
        finite = [_finite(diagrams.get(dim, np.empty((0, 2))), "drop") for diagrams in diagram_sets]
        pooled = np.concatenate(finite) if finite else np.empty((0, 2))
        if not pooled.shape[0] or not pooled[:, 1].max() > pooled[:, 0].min():
            continue
        grid = np.linspace(pooled[:, 0].min(), pooled[:, 1].max(), n_grid)
        weight = np.sqrt(grid[1] - grid[0])
        parts.append(np.stack([weight * landscape(bars, grid, n_layers).ravel() for bars in finite]))
    return np.concatenate(parts, axis=1) if parts else np.zeros((len(diagram_sets), 0))


def two_sample_test(a: np.ndarray, b: np.ndarray, *, n_permutations: int = 999,
                    seed: int = 0) -> tuple[float, float]:
    """Two-sample permutation test with whole units (runs) as the exchangeable units (Robinson & Turner
    2017, *J. Appl. Comput. Topol.* 1, 241–261): the statistic is the distance between the two groups' mean
    vectors (mean landscapes, :func:`landscape_vectors`), and its null distribution comes from re-assigning
    the units to the groups at random. Under the null that both groups' units are drawn from one distribution
    every re-assignment is equally likely, so p = (1 + #{T* ≥ T}) / (1 + B) is exact in size whatever the
    dependence *within* a unit (a path's points may be as correlated as they like). Returns (T, p)."""
    a, b = np.atleast_2d(np.asarray(a, dtype=np.float64)), np.atleast_2d(np.asarray(b, dtype=np.float64))
    if a.shape[0] < 2 or b.shape[0] < 2:
        raise ValueError(f"two_sample_test needs at least 2 units per group; got {a.shape[0]} and {b.shape[0]}")
    if a.shape[1] != b.shape[1]:
        raise ValueError(f"the groups' vectors differ in length: {a.shape[1]} and {b.shape[1]}")
    check_number("n_permutations", n_permutations, low=1, integer=True)
    pooled, n_a = np.concatenate([a, b]), a.shape[0]

    def statistic(order: np.ndarray) -> float:
        return float(np.linalg.norm(pooled[order[:n_a]].mean(axis=0) - pooled[order[n_a:]].mean(axis=0)))

    rng = np.random.default_rng(seed)
    observed = statistic(np.arange(len(pooled)))
    null = np.array([statistic(rng.permutation(len(pooled))) for _ in range(n_permutations)])
    return observed, float((1 + np.sum(null >= observed - 1e-12 * abs(observed))) / (1 + n_permutations))


def random_walks(n_walks: int, n_points: int, dimension: int, *, step: float = 1.0,
                 rng: np.random.Generator) -> list[np.ndarray]:
    """``n_walks`` independent Gaussian random walks of ``n_points`` points in ``dimension`` dimensions with
    step standard deviation ``step``: path-shaped clouds that differ only by chance."""
    return [np.cumsum(rng.normal(0.0, step, size=(n_points, dimension)), axis=0) for _ in range(n_walks)]
