import dataclasses

import numpy as np
import pytest

from uniq_core import stats
from uniq_core.experiments import topology

SMALL = dict(n_train=256, widths=(8,), epochs=3, batch_size=32)


def test_trajectory_topology_on_real_training():
    config = topology.TopologyConfig(**SMALL, n_runs=4, probe_size=16, n_permutations=99)
    result = topology.run_topology(config, progress=False)
    assert result.weight_within.shape == (4,) and result.weight_between.shape == (4, 4)
    assert np.all(np.isnan(np.diag(result.weight_between)))
    assert 0 < result.weight_p_value <= 1 and 0 < result.function_p_value <= 1
    # Holm over the two spaces: the smaller p doubles, the larger is at least that
    low, high = sorted([result.weight_p_value, result.function_p_value])
    assert sorted([result.weight_p_holm, result.function_p_holm]) == pytest.approx([min(1, 2 * low), min(1, max(2 * low, high))])
    assert result.weight_points.shape[0] == 4 and result.weight_points.shape[2] == 2
    assert result.weight_diagram_h0.shape[1] == 2 and np.isinf(result.weight_diagram_h0[:, 1]).sum() == 1
    assert np.all(np.diag(result.disagreement) == 0) and np.all(result.disagreement <= 1)
    assert result.output_difference[0] == 0 and np.all(result.output_difference[1:] > 0)
    # the weight-space cloud is the full parameter vector (64 inputs, 8 hidden units, 10 classes), not a sketch
    assert result.n_parameters == 64 * 8 + 8 + 8 * 10 + 10


def circle_cloud(rng, radius, n=40, noise=0.1):
    angles = rng.uniform(0, 2 * np.pi, n)
    return np.c_[radius * np.cos(angles), radius * np.sin(angles)] + noise * rng.standard_normal((n, 2))


def test_copies_of_one_cloud_are_not_told_apart():
    rng = np.random.default_rng(0)
    cloud = rng.standard_normal((40, 3))
    test = topology.halves_test([cloud] * 4, max_points=100, n_permutations=199, seed=1)
    np.testing.assert_allclose(test["between"], test["between"].T)
    assert test["p_value"] > 0.05 and 0.5 < test["ratio"] < 2


def test_permutation_test_keeps_its_size_on_exchangeable_replicates():
    """Null: every replicate of every run is drawn from one distribution. Over 400 repetitions the
    rejection rate at 0.05 stays within a three-sigma binomial margin of 0.05, and p is not far from uniform."""
    rng = np.random.default_rng(0)
    repetitions, level = 400, 0.05
    labels = np.repeat(np.arange(5), 2)
    p_values = []
    for _ in range(repetitions):
        features = rng.standard_normal((10, 3))
        distances = np.linalg.norm(features[:, None] - features[None], axis=-1)
        p_values.append(topology.grouping_permutation_test(distances, labels, n_permutations=99, rng=rng)[1])
    p_values = np.array(p_values)
    margin = 3 * np.sqrt(level * (1 - level) / repetitions)
    assert np.mean(p_values < level) <= level + margin
    assert abs(np.mean(p_values) - 0.5) < 0.06  # a valid p-value is uniform: mean 1/2, sd 0.29/√400


def test_persistence_test_keeps_its_size_when_all_runs_come_from_one_distribution():
    """The whole instrument (replicates → diagrams → distances → permutations) on noisy circles of one
    radius: the rejection rate at 0.05 stays within a three-sigma binomial margin."""
    rng = np.random.default_rng(1)
    repetitions, level = 100, 0.05
    p_values = [topology.replicates_test([circle_cloud(rng, 1.0) for _ in range(4)], n_replicates=2, max_points=100,
                                         n_permutations=99, seed=repetition)["p_value"]
                for repetition in range(repetitions)]
    margin = 3 * np.sqrt(level * (1 - level) / repetitions)
    assert np.mean(np.array(p_values) < level) <= level + margin


