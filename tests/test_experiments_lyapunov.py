import dataclasses

import numpy as np
import pytest

from uniq_core.experiments import lyapunov as chapter


def test_divergence_metrics_are_consistent_and_per_seed():
    config = chapter.DivergenceConfig(n_train=256, epochs=2, n_seeds=2, n_replicas=3, widths=(16,))
    result = chapter.run_divergence(config, progress=False)
    assert result.spread.shape[0] == 2 and result.fitted_exponent.shape == (2,)
    # our ratio and our exponent are one measurement: exponent = ln(ratio) / duration, same sign
    np.testing.assert_allclose(result.finite_time_exponent, np.log(result.convergence_ratio) / result.epochs[-1])
    assert np.all(result.effective_dimensionality >= 1.0)
    assert np.all(np.isfinite(result.peer_convergence_ratio)) and np.all(np.isfinite(result.peer_lyapunov))
    low, high = result.exponent_interval
    assert low <= result.exponent_mean <= high


def test_diverged_ensembles_are_reported_not_averaged():
    config = chapter.DivergenceConfig(n_train=256, epochs=1, n_seeds=2, n_replicas=3, widths=(16,), lr=90.0)
    result = chapter.run_divergence(config, progress=False)
    assert np.all(result.diverged_fraction == 1.0)
    assert np.all(np.isnan(result.fitted_exponent)) and np.isnan(result.exponent_mean)


def test_tangent_spectrum_against_the_edge_of_stability():
    config = chapter.TangentConfig(n_train=64, widths=(8,), lrs=(0.5, 90.0), k=2, n_steps=15)
    result = chapter.run_tangent(config, progress=False)
    assert result.exponents.shape == (2, 2)
    np.testing.assert_allclose(result.threshold, 2 / np.array([0.5, 90.0]))
    np.testing.assert_allclose(result.sharpest_rate, np.log(np.abs(1 - result.lrs * result.sharpness_start)))
    assert not result.diverged[0] and result.diverged[1]  # η = 90 is far beyond 2/sharpness
    assert result.exponents[0, 0] >= result.exponents[0, 1]
    assert result.running.shape == (2, 15, 2)
    np.testing.assert_allclose(result.running[0, -1], result.exponents[0])


def test_tangent_catapult_is_separated_from_the_regime_after_it():
    # η = 3 starts beyond the edge of stability 2/η: the sharpness collapses (a catapult) and the regime after
    # it is measured separately; η = 0.5 never crosses the edge, so it has no transient.
    config = chapter.TangentConfig(lrs=(0.5, 3.0), k=1, warmup=10, n_steps=60, n_checkpoints=7)
    result = chapter.run_tangent(config, progress=False)
    assert result.path_sharpness.shape == (2, 7) and np.all(result.path_smallest <= result.path_sharpness)
    assert result.transient_end[0] == 0 and np.isnan(result.exponents_transient[0]).all()
    assert result.sharpness_start[1] * 3.0 > 2 and result.transient_end[1] > 0
    assert result.path_sharpness[1, -1] < 2 / 3.0  # below the edge after the catapult
    for row in range(2):
        assert set(result.mechanism_after) <= set(chapter.MECHANISMS)
        positive = result.exponents_after[row, 0] > 0
        assert (result.mechanism_after[row] != "none") == bool(positive)


def test_heavy_ball_tangent_reports_the_heavy_ball_edge():
    config = chapter.TangentConfig(n_train=64, widths=(8,), lrs=(0.5,), momentum=0.9, k=1, warmup=2, n_steps=4,
                                   n_checkpoints=2)
    result = chapter.run_tangent(config, progress=False)
    np.testing.assert_allclose(result.threshold, [3.8 / 0.5])
    from uniq_core.lyapunov import frozen_rate

    assert result.sharpest_rate[0] == pytest.approx(frozen_rate(result.sharpness_start[0], 0.5, 0.9))


def test_instability_barriers_have_one_value_per_pair():
    config = chapter.InstabilityConfig(widths=(16,), epochs=2, splits=(0.0, 1.0), n_children=3)
    result = chapter.run_instability(config, progress=False)
    assert result.barrier.shape == (2, 3) and result.distance.shape == (2, 3)
    assert np.all(result.barrier >= -1e-12) and np.all(result.distance > 0)


def test_regime_map_flags_divergence():
    config = chapter.RegimeConfig(n_train=256, widths=(16,), lrs=(0.1, 90.0), perturbations=(1e-3, 1e-1),
                                  epochs=1, n_replicas=3)
    result = chapter.run_regime(config, progress=False)
    assert result.exponent.shape == (2, 2)
    assert np.all(result.diverged_fraction[1] == 1.0) and np.all(np.isnan(result.exponent[1]))
    assert np.all(np.isfinite(result.exponent[0]))


@pytest.mark.parametrize(
    "config_type, field, value",
    [
        (chapter.DivergenceConfig, "n_replicas", 2),
        (chapter.DivergenceConfig, "batch_size", 5000),
        (chapter.TangentConfig, "lrs", ()),
        (chapter.TangentConfig, "k", 0),
        (chapter.InstabilityConfig, "splits", (20.0,)),
        (chapter.RegimeConfig, "perturbations", (0.0,)),
    ],
)
def test_bad_fields_are_named(config_type, field, value):
    with pytest.raises(ValueError, match=rf"^{field}="):
        dataclasses.replace(config_type(), **{field: value})


@pytest.mark.parametrize("config_type", [chapter.DivergenceConfig, chapter.TangentConfig,
                                         chapter.InstabilityConfig, chapter.RegimeConfig])
def test_profiles_construct_and_follow_the_environment(config_type, monkeypatch):
    assert config_type.quick() != config_type.full()
    monkeypatch.setenv("UNIQ_PROFILE", "full")
    assert config_type.for_profile() == config_type.full()
    monkeypatch.setenv("UNIQ_PROFILE", "quick")
    assert config_type.for_profile() == config_type.quick()
