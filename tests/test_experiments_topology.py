import dataclasses

import numpy as np
import pytest

from uniq_core.experiments import topology

SMALL = dict(n_train=256, widths=(8,), epochs=3, batch_size=32)


def test_trajectory_topology_on_real_training():
    config = topology.TopologyConfig(**SMALL, n_runs=4, probe_size=16, n_permutations=49)
    result = topology.run_topology(config, progress=False)
    assert result.weight_within.shape == (4,) and result.weight_between.shape == (4, 4)
    assert np.all(np.isnan(np.diag(result.weight_between)))
    assert 0 < result.weight_p_value <= 1 and 0 < result.function_p_value <= 1
    assert result.weight_points.shape[0] == 4 and result.weight_points.shape[2] == 2
    assert result.weight_diagram_h0.shape[1] == 2 and np.isinf(result.weight_diagram_h0[:, 1]).sum() == 1
    assert np.all(np.diag(result.disagreement) == 0) and np.all(result.disagreement <= 1)


def test_copies_of_one_cloud_are_not_told_apart():
    rng = np.random.default_rng(0)
    cloud = rng.standard_normal((40, 3))
    test = topology.halves_test([cloud] * 4, max_points=100, n_permutations=199, seed=1)
    np.testing.assert_allclose(test["between"], test["between"].T)
    assert test["p_value"] > 0.05 and 0.5 < test["ratio"] < 2


def test_clearly_different_clouds_are_told_apart():
    rng = np.random.default_rng(1)
    angles = rng.uniform(0, 2 * np.pi, (6, 80))
    radii = np.array([0.2, 0.2, 1.0, 1.0, 3.0, 3.0])[:, None]
    clouds = [np.c_[r * np.cos(a), r * np.sin(a)] for r, a in zip(radii, angles)]
    clouds = [clouds[0], clouds[2], clouds[4]]  # three circles of very different sizes
    test = topology.halves_test(clouds, max_points=100, n_permutations=199, seed=2)
    assert test["ratio"] > 3


def test_symmetry_alignment_on_trained_networks():
    config = topology.SymmetryConfig(**SMALL, n_pairs=1, n_points=5)
    result = topology.run_symmetry(config, progress=False)
    assert result.distance_after[0] <= result.distance_before[0] + 1e-12  # alignment never moves B away
    assert result.error_before.shape == (1, 5) and result.alpha.shape == (5,)
    assert 0 <= result.disagreement[0] <= 1


def test_sweep_fills_its_grid():
    base = topology.TopologyConfig(**SMALL, n_runs=3, probe_size=8, n_permutations=19)
    result = topology.run_topology_sweep(topology.TopologySweepConfig(base=base, perturbations=(1e-3, 1.0),
                                                                      widths_grid=(4,)), progress=False)
    assert result.weight_p_value.shape == (1, 2) and np.all(np.isfinite(result.disagreement))


@pytest.mark.parametrize("field, value", [("n_runs", 2), ("perturbation", 0.0), ("probe_size", 1),
                                          ("independent_order", "yes"), ("device", "tpu"), ("epochs", 0)])
def test_bad_fields_are_named(field, value):
    with pytest.raises(ValueError, match=rf"^{field}="):
        dataclasses.replace(topology.TopologyConfig(), **{field: value})
