"""Persistence diagrams and their distances against hand-checkable answers."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from uniq_core import topology


def circle(n: int, radius: float = 1.0) -> np.ndarray:
    angles = 2 * np.pi * np.arange(n) / n
    return radius * np.c_[np.cos(angles), np.sin(angles)]


@pytest.mark.parametrize("n", [12, 13, 20])
def test_points_on_a_circle_have_one_long_h1_bar_with_known_endpoints(n):
    diagrams = topology.persistence(circle(n), max_dim=1)
    assert diagrams[1].shape == (1, 2)
    birth, death = diagrams[1][0]
    # born when neighbours connect (chord of one step), filled when a triangle spans the centre:
    # the shortest chord of k ≥ n/3 steps
    assert birth == pytest.approx(2 * np.sin(np.pi / n))
    assert death == pytest.approx(2 * np.sin(np.pi * np.ceil(n / 3) / n))
    # H0: n components merge at the neighbour distance, one lives for ever
    assert np.isinf(diagrams[0][:, 1]).sum() == 1
    np.testing.assert_allclose(diagrams[0][np.isfinite(diagrams[0][:, 1]), 1], 2 * np.sin(np.pi / n))


def test_hand_checkable_distances():
    a, b = np.array([[0.0, 1.0]]), np.array([[0.0, 2.0]])
    # L∞ ground metric: move (0,1) to (0,2) costs 1; sending both to the diagonal costs 0.5 + 1
    assert topology.diagram_distance(a, b) == pytest.approx(1.0)
    assert topology.bottleneck(a, b) == pytest.approx(1.0)
    # against the empty diagram, a bar costs its distance to the diagonal, (d − b)/2 in L∞
    assert topology.diagram_distance(a, np.empty((0, 2))) == pytest.approx(0.5)
    two = np.array([[0.0, 1.0], [0.0, 3.0]])
    assert topology.diagram_distance(two, np.empty((0, 2))) == pytest.approx(2.0)
    assert topology.diagram_distance(two, np.empty((0, 2)), order=2) == pytest.approx(np.sqrt(0.25 + 2.25))
    assert topology.total_persistence(two) == pytest.approx(4.0)


def test_infinite_bars_are_dropped_or_counted():
    a = np.array([[0.0, np.inf], [0.0, 1.0]])
    b = np.array([[0.0, 1.0]])
    assert topology.diagram_distance(a, b) == 0.0
    assert topology.bottleneck(a, b) == pytest.approx(0.0, abs=1e-12)
    assert np.isinf(topology.diagram_distance(a, b, essential="keep"))
    assert np.isinf(topology.bottleneck(a, b, essential="keep"))
    assert topology.bottleneck(a, np.array([[0.5, np.inf], [0.0, 1.0]]), essential="keep") == pytest.approx(0.5)


def test_bad_and_degenerate_clouds():
    with pytest.raises(ValueError, match="empty"):
        topology.persistence(np.empty((0, 2)))
    with pytest.raises(ValueError, match="non-finite"):
        topology.persistence(np.array([[0.0, np.nan], [1.0, 1.0]]))
    single = topology.persistence(np.array([[1.0, 2.0]]))
    assert single[0].tolist() == [[0.0, np.inf]] and single[1].shape == (0, 2)
    with pytest.raises(ValueError, match="essential"):
        topology.diagram_distance(np.empty((0, 2)), np.empty((0, 2)), essential="maybe")
    with pytest.raises(ValueError, match="NaN"):
        topology.diagram_distance(np.array([[0.0, np.nan]]), np.empty((0, 2)))


def test_landmarks_cover_the_cloud_and_keep_the_circle():
    rng = np.random.default_rng(0)
    angles = rng.uniform(0, 2 * np.pi, 3000)
    cloud = np.c_[np.cos(angles), np.sin(angles)] + 0.02 * rng.standard_normal((3000, 2))
    subset, radius = topology.landmarks(cloud, 100)
    assert len(subset) == 100
    assert np.max(np.min(np.linalg.norm(cloud[:, None] - subset[None], axis=2), axis=1)) == pytest.approx(radius)
    diagrams, reported = topology.persistence_with_radius(cloud, 1, max_points=100)
    assert reported == pytest.approx(radius)
    lengths = diagrams[1][:, 1] - diagrams[1][:, 0]
    assert lengths[0] > 1.0 and (len(lengths) == 1 or lengths[1] < 0.2)  # one long loop, the rest noise


@settings(max_examples=25, deadline=None)
@given(st.integers(min_value=0, max_value=10_000))
def test_diagrams_are_invariant_under_rigid_motions(seed):
    rng = np.random.default_rng(seed)
    cloud = rng.standard_normal((30, 3))
    rotation, _ = np.linalg.qr(rng.standard_normal((3, 3)))
    moved = cloud @ rotation.T + rng.standard_normal(3)
    a, b = topology.persistence(cloud, 1), topology.persistence(moved, 1)
    for dim in (0, 1):
        assert topology.bottleneck(a[dim], b[dim]) < 1e-9


def test_landscape_of_one_bar_is_its_tent_and_layers_sort_the_tents():
    grid = np.linspace(0, 4, 9)
    one = topology.landscape(np.array([[1.0, 3.0], [0.0, np.inf]]), grid, n_layers=2)
    np.testing.assert_allclose(one[0], np.maximum(0, np.minimum(grid - 1, 3 - grid)))
    np.testing.assert_allclose(one[1], 0.0)  # the infinite bar is dropped
    two = topology.landscape(np.array([[0.0, 2.0], [1.0, 3.0]]), grid, n_layers=2)
    np.testing.assert_allclose(two[0], np.maximum(np.maximum(0, np.minimum(grid, 2 - grid)),
                                                  np.maximum(0, np.minimum(grid - 1, 3 - grid))))
    assert two[1].max() == pytest.approx(0.5)  # the overlap of the two tents peaks at t = 1.5


def test_landscape_vectors_measure_the_l2_distance_on_a_shared_grid():
    a = {0: np.array([[0.0, 1.0]]), 1: np.empty((0, 2))}
    b = {0: np.array([[0.0, 2.0]]), 1: np.empty((0, 2))}
    vectors = topology.landscape_vectors([a, b], n_grid=2001, n_layers=1)
    # ∫ (tent_2 − tent_1)² dt for tents of half-width 1 and 1/2 starting at 0
    t = np.linspace(0, 2, 200001)
    exact = np.sqrt(np.trapezoid((np.maximum(0, np.minimum(t, 2 - t)) - np.maximum(0, np.minimum(t, 1 - t))) ** 2, t))
    assert np.linalg.norm(vectors[0] - vectors[1]) == pytest.approx(exact, rel=1e-3)


def test_two_sample_test_keeps_its_size_on_random_walks_and_has_power_on_a_larger_step():
    """Walks are paths (their points are strongly dependent), the case where halves of one run look alike
    whatever the run: with whole walks as units the test's size holds (exchangeability), and a step 1.5
    times larger is detected."""
    rng = np.random.default_rng(3)
    null, planted = [], []
    for repeat in range(60):
        walks = topology.random_walks(12, 40, 10, rng=rng) + topology.random_walks(6, 40, 10, step=1.5, rng=rng)
        vectors = topology.landscape_vectors([topology.persistence(walk, 1, max_points=None) for walk in walks])
        null.append(topology.two_sample_test(vectors[:6], vectors[6:12], n_permutations=199, seed=repeat)[1])
        planted.append(topology.two_sample_test(vectors[:6], vectors[12:], n_permutations=199, seed=repeat)[1])
    assert np.mean(np.array(null) < 0.05) <= 0.12  # 0.05 + about 3 binomial standard errors
    assert np.mean(np.array(planted) < 0.05) >= 0.8


def test_two_sample_test_rejects_bad_groups():
    with pytest.raises(ValueError, match="at least 2 units"):
        topology.two_sample_test(np.zeros((1, 3)), np.zeros((4, 3)))
    with pytest.raises(ValueError, match="differ in length"):
        topology.two_sample_test(np.zeros((3, 3)), np.zeros((4, 2)))
