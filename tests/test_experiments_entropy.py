import dataclasses

import numpy as np
import pytest

from uniq_core.experiments import entropy

SMALL = dict(n_train=64, widths=(4,), descent_steps=400)


def test_entropy_near_a_minimum_on_real_training():
    config = entropy.EntropyConfig(**SMALL, subspace=3, dimensions=(2, 3, 6), chains=4, burn_in=20,
                                   sample_steps=200, n_seeds=2)
    result = entropy.run_entropy(config, progress=False)
    assert result.hessian_eigenvalues.shape == (2, 3)
    assert np.all(result.hessian_eigenvalues > 0) and np.all(result.hessian_eigenvalues < 2 / config.lr)
    np.testing.assert_allclose(result.langevin_exact, 0.0, atol=1e-12)  # isotropic noise commutes with H
    assert np.all(result.sgd_exact >= 0) and np.all((0 <= result.commutator) & (result.commutator <= 2))
    assert np.all(result.sgd_plugin >= 0) and np.all(result.langevin_plugin >= 0)  # plug-in KL: never negative
    assert np.all(np.isfinite(result.sgd_first_half)) and np.all(np.isfinite(result.langevin_second_half))
    assert result.decision_interval[0] <= result.sgd_pooled <= result.decision_interval[1]
    assert result.systematic == pytest.approx(abs(result.langevin_pooled))
    assert result.sgd_noise.shape == (2, 3, 3)
    assert np.all(result.sgd_estimate_error > 0) and np.all(result.sgd_circulation_error > 0)
    assert np.all(result.gradient_norm < 0.05)  # the descent reached a neighbourhood of a minimum
    assert result.sgd_plane.shape == (4, 200, 2) and result.langevin_plane.shape == (4, 200, 2)
    # observing more directions never hides entropy production: the rate grows with the subspace
    rates = result.rate_by_dimension
    assert np.all(np.diff(rates, axis=1)[np.isfinite(np.diff(rates, axis=1))] >= -1e-12)
    assert result.sgd_exact_interval[0] <= result.sgd_exact_mean <= result.sgd_exact_interval[1]


def test_linearised_rates_match_thermo_and_scale_invariance():
    rng = np.random.default_rng(0)
    eigenvalues = np.array([3.0, 2.0, 1.0])
    root = rng.standard_normal((3, 3))
    covariance = root @ root.T
    rates = entropy.linearised_rates(eigenvalues, covariance, lr=0.1, batch_size=8)
    assert rates["sgd"] > 0 and rates["langevin"] == pytest.approx(0.0, abs=1e-12)
    # scaling the noise (the batch size) leaves the entropy production of a linear chain unchanged
    assert entropy.linearised_rates(eigenvalues, covariance, lr=0.1, batch_size=64)["sgd"] == pytest.approx(rates["sgd"])
    # isotropic heat dilutes the anisotropy: the rate falls
    assert entropy.linearised_rates(eigenvalues, covariance, lr=0.1, batch_size=8, temperature=1.0)["sgd"] < rates["sgd"]
    # noise that commutes with H (diagonal in its eigenbasis) is reversible
    assert entropy.linearised_rates(eigenvalues, np.diag([1.0, 5.0, 2.0]), lr=0.1, batch_size=1)["sgd"] == \
        pytest.approx(0.0, abs=1e-12)


def test_training_checkpoints_and_sweep_grid():
    training = entropy.run_training(entropy.TrainingConfig(n_train=64, widths=(4,), steps=50, checkpoints=3,
                                                           subspace=3, n_seeds=2), progress=False)
    assert training.steps[0] == 0 and training.steps[-1] == 50
    assert training.sgd_rate.shape == (2, len(training.steps)) and np.all(training.sgd_rate[np.isfinite(training.sgd_rate)] >= 0)
    np.testing.assert_allclose(training.langevin_rate[np.isfinite(training.langevin_rate)], 0.0, atol=1e-12)
    sweep = entropy.run_sweep(entropy.SweepConfig(**SMALL, subspace=3, lrs=(0.05, 0.1), batch_sizes=(4, 16),
                                                  temperatures=(0.0, 1e-3)), progress=False)
    assert sweep.sgd_rate.shape == (2, 2, 2)
    np.testing.assert_allclose(sweep.sgd_rate[0, 0], sweep.sgd_rate[0, 1], rtol=1e-8)  # batch size alone: no change
    assert np.all(sweep.sgd_rate[1] <= sweep.sgd_rate[0] + 1e-15)


def test_validation_recovers_the_rotational_closed_form():
    result = entropy.run_validation(entropy.ValidationConfig(dts=(0.01, 0.05), n_steps=50_000), progress=False)
    assert result.exact == pytest.approx(8.0)
    assert abs(result.pair[0] - 8.0) < 0.2
    assert np.all(np.abs(result.path - result.pair) < 5 * result.path_error)
    # the Euler chain, whose kernels the path estimate uses, has its own exact rate: above the pair rate at finite dt
    assert abs(result.euler[0] - 8.0) < 0.3 and np.all(result.euler > result.pair)
    assert np.all(np.abs(result.circulation - result.circulation_exact) < 5 * result.circulation_error + 0.15)


@pytest.mark.parametrize("field, value", [("subspace", 1), ("subspace", 512), ("batch_size", 10_000), ("weight_decay", 0.0),
                                          ("sample_steps", 10), ("chains", 0), ("temperature", -1.0),
                                          ("burn_in", -1), ("dimensions", ())])
def test_bad_fields_are_named(field, value):
    with pytest.raises(ValueError, match=rf"^{field}="):
        dataclasses.replace(entropy.EntropyConfig(), **{field: value})


