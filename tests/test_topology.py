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