def test_clearly_different_clouds_are_told_apart():
    """Positive control: runs whose clouds are circles of different radii reject at 0.05, also after Holm
    over two spaces, and with four runs of two replicates the p-value reaches its floor."""
    rng = np.random.default_rng(1)
    clouds = [circle_cloud(rng, radius, n=80, noise=0.02) for radius in (0.3, 1.0, 2.0, 3.0)]
    test = topology.replicates_test(clouds, n_replicates=2, max_points=100, n_permutations=999, seed=2)
    assert test["ratio"] > 3
    assert test["p_value"] < 0.05 and stats.holm_adjusted(np.array([test["p_value"], 1.0]))[0] < 0.05
    assert test["p_value"] == pytest.approx(test["smallest_p"], rel=0.5)
    # power at a moderate effect: two radii, alternating over six runs of three replicates
    clouds = [circle_cloud(rng, radius, n=90, noise=0.05) for radius in (1.0, 1.5) * 3]
    assert topology.replicates_test(clouds, n_replicates=3, max_points=100, n_permutations=999, seed=3)["p_value"] < 0.05


def test_holm_adjusted_p_values_by_hand():
    p = np.array([0.01, 0.04, 0.03, 0.005])
    # sorted 0.005, 0.01, 0.03, 0.04 times 4, 3, 2, 1 = 0.02, 0.03, 0.06, 0.04; running max 0.02, 0.03, 0.06, 0.06
    np.testing.assert_allclose(stats.holm_adjusted(p), [0.03, 0.06, 0.06, 0.02])
    np.testing.assert_allclose(stats.holm_adjusted(np.array([[0.2, np.nan], [0.01, 0.9]])),
                               [[0.4, np.nan], [0.03, 0.9]])  # NaN: not a test, not counted
    assert stats.holm_adjusted(np.array([0.6, 0.7]))[1] == 1.0
    with pytest.raises(ValueError, match="p_values"):
        stats.holm_adjusted(np.array([1.5]))


def test_smallest_achievable_p_value():
    assert [stats.distinct_groupings(n, 2) for n in (3, 4, 8)] == [15, 105, 2027025]
    assert stats.distinct_groupings(2, 3) == 10
    assert stats.smallest_permutation_p(3, 2, 999) == pytest.approx(1 / 15)
    assert stats.smallest_permutation_p(8, 2, 999) == pytest.approx(1 / 1000)
    assert stats.groupings_needed(0.025, 2) == 4


def test_a_test_that_cannot_reject_is_refused():
    with pytest.raises(ValueError, match=r"^n_runs=3, n_replicates=2, n_permutations=999: .*0\.0667.*level/2"):
        topology.TopologyConfig(n_runs=3)
    topology.TopologyConfig(n_runs=3, n_replicates=3)  # 280 groupings: 1/280 < 0.025
    with pytest.raises(ValueError, match=r"^base\.n_runs=8, .*n_permutations=199: .*level/20"):
        topology.TopologySweepConfig(base=topology.TopologyConfig(n_permutations=199))


def test_one_decision_rule_over_measurements():
    fake = [dataclasses.make_dataclass("R", ["weight_p_value", "function_p_value", "level"])(0.001, 0.3, 0.05),
            dataclasses.make_dataclass("R", ["weight_p_value", "function_p_value", "level"])(0.02, 0.5, 0.05)]
    adjusted, rejected = topology.holm_decisions(fake)
    np.testing.assert_allclose(adjusted, [[0.004, 0.6], [0.06, 0.6]])
    assert rejected.tolist() == [[True, False], [False, False]]


def test_symmetry_alignment_on_trained_networks():
    config = topology.SymmetryConfig(**SMALL, n_pairs=2, n_points=5)
    result = topology.run_symmetry(config, progress=False)
    assert np.all(result.distance_after <= result.distance_before + 1e-12)  # alignment never moves B away
    assert result.error_before.shape == (2, 5) and result.alpha.shape == (5,)
    assert np.all((0 <= result.disagreement) & (result.disagreement <= 1))
    reduction = topology.barrier_reduction(result)
    centre, interval = reduction["loss_drop"]
    assert centre == pytest.approx(np.mean(result.loss_barrier_before - result.loss_barrier_after))
    assert interval[0] <= centre <= interval[1]
    # controls: a random permutation moves B without matching it; matching untrained networks also helps
    assert np.all(result.distance_random >= result.distance_after - 1e-12)
    assert np.all(np.isfinite(result.loss_barrier_random))
    assert np.all(result.init_distance_after <= result.init_distance_before + 1e-12)
    assert reduction["random_reduction_per_pair"] == pytest.approx(
        1 - result.loss_barrier_random / result.loss_barrier_before)