@pytest.mark.parametrize("config, field, value", [(entropy.SweepConfig, "lrs", (0.0,)),
                                                  (entropy.SweepConfig, "batch_sizes", ()),
                                                  (entropy.TrainingConfig, "checkpoints", 1),
                                                  (entropy.ValidationConfig, "a", 0.0)])
def test_other_configs_name_bad_fields(config, field, value):
    with pytest.raises(ValueError, match=rf"^{field}="):
        dataclasses.replace(config(), **{field: value})


def test_diverging_chains_are_reported_and_left_out():
    config = entropy.EntropyConfig(**SMALL, lr=60.0, subspace=2, dimensions=(2,), chains=3, burn_in=0,
                                   sample_steps=100, n_seeds=1)
    result = entropy.run_entropy(config, progress=False, use_cache=False)
    assert result.sgd_diverged[0] == 3 and np.isnan(result.sgd_estimate[0]) and np.isnan(result.sgd_estimate_error[0])
    assert np.isfinite(result.sgd_exact[0])  # the linearised rate needs no chain


def test_a_step_with_no_stable_subspace_is_a_clear_error():
    config = entropy.EntropyConfig(**{**SMALL, "weight_decay": 1.0}, lr=100.0, subspace=4, dimensions=(4,), chains=2,
                                   sample_steps=100, n_seeds=1)
    with pytest.raises(ValueError, match="stable curvature directions"):
        entropy.run_entropy(config, progress=False, use_cache=False)


def test_null_control_cross_chain_is_unbiased_with_a_hidden_slow_part_where_the_bootstrap_is_not():
    config = entropy.EntropyConfig(**SMALL, lr=0.1, weight_decay=0.01, subspace=16, dimensions=(16,), chains=16,
                                   sample_steps=1500, n_seeds=1)
    result = entropy.EntropyResult.__new__(entropy.EntropyResult)
    result.hessian_eigenvalues = np.geomspace(15.0, 0.5, 16)[None]  # the chapter's size and spread
    null = entropy.null_control(result, config, repetitions=12, n_bootstrap=8)
    for variant in ("plain", "slow"):
        estimate = null[f"{variant}_estimate"]
        assert abs(estimate.mean()) < 3 * estimate.std(ddof=1) / np.sqrt(len(estimate))
        assert np.all(null[f"{variant}_plugin"] >= 0)
    # the bootstrap's AR(1) model is wrong with the slow part: it over-corrects, far below zero
    bootstrap = null["slow_bootstrap"]
    assert bootstrap.mean() < -3 * bootstrap.std(ddof=1) / np.sqrt(len(bootstrap))
    # the jackknife error matches the spread over repetitions within a factor 2
    ratio = null["slow_error"].mean() / null["slow_estimate"].std(ddof=1)
    assert 0.5 < ratio < 2


def test_positive_control_recovers_the_linearised_rate():
    config = entropy.EntropyConfig(**SMALL, subspace=4, dimensions=(4,), chains=16, sample_steps=1500, n_seeds=1)
    result = entropy.EntropyResult.__new__(entropy.EntropyResult)
    result.hessian_eigenvalues = np.array([[9.0, 5.0, 2.0, 0.5]] * 6)
    rng = np.random.default_rng(1)
    noises = []
    for _ in range(6):
        q = rng.standard_normal((4, 4))
        noises.append(np.eye(4) + 0.4 * (q @ q.T) / 4)  # anisotropic, not commuting with H: a small rate
    result.sgd_noise = np.array(noises)
    positive = entropy.positive_control(result, config)
    z = (positive["estimate"] - positive["exact"]) / positive["error"]
    assert np.all(np.abs(z) < 4) and abs(z.mean()) < 3 / np.sqrt(6)
    assert np.all(positive["exact"] > 3 * positive["error"])  # present and resolved
    np.testing.assert_allclose(positive["exact"], positive["exact_kl"], rtol=0.05)


def test_pooled_decision_adds_the_langevin_offset_as_systematic_error():
    decision = entropy.pooled_decision(np.array([3.0, 5.0]), np.array([1.0, 1.0]), np.array([-1.0, -1.0]),
                                       np.array([0.1, 0.1]))
    assert decision["sgd_pooled"] == 4.0 and decision["sgd_pooled_error"] == pytest.approx(np.sqrt(2) / 2)
    assert decision["systematic"] == 1.0 and not decision["langevin_null_holds"]
    np.testing.assert_allclose(decision["decision_interval"], [4 - 1.96 * np.sqrt(2) / 2 - 1, 4 + 1.96 * np.sqrt(2) / 2 + 1])


def test_the_horizon_is_where_the_housekeeping_catches_up_with_the_relaxation():
    parts = {"housekeeping": np.full(10, 1.0), "excess": np.r_[4.0, np.zeros(9)]}
    assert entropy._horizon(parts, 1.0) == 4.0  # within the series
    parts = {"housekeeping": np.full(10, 1.0), "excess": np.r_[30.0, np.zeros(9)]}
    assert entropy._horizon(parts, 2.0) == 10 + 20 / 2.0  # beyond it, at the stationary rate


def test_the_seeds_give_the_same_result_on_other_processes(unit_executor, one_thread, same_result):
    config = entropy.EntropyConfig(n_train=128, descent_steps=200, subspace=4, dimensions=(2, 4), chains=4,
                                   burn_in=100, sample_steps=100, n_seeds=2, device="cpu")
    same_result(entropy.run_entropy(config, progress=False, use_cache=False),
                entropy.run_entropy(config, progress=False, use_cache=False, executor=unit_executor))