def test_barrier_reduction_interval_by_hand():
    from scipy import stats as scipy_stats

    pairs = dataclasses.make_dataclass("S", ["loss_barrier_before", "loss_barrier_after", "error_barrier_before",
                                             "error_barrier_after"])
    result = pairs(np.array([1.0, 2.0, 4.0]), np.array([0.5, 0.5, 1.0]), np.zeros(3), np.zeros(3))
    reduction = topology.barrier_reduction(result)
    per_pair = np.array([0.5, 0.75, 0.75])
    np.testing.assert_allclose(reduction["loss_reduction_per_pair"], per_pair)
    centre, interval = reduction["loss_reduction"]
    half = scipy_stats.t.ppf(0.975, 2) * per_pair.std(ddof=1) / np.sqrt(3)
    assert centre == pytest.approx(per_pair.mean()) and interval == pytest.approx([centre - half, centre + half])


def test_sweep_fills_its_grid_and_corrects_over_it():
    base = topology.TopologyConfig(**SMALL, n_runs=4, probe_size=8, n_permutations=199, level=0.1)
    result = topology.run_topology_sweep(topology.TopologySweepConfig(base=base, perturbations=(1e-3, 1.0),
                                                                      widths_grid=(4,)), progress=False)
    assert result.weight_p_value.shape == (1, 2) and np.all(np.isfinite(result.disagreement))
    adjusted = stats.holm_adjusted(np.stack([result.weight_p_value, result.function_p_value]))
    np.testing.assert_allclose(np.stack([result.weight_p_holm, result.function_p_holm]), adjusted)
    assert result.level == 0.1


@pytest.mark.parametrize("field, value", [("n_runs", 2), ("perturbation", 0.0), ("probe_size", 1),
                                          ("independent_order", "yes"), ("device", "tpu"), ("epochs", 0),
                                          ("n_replicates", 1), ("level", 0.0), ("level", 0.7)])
def test_bad_fields_are_named(field, value):
    with pytest.raises(ValueError, match=rf"^{field}="):
        dataclasses.replace(topology.TopologyConfig(), **{field: value})


def test_per_run_diagrams_and_the_two_sample_comparison_of_real_runs():
    config = topology.TopologyConfig(**SMALL, n_runs=5, probe_size=16, n_permutations=99)
    shared = topology.run_topology(config, progress=False)
    own = topology.run_topology(config.replace(independent_order=True), progress=False)
    diagrams = topology.run_diagrams(shared, "weight")
    assert len(diagrams) == 5 and all(np.isinf(d[0][:, 1]).sum() == 1 for d in diagrams)
    np.testing.assert_allclose(diagrams[0][0], shared.weight_diagram_h0)  # run 0's whole diagram, as before
    same = topology.compare_runs(shared, shared, "weight", n_permutations=99)
    assert same["statistic"] == pytest.approx(0.0, abs=1e-15) and same["p_value"] == 1.0  # identical groups
    assert same["n_a"] == 4  # the shared reference run is left out
    family = topology.two_sample_family(shared, own)
    assert family["holm"].shape == (2,) and np.all(family["holm"] >= family["raw"])
    splits = topology.null_splits(shared, "function", n_permutations=99)
    assert len(splits) == 3 and np.all((splits > 0) & (splits <= 1))  # 4 perturbed runs: 3 distinct 2–2 splits
    with pytest.raises(ValueError, match="space"):
        topology.run_diagrams(shared, "activation")


def test_calibration_shows_the_replicate_test_fails_its_size_on_paths_and_the_two_sample_test_keeps_it():
    result = topology.run_calibration(topology.CalibrationConfig(n_sets=24, n_runs=12, n_points=40, dimension=10,
                                                                 step_ratio=1.5, n_permutations=199),
                                      progress=False, use_cache=False)
    assert result.null_rate <= 0.1 and result.planted_rate >= 0.7
    assert result.replicate_low > 0.05  # halves of one path look alike whatever the run
    assert result.null_low <= result.null_rate <= result.null_high
    assert result.shared_rate >= 0.5  # walks that share their increments are told from independent ones
